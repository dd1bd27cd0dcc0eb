"""Delivery news from the providers, applied to outbox rows: Twilio status callbacks, SendGrid events.

The webhook receiver verifies and stores these; a flow (`flows.notification_dispatch.
update_notification_status`) calls the functions here. Both are idempotent (a redelivered callback or
event changes nothing) and never move a row backwards: statuses are ranked (in flight < sent < final), so
a late `sent` after `delivered` is ignored, whatever order callbacks arrive in.

Rows are found by our id first (Twilio: the `nxt_id` query parameter of the status callback URL; SendGrid:
the `nxt_id` custom argument, which events carry as a top-level key), so news about a send whose answer
was lost (a crash between the provider's accept and the hub's commit) still finds its row and settles it;
then by the provider's id (Twilio `MessageSid`; SendGrid `sg_message_id`'s X-Message-Id prefix + email).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.db import transaction
from hub.models import OutboxMessage, Suppression, utcnow
from hub.outbox import OutboxRow, enqueue_fallbacks, load, suppress

__all__ = ["StatusUpdate", "apply_sendgrid_events", "apply_twilio_status"]

_t = OutboxMessage.__table__
# How far along a row is; news only ever moves a row to a higher rank. `sending` and `unknown` (a send in
# doubt) rank below `sent`, so any news from the provider settles them.
RANK = {
    "queued": 0,
    "claimed": 0,
    "sending": 1,
    "unknown": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "suppressed": 3,
    "cancelled": 3,
}
TWILIO_STATUS = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "partially_delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
TWILIO_UNSUBSCRIBED = "21610"
SENDGRID_STATUS = {
    "processed": "sent",
    "deferred": "sent",
    "delivered": "delivered",
    "open": "delivered",
    "click": "delivered",
    "bounce": "undelivered",
    "dropped": "failed",
}
SENDGRID_OPT_OUTS = ("spamreport", "unsubscribe", "group_unsubscribe")
# `dropped` reasons that mean the address is on SendGrid's own suppression list.
DROPPED_SUPPRESSED = ("bounced address", "unsubscribed address", "spam reporting address", "invalid")


@dataclass(frozen=True)
class StatusUpdate:
    """What one callback did: `applied`, `ignored` (not ours, or stale) and why, the row it touched."""

    result: str
    row_id: int | None = None
    status: str | None = None
    fallback: bool = False
    reason: str = ""


def apply_twilio_status(
    bind: Engine | Connection,
    params: Mapping[str, Any],
    *,
    query: Mapping[str, Any] | None = None,
    fallback: bool = False,
) -> StatusUpdate:
    """Apply one Twilio status callback to its outbox row.

    Args:
        bind: The hub (an engine, or a connection inside the caller's transaction).
        params: The callback's form fields (`MessageSid`, `MessageStatus`, `ErrorCode`, `To`, ...).
        query: The query parameters of the callback URL (`nxt_id`, which the dispatch puts there).
        fallback: Queue the customer's email when the SMS ended `undelivered` or `failed` (the settings'
            `fallback_to_email`).

    Returns:
        What was done. Unknown messages and stale news are ignored, never an error.
    """
    sid = _str(params.get("MessageSid") or params.get("SmsSid"))
    raw = _str(params.get("MessageStatus") or params.get("SmsStatus")).lower()
    code = _str(params.get("ErrorCode"))
    nxt_id = _int((query or {}).get("nxt_id") or params.get("nxt_id"))
    status = TWILIO_STATUS.get(raw)
    if status is None:
        return StatusUpdate("ignored", reason=f"status {raw or '(none)'} means nothing for the outbox")
    with transaction(bind) as conn:
        row = _find_sms(conn, nxt_id, sid)
        if row is None:
            return StatusUpdate("ignored", reason=f"no outbox SMS for {sid or nxt_id}")
        suppress_it = code == TWILIO_UNSUBSCRIBED
        if suppress_it:
            status = "suppressed"
        if RANK[status] <= RANK.get(row.status, 3) or row.status in ("suppressed", "cancelled"):
            _note_provider_status(conn, row, raw, sid)
            return StatusUpdate("ignored", row.id, row.status, reason=f"already {row.status}")
        error = f"Twilio {code}: delivery failed ({raw})" if code and status != "sent" else None
        _update(
            conn, row, status=status, provider_id=sid or None, provider_status=raw, error=error, code=code
        )
        if suppress_it:
            suppress(conn, "sms", [(row.recipient, "Twilio 21610: the recipient replied STOP")])
        did_fallback = False
        if fallback and status in ("undelivered", "failed") and row.fallback_email:
            did_fallback = bool(enqueue_fallbacks(conn, [row]))
        return StatusUpdate("applied", row.id, status, fallback=did_fallback)


def apply_sendgrid_events(bind: Engine | Connection, events: Sequence[Mapping[str, Any]]) -> Counter[str]:
    """Apply a batch of SendGrid Event Webhook events to their outbox rows, in ONE transaction.

    `processed` and `deferred` mean sent, `delivered`/`open`/`click` delivered, `bounce` undelivered,
    `dropped` failed; bounces (not `blocked` ones), spam reports and unsubscribes add the address to the
    suppressions, `group_resubscribe` takes it off. Events for rows we do not have are counted as ignored.

    Returns:
        Counts: `applied`, `ignored`, `suppressions`, `unsuppressed`, `not_ours`.
    """
    counts: Counter[str] = Counter()
    with transaction(bind) as conn:
        rows = _rows_of_events(conn, events)
        changes: dict[int, dict[str, Any]] = {}
        to_suppress: list[tuple[str, str]] = []
        to_unsuppress: list[str] = []
        for event in events:
            if not isinstance(event, Mapping):
                counts["ignored"] += 1
                continue
            kind = _str(event.get("event")).lower()
            email = _str(event.get("email"))
            row = rows.get(_event_key(event))
            if kind in SENDGRID_OPT_OUTS or (kind == "bounce" and _str(event.get("type")) != "blocked"):
                if email:
                    to_suppress.append((email, f"SendGrid {kind}"))
            if kind == "group_resubscribe" and email:
                to_unsuppress.append(email)
            if row is None:
                counts["not_ours"] += 1
                continue
            status = SENDGRID_STATUS.get(kind)
            if status is None:
                counts["ignored"] += 1
                continue
            reason = _str(event.get("reason") or event.get("response"))
            if kind == "dropped" and any(s in reason.lower() for s in DROPPED_SUPPRESSED):
                status = "suppressed"
            current = changes.get(row.id, {}).get("status", row.status)
            if RANK[status] <= RANK.get(current, 3) or current in ("suppressed", "cancelled"):
                counts["ignored"] += 1
                continue
            change = changes.setdefault(row.id, {})
            change.update(status=status, provider_status=kind, at=_when(event))
            message_id = _str(event.get("sg_message_id")).split(".", 1)[0]
            if message_id and not row.provider_id:
                change["provider_id"] = message_id
            if status in ("undelivered", "failed", "suppressed"):
                change["error"] = f"SendGrid {kind}: {reason}".strip().rstrip(":")
                change["code"] = _str(event.get("status")) or kind
            counts["applied"] += 1
        by_id = {r.id: r for r in rows.values()}
        for row_id, change in changes.items():
            row = by_id[row_id]
            _update(
                conn,
                row,
                status=change["status"],
                provider_id=change.get("provider_id"),
                provider_status=change["provider_status"],
                error=change.get("error"),
                code=change.get("code"),
                at=change["at"],
            )
        counts["suppressions"] += suppress(conn, "email", to_suppress)
        for email in dict.fromkeys(to_unsuppress):
            s = Suppression.__table__
            counts["unsuppressed"] += conn.execute(
                sa.delete(s).where(s.c.channel == "email", sa.func.lower(s.c.recipient) == email.lower())
            ).rowcount
    return counts


# --------------------------------------------------------------------------------------------------


def _find_sms(conn: Connection, nxt_id: int | None, sid: str) -> OutboxRow | None:
    if nxt_id is not None:
        found = load(conn, [nxt_id])
        if found and found[0].channel == "sms" and found[0].provider_id in (None, sid or None):
            return found[0]
    if sid:
        ids = conn.execute(
            sa.select(_t.c.id).where(_t.c.channel == "sms", _t.c.provider_id == sid).limit(1)
        ).scalars()
        found = load(conn, list(ids))
        if found:
            return found[0]
    return None


def _event_key(event: Mapping[str, Any]) -> Any:
    nxt_id = _int(event.get("nxt_id"))
    if nxt_id is not None:
        return ("id", nxt_id)
    return ("msg", _str(event.get("sg_message_id")).split(".", 1)[0], _str(event.get("email")).lower())


def _rows_of_events(conn: Connection, events: Iterable[Any]) -> dict[Any, OutboxRow]:
    """The outbox email rows the events name, keyed as `_event_key` keys them (two queries at most)."""
    keys = {_event_key(e) for e in events if isinstance(e, Mapping)}
    by_id = [k[1] for k in keys if k[0] == "id"]
    out: dict[Any, OutboxRow] = {}
    for row in load(conn, by_id):
        if row.channel == "email":
            out[("id", row.id)] = row
    message_ids = list({k[1] for k in keys if k[0] == "msg" and k[1]})
    if message_ids:
        ids = conn.execute(
            sa.select(_t.c.id).where(_t.c.channel == "email", _t.c.provider_id.in_(message_ids))
        ).scalars()
        for row in load(conn, list(ids)):
            out[("msg", row.provider_id, row.recipient.lower())] = row
    return out


def _note_provider_status(conn: Connection, row: OutboxRow, raw: str, sid: str) -> None:
    """Keep the provider's raw status (and a sid we lacked) even when our status does not move."""
    values: dict[str, Any] = {}
    if sid and not row.provider_id and row.status not in ("queued", "claimed"):
        values["provider_id"] = sid
    if values:
        conn.execute(sa.update(_t).where(_t.c.id == row.id).values(**values))


def _update(
    conn: Connection,
    row: OutboxRow,
    *,
    status: str,
    provider_id: str | None,
    provider_status: str,
    error: str | None,
    code: str | None,
    at: datetime | None = None,
) -> None:
    now = utcnow()
    when = at or now
    values: dict[str, Any] = {
        "status": status,
        "provider_status": provider_status[:30],
        "updated_at": now,
        "lease_until": None,
    }
    if provider_id and not row.provider_id:
        values["provider_id"] = provider_id[:200]
    if status in ("sent", "delivered", "undelivered"):
        values["sent_at"] = sa.func.coalesce(_t.c.sent_at, when)
    if status == "delivered":
        values["delivered_at"] = when
    if error:
        values["last_error"] = error[:2000]
        values["error_code"] = (code or "")[:40] or None
    conn.execute(sa.update(_t).where(_t.c.id == row.id).values(**values))


def _when(event: Mapping[str, Any]) -> datetime | None:
    stamp = event.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        try:
            return datetime.fromtimestamp(stamp, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
