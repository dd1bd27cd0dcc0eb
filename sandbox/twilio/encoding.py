"""Twilio's wire encoding: form bodies, RFC 2822 dates, the `DateSent` filter formats, SMS segments.

Pure functions over strings and numbers; nothing here knows about the store.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from .settings import JSON_CT

__all__ = [
    "DateBound",
    "json_response",
    "parse_date_filter",
    "parse_form",
    "rfc2822",
    "segments",
]

# GSM 03.38 basic alphabet and its extension table (extension characters take two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status, media_type=JSON_CT, headers=headers)


def parse_form(body: bytes) -> list[tuple[str, str]]:
    """The pairs of an `application/x-www-form-urlencoded` body, repeated names kept (`MediaUrl`)."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def rfc2822(ts: float | None) -> str | None:
    """`Thu, 24 Aug 2023 05:01:45 +0000`, Twilio's date format (whole seconds, GMT)."""
    if ts is None:
        return None
    return format_datetime(datetime.fromtimestamp(int(ts), UTC))


def segments(body: str) -> int:
    """SMS segments of `body`: 160 GSM-7 septets (153 when split) or 70 UCS-2 units (67 when split)."""
    if not body:
        return 1
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in body):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in body)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(c) > 0xFFFF else 1 for c in body)  # UTF-16 code units
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


class DateBound:
    """A parsed `DateSent` value: an instant, or a whole UTC day when given as `YYYY-MM-DD`."""

    __slots__ = ("day", "start", "end")

    def __init__(self, start: float, end: float, day: bool) -> None:
        self.start, self.end, self.day = start, end, day


_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M:%S")


def parse_date_filter(value: str) -> DateBound:
    """Parse what Twilio accepts for `DateSent`: a date, ISO 8601, RFC 2822 or `YYYY-MM-DD HH:MM:SS`.

    Raises ValueError for anything else. Times without a zone are GMT, as Twilio reads them.
    """
    text = value.strip()
    if len(text) == 10:
        try:
            d = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            start = datetime(d.year, d.month, d.day, tzinfo=UTC)
            return DateBound(start.timestamp(), (start + timedelta(days=1)).timestamp(), True)
    when: datetime | None = None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            for fmt in _FORMATS:
                try:
                    when = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if when is None:
        raise ValueError(f"invalid date {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ts = when.timestamp()
    return DateBound(ts, ts, False)
