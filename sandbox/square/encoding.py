"""How Square puts things on the wire: compact JSON, RFC 3339 timestamps, dates and money.

Pure functions with no state; the rest of the stand-in encodes and parses through them.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["date", "dumps", "money", "parse_time", "stamp", "stamp_ms", "subscription_stamp"]

# RFC 3339: a date, `T` (or a space, which Square's parser also takes), a time with optional fraction, a zone.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def dumps(obj: Any) -> bytes:
    """Square's responses are compact JSON."""
    return orjson.dumps(obj)


def stamp_ms(t: int | float) -> str:
    """Payments, refunds, disputes and events: `2021-10-13T21:14:29.577Z` (milliseconds, UTC)."""
    whole = int(t)
    ms = int(round((t - whole) * 1000)) if isinstance(t, float) else 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{ms:03d}Z"


def stamp(t: int | float) -> str:
    """Payouts, payout entries and locations: `2022-03-29T16:12:31Z` (seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(t)))


def date(t: int | float) -> str:
    """A payout's `arrival_date`: `2022-03-29`."""
    return time.strftime("%Y-%m-%d", time.gmtime(int(t)))


def subscription_stamp(t: int | float) -> str:
    """Webhook subscriptions carry Go's time format: `2022-01-10 23:29:48 +0000 UTC`."""
    return time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(int(t)))


def parse_time(value: str) -> float | None:
    """An RFC 3339 timestamp as epoch seconds, or None when it is not one."""
    m = _RFC3339.match(value.strip())
    if not m:
        return None
    text = value.strip().replace(" ", "T").replace("t", "T").replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    frac = m.group(7)
    if frac and len(frac) > 7:  # datetime takes at most microseconds
        text = text.replace(frac, frac[:7])
    try:
        return datetime.fromisoformat(text).astimezone(UTC).timestamp()
    except ValueError:  # e.g. month 13
        return None


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}
