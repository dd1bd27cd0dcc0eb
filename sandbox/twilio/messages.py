"""The Messages resource: create (with Twilio's validation), fetch, and list with Twilio's paging.

Create refuses what Twilio refuses synchronously, with its codes: a missing `To` (21604), no sender
(21603), a sender that is not the account's (21606) or not a number at all (21212), an unknown messaging
service (21701), no body and no media (21602), a body over 1,600 characters (21617), a bad
`ValidityPeriod` (21624) or `StatusCallback` (21609), and what the world says about the recipient: not a
number (21211), replied STOP (21610), a landline (21614). Everything else is accepted and planned
(`delivery.plan`).

Lists are newest first (creation order). `PageToken` anchors a page on a message SID, so messages created
while a client pages do not shift the pages it has yet to read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from . import delivery
from .encoding import DateBound, parse_date_filter, segments
from .errors import TwilioError, not_found
from .rendering import message_json
from .settings import BODY_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, VALIDITY_DEFAULT, VALIDITY_MAX
from .store import Message, Store

__all__ = ["create_message", "fetch_message", "list_messages"]

_SENDER_LIKE = re.compile(r"\+[1-9]\d{1,14}|\d{3,8}|[A-Za-z0-9 ]{1,11}")


def _first(params: list[tuple[str, str]], name: str) -> str | None:
    for k, v in params:
        if k == name:
            return v
    return None


def create_message(st: Store, params: list[tuple[str, str]], credential: str) -> Message:
    to = (_first(params, "To") or "").strip()
    from_ = (_first(params, "From") or "").strip()
    service_sid = (_first(params, "MessagingServiceSid") or "").strip()
    body = _first(params, "Body") or ""
    media = [v for k, v in params if k == "MediaUrl" and v]
    callback = (_first(params, "StatusCallback") or "").strip() or None
    validity_raw = _first(params, "ValidityPeriod")

    if not to:
        raise TwilioError(21604, "A 'To' phone number is required.")
    if not from_ and not service_sid:
        raise TwilioError(21603, "A 'From' phone number is required.")
    if service_sid and service_sid not in st.services:
        raise TwilioError(21701, f"The Messaging Service Sid {service_sid} is invalid.")
    if from_:
        if not _SENDER_LIKE.fullmatch(from_):
            raise TwilioError(
                21212,
                f"The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric "
                "sender ID.",
            )
        if from_ not in st.senders or st.senders[from_].kind == "messaging_service":
            raise TwilioError(
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone number or short "
                "code for your account.",
            )
        if service_sid and from_ not in st.services[service_sid].numbers:
            raise TwilioError(
                21606,
                f"The From phone number {from_} is not a valid, SMS-capable inbound phone number or short "
                "code for your account.",
            )
    if not body and not media:
        raise TwilioError(21602, "Message body is required.")
    if len(body) > BODY_MAX:
        raise TwilioError(21617, "The concatenated message body exceeds the 1600 character limit.")
    validity = VALIDITY_DEFAULT
    if validity_raw is not None and validity_raw != "":
        try:
            validity = int(validity_raw)
        except ValueError:
            validity = 0
        if not 1 <= validity <= VALIDITY_MAX:
            raise TwilioError(21624, "Invalid validity period value. It must be between 1 and 36000 seconds.")
    if callback is not None:
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.hostname or "_" in parts.hostname:
            raise TwilioError(21609, f"Invalid StatusCallback url: {callback}")

    flag = st.world.contact_flags(to, "sms")
    if flag is not None and flag.flag == "invalid":
        raise TwilioError(21211, f"The 'To' number {to} is not a valid phone number.")
    if from_ and to == from_:
        raise TwilioError(21266, "'To' and 'From' number cannot be the same.")
    if flag is not None and flag.flag == "unsubscribed":
        raise TwilioError(21610, "Attempt to send to unsubscribed recipient")
    if flag is not None and flag.flag == "landline":
        raise TwilioError(21614, f"'To' number {to} is not a valid mobile number")

    now = st.clock.now()  # whole microseconds, as every time of the plan
    m = Message(
        seq=len(st.ordered),
        sid=st.new_sid("MM" if media else "SM"),
        account_sid=st.account_sid,
        to=to,
        from_=from_ or None,
        body=body,
        media_urls=media,
        messaging_service_sid=service_sid or None,
        sender=service_sid or from_,
        status="accepted" if service_sid else "queued",
        segments=segments(body),
        status_callback=callback,
        validity_period=validity,
        created=now,
        updated=now,
        credential=credential,
        params=list(params),
    )
    m.history.append((m.status, now))
    st.messages[m.sid] = m
    st.ordered.append(m)
    delivery.plan(st, m)
    return m


def fetch_message(st: Store, sid: str, path: str) -> dict[str, Any]:
    m = st.messages.get(sid)
    if m is None:
        raise not_found(path)
    return message_json(st, m)


_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def _date_filter(query: list[tuple[str, str]], name: str) -> DateBound | None:
    raw = _first(query, name)
    if raw is None or raw == "":
        return None
    try:
        return parse_date_filter(raw)
    except ValueError:
        raise TwilioError(20001, "Invalid date value.") from None


def _int_param(query: list[tuple[str, str]], name: str, default: int) -> int:
    raw = _first(query, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise TwilioError(20001, f"Invalid {name}: {raw!r} is not an integer.") from None


def list_messages(st: Store, query: list[tuple[str, str]], path: str) -> dict[str, Any]:
    to, from_ = _first(query, "To"), _first(query, "From")
    on, before, after = (_date_filter(query, n) for n in ("DateSent", "DateSent<", "DateSent>"))
    page_size = min(max(_int_param(query, "PageSize", PAGE_SIZE_DEFAULT), 1), PAGE_SIZE_MAX)
    page = max(_int_param(query, "Page", 0), 0)
    token = _first(query, "PageToken") or ""

    on_day = on.start - on.start % 86_400 if on else 0.0

    def matches(m: Message) -> bool:
        if to and m.to != to:
            return False
        if from_ and m.from_ != from_:
            return False
        if on or before or after:
            if m.sent is None:  # not sent yet: no date_sent to compare (see docs/sandbox.md)
                return False
            if on and not on_day <= m.sent < on_day + 86_400:  # DateSent=: sent on that (UTC) day
                return False
            if before and not (m.sent < before.end if before.day else m.sent <= before.start):
                return False
            if after and not m.sent >= after.start:
                return False
        return True

    newest_first = st.ordered[::-1]
    if token:
        anchor = st.messages.get(token[2:]) if token[:2] in ("PA", "PB") else None
        if anchor is None:
            raise TwilioError(20001, f"Invalid PageToken: {token}")
        if token.startswith("PA"):  # the page after the anchor (older messages)
            items = [m for m in newest_first if m.seq < anchor.seq and matches(m)][:page_size]
        else:  # the page before it (newer messages)
            items = [m for m in newest_first if m.seq > anchor.seq and matches(m)][-page_size:]
    else:
        picked = [m for m in newest_first if matches(m)]
        items = picked[page * page_size : (page + 1) * page_size]

    filters = [(n, v) for n in _FILTERS for v in [_first(query, n)] if v]

    def uri(page_no: int, token: str | None = None) -> str:
        q = filters + [("PageSize", str(page_size)), ("Page", str(page_no))]
        if token:
            q.append(("PageToken", token))
        return f"{path}?{urlencode(q)}"

    has_next = False
    if items:
        last = items[-1]
        has_next = any(m.seq < last.seq and matches(m) for m in reversed(st.ordered[: last.seq]))
    start = page * page_size
    return {
        "first_page_uri": uri(0),
        "end": start + max(len(items) - 1, 0),
        "previous_page_uri": uri(page - 1, "PB" + items[0].sid) if page > 0 and items else None,
        "messages": [message_json(st, m) for m in items],
        "uri": uri(page, token or None),
        "page_size": page_size,
        "start": start,
        "next_page_uri": uri(page + 1, "PA" + items[-1].sid) if has_next else None,
        "page": page,
    }
