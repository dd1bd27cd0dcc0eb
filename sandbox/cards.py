"""Card numbers as every gateway stand-in reads them: the Luhn check and the brand from the number's prefix.

The networks' rules, not a vendor's: PayPal's and Authorize.Net's stand-ins both refuse a number that fails
the check, and name the brand the same way (a prefix the stand-ins do not know is taken as Visa, the
test card they all accept).
"""

from __future__ import annotations

__all__ = ["card_brand", "luhn_valid"]


def luhn_valid(number: str) -> bool:
    """Whether the digits of `number` pass the Luhn check (mod 10)."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str:
    """`visa`, `amex`, `mastercard` (51-55 and 2221-2720) or `discover`; anything else is `visa`."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:2] in ("51", "52", "53", "54", "55") or (len(number) >= 4 and 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    if number.startswith(("6011", "65")):
        return "discover"
    return "visa"
