"""The notification flows as Prefect users meet them: named and tagged runs, the finishing event, a table
artifact, bookkeeping rows; the seed's direct sends and their response JSON; status updates; operator
alerts to the outbox and to Prefect notification blocks; and the sync raising order events and alerts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from messaging_sandbox import DELIVERABLE, flagged
from prefect.blocks.abstract import NotificationBlock

from blocks import NotificationSettings, SendGridEmail, TwilioSMS
from clients import reset_sender_limits
from flows.notification_dispatch import (
    _close_interrupted_run,
    dispatch_notifications,
    operator_alert,
    send_email,
    send_sms,
    update_notification_status,
)
from hub import outbox
from hub.models import DashboardEvent, DashboardMetric, NotificationRun
from hub.notification_runs import start_run
from hub.notifications import NotificationRejected, notify
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

pytestmark = pytest.mark.usefixtures("prefect_harness")


class RecordingNotification(NotificationBlock):
    """A Prefect notification block that records what it was asked to send (stands in for Slack)."""

    _block_type_slug = "nxt-test-recording-notification"
    sent: ClassVar[list[tuple[str, str | None]]] = []
    fail: bool = False

    async def notify(self, body: str, subject: str | None = None) -> None:
        if self.fail:
            raise ConnectionError("the chat service is down")
        RecordingNotification.sent.append((body, subject))


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("twilio", "sendgrid"), products=10, customers=20, orders=30, seed=5, now=DEFAULT_END
    ) as sb:
        yield sb


@pytest.fixture
def names(sb: Sandbox, hub_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Saves Twilio, SendGrid and settings blocks under one fresh name; the hub is NXT_DATABASE_URL."""
    reset_sender_limits()
    name = f"t-{uuid.uuid4().hex[:8]}"
    tw, sg = sb.credentials["twilio"], sb.credentials["sendgrid"]
    TwilioSMS(
        account_sid=tw["account_sid"],
        auth_token=tw["auth_token"],
        from_number=tw["from_number"],
        base_url=sb.urls["twilio"],
        messages_per_second=50,
    ).save(name)
    SendGridEmail(api_key=sg["api_key"], from_email=sg["from_email"], base_url=sb.urls["sendgrid"]).save(name)
    NotificationSettings(shop_name="Acme", retry_base_s=0).save(name)
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    return name


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    from hub.db import create_hub_engine

    return create_hub_engine(hub_url)


async def _events(prefix: str, resource: str) -> list[dict[str, Any]]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        for _ in range(50):  # the event persister writes in the background
            response = await client.request(
                "POST",
                "/events/filter",
                json={"filter": {"event": {"prefix": [prefix]}, "any_resource": {"id": [resource]}}},
            )
            events = response.json()["events"]
            if events:
                return events
            await asyncio.sleep(0.1)
    return []


async def _flow_run(flow_run_id: str) -> Any:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return await client.read_flow_run(uuid.UUID(flow_run_id))


def test_a_dispatch_run_is_named_tagged_recorded_and_announced(names: str, engine: sa.Engine) -> None:
    order = {
        "id": 5,
        "number": "5",
        "total": "9.00",
        "currency": "USD",
        "billing": {"email": "a@example.com", "phone": DELIVERABLE},
    }
    notify(engine, "order-confirmation", store="s1", order=order)

    summary = asyncio.run(dispatch_notifications(sms=names, email=names, settings=names))

    assert summary["status"] == "completed"
    assert summary["counts"]["sms_sent"] == 1 and summary["counts"]["email_sent"] == 1
    with engine.connect() as conn:
        run = conn.execute(sa.select(NotificationRun.__table__)).one()
        metrics = dict(
            conn.execute(sa.select(DashboardMetric.metric_name, DashboardMetric.metric_value)).all()
        )
        kinds = [e for (e,) in conn.execute(sa.select(DashboardEvent.event_type))]
    assert run.status == "completed" and run.kind == "dispatch" and run.counts["email_requests"] == 1
    assert metrics["notify_sms_sent"] == 1 and metrics["notify_sendgrid_requests"] == 1
    assert kinds == ["notifications_dispatched"]
    prefect_run = asyncio.run(_flow_run(run.flow_run_id))
    assert prefect_run.name == f"notification-dispatch/{names}"
    assert {"notifications", "dispatch", f"settings:{names}"} <= set(prefect_run.tags)
    events = asyncio.run(_events("nxt.notifications.dispatch.", "nxt.notifications.outbox"))
    assert events and events[0]["event"] == "nxt.notifications.dispatch.completed"

    async def artifact() -> Any:
        from prefect.artifacts import Artifact

        return await Artifact.aget("notification-dispatch")

    table = asyncio.run(artifact())
    assert table is not None and "sms_sent" in str(table.data)


def test_direct_sends_answer_in_the_seeds_shape_and_once(names: str, sb: Sandbox, engine: sa.Engine) -> None:
    first = asyncio.run(send_sms(to="(415) 555-0142", message="Test SMS from API", sms=names, settings=names))
    again = asyncio.run(send_sms(to="+14155550142", message="Test SMS from API", sms=names, settings=names))
    email = asyncio.run(
        send_email(
            to="customer@example.com",
            subject="Order Confirmation - #12345",
            content="<h1>Thank you for your order!</h1>",
            priority="high",
            email=names,
            settings=names,
        )
    )

    assert first["success"] is True and first["message"] == "SMS sent successfully"
    assert set(first["data"]) >= {"sid", "status", "to", "sentAt"}
    assert first["data"]["to"] == "+14155550142" and first["data"]["sid"].startswith("SM")
    assert first["data"]["sentAt"].endswith("Z")
    assert again["data"]["sid"] == first["data"]["sid"], "a repeated request is the same message"
    assert len(sb.call(sb.twilio.messages, to="+14155550142")) == 1
    assert email["message"] == "Email sent successfully"
    assert email["data"]["subject"] == "Order Confirmation - #12345" and email["data"]["messageId"]
    [sent] = sb.call(sb.sendgrid.emails, to="customer@example.com")
    assert sent["subject"] == "Order Confirmation - #12345"


def test_direct_sends_refuse_bad_input_with_the_seeds_error_shape(
    names: str, sb: Sandbox, engine: sa.Engine
) -> None:
    with pytest.raises(NotificationRejected) as invalid:
        asyncio.run(send_sms(to="12345", message="hi", sms=names, settings=names))
    with pytest.raises(NotificationRejected) as refused:  # well formed, but Twilio refuses it (21614)
        asyncio.run(send_sms(to=flagged(sb, "sms", "landline"), message="hi", sms=names, settings=names))
    outbox.suppress(engine, "email", [("gone@example.com", "unsubscribed")])
    with pytest.raises(NotificationRejected) as opted_out:
        asyncio.run(send_email(to="gone@example.com", subject="s", content="c", email=names, settings=names))

    assert invalid.value.status == 400 and invalid.value.body()["error"]["code"] == "invalid_phone"
    assert (
        refused.value.status == 400 and refused.value.code == "21614" and "Twilio 21614" in str(refused.value)
    )
    assert opted_out.value.status == 422 and opted_out.value.body()["success"] is False
    assert sb.call(sb.sendgrid.calls) == []


def test_status_updates_apply_provider_news(names: str, sb: Sandbox, engine: sa.Engine) -> None:
    result = asyncio.run(
        send_email(to="bounce-me@example.com", subject="s", content="c", email=names, settings=names)
    )
    row_id = result["data"]["notificationId"]
    events = [
        {"email": "bounce-me@example.com", "event": "processed", "nxt_id": str(row_id), "timestamp": 1},
        {
            "email": "bounce-me@example.com",
            "event": "bounce",
            "type": "bounce",
            "nxt_id": str(row_id),
            "timestamp": 2,
        },
    ]

    counts = asyncio.run(update_notification_status("sendgrid", events, settings=names))

    assert counts["applied"] == 1 and counts["suppressions"] == 1
    assert outbox.load(engine, [row_id])[0].status == "undelivered"
    with pytest.raises(ValueError, match="provider must be twilio or sendgrid"):
        asyncio.run(update_notification_status("fax", [], settings=names))  # type: ignore[arg-type]


def test_operator_alerts_reach_the_outbox_and_notification_blocks_once(names: str, engine: sa.Engine) -> None:
    RecordingNotification.sent.clear()
    RecordingNotification().save(f"{names}-ok")
    RecordingNotification(fail=True).save(f"{names}-down")
    NotificationSettings(
        operator_emails=["ops@example.com"],
        operator_phones=["+14155550100"],
        operator_notification_blocks=[
            f"nxt-test-recording-notification/{names}-ok",
            f"nxt-test-recording-notification/{names}-down",
            "slack-webhook/never-saved",
        ],
    ).save(names, overwrite=True)

    first = asyncio.run(
        operator_alert(
            "Breaks over threshold",
            "12 breaks at stripe",
            key="recon:stripe:7",
            settings=names,
            engine=engine,
        )
    )
    again = asyncio.run(
        operator_alert(
            "Breaks over threshold",
            "12 breaks at stripe",
            key="recon:stripe:7",
            settings=names,
            engine=engine,
        )
    )

    assert first["queued"] == 2 and again["queued"] == 0
    assert first["notified"] == [f"nxt-test-recording-notification/{names}-ok"]
    assert set(first["failed"]) == {
        f"nxt-test-recording-notification/{names}-down",
        "slack-webhook/never-saved",
    }
    assert "the chat service is down" in first["failed"][f"nxt-test-recording-notification/{names}-down"]
    assert RecordingNotification.sent == [("[ERROR] 12 breaks at stripe", "Breaks over threshold")], (
        "once per key"
    )
    assert sorted(r["recipient"] for r in outbox.list_messages(engine)) == ["+14155550100", "ops@example.com"]
    with engine.connect() as conn:
        recorded = conn.execute(sa.select(DashboardEvent.event_type)).scalars().all()
    assert recorded == ["operator_alert", "operator_alert"]


def test_the_sync_raises_order_events_after_its_first_full_sync_and_alerts_when_it_fails(
    names: str, sandbox: Sandbox, block: Any, engine: sa.Engine
) -> None:
    from flows.woocommerce_sync import SyncError, woocommerce_sync

    store = f"store-{names}"
    block.save(store)
    first = asyncio.run(woocommerce_sync(store=store, sync_type="full"))
    assert "notifications" not in first["counts"] and outbox.list_messages(engine) == []

    order_id = next(
        o.id
        for o in sandbox.call(lambda: list(sandbox.woocommerce.records("order")))
        if o.status == "processing" and o.billing_email
    )
    sandbox.call(sandbox.woocommerce.update, "order", order_id, {"status": "completed"})
    second = asyncio.run(woocommerce_sync(store=store, sync_type="orders"))

    assert second["counts"]["notifications"] >= 1
    keys = [r["idempotency_key"] for r in outbox.list_messages(engine)]
    assert f"order-completed:{store}:{order_id}:email" in keys

    NotificationSettings(operator_emails=["ops@example.com"]).save("default", overwrite=True)
    try:
        block.model_copy(update={"consumer_secret": "cs_wrong"}).save(store, overwrite=True)
        with pytest.raises(SyncError):
            asyncio.run(woocommerce_sync(store=store, sync_type="orders"))
    finally:
        NotificationSettings().save("default", overwrite=True)
    alerts = outbox.list_messages(engine, reference=None, channel="email")
    assert any(r["template"] == "operator-alert" and r["recipient"] == "ops@example.com" for r in alerts)


def test_crash_and_cancel_hooks_close_the_runs_row(
    engine: sa.Engine, hub_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = dispatch_notifications.on_crashed_hooks + dispatch_notifications.on_cancellation_hooks
    assert hooks == [_close_interrupted_run, _close_interrupted_run]
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    flow_run_id = str(uuid.uuid4())
    with engine.begin() as conn:
        mine = start_run(conn, kind="dispatch", flow_run_id=flow_run_id)
        other = start_run(conn, kind="dispatch", flow_run_id=str(uuid.uuid4()))

    run = SimpleNamespace(id=flow_run_id, parameters={"hub": None})
    state = SimpleNamespace(name="Crashed", message="Execution was interrupted by SIGTERM")
    asyncio.run(_close_interrupted_run(dispatch_notifications, run, state))  # type: ignore[arg-type]

    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(NotificationRun.__table__))}
    assert rows[mine].status == "crashed" and "SIGTERM" in rows[mine].error
    assert rows[other].status == "running"
