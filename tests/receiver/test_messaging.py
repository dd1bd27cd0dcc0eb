"""Delivery news end to end: the outbox sends through the Twilio and SendGrid stand-ins, which post their
real, signed status callbacks and Event Webhook batches to the receiver; the receiver stores them, and its
dispatcher runs `notification-status`, which moves the outbox rows and adds suppressions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from messaging_sandbox import DELIVERABLE, flagged
from receiver_harness import Running, rows, save_blocks, settings_for, start_receiver
from twilio.request_validator import RequestValidator

from blocks import NotificationSettings, SendGridEmail, TwilioSMS
from clients import reset_sender_limits
from flows.notification_dispatch import run_dispatch, templates_for
from hub import outbox
from hub.notifications import submit_email, submit_sms
from receiver.handlers import default_registry
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("twilio", "sendgrid"), products=10, customers=40, orders=60, seed=5, now=DEFAULT_END
    ) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    reset_sender_limits()
    yield
    reset_sender_limits()


def _blocks(sb: Sandbox, names: str) -> tuple[TwilioSMS, SendGridEmail]:
    save_blocks(names)
    tw, sg = sb.credentials["twilio"], sb.credentials["sendgrid"]
    sms = TwilioSMS(
        account_sid=tw["account_sid"],
        auth_token=tw["auth_token"],
        from_number=tw["from_number"],
        base_url=sb.urls["twilio"],
        messages_per_second=50,
        max_retries=0,
    )
    email = SendGridEmail(
        api_key=sg["api_key"],
        from_email=sg["from_email"],
        base_url=sb.urls["sendgrid"],
        verification_key=sg["verification_key"],
    )
    sms.save(names, overwrite=True)
    email.save(names, overwrite=True)
    return sms, email


def _start(
    sb: Sandbox, names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> tuple[Running, TwilioSMS, SendGridEmail, NotificationSettings]:
    sms, email = _blocks(sb, names)
    monkeypatch.setenv("NXT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    running = start_receiver(settings_for(names, dispatch_enabled=True), engine, registry=default_registry())
    settings = NotificationSettings(
        shop_name="Acme",
        retry_base_s=0,
        retry_max_s=0,
        status_callback_url=running.url + "/api/webhooks/twilio",
    )
    settings.save(names, overwrite=True)  # the notification-status flow reads it (fallback_to_email)
    sb.call(sb.sendgrid.set_event_webhook, running.url + "/api/webhooks/sendgrid")
    return running, sms, email, settings


def _send(engine: sa.Engine, settings: NotificationSettings, sms: TwilioSMS, email: SendGridEmail) -> None:
    asyncio.run(
        run_dispatch(engine, settings, templates_for(settings), sms=sms, email=email, use_prefect=False)
    )


def _flow_runs(running: Running, ids: set[str]) -> list[Any]:
    from prefect.client.orchestration import get_client

    async def read() -> list[Any]:
        async with get_client() as client:
            return [await client.read_flow_run(uuid.UUID(i)) for i in ids]

    return running.call(read())  # type: ignore[no-any-return]


def test_twilio_callbacks_move_texts_and_a_stop_reply_suppresses(
    sb: Sandbox, names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, sms, email, settings = _start(sb, names, engine, monkeypatch)
    try:
        ok, _ = submit_sms(engine, DELIVERABLE, "your order shipped")
        unreachable = flagged(sb, "sms", "unreachable")
        lost, _ = submit_sms(engine, unreachable, "your order shipped")
        _send(engine, settings, sms, email)
        sb.call(sb.twilio.settle)
        sb.call(sb.twilio.flush)  # every callback was posted to the receiver (and answered)
        running.call(running.runtime.dispatcher.drain())

        by_id = {r.id: r for r in outbox.load(engine, [ok, lost])}
        assert (by_id[ok].status, by_id[ok].provider_status) == ("delivered", "delivered")
        assert by_id[lost].status == "undelivered" and by_id[lost].error_code in {
            str(c) for c in range(30003, 30009)
        }
        inbox = rows(engine, source="twilio")
        assert inbox and {r.status for r in inbox} == {"done"}
        assert {r.event_key.split(":")[0] for r in inbox} == {by_id[ok].provider_id, by_id[lost].provider_id}
        runs = _flow_runs(running, {r.flow_run_id for r in inbox})
        assert all(r.state.is_completed() and r.name.startswith("notification-status/") for r in runs)

        # A later reply STOP: Twilio reports 21610 on the message's callback (signed with the account's
        # token, over the public URL with the nxt_id the dispatch put there).
        url = f"{running.url}/api/webhooks/twilio?nxt_id={ok}"
        params = {
            "MessageSid": by_id[ok].provider_id or "",
            "MessageStatus": "failed",
            "ErrorCode": "21610",
            "AccountSid": sb.credentials["twilio"]["account_sid"],
            "To": DELIVERABLE,
        }
        # 21610 after `delivered` is a later message's news in real life; here a second text gets it.
        sb.call(sb.twilio.freeze)  # the second text stays `queued`: no delivery of its own races the 21610
        second, _ = submit_sms(engine, DELIVERABLE, "and another one")
        _send(engine, settings, sms, email)
        sid = outbox.load(engine, [second])[0].provider_id or ""
        url = f"{running.url}/api/webhooks/twilio?nxt_id={second}"
        params["MessageSid"] = sid
        signature = RequestValidator(sb.credentials["twilio"]["auth_token"]).compute_signature(url, params)
        with running.client() as http:
            resp = http.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert resp.status_code == 200, resp.text
        running.call(running.runtime.dispatcher.drain())
        row = outbox.load(engine, [second])[0]
        assert row.status == "suppressed" and row.error_code == "21610"
        assert outbox.suppressed(engine, "sms", [DELIVERABLE]) == {DELIVERABLE}
    finally:
        running.stop()


def test_sendgrid_events_move_emails_and_opt_outs_suppress(
    sb: Sandbox, names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, sms, email, settings = _start(sb, names, engine, monkeypatch)
    try:
        good = "kim@example.com"
        bouncing = flagged(sb, "email", "bouncing")
        spam = flagged(sb, "email", "spamreport")
        unsub = flagged(sb, "email", "unsubscribe")
        ids = {
            to: submit_email(engine, to, "Your order", "<p>shipped</p>")[0]
            for to in (good, bouncing, spam, unsub)
        }
        _send(engine, settings, sms, email)
        posted = sb.call(sb.sendgrid.deliver_events)  # signed batches to the receiver
        assert posted >= 4
        running.call(running.runtime.dispatcher.drain())

        by_to = {to: outbox.load(engine, [i])[0] for to, i in ids.items()}
        assert by_to[good].status == "delivered"
        assert by_to[bouncing].status == "undelivered" and "bounce" in (by_to[bouncing].last_error or "")
        assert by_to[spam].status == "delivered" and by_to[unsub].status == "delivered"
        assert outbox.suppressed(engine, "email", [good, bouncing, spam, unsub]) == {bouncing, spam, unsub}
        inbox = rows(engine, source="sendgrid")
        assert len(inbox) == posted and {r.status for r in inbox} == {"done"}
        assert {r.topic for r in inbox} >= {"email.processed", "email.delivered", "email.bounce"}

        # SendGrid's at-least-once delivery: the same batch again is answered as duplicates, starts nothing
        sb.call(sb.sendgrid.configure, duplicate_rate=1.0)
        again = submit_email(engine, good, "Second", "<p>again</p>")[0]
        _send(engine, settings, sms, email)
        sb.call(sb.sendgrid.deliver_events)
        running.call(running.runtime.dispatcher.drain())
        assert outbox.load(engine, [again])[0].status == "delivered"
        later = rows(engine, source="sendgrid")
        assert len({r.event_key for r in later}) == len(later)  # each event stored once
        with engine.connect() as conn:
            processed = conn.execute(
                sa.text("SELECT count(*) FROM dashboard_events WHERE event_type = 'webhook_processed'")
            ).scalar()
        assert processed == len(later)
    finally:
        running.stop()
