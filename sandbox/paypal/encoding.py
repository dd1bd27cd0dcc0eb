"""PayPal's wire encoding: money as decimal strings per currency, RFC 3339 times, compact JSON.

Money is `{"currency_code": "USD", "value": "12.34"}`; the number of decimals is the currency's (JPY, HUF
and TWD have none). Orders and Payments print times as `2026-01-01T12:00:00Z`; Transaction Search prints
`2026-01-01T12:00:00+0000` (as PayPal's own sample responses do, although its contract's pattern asks for
`+00:00`). `parse_amount` answers the issue name PayPal gives a bad amount.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .settings import CURRENCY_DECIMALS

__all__ = [
    "AmountIssue",
    "dumps",
    "format_minor",
    "iso_reporting",
    "iso_z",
    "money",
    "parse_amount",
    "parse_rfc3339",
    "top_level_spans",
]

_AMOUNT = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # the contract's `money.value` pattern
_SYNTAX = "The value of a field does not conform to the expected format."
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$"
)


def dumps(data: Any) -> bytes:
    """Compact JSON, as PayPal sends it."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def format_minor(minor: int, currency: str) -> str:
    """`1234, "USD"` -> `"12.34"`; `1234, "JPY"` -> `"1234"`."""
    places = CURRENCY_DECIMALS.get(currency, 2)
    if places == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def money(minor: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": format_minor(minor, currency)}


class AmountIssue(ValueError):
    """Why an amount is refused: `issue` is PayPal's name, `status` 400 (syntax) or 422 (business)."""

    def __init__(self, issue: str, status: int, description: str) -> None:
        super().__init__(description)
        self.issue, self.status, self.description = issue, status, description


def parse_amount(value: Any, currency: str, *, allow_zero: bool = False) -> int:
    """Minor units of a PayPal amount `value` in `currency`, or `AmountIssue`.

    PayPal accepts a JSON number where the contract says string (observed in its sandbox), so numbers are
    read through their text. More decimals than the currency has is `DECIMAL_PRECISION` (422).
    """
    syntax = AmountIssue("INVALID_PARAMETER_SYNTAX", 400, _SYNTAX)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise syntax
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > 32 or not _AMOUNT.match(text):
        raise syntax
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise syntax from None
    places = CURRENCY_DECIMALS.get(currency, 2)
    if amount <= 0 and not (allow_zero and amount == 0):
        raise AmountIssue(
            "CANNOT_BE_ZERO_OR_NEGATIVE",
            422,
            "Must be greater than zero. If the currency supports decimals, only two decimal place precision "
            "is supported.",
        )
    exponent = amount.as_tuple().exponent  # the digits as sent: "10.000" has three
    if isinstance(exponent, int) and -exponent > places:
        raise AmountIssue(
            "DECIMAL_PRECISION",
            422,
            "If the currency supports decimals, only two decimal place precision is supported.",
        )
    if amount > Decimal("999999999999999.99"):
        raise AmountIssue("MAX_VALUE_EXCEEDED", 422, "Should be less than or equal to 999999999999999.99.")
    return int(amount.scaleb(places))


def iso_z(t: float) -> str:
    """Orders/Payments time: `2026-01-01T12:00:00Z`."""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_reporting(t: float) -> str:
    """Transaction Search time: `2026-01-01T12:00:00+0000`."""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_rfc3339(text: str) -> float | None:
    """Epoch seconds of an RFC 3339 time with seconds and a zone (`Z`, `+02:00`; PayPal also takes `-0700`),
    or None when it is not one."""
    m = _RFC3339.match(text or "")
    if not m:
        return None
    year, month, day, hh, mm, ss = (int(m.group(i)) for i in range(1, 7))
    frac = float(m.group(7)) if m.group(7) else 0.0
    if m.group(8):
        tz = UTC
    else:
        sign = 1 if m.group(9) == "+" else -1
        tz = timezone(sign * timedelta(hours=int(m.group(10)), minutes=int(m.group(11))))
    try:
        when = datetime(year, month, day, hh, mm, min(ss, 59), tzinfo=tz)
    except ValueError:
        return None
    return when.timestamp() + frac


def top_level_spans(text: str) -> dict[str, tuple[int, int]] | None:
    """Where each top-level member's value sits in the JSON object `text` (start, end), or None if `text`
    is not a JSON object. Used to read a field's raw bytes exactly as the client sent them."""
    decoder = json.JSONDecoder()
    ws = re.compile(r"[ \t\n\r]*")
    i = ws.match(text, 0).end()  # type: ignore[union-attr]
    if i >= len(text) or text[i] != "{":
        return None
    i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
    spans: dict[str, tuple[int, int]] = {}
    if i < len(text) and text[i] == "}":
        return spans
    while True:
        if i >= len(text) or text[i] != '"':
            return None
        try:
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        except ValueError:
            return None
        i = ws.match(text, i).end()  # type: ignore[union-attr]
        if i >= len(text) or text[i] != ":":
            return None
        i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
        try:
            _, end = decoder.raw_decode(text, i)
        except ValueError:
            return None
        spans[key] = (i, end)
        i = ws.match(text, end).end()  # type: ignore[union-attr]
        if i < len(text) and text[i] == ",":
            i = ws.match(text, i + 1).end()  # type: ignore[union-attr]
            continue
        if i < len(text) and text[i] == "}":
            return spans
        return None
