"""Delivery news applied to outbox rows: Twilio status callbacks and SendGrid events, in any order, any
number of times, settling sends in doubt, and turning opt-outs and bounces into suppressions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from hub import outbox
from hub.db import create_hub_engine
from hub.outbox import NewMessage, Outcome
from hub.provider_events import apply_sendgrid_events, apply_twilio_status

LEASE = timedelta(minutes=5)


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _sent(
    engine: sa.Engine, channel: str, n: int = 1, *, provider_id: str | None = "P1", **kw: object
) -> list[int]:
    """Rows taken through claim -> sending -> (sent with `provider_id`, or left in doubt when None)."""
    messages = [
        NewMessage(
            key=f"k{channel}{i}",
            channel=channel,
            recipient=f"+1415555000{i}" if channel == "sms" else f"c{i}@example.com",
            template="order-confirmation",
            **kw,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]
    ids = outbox.enqueue(engine, messages)
    outbox.claim(engine, channel, "w", n, lease=LEASE)
    outbox.mark_sending(
        engine,
        "w",
        {i: (m.recipient, {"body": "x"}) for i, m in zip(ids, messages, strict=True)},
        lease=LEASE,
    )
    if provider_id is not None:
        outbox.record(
            engine, [Outcome(i, "sent", provider_id=f"{provider_id}{k}") for k, i in enumerate(ids)]
        )
    return ids


def _row(engine: sa.Engine, row_id: int) -> outbox.OutboxRow:
    return outbox.load(engine, [row_id])[0]


def test_twilio_callbacks_move_a_text_forward_only(engine: sa.Engine) -> None:
    [row_id] = _sent(engine, "sms", provider_id="SM")
    callback = {"MessageSid": "SM0", "AccountSid": "AC1", "To": "+14155550000"}

    first = apply_twilio_status(engine, {**callback, "MessageStatus": "delivered"})
    late = apply_twilio_status(engine, {**callback, "MessageStatus": "sent"})  # out of order
    again = apply_twilio_status(engine, {**callback, "MessageStatus": "delivered"})  # redelivered

    assert (first.result, first.status) == ("applied", "delivered")
    assert late.result == "ignored" and again.result == "ignored"
    row = _row(engine, row_id)
    assert row.status == "delivered" and row.provider_status == "delivered"
    assert (
        apply_twilio_status(engine, {"MessageSid": "SMunknown", "MessageStatus": "delivered"}).result
        == "ignored"
    )
    assert apply_twilio_status(engine, {**callback, "MessageStatus": "receiving"}).result == "ignored"


def test_a_callback_settles_a_text_whose_sid_never_reached_the_hub(engine: sa.Engine) -> None:
    [row_id] = _sent(engine, "sms", provider_id=None)  # crashed after Twilio accepted it
    update = apply_twilio_status(
        engine, {"MessageSid": "SMabc", "MessageStatus": "sending"}, query={"nxt_id": str(row_id)}
    )
    assert update.result == "applied"
    row = _row(engine, row_id)
    assert row.status == "sent" and row.provider_id == "SMabc"


def test_undelivered_texts_fall_back_to_email_and_stop_replies_are_suppressed(engine: sa.Engine) -> None:
    undelivered, stopped = _sent(engine, "sms", 2, provider_id="SM", fallback_email="jane@example.com")

    update = apply_twilio_status(
        engine, {"MessageSid": "SM0", "MessageStatus": "undelivered", "ErrorCode": "30003"}, fallback=True
    )
    apply_twilio_status(
        engine, {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "21610"}, fallback=True
    )

    assert update.fallback
    assert _row(engine, undelivered).status == "undelivered" and "30003" in (
        _row(engine, undelivered).last_error or ""
    )
    assert _row(engine, stopped).status == "suppressed"
    assert outbox.suppressed(engine, "sms", ["+14155550001"]) == {"+14155550001"}
    emails = outbox.list_messages(engine, channel="email")
    assert [e["recipient"] for e in emails] == ["jane@example.com"], "no email stands in for an opt-out"


def test_sendgrid_events_settle_emails_and_add_suppressions(engine: sa.Engine) -> None:
    ok, bounced, spam, blocked, dropped = _sent(engine, "email", 5, provider_id="MSG")

    def event(row: int, kind: str, **kw: object) -> dict[str, object]:
        return {
            "email": f"c{row - ok}@example.com",
            "event": kind,
            "nxt_id": str(row),
            "timestamp": 1700000000,
            **kw,
        }

    counts = apply_sendgrid_events(
        engine,
        [
            event(ok, "processed"),
            event(ok, "delivered"),
            event(ok, "open"),
            event(bounced, "processed"),
            event(bounced, "bounce", type="bounce", reason="550 5.1.1 no such user", status="5.1.1"),
            event(spam, "delivered"),
            event(spam, "spamreport"),
            event(blocked, "bounce", type="blocked", reason="ip blocked"),
            event(dropped, "dropped", reason="Bounced Address"),
            {"email": "stranger@example.com", "event": "delivered", "sg_message_id": "other.1"},
        ],
    )

    assert counts["not_ours"] == 1
    statuses = {i: _row(engine, i).status for i in (ok, bounced, spam, blocked, dropped)}
    assert statuses == {
        ok: "delivered",
        bounced: "undelivered",
        spam: "delivered",
        blocked: "undelivered",
        dropped: "suppressed",
    }
    assert outbox.suppressed(engine, "email", [f"c{i}@example.com" for i in range(5)]) == {
        "c1@example.com",
        "c2@example.com",
    }, "bounces and spam reports suppress; a blocked bounce is the receiving server's, not the address's"
    with engine.connect() as conn:
        delivered_at = conn.exec_driver_sql(f"SELECT delivered_at FROM outbox WHERE id = {ok}").scalar()
    assert delivered_at is not None
    assert apply_sendgrid_events(engine, [event(ok, "delivered")])["applied"] == 0, (
        "redeliveries change nothing"
    )


def test_events_find_rows_by_message_id_and_settle_sends_in_doubt(engine: sa.Engine) -> None:
    [doubt] = _sent(engine, "email", provider_id=None)
    [known] = outbox.enqueue(
        engine, [NewMessage(key="k2", channel="email", recipient="b@example.com", template="t")]
    )
    outbox.claim(engine, "email", "w", 1, lease=LEASE)
    outbox.mark_sending(engine, "w", {known: ("b@example.com", {})}, lease=LEASE)
    outbox.record(engine, [Outcome(known, "sent", provider_id="XMSG")])

    counts = apply_sendgrid_events(
        engine,
        [
            {
                "email": "c0@example.com",
                "event": "processed",
                "nxt_id": str(doubt),
                "sg_message_id": "YMSG.f.1",
            },
            {"email": "B@example.com", "event": "delivered", "sg_message_id": "XMSG.filter0.2"},
        ],
    )

    assert counts["applied"] == 2
    assert (_row(engine, doubt).status, _row(engine, doubt).provider_id) == ("sent", "YMSG")
    assert _row(engine, known).status == "delivered"


def test_unsubscribes_and_resubscribes(engine: sa.Engine) -> None:
    apply_sendgrid_events(engine, [{"email": "a@example.com", "event": "unsubscribe"}])
    assert outbox.suppressed(engine, "email", ["a@example.com"]) == {"a@example.com"}
    counts = apply_sendgrid_events(engine, [{"email": "A@example.com", "event": "group_resubscribe"}])
    assert counts["unsuppressed"] == 1 and outbox.suppressed(engine, "email", ["a@example.com"]) == set()
    assert apply_sendgrid_events(engine, ["not an event"])["ignored"] == 1  # type: ignore[list-item]
