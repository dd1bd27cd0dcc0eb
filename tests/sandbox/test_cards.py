"""`sandbox.cards`: the Luhn check and card brands the gateway stand-ins share."""

from __future__ import annotations

import pytest

from sandbox.cards import card_brand, luhn_valid


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),
        ("5555555555554444", True),
        ("2223003122003222", True),
        ("6011111111111117", True),
        ("6011111111111118", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "visa"),
        ("378282246310005", "amex"),
        ("341111111111111", "amex"),
        ("5105105105105100", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("2720990000000000", "mastercard"),
        ("2721000000000000", "visa"),
        ("6011111111111117", "discover"),
        ("6500000000000002", "discover"),
        ("3530111333300000", "visa"),  # JCB: not a brand the stand-ins know
        ("22", "visa"),  # too short for the 2-series range: no crash
    ],
)
def test_brand(number: str, brand: str) -> None:
    assert card_brand(number) == brand
