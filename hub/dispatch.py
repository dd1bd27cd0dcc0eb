"""The dispatch's decisions about rows, between the claim and the provider call and after the answer.

Pure functions (no SQL, no provider calls) that the send tasks call:

- `prepare(rows, ...)`: per claimed row, either what to send (normalised recipient and rendered text) or
  the outcome that ends it without a call: `cancelled` (the settings turn its channel or event off),
  `failed` (an invalid recipient, a missing template variable, an empty or over-long text),
  `suppressed` (the recipient opted out). Never an exception: one bad row never stops its batch.
- `mail_requests(...)`: emails that share a template and a send time, grouped into Mail Send requests
  of up to 1,000 personalizations. The content is two substitution tags and each personalization
  carries its own rendered text, subject and `custom_args` (`nxt_id`, our row id, which every event
  echoes). A message too large for SendGrid's 10,000-byte substitution limit goes in a request of its own.
- `sms_outcome` / `mail_outcome`: what a provider's answer does to each row (sent, failed, suppressed,
  retried later with backoff, or held in doubt until the provider can be asked).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from hub.notifications import CUSTOMER_EVENTS, DIRECT, OPERATOR_ALERT
from hub.outbox import OutboxRow, Outcome
from hub.recipients import InvalidRecipient, normalize_email, normalize_phone
from hub.templates import (
    RenderProblem,
    Templates,
    check_email,
    check_sms,
    html_to_text,
    looks_like_html,
    text_to_html,
)

__all__ = [
    "MailRequest",
    "Prepared",
    "mail_outcome",
    "mail_requests",
    "prepare",
    "recovered_mail_outcome",
    "recovered_sms_outcome",
    "sms_outcome",
    "split",
    "status_callback_for",
]

MAX_PER_REQUEST = 1000
SUBSTITUTIONS_MAX_BYTES = 10_000  # SendGrid: per personalization
TEXT_TAG = "%nxt_text%"
HTML_TAG = "%nxt_html%"
IN_DOUBT_MIN_WAIT = timedelta(seconds=5)


@dataclass(frozen=True)
class Prepared:
    """A row ready to send: its normalised recipient and what it will say."""

    row: OutboxRow
    recipient: str
    rendered: dict[str, str]  # sms: body; email: subject, text, html


@dataclass
class MailRequest:
    """One Mail Send request: the rows it carries (personalization order) and its JSON body."""

    rows: list[Prepared]
    body: dict[str, Any] = field(default_factory=dict)


def prepare(
    rows: Sequence[OutboxRow],
    *,
    templates: Templates,
    shop: Mapping[str, Any],
    default_region: str | None,
    customer_channels: Collection[str],
    customer_events: Collection[str],
    is_suppressed: Callable[[str, Iterable[str]], set[str]],
) -> tuple[list[Prepared], list[Outcome]]:
    """Split claimed rows into those to send and the outcomes of those that end here.

    `is_suppressed(channel, recipients)` returns the suppressed ones (one query for the batch).
    """
    ready: list[Prepared] = []
    done: list[Outcome] = []
    normalised: list[tuple[OutboxRow, str]] = []
    for row in rows:
        customer = row.template in CUSTOMER_EVENTS
        if customer and row.channel not in customer_channels:
            done.append(
                _end(row, "cancelled", f"customer {row.channel} messages are turned off in the settings")
            )
            continue
        if customer and row.template not in customer_events:
            done.append(_end(row, "cancelled", f"{row.template} messages are turned off in the settings"))
            continue
        try:
            if row.channel == "sms":
                to = normalize_phone(row.recipient, default_region)
            else:
                to = normalize_email(row.recipient)
        except InvalidRecipient as exc:
            done.append(_end(row, "failed", str(exc), code=exc.code, fallback=True))
            continue
        normalised.append((row, to))
    blocked: set[tuple[str, str]] = set()
    for channel in ("sms", "email"):
        recipients = [to for row, to in normalised if row.channel == channel]
        blocked |= {(channel, r) for r in is_suppressed(channel, recipients)} if recipients else set()
    for row, to in normalised:
        if (row.channel, to) in blocked:
            done.append(
                _end(row, "suppressed", f"{to} opted out of {row.channel} messages", code="suppressed", to=to)
            )
            continue
        try:
            rendered = _render(row, templates, {**row.payload, "shop": dict(shop)})
        except RenderProblem as exc:
            done.append(_end(row, "failed", str(exc), code="template", to=to))
            continue
        ready.append(Prepared(row, to, rendered))
    return ready, done


def _render(row: OutboxRow, templates: Templates, context: Mapping[str, Any]) -> dict[str, str]:
    if row.template == DIRECT:
        if row.channel == "sms":
            return {"body": check_sms(str(row.payload.get("body") or "").strip())}
        content = str(row.payload.get("content") or "")
        if looks_like_html(content):
            body_html, text = content, html_to_text(content)
        else:
            body_html, text = text_to_html(content), content.strip()
        email = check_email(str(row.payload.get("subject") or ""), text, body_html)
        return {"subject": email.subject, "text": email.text or html_to_text(email.html), "html": email.html}
    if row.channel == "sms":
        return {"body": templates.render_sms(row.template, context)}
    email = templates.render_email(row.template, context)
    text = email.text or html_to_text(email.html)
    return {"subject": email.subject, "text": text, "html": email.html or text_to_html(text)}


def _end(
    row: OutboxRow,
    status: str,
    why: str,
    *,
    code: str | None = None,
    fallback: bool = False,
    to: str | None = None,
) -> Outcome:
    return Outcome(row.id, status, error=why, error_code=code or status, fallback=fallback, recipient=to)


# --------------------------------------------------------------------------------------------------
# SMS


def status_callback_for(base: str | None, row_id: int) -> str | None:
    """The status callback URL of one message: the settings' URL with `nxt_id=<row id>` added, so the
    callback names our row even when the message's SID never reached the hub (a crash)."""
    if not base:
        return None
    sep = "&" if urlsplit(base).query else "?"
    return f"{base}{sep}{urlencode({'nxt_id': row_id})}"


def sms_outcome(
    item: Prepared,
    *,
    outcome: str,
    provider_id: str | None = None,
    provider_status: str | None = None,
    code: str | None = None,
    message: str = "",
    retry_after: float | None = None,
    now: datetime,
    retry_delay: Callable[[int], float],
) -> Outcome:
    """What one Twilio answer (`clients.twilio` outcome names) does to its row."""
    row = item.row
    attempts = row.attempts + 1  # mark_sending counted this call
    if outcome == "accepted":
        return Outcome(row.id, "sent", provider_id=provider_id, provider_status=provider_status)
    if outcome == "opted_out":
        return Outcome(row.id, "suppressed", error=message, error_code=code, suppress=True)
    if outcome == "refused":
        return Outcome(row.id, "failed", error=message, error_code=code, fallback=True)
    if outcome == "retry":
        wait = max(retry_after or 0.0, retry_delay(attempts))
        return Outcome(
            row.id, "queued", error=message, error_code=code, retry_at=now + timedelta(seconds=wait)
        )
    if outcome == "config":
        # Not the message's fault: it goes back to the queue, uncounted, while someone fixes the block.
        return Outcome(
            row.id, "queued", error=message, error_code=code, retry_at=now + timedelta(seconds=60), free=True
        )
    check_in = max(IN_DOUBT_MIN_WAIT, timedelta(seconds=retry_delay(attempts)))
    return Outcome(
        row.id,
        "sending",
        error=f"in doubt: {message}",
        error_code=code or "in_doubt",
        retry_at=now + check_in,
    )


def recovered_sms_outcome(
    row: OutboxRow,
    *,
    found_sid: str | None,
    found_status: str | None,
    lookup_error: str | None,
    now: datetime,
    give_up_after: timedelta,
    retry_delay: Callable[[int], float],
) -> Outcome:
    """What checking Twilio for a text in doubt decides: it was sent (adopt its SID), it was not (queue it
    again), or Twilio could not be asked (ask again later; after `give_up_after`, `unknown`)."""
    if found_sid:
        return Outcome(row.id, "sent", provider_id=found_sid, provider_status=found_status)
    if lookup_error is None:
        return Outcome(row.id, "queued", error="not found at Twilio after a send in doubt; sending again")
    started = row.claimed_at or row.created_at
    if now - started > give_up_after:
        return Outcome(
            row.id,
            "unknown",
            error=f"sent or not? Twilio could not be asked within {give_up_after}: {lookup_error}",
            error_code="in_doubt",
        )
    wait = max(IN_DOUBT_MIN_WAIT, timedelta(seconds=retry_delay(row.attempts)))
    return Outcome(
        row.id, "sending", error=f"in doubt: {lookup_error}", error_code="in_doubt", retry_at=now + wait
    )


# --------------------------------------------------------------------------------------------------
# Email


def mail_requests(
    ready: Sequence[Prepared], *, from_email: str, from_name: str | None = None
) -> list[MailRequest]:
    """Group emails into Mail Send requests: same template and send time together, at most 1,000 each."""
    groups: dict[tuple[str, Any], list[Prepared]] = {}
    alone: list[Prepared] = []
    for item in ready:
        if _substitution_bytes(item) > SUBSTITUTIONS_MAX_BYTES:
            alone.append(item)
        else:
            groups.setdefault((item.row.template, item.row.send_at), []).append(item)
    sender: dict[str, str] = {"email": from_email}
    if from_name:
        sender["name"] = from_name
    requests: list[MailRequest] = []
    for (template, _), items in groups.items():
        for start in range(0, len(items), MAX_PER_REQUEST):
            chunk = items[start : start + MAX_PER_REQUEST]
            body = {
                "from": sender,
                "personalizations": [_personalization(i, substitute=True) for i in chunk],
                "content": [
                    {"type": "text/plain", "value": TEXT_TAG},
                    {"type": "text/html", "value": HTML_TAG},
                ],
                "categories": [template[:255]],
            }
            requests.append(MailRequest(list(chunk), body))
    for item in alone:
        body = {
            "from": sender,
            "personalizations": [_personalization(item, substitute=False)],
            "content": [
                {"type": "text/plain", "value": item.rendered["text"]},
                {"type": "text/html", "value": item.rendered["html"]},
            ],
            "categories": [item.row.template[:255]],
        }
        requests.append(MailRequest([item], body))
    return requests


def split(request: MailRequest, *, from_email: str, from_name: str | None = None) -> list[MailRequest]:
    """The request in two halves (SendGrid found it too large)."""
    half = max(1, len(request.rows) // 2)
    out: list[MailRequest] = []
    for part in (request.rows[:half], request.rows[half:]):
        if part:
            out += mail_requests(part, from_email=from_email, from_name=from_name)
    return out


def _personalization(item: Prepared, *, substitute: bool) -> dict[str, Any]:
    p: dict[str, Any] = {
        "to": [{"email": item.recipient}],
        "subject": item.rendered["subject"],
        "custom_args": {"nxt_id": str(item.row.id), "nxt_event": item.row.template[:100]},
    }
    if substitute:
        p["substitutions"] = {TEXT_TAG: item.rendered["text"], HTML_TAG: item.rendered["html"]}
    if item.row.priority > 0 and item.row.template in (DIRECT, OPERATOR_ALERT):
        p["headers"] = {"X-Priority": "1", "Importance": "high"}
    return p


def _substitution_bytes(item: Prepared) -> int:
    return sum(
        len(k.encode()) + len(v.encode())
        for k, v in ((TEXT_TAG, item.rendered["text"]), (HTML_TAG, item.rendered["html"]))
    )


def mail_outcome(
    request: MailRequest,
    *,
    outcome: str,
    message_id: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    message: str = "",
    retry_after: float | None = None,
    now: datetime,
    retry_delay: Callable[[int], float],
    event_window: timedelta,
) -> list[Outcome]:
    """What one Mail Send answer (`clients.sendgrid` outcome names) does to each row of the request."""
    rows = [item.row for item in request.rows]
    if outcome == "accepted":
        return [Outcome(r.id, "sent", provider_id=message_id, provider_status="accepted") for r in rows]
    if outcome == "refused":
        named = _named_personalizations(errors)
        if named:
            # SendGrid refused the whole request for these personalizations: they fail, the rest go again.
            out = []
            for index, row in enumerate(rows):
                if index in named:
                    out.append(
                        Outcome(row.id, "failed", error=f"SendGrid 400: {named[index]}", error_code="400")
                    )
                else:
                    out.append(
                        Outcome(
                            row.id, "queued", error="another message of its request was refused", free=True
                        )
                    )
            return out
        return [Outcome(r.id, "failed", error=message, error_code="400") for r in rows]
    if outcome in ("retry", "too_large"):
        return [
            Outcome(
                r.id,
                "queued",
                error=message,
                error_code=outcome,
                retry_at=now + timedelta(seconds=max(retry_after or 0.0, retry_delay(r.attempts + 1))),
            )
            for r in rows
        ]
    if outcome == "config":
        return [
            Outcome(
                r.id,
                "queued",
                error=message,
                error_code="config",
                retry_at=now + timedelta(seconds=60),
                free=True,
            )
            for r in rows
        ]
    # In doubt: only SendGrid's events (carrying nxt_id) can say; wait for them, then a person decides.
    return [
        Outcome(
            r.id, "sending", error=f"in doubt: {message}", error_code="in_doubt", retry_at=now + event_window
        )
        for r in rows
    ]


def recovered_mail_outcome(row: OutboxRow, *, now: datetime, event_window: timedelta) -> Outcome:
    """An email left in doubt (a crash, a lost answer): wait for an event naming it until `event_window`
    after its claim, then `unknown` for a person (SendGrid has no way to ask about one message)."""
    started = row.claimed_at or row.created_at
    if now - started >= event_window:
        return Outcome(
            row.id,
            "unknown",
            error=(
                f"sent or not? no SendGrid event named it within {event_window} of the send; check "
                f"SendGrid's activity for {row.recipient}, then `nxt notify retry {row.id}` to send it again"
            ),
            error_code="in_doubt",
        )
    return Outcome(
        row.id, "sending", error="in doubt: waiting for SendGrid's events", retry_at=started + event_window
    )


def _named_personalizations(errors: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    named: dict[int, str] = {}
    for error in errors:
        parts = str(error.get("field") or "").split(".")
        if len(parts) >= 2 and parts[0] == "personalizations" and parts[1].isdigit():
            named.setdefault(int(parts[1]), f"{error.get('field')}: {error.get('message')}")
    return named
