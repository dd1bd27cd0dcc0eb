"""How WordPress and PHP put things on the wire: JSON, money, dates, query strings and lists.

Pure functions with no state; the rest of the stand-in encodes and parses through them.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote

__all__ = [
    "DATE_RE",
    "as_int",
    "cents",
    "iso",
    "money",
    "parse_list",
    "parse_php_query",
    "parse_wp_date",
    "php_empty",
    "php_json",
    "rawurlencode",
]

_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once: json.dumps(separators=) rebuilds it


def php_json(obj: Any) -> bytes:
    """Encode like `wp_json_encode`: compact, ASCII-only, and `/` escaped as `\\/`."""
    return _ENCODER.encode(obj).replace("/", "\\/").encode()


def iso(t: int | float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def cents(value: Any) -> int | None:
    """A WooCommerce decimal (string or number) to cents; None for "" or non-numbers."""
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return int((d * 100).to_integral_value())


def rawurlencode(s: str) -> str:
    return quote(s, safe="-_.~")


def parse_php_query(qs: str) -> dict[str, Any]:
    """Parse a query string the way PHP fills `$_GET`: last value wins, `a[]=` and `a[k]=` make arrays."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(qs, keep_blank_values=True):
        m = re.match(r"^([^\[]+)\[([^\]]*)\]$", key)
        if m:
            base, sub = m.group(1), m.group(2)
            cur = out.get(base)
            if not isinstance(cur, dict):
                cur = {}
                out[base] = cur
            cur[sub if sub else str(len(cur))] = value
        else:
            out[key] = value
    return out


def parse_list(value: Any) -> list[str]:
    """`wp_parse_list`: an array, or a string split on commas and spaces."""
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [p for p in re.split(r"[\s,]+", str(value)) if p]


DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_wp_date(value: str, gmt_offset: float, as_gmt: bool) -> float | None:
    """The value a WP date_query compares against the column, as epoch seconds of that column's clock.

    A naive value is read in the column's clock (GMT or site-local). A value with a zone is converted to
    site-local time first (as `WP_Date_Query::build_mysql_datetime` does), then compared as is.
    """
    m = DATE_RE.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        naive = datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp()
    except ValueError:
        return None
    zone = m.group(8)
    if not zone:
        return naive
    if zone in ("Z", "z"):
        off = 0.0
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    utc = naive - off
    return utc + gmt_offset * 3600  # site-local wall clock, whatever the column


def as_int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def php_empty(value: Any) -> bool:
    """PHP's `empty()`: null, false, 0, 0.0, "", "0" and an empty array."""
    return value in (None, False, 0, "", "0") or (isinstance(value, list | dict) and not value)
