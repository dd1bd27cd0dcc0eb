"""`POST /api/integrations/sms/send` and `/email/send`: written to the outbox, answered at once, sent by a
dispatch run through the Twilio and SendGrid stand-ins; bad input answers the seed's error JSON."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from messaging_sandbox import DELIVERABLE, flagged
from receiver_harness import API_TOKEN, Running, rows, save_blocks, settings_for, start_receiver

from blocks import NotificationSettings, SendGridEmail, TwilioSMS
from clients import reset_sender_limits
from hub import outbox
from receiver.routes import messaging
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("twilio", "sendgrid"), products=10, customers=40, orders=60, seed=5, now=DEFAULT_END
    ) as sb:
        yield sb


@pytest.fixture
def running(sb: Sandbox, names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    reset_sender_limits()
    save_blocks(names)
    tw, sg = sb.credentials["twilio"], sb.credentials["sendgrid"]
    TwilioSMS(
        account_sid=tw["account_sid"],
        auth_token=tw["auth_token"],
        from_number=tw["from_number"],
        base_url=sb.urls["twilio"],
        messages_per_second=50,
        max_retries=0,
    ).save(names, overwrite=True)
    SendGridEmail(api_key=sg["api_key"], from_email=sg["from_email"], base_url=sb.urls["sendgrid"]).save(
        names, overwrite=True
    )
    NotificationSettings(shop_name="Acme", retry_base_s=0, retry_max_s=0).save(names, overwrite=True)
    monkeypatch.setenv("NXT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    running = start_receiver(settings_for(names), engine)
    yield running
    running.stop()
    reset_sender_limits()


def _dispatched(running: Running) -> None:
    """Wait for the dispatch the API asked for (and its follow-ups) to finish."""

    async def wait() -> None:
        state = messaging.dispatches(running.runtime)
        while state is not None and state.task is not None and not state.task.done():
            await asyncio.sleep(0.05)
        if state is not None and state.task is not None:
            state.task.result()

    running.call(wait())


def test_sms_send_queues_answers_then_sends_once(running: Running, sb: Sandbox, engine: sa.Engine) -> None:
    body = {"to": DELIVERABLE, "message": "Your order has been confirmed! Order #12345", "urgent": False}
    with running.client(headers=AUTH) as http:
        first = http.post("/api/integrations/sms/send", json=body)
        assert first.status_code == 202, first.text
        data = first.json()["data"]
        assert first.json()["success"] is True and data["status"] == "queued" and data["to"] == DELIVERABLE
        assert data["sid"] is None and data["sentAt"] is None
        _dispatched(running)
        again = http.post("/api/integrations/sms/send", json=body)  # a retried request: the same message
    assert again.status_code == 200, again.text
    sent = again.json()
    assert sent["message"] == "SMS sent successfully"
    assert sent["data"]["notificationId"] == data["notificationId"]
    (message,) = sb.call(sb.twilio.messages, to=DELIVERABLE)
    assert sent["data"]["sid"] == message["sid"] and sent["data"]["sentAt"]
    assert outbox.load(engine, [data["notificationId"]])[0].status in ("sent", "delivered")


def test_email_send_queues_answers_then_sends_once(running: Running, sb: Sandbox) -> None:
    body = {
        "to": "customer@example.com",
        "subject": "Order Confirmation - #12345",
        "content": "<h1>Thank you for your order!</h1>",
        "priority": "normal",
    }
    with running.client(headers=AUTH | {"Idempotency-Key": "order-12345"}) as http:
        first = http.post("/api/integrations/email/send", json=body)
        assert first.status_code == 202, first.text
        assert first.json()["data"]["subject"] == body["subject"]
        _dispatched(running)
        again = http.post("/api/integrations/email/send", json=body)
    assert again.status_code == 200 and again.json()["message"] == "Email sent successfully"
    (email,) = sb.call(sb.sendgrid.emails, to="customer@example.com")
    assert again.json()["data"]["messageId"] == email["x_message_id"]


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the checks are the same on every backend
def test_bad_requests_answer_the_seeds_error_json(running: Running, sb: Sandbox, engine: sa.Engine) -> None:
    opted_out = flagged(sb, "sms", "unsubscribed")
    outbox.suppress(engine, "sms", [(opted_out, "replied STOP")])
    cases: list[tuple[str, dict[str, Any], int, str, str | None]] = [
        ("sms", {"message": "hi"}, 400, "missing_field", "to"),
        ("sms", {"to": "+1 555 01", "message": "hi"}, 400, "invalid_phone", "to"),
        ("sms", {"to": DELIVERABLE, "message": "   "}, 400, "empty_message", "message"),
        ("sms", {"to": DELIVERABLE, "message": "x" * 1601}, 400, "message_too_long", "message"),
        ("sms", {"to": opted_out, "message": "hi"}, 422, "suppressed", "to"),
        ("sms", {"to": DELIVERABLE, "message": "hi", "urgent": "maybe"}, 400, "invalid_request", "urgent"),
        ("email", {"to": "a@example.com", "subject": "s"}, 400, "missing_field", "content"),
        ("email", {"to": "a@example,com", "subject": "s", "content": "c"}, 400, "invalid_email", "to"),
        (
            "email",
            {"to": "a@example.com", "subject": "s", "content": "c", "priority": "asap"},
            400,
            "invalid_priority",
            "priority",
        ),
        (
            "email",
            {"to": "a@example.com", "subject": "s", "content": "c", "cc": "b"},
            400,
            "invalid_request",
            "cc",
        ),
    ]
    with running.client(headers=AUTH) as http:
        for channel, body, code, error, field in cases:
            resp = http.post(f"/api/integrations/{channel}/send", json=body)
            assert resp.status_code == code, (body, resp.text)
            got = resp.json()
            assert got["success"] is False and got["message"], body
            assert (got["error"]["code"], got["error"]["field"]) == (error, field), body
            assert "Traceback" not in resp.text
        no_token = http.post("/api/integrations/sms/send", json={}, headers={"Authorization": "Bearer nope"})
        assert no_token.status_code == 401
        not_json = http.post(
            "/api/integrations/sms/send", content=b"{", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400 and not_json.json()["success"] is False
    assert sb.call(sb.twilio.messages) == [] and sb.call(sb.sendgrid.emails) == []
    running.call(running.runtime.writer.flush())
    refused = [r for r in rows(engine, "dashboard_events") if r.event_type == "api_rejected"]
    assert len(refused) == len(cases) + 2
