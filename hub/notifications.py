"""What becomes an outbox row: customer events about orders, operator alerts, and the seed's direct sends.

- `notify(conn, event, store=..., order=... | customer=..., channels=...)` enqueues one row per channel the
  contact has, keyed `<event>:<store>:<order id>:<channel>` (refunds add the refund id), so raising the
  same event twice is a no-op. Rows carry the template context (`order`, `customer`, `refund`) built from
  the WooCommerce JSON, so rendering never reads the mirror again.
- `raise_order_events(conn, store, written)` is called by `hub.upserts.upsert_mirror` in the mirror
  write's own transaction (a transactional outbox) with the orders it wrote and their previous status:
  status transitions and new refunds become events, decided set-wise (one lookup of the store's event
  start, one of earlier refund ids). A store raises none until its first full sync has completed
  (`mark_events_start`), and never about an order last modified before that sync began.
- `submit_sms` / `submit_email`: the seed's `POST /api/integrations/sms/send` and `/email/send`, validated
  and enqueued; bad input raises `NotificationRejected` (the seed's error shape, a 4xx), after recording
  a row when there is something to record.
- `operator_alert_messages(...)`: one row per operator recipient.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.db import transaction
from hub.dialect import upsert_insert
from hub.models import NotificationStore, OrderRefund, utcnow
from hub.outbox import NewMessage, enqueue, existing_keys, load, suppressed
from hub.recipients import InvalidRecipient, normalize_email, normalize_phone

__all__ = [
    "CUSTOMER_EVENTS",
    "DIRECT",
    "EVENTS",
    "NotificationRejected",
    "OPERATOR_ALERT",
    "customer_context",
    "events_for_status",
    "events_start",
    "mark_events_start",
    "notification_messages",
    "notify",
    "operator_alert_messages",
    "order_context",
    "raise_order_events",
    "submit_email",
    "submit_sms",
]

ORDER_CONFIRMATION = "order-confirmation"
ORDER_COMPLETED = "order-completed"
REFUND_ISSUED = "refund-issued"
PAYMENT_FAILED = "payment-failed"
OPERATOR_ALERT = "operator-alert"
DIRECT = "direct"  # the seed's direct sends: the text is given, no template
CUSTOMER_EVENTS = (ORDER_CONFIRMATION, ORDER_COMPLETED, REFUND_ISSUED, PAYMENT_FAILED)
EVENTS = (*CUSTOMER_EVENTS, OPERATOR_ALERT)

# Order statuses (WooCommerce's, plus the `shipped` of shipment-tracking plugins) and what entering them
# means to the customer. WooCommerce itself mails "processing" and "on-hold" orders as received, and
# "completed" ones as shipped; leaving the trash is not news.
CONFIRMED = frozenset({"processing", "on-hold"})
COMPLETED = frozenset({"completed", "shipped"})
FAILED = frozenset({"failed"})
NOT_NEWS_FROM = frozenset({"trash"})

URGENT = 10  # priority of urgent SMS, high-priority email and operator alerts
PRIORITIES = {"low": -10, "normal": 0, "high": URGENT, "urgent": URGENT}
DIRECT_WINDOW = timedelta(minutes=10)  # the same direct message to the same recipient within it is one
_EVENT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_IN_CHUNK = 500


class NotificationRejected(ValueError):
    """A direct send refused before it was queued: bad input, or a recipient who opted out.

    Attributes:
        status: The HTTP status to answer (400 bad input, 422 a suppressed recipient).
        code: `invalid_phone`, `invalid_email`, `empty_message`, `message_too_long`, `invalid_subject`,
            `invalid_priority`, `missing_field`, `suppressed`.
        field: The request field at fault (`to`, `message`, `subject`, `content`, `priority`).
        row_id: The outbox row that records it, when one was recorded.
    """

    def __init__(self, message: str, *, code: str, field: str, status: int = 400, row_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status
        self.row_id = row_id

    def body(self) -> dict[str, Any]:
        """The seed's error shape: `{"success": false, "message": ..., "error": {...}}`."""
        return {
            "success": False,
            "message": self.message,
            "error": {"code": self.code, "field": self.field, "notificationId": self.row_id},
        }


# --------------------------------------------------------------------------------------------------
# Events about orders and customers


def order_context(store: str, order: Mapping[str, Any]) -> dict[str, Any]:
    """The template context of an order event, from the WooCommerce order JSON (text values, never None)."""
    billing: Mapping[str, Any] = order["billing"] if isinstance(order.get("billing"), Mapping) else {}
    items: list[Any] = order["line_items"] if isinstance(order.get("line_items"), list) else []
    return {
        "store": store,
        "order": {
            "id": _text(order.get("id")),
            "number": _text(order.get("number") or order.get("id")),
            "status": _text(order.get("status")),
            "total": _text(order.get("total")),
            "currency": _text(order.get("currency")),
            "date_created": _text(order.get("date_created_gmt") or order.get("date_created")),
            "payment_method_title": _text(order.get("payment_method_title")),
            "shipping_total": _text(order.get("shipping_total")),
            "line_items": [
                {
                    "name": _text(i.get("name")),
                    "quantity": _text(i.get("quantity")),
                    "total": _text(i.get("total")),
                    "sku": _text(i.get("sku")),
                }
                for i in items
                if isinstance(i, Mapping)
            ],
        },
        "customer": {
            "id": _text(order.get("customer_id")),
            "first_name": _text(billing.get("first_name")),
            "last_name": _text(billing.get("last_name")),
            "email": _text(billing.get("email")),
            "phone": _text(billing.get("phone")),
        },
    }


def customer_context(store: str, customer: Mapping[str, Any]) -> dict[str, Any]:
    billing: Mapping[str, Any] = customer["billing"] if isinstance(customer.get("billing"), Mapping) else {}
    return {
        "store": store,
        "customer": {
            "id": _text(customer.get("id")),
            "first_name": _text(customer.get("first_name") or billing.get("first_name")),
            "last_name": _text(customer.get("last_name") or billing.get("last_name")),
            "email": _text(customer.get("email") or billing.get("email")),
            "phone": _text(billing.get("phone") or customer.get("phone")),
        },
    }


def notification_messages(
    event: str,
    *,
    store: str,
    order: Mapping[str, Any] | None = None,
    customer: Mapping[str, Any] | None = None,
    channels: Iterable[str] = ("email", "sms"),
    refund: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    priority: int = 0,
) -> list[NewMessage]:
    """The rows `notify` would enqueue (nothing is written)."""
    if (order is None) == (customer is None):
        raise ValueError("notify needs an order or a customer (one of them)")
    if order is not None:
        context = order_context(store, order)
        subject = f"{store}:{_text(order.get('id'))}"
        reference = f"order:{store}:{_text(order.get('id'))}"
    else:
        assert customer is not None
        context = customer_context(store, customer)
        subject = f"{store}:customer-{_text(customer.get('id'))}"
        reference = f"customer:{store}:{_text(customer.get('id'))}"
    if refund is not None:
        amount = _text(refund.get("total") or refund.get("amount"))
        context["refund"] = {
            "id": _text(refund.get("id")),
            "amount": amount.lstrip("-"),  # orders list refunds with a negative total
            "reason": _text(refund.get("reason")),
        }
        subject += f":{_text(refund.get('id')) or 'full'}"
    context.update(extra or {})
    contact = context["customer"]
    bad_event = None if _EVENT_NAME.match(event or "") else f"{event!r} is not an event name"
    messages: list[NewMessage] = []
    for channel in dict.fromkeys(channels):
        if channel not in ("sms", "email"):
            raise ValueError(f"channel must be sms or email, not {channel!r}")
        recipient = contact["phone"] if channel == "sms" else contact["email"]
        if not recipient:
            continue  # no phone (or email) on record: nothing to send on that channel
        messages.append(
            NewMessage(
                key=f"{event}:{subject}:{channel}"[:200],
                channel=channel,
                recipient=recipient,
                template=(event or "?")[:100],
                payload=context,
                priority=priority,
                reference=reference,
                fallback_email=contact["email"] or None if channel == "sms" else None,
                status="failed" if bad_event else "queued",
                last_error=bad_event,
                error_code="unknown_event" if bad_event else None,
            )
        )
    return messages


def notify(
    bind: Engine | Connection,
    event: str,
    *,
    store: str,
    order: Mapping[str, Any] | None = None,
    customer: Mapping[str, Any] | None = None,
    channels: Iterable[str] = ("email", "sms"),
    refund: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    priority: int = 0,
) -> list[int]:
    """Enqueue `event` about an order (WooCommerce JSON) or a customer, on each channel it has a contact for.

    Args:
        bind: A connection (the caller's transaction: the rows commit with it) or an engine.
        event: `order-confirmation`, `order-completed`, `refund-issued`, `payment-failed`, or an event of
            the user's own templates. A malformed name is recorded as a failed row.
        store: The store (WooCommerce block) name; part of the key.
        order: The order as WooCommerce serves it (billing email and phone are the contacts).
        customer: Or a customer as WooCommerce serves it.
        channels: `email`, `sms`, or both; a channel without a contact is skipped.
        refund: For `refund-issued`: the refund (`id`, `total` or `amount`, `reason`); its id joins the key.
        extra: More template variables.
        priority: Higher goes first.

    Returns:
        The ids of the rows inserted (an event already in the outbox inserts nothing).
    """
    return enqueue(
        bind,
        notification_messages(
            event,
            store=store,
            order=order,
            customer=customer,
            channels=channels,
            refund=refund,
            extra=extra,
            priority=priority,
        ),
    )


def events_for_status(old: str | None, new: str | None) -> list[str]:
    """The customer events an order's status change raises (`old` None: the order is new to the hub)."""
    if not new or old == new or (old in NOT_NEWS_FROM):
        return []
    if new in COMPLETED and old not in COMPLETED:
        return [ORDER_COMPLETED]
    if new in CONFIRMED and old not in CONFIRMED | COMPLETED:
        return [ORDER_CONFIRMATION]
    if new in FAILED:
        return [PAYMENT_FAILED]
    return []


def mark_events_start(conn: Connection, store: str, since: datetime) -> bool:
    """Record that `store` finished its first full sync, which began at `since`: order changes seen from
    now on raise customer events. Later calls change nothing. Returns True the first time."""
    insert = partial(upsert_insert, conn)
    t = NotificationStore.__table__
    done = conn.execute(
        insert(t)
        .values(store=store, events_from=since)
        .on_conflict_do_nothing(index_elements=[t.c.store])
        .returning(t.c.store)
    ).first()
    return done is not None


def events_start(bind: Engine | Connection, store: str) -> datetime | None:
    """From when `store`'s order changes raise events; None before its first full sync completed."""
    t = NotificationStore.__table__
    with transaction(bind) as conn:
        return conn.execute(sa.select(t.c.events_from).where(t.c.store == store)).scalar()


def raise_order_events(
    conn: Connection, store: str, written: Sequence[tuple[int, str | None, Mapping[str, Any]]]
) -> int:
    """Enqueue the customer events of orders just written to the mirror, in the caller's transaction.

    `written` holds `(remote id, status before or None for a new order, the row written)`, the row with
    `data` (the WooCommerce JSON), `status` and `date_modified_gmt`/`date_created_gmt`. Status transitions
    raise `events_for_status`; refunds whose ids the hub did not have raise `refund-issued`. Nothing is
    raised before the store's first full sync completed, nor about an order last modified (a new one:
    created) before that sync began. Returns the rows inserted.
    """
    if not written:
        return 0
    start = events_start(conn, store)
    if start is None:
        return 0
    start = start.replace(microsecond=0)  # WooCommerce's times have whole seconds
    recent = []
    for rid, old, row in written:
        when = row.get("date_created_gmt") if old is None else row.get("date_modified_gmt")
        if when is None or when >= start:
            recent.append((rid, old, row))
    with_refunds = [rid for rid, _, row in recent if _refunds(row.get("data"))]
    known = _known_refunds(conn, store, with_refunds)
    messages: list[NewMessage] = []
    for rid, old, row in recent:
        data = row.get("data") or {}
        if not isinstance(data, Mapping):
            continue
        for event in events_for_status(old, row.get("status")):
            messages += notification_messages(event, store=store, order=data)
        if old is None:
            continue  # a new order's refunds are part of what it is, not news
        for refund in _refunds(data):
            if refund.get("id") not in known.get(rid, set()):
                messages += notification_messages(REFUND_ISSUED, store=store, order=data, refund=refund)
    return len(enqueue(conn, messages)) if messages else 0


def _refunds(data: Any) -> list[Mapping[str, Any]]:
    refunds = data.get("refunds") if isinstance(data, Mapping) else None
    return [r for r in refunds if isinstance(r, Mapping) and r.get("id")] if isinstance(refunds, list) else []


def _known_refunds(conn: Connection, store: str, order_ids: Sequence[int]) -> dict[int, set[Any]]:
    t = OrderRefund.__table__
    known: dict[int, set[Any]] = {}
    for start in range(0, len(order_ids), _IN_CHUNK):
        chunk = list(order_ids[start : start + _IN_CHUNK])
        for order_id, refund_id in conn.execute(
            sa.select(t.c.order_remote_id, t.c.remote_id).where(
                t.c.store == store, t.c.order_remote_id.in_(chunk)
            )
        ):
            known.setdefault(int(order_id), set()).add(int(refund_id))
    return known


# --------------------------------------------------------------------------------------------------
# Operator alerts


def operator_alert_messages(
    key: str,
    subject: str,
    message: str,
    *,
    severity: str = "error",
    source: str = "nxt",
    details: Mapping[str, Any] | None = None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
) -> list[NewMessage]:
    """One row per operator email and phone, keyed `operator-alert:<key>:<channel>:<recipient>`."""
    context = {
        "alert": {
            "subject": subject,
            "message": message,
            "severity": severity,
            "source": source,
            "details": {str(k): _text(v) for k, v in (details or {}).items()},
        }
    }
    out = []
    for channel, recipients in (("email", emails), ("sms", phones)):
        for recipient in dict.fromkeys(recipients):
            out.append(
                NewMessage(
                    key=f"{OPERATOR_ALERT}:{key}:{channel}:{recipient}"[:200],
                    channel=channel,
                    recipient=recipient,
                    template=OPERATOR_ALERT,
                    payload=context,
                    priority=URGENT,
                    reference=f"alert:{key}"[:200],
                )
            )
    return out


# --------------------------------------------------------------------------------------------------
# The seed's direct sends


def submit_sms(
    bind: Engine | Connection,
    to: str,
    message: str,
    *,
    urgent: bool = False,
    idempotency_key: str | None = None,
    default_region: str | None = None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Validate and enqueue the seed's `POST /api/integrations/sms/send`; return (row id, newly queued).

    The same text to the same number within 10 minutes is the same message (a retried request), unless an
    `idempotency_key` says otherwise.

    Raises:
        NotificationRejected: a missing or invalid number, an empty or over-long text (400), or a number
            that opted out (422). Invalid numbers and opted-out recipients are also recorded as rows.
    """
    if not isinstance(to, str) or not to.strip():
        raise NotificationRejected(
            "`to` is required: the phone number to text", code="missing_field", field="to"
        )
    if not isinstance(message, str):
        raise NotificationRejected(
            "`message` is required: the text to send", code="missing_field", field="message"
        )
    try:
        number: str | None = normalize_phone(to, default_region)
        problem = None
    except InvalidRecipient as exc:
        number, problem = None, exc
    # The same text to the same number (however it was written) is the same message.
    key = _direct_key("sms", idempotency_key, (number or to.strip(), message), now)
    from hub.templates import RenderProblem, check_sms  # here: Jinja costs a sync command ~0.1 s to load

    try:
        body = check_sms(message.strip())
    except RenderProblem as exc:
        code = "empty_message" if not message.strip() else "message_too_long"
        raise NotificationRejected(
            f"`message` {str(exc).removeprefix('the SMS text ')}", code=code, field="message"
        ) from None
    base = NewMessage(
        key=key,
        channel="sms",
        recipient=to.strip(),
        template=DIRECT,
        payload={"body": body},
        priority=URGENT if urgent else 0,
        reference="direct",
    )
    if number is None:
        assert problem is not None
        row_id = _record_refusal(bind, base, "failed", str(problem), problem.code)
        raise NotificationRejected(str(problem), code=problem.code, field="to", row_id=row_id)
    return _submit(bind, _replace(base, recipient=number))


def submit_email(
    bind: Engine | Connection,
    to: str,
    subject: str,
    content: str,
    *,
    priority: str = "normal",
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """Validate and enqueue the seed's `POST /api/integrations/email/send`; return (row id, newly queued).

    `content` is HTML (the seed's) or plain text; the email gets both parts. `priority` is `low`,
    `normal` or `high` (`high` goes first and is marked important).

    Raises:
        NotificationRejected: a missing or invalid address, an empty or over-long subject, empty content,
            an unknown priority (400), or an address that opted out (422).
    """
    for name, value in (("to", to), ("subject", subject), ("content", content)):
        if not isinstance(value, str) or not value.strip():
            raise NotificationRejected(f"`{name}` is required", code="missing_field", field=name)
    if priority not in PRIORITIES:
        raise NotificationRejected(
            f"`priority` must be one of {', '.join(PRIORITIES)}, not {priority!r}",
            code="invalid_priority",
            field="priority",
        )
    from hub.templates import RenderProblem, check_email  # here: Jinja costs a sync command ~0.1 s to load

    try:
        check_email(subject, content, content)
    except RenderProblem as exc:
        field = "subject" if "subject" in str(exc) else "content"
        raise NotificationRejected(
            f"`{field}`: {exc}",
            code="invalid_subject" if field == "subject" else "empty_message",
            field=field,
        ) from None
    try:
        address: str | None = normalize_email(to)
        problem: InvalidRecipient | None = None
    except InvalidRecipient as exc:
        address, problem = None, exc
    key = _direct_key("email", idempotency_key, ((address or to.strip()).lower(), subject, content), now)
    base = NewMessage(
        key=key,
        channel="email",
        recipient=to.strip(),
        template=DIRECT,
        payload={"subject": " ".join(subject.split()), "content": content, "priority": priority},
        priority=PRIORITIES[priority],
        reference="direct",
    )
    if address is None:
        assert problem is not None
        row_id = _record_refusal(bind, base, "failed", str(problem), problem.code)
        raise NotificationRejected(str(problem), code=problem.code, field="to", row_id=row_id)
    return _submit(bind, _replace(base, recipient=address))


def _submit(bind: Engine | Connection, message: NewMessage) -> tuple[int, bool]:
    if suppressed(bind, message.channel, [message.recipient]):
        why = f"{message.recipient} opted out of {message.channel} messages (suppressed)"
        row_id = _record_refusal(bind, message, "suppressed", why, "suppressed")
        raise NotificationRejected(why, code="suppressed", field="to", status=422, row_id=row_id)
    with transaction(bind) as conn:
        inserted = enqueue(conn, [message])
        if inserted:
            return inserted[0], True
        row_id = existing_keys(conn, [message.key])[message.key]
        row = load(conn, [row_id])[0]
        if row.status in ("failed", "suppressed") and row.attempts == 0 and row.error_code:
            # The same request was refused before: refuse it the same way.
            raise NotificationRejected(
                row.last_error or "refused",
                code=row.error_code,
                field="to",
                status=422 if row.status == "suppressed" else 400,
                row_id=row_id,
            )
        return row_id, False


def _record_refusal(bind: Engine | Connection, message: NewMessage, status: str, why: str, code: str) -> int:
    row = _replace(message, status=status, last_error=why, error_code=code)
    with transaction(bind) as conn:
        inserted = enqueue(conn, [row])
        return inserted[0] if inserted else existing_keys(conn, [row.key])[row.key]


def _replace(message: NewMessage, **changes: Any) -> NewMessage:
    from dataclasses import replace

    return replace(message, **changes)


def _direct_key(channel: str, given: str | None, parts: Sequence[str], now: datetime | None) -> str:
    if given:
        return f"direct-{channel}:{given}"[:200]
    window = int((now or utcnow()).timestamp() // DIRECT_WINDOW.total_seconds())
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"direct-{channel}:{digest}:{window}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)
