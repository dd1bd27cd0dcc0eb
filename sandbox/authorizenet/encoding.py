"""Authorize.Net's JSON wire encoding: a UTF-8 BOM before every answer, ordered request members, decimals.

Requests are parsed keeping their members' order and duplicates (`Obj`, a list of pairs), because the
API checks them against the XSD's sequences. Numbers are kept as `Decimal` so an amount's digits are seen
as sent. Answers are compact JSON with money as JSON numbers with two decimals (`12.50`), preceded by a
UTF-8 byte order mark, as the live API sends them. Times: `2026-01-01T23:00:00Z` (UTC) and
`2026-01-01T15:00:00` (the merchant's local time, `LOCAL_OFFSET`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .settings import LOCAL_OFFSET

__all__ = [
    "BOM",
    "Obj",
    "amount",
    "dumps",
    "iso_local",
    "iso_utc",
    "loads",
    "parse_datetime",
    "text_of",
]

BOM = b"\xef\xbb\xbf"
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


class Obj(list):  # type: ignore[type-arg]
    """A JSON object as its (name, value) pairs, in the order sent (duplicates kept)."""

    def get(self, name: str, default: Any = None) -> Any:
        for k, v in self:
            if k == name:
                return v
        return default

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self)


def loads(text: str) -> Any:
    """Parse a request body; raises ValueError (with json's position) when it is not JSON."""
    return json.loads(text, object_pairs_hook=Obj, parse_float=Decimal, parse_int=Decimal)


def text_of(value: Any) -> str:
    """A simple value as the XML text it stands for (`true`, `12.50`, `abc`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def amount(minor: int) -> Decimal:
    """Minor units as the API prints money: two decimals."""
    return (Decimal(minor) / 100).quantize(Decimal("0.01"))


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(k))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(str(value))
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def dumps(data: Any, *, bom: bool = True) -> bytes:
    """The answer's bytes: BOM + compact JSON (Decimals as numbers, digits as they are). Webhook
    notifications are sent without the BOM."""
    out: list[str] = []
    _encode(data, out)
    return (BOM if bom else b"") + "".join(out).encode("utf-8")


def iso_utc(t: float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(t: float) -> str:
    return datetime.fromtimestamp(int(t) + LOCAL_OFFSET, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_datetime(text: str) -> float | None:
    """Epoch seconds of an `xs:dateTime` (no zone means UTC, as the reporting API takes it), or None."""
    m = _DATETIME.match(text.strip())
    if not m:
        return None
    zone = m.group(8)
    if zone in (None, "Z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
        when = datetime(y, mo, d, h, mi, sec, tzinfo=tz)
    except ValueError:
        return None
    return when.timestamp() + (float(m.group(7)) if m.group(7) else 0.0)
