"""What becomes an outbox row: order events raised by mirror writes (in their transaction, never during a
store's first full sync, set-wise), `notify`, operator alerts, the seed's direct sends and their refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub import outbox
from hub.batches import BatchTarget, write_records
from hub.db import create_hub_engine
from hub.notifications import (
    NotificationRejected,
    events_for_status,
    events_start,
    mark_events_start,
    notify,
    operator_alert_messages,
    submit_email,
    submit_sms,
)

TARGET = BatchTarget(
    store="s1", resource="orders", listing="orders", incremental=True, strategy="wc_priority", run_id=None
)
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _order(
    oid: int, status: str = "pending", modified: str = "2024-05-01T13:00:00", **change: Any
) -> dict[str, Any]:
    return {
        "id": oid,
        "number": str(1000 + oid),
        "status": status,
        "currency": "USD",
        "total": "10.00",
        "date_created_gmt": "2024-05-01T12:30:00",
        "date_modified_gmt": modified,
        "billing": {"first_name": "Ann", "email": f"c{oid}@example.com", "phone": f"+1415555{oid:04d}"},
        "line_items": [
            {"id": oid * 10, "product_id": 1, "quantity": 1, "name": f"Item {oid}", "total": "10.00"}
        ],
        "refunds": [],
        **change,
    }


def _write(engine: sa.Engine, orders: list[dict[str, Any]]) -> dict[str, int]:
    with engine.begin() as conn:
        return dict(write_records(conn, TARGET, orders))


def _keys(engine: sa.Engine) -> list[str]:
    return sorted(r["idempotency_key"] for r in outbox.list_messages(engine, limit=10_000))


@pytest.mark.parametrize(
    ("old", "new", "events"),
    [
        (None, "processing", ["order-confirmation"]),
        ("pending", "processing", ["order-confirmation"]),
        ("pending", "on-hold", ["order-confirmation"]),
        ("on-hold", "processing", []),
        ("processing", "completed", ["order-completed"]),
        ("processing", "shipped", ["order-completed"]),
        ("pending", "completed", ["order-completed"]),
        ("completed", "processing", []),
        ("pending", "failed", ["payment-failed"]),
        ("processing", "processing", []),
        ("trash", "completed", []),
        ("processing", "cancelled", []),
        (None, "pending", []),
    ],
)
def test_which_status_changes_are_news(old: str | None, new: str, events: list[str]) -> None:
    assert events_for_status(old, new) == events


def test_a_stores_first_sync_messages_no_one(engine: sa.Engine) -> None:
    counts = _write(engine, [_order(1, "processing"), _order(2, "completed")])
    assert counts["inserted"] == 2 and "notifications" not in counts
    assert _keys(engine) == []
    assert events_start(engine, "s1") is None


def test_changes_after_the_first_full_sync_raise_events_once(engine: sa.Engine) -> None:
    _write(engine, [_order(1, "pending"), _order(2, "processing"), _order(3, "processing")])
    with engine.begin() as conn:
        assert mark_events_start(conn, "s1", START)
        assert not mark_events_start(conn, "s1", START + timedelta(days=1)), "the first start stays"

    counts = _write(
        engine,
        [
            _order(1, "processing", modified="2024-05-01T14:00:00"),
            _order(2, "completed", modified="2024-05-01T14:00:00"),
            _order(3, "processing", modified="2024-05-01T14:00:00", total="11.00"),  # changed, same status
            _order(4, "processing", modified="2024-05-01T14:00:00"),  # new since the sync
        ],
    )

    assert counts["notifications"] == 6
    assert _keys(engine) == [
        "order-completed:s1:2:email",
        "order-completed:s1:2:sms",
        "order-confirmation:s1:1:email",
        "order-confirmation:s1:1:sms",
        "order-confirmation:s1:4:email",
        "order-confirmation:s1:4:sms",
    ]
    [row] = [
        r
        for r in outbox.load(engine, [m["id"] for m in outbox.list_messages(engine)])
        if r.key.endswith("1:sms")
    ]
    assert row.payload["order"]["number"] == "1001" and row.payload["customer"]["first_name"] == "Ann"
    assert row.fallback_email == "c1@example.com" and row.reference == "order:s1:1"
    # The same change read again (an overlapping page, a webhook re-read) raises nothing new.
    again = _write(engine, [_order(2, "completed", modified="2024-05-01T14:00:00", total="12.00")])
    assert "notifications" not in again and len(_keys(engine)) == 6


def test_orders_the_sync_sees_late_but_changed_before_it_began_raise_nothing(engine: sa.Engine) -> None:
    _write(engine, [_order(1, "pending", modified="2024-05-01T11:00:00")])
    with engine.begin() as conn:
        mark_events_start(conn, "s1", START)

    # A change older than the first sync (the mirror's copy was stale) and an old order found only now.
    _write(
        engine,
        [
            _order(1, "completed", modified="2024-05-01T11:30:00"),
            _order(9, "processing", modified="2024-05-01T11:30:00", date_created_gmt="2024-04-01T00:00:00"),
        ],
    )
    assert _keys(engine) == []


def test_new_refunds_are_news_once(engine: sa.Engine) -> None:
    _write(engine, [_order(1, "processing")])
    with engine.begin() as conn:
        mark_events_start(conn, "s1", START)
    refund = {"id": 501, "total": "-4.00", "reason": "damaged"}

    _write(engine, [_order(1, "processing", modified="2024-05-01T15:00:00", refunds=[refund])])
    _write(engine, [_order(1, "refunded", modified="2024-05-01T16:00:00", refunds=[refund])])

    assert _keys(engine) == ["refund-issued:s1:1:501:email", "refund-issued:s1:1:501:sms"]
    [row] = [
        r
        for r in outbox.load(engine, [m["id"] for m in outbox.list_messages(engine)])
        if r.channel == "email"
    ]
    assert row.payload["refund"] == {"id": "501", "amount": "4.00", "reason": "damaged"}


def test_events_commit_with_the_mirror_write_or_not_at_all(engine: sa.Engine) -> None:
    _write(engine, [_order(1, "pending")])
    with engine.begin() as conn:
        mark_events_start(conn, "s1", START)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        write_records(conn, TARGET, [_order(1, "processing", modified="2024-05-01T14:00:00")])
        assert len(outbox.list_messages(conn)) == 2, "written in the mirror's transaction"
        raise RuntimeError("the cursor could not move")
    assert _keys(engine) == []
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT status FROM orders").scalar() == "pending"


def test_raising_events_costs_the_same_statements_for_10_or_100_orders(engine: sa.Engine) -> None:
    def statements(n: int, first: int) -> tuple[int, int]:
        orders = [_order(i, "pending") for i in range(first, first + n)]
        _write(engine, orders)
        seen: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            changed = [
                dict(
                    o,
                    status="processing",
                    refunds=[{"id": 90000 + o["id"], "total": "-1.00", "reason": ""}],
                    date_modified_gmt="2024-05-02T00:00:00",
                )
                for o in orders
            ]
            counts = _write(engine, changed)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen), counts["notifications"]

    with engine.begin() as conn:
        mark_events_start(conn, "s1", START)
    small, raised_small = statements(10, 1)
    large, raised_large = statements(100, 1000)  # a page holds at most 100 records
    assert raised_small == 40 and raised_large == 400
    assert large == small, "no statement per order"


def test_notify_skips_channels_without_a_contact_and_records_bad_event_names(engine: sa.Engine) -> None:
    order = _order(7, "processing", billing={"email": "x@example.com", "phone": ""})
    ids = notify(engine, "payment-failed", store="s1", order=order)
    bad = notify(
        engine, "Bad Event!", store="s1", customer={"id": 3, "email": "y@example.com"}, channels=["email"]
    )

    assert len(ids) == 1
    [row] = outbox.load(engine, bad)
    assert row.status == "failed" and row.error_code == "unknown_event"
    assert "'Bad Event!' is not an event name" in (row.last_error or "")
    with pytest.raises(ValueError, match="an order or a customer"):
        notify(engine, "payment-failed", store="s1")


def test_operator_alerts_go_to_every_operator_once_per_key(engine: sa.Engine) -> None:
    rows = operator_alert_messages(
        "sync-failed:s1:2024-05-01T12",
        "Sync failed",
        "store down",
        emails=["ops@example.com"],
        phones=["+14155550100"],
    )
    assert len(outbox.enqueue(engine, rows)) == 2
    assert outbox.enqueue(engine, rows) == []
    assert {r.priority for r in rows} == {10} and rows[0].payload["alert"]["severity"] == "error"


# --------------------------------------------------------------------------------------------------
# The seed's direct sends


def test_direct_sms_is_normalised_and_deduplicated(engine: sa.Engine) -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    first = submit_sms(engine, "(415) 555-0142", "Your code is 1", default_region="US", now=now)
    again = submit_sms(
        engine, "(415) 555-0142", "Your code is 1", default_region="US", now=now + timedelta(minutes=1)
    )
    keyed = submit_sms(
        engine, "+14155550142", "Your code is 1", idempotency_key="req-7", urgent=True, now=now
    )

    assert first[1] and again == (first[0], False), "a retried request is the same message"
    assert keyed[1] and keyed[0] != first[0]
    [row, urgent] = outbox.load(engine, [first[0], keyed[0]])
    assert (
        row.recipient == "+14155550142"
        and row.payload == {"body": "Your code is 1"}
        and row.template == "direct"
    )
    assert urgent.priority == 10 and urgent.key == "direct-sms:req-7"


@pytest.mark.parametrize(
    ("to", "message", "code", "field", "recorded"),
    [
        ("", "hi", "missing_field", "to", False),
        ("+1555", "hi", "invalid_phone", "to", True),
        ("not a number", "hi", "invalid_phone", "to", True),
        ("+14155550142", "   ", "empty_message", "message", False),
        ("+14155550142", "x" * 1601, "message_too_long", "message", False),
    ],
)
def test_direct_sms_refusals_have_the_seed_shape(
    engine: sa.Engine, to: str, message: str, code: str, field: str, recorded: bool
) -> None:
    with pytest.raises(NotificationRejected) as caught:
        submit_sms(engine, to, message, default_region="US")
    exc = caught.value
    assert exc.status == 400 and exc.code == code and exc.field == field
    body = exc.body()
    assert body["success"] is False and body["error"]["code"] == code and body["message"] == str(exc)
    rows = outbox.list_messages(engine)
    assert len(rows) == int(recorded)
    if recorded:
        assert rows[0]["status"] == "failed" and body["error"]["notificationId"] == rows[0]["id"]
        with pytest.raises(NotificationRejected, match="phone"):
            submit_sms(engine, to, message, default_region="US")  # the same refusal, still one row
        assert len(outbox.list_messages(engine)) == 1


def test_direct_sends_to_suppressed_recipients_are_refused_and_recorded(engine: sa.Engine) -> None:
    outbox.suppress(engine, "sms", [("+14155550142", "STOP")])
    outbox.suppress(engine, "email", [("jane@example.com", "bounce")])

    with pytest.raises(NotificationRejected) as sms:
        submit_sms(engine, "+14155550142", "hi")
    with pytest.raises(NotificationRejected) as email:
        submit_email(engine, "Jane@Example.com", "Hi", "<p>hi</p>")

    assert sms.value.status == 422 and sms.value.code == "suppressed"
    assert email.value.status == 422
    assert sorted(r["status"] for r in outbox.list_messages(engine)) == ["suppressed", "suppressed"]


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        (("", "s", "c"), "missing_field", "to"),
        (("jane.doe@example,com", "s", "c"), "invalid_email", "to"),
        (("a@example.com", "", "c"), "missing_field", "subject"),
        (("a@example.com", "x" * 999, "c"), "invalid_subject", "subject"),
        (("a@example.com", "s", "  "), "missing_field", "content"),
    ],
)
def test_direct_email_refusals(engine: sa.Engine, args: tuple[str, str, str], code: str, field: str) -> None:
    with pytest.raises(NotificationRejected) as caught:
        submit_email(engine, *args)
    assert (caught.value.code, caught.value.field, caught.value.status) == (code, field, 400)


def test_direct_email_priority(engine: sa.Engine) -> None:
    row_id, _ = submit_email(
        engine, "a@Example.COM", "Order  Confirmation\n- #1", "<h1>Thanks</h1>", priority="high"
    )
    [row] = outbox.load(engine, [row_id])
    assert row.recipient == "a@example.com" and row.priority == 10
    assert row.payload == {
        "subject": "Order Confirmation - #1",
        "content": "<h1>Thanks</h1>",
        "priority": "high",
    }
    with pytest.raises(NotificationRejected, match="priority") as caught:
        submit_email(engine, "a@example.com", "s", "c", priority="asap")
    assert caught.value.code == "invalid_priority"


def test_a_change_in_the_same_second_the_first_sync_began_counts(engine: sa.Engine) -> None:
    """WooCommerce's times have whole seconds: 12:00:00 may be 12:00:00.9, after a start at 12:00:00.5."""
    _write(engine, [_order(1, "pending", modified="2024-05-01T11:00:00")])
    with engine.begin() as conn:
        mark_events_start(conn, "s1", START + timedelta(milliseconds=500))
    _write(engine, [_order(1, "processing", modified="2024-05-01T12:00:00")])
    assert _keys(engine) == ["order-confirmation:s1:1:email", "order-confirmation:s1:1:sms"]
