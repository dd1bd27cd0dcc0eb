"""The dispatch end to end against the Twilio and SendGrid stand-ins (real HTTP, real SQL), without Prefect
(`run_dispatch(use_prefect=False)`; tests/flows/test_notification_flows.py covers the Prefect wrapper):
order events to sent messages, the sender's rate, errors retried without duplicates, sends in doubt settled
with the provider, bad input ending on its row, and a real kill between the provider's accept and the
hub's commit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from messaging_sandbox import DELIVERABLE, flagged

from blocks import NotificationSettings, SendGridEmail, TwilioSMS
from clients import reset_sender_limits
from flows.notification_dispatch import NotificationError, run_dispatch, templates_for
from hub import outbox
from hub.db import create_hub_engine
from hub.models import OutboxMessage
from hub.notifications import notify, submit_email, submit_sms
from hub.provider_events import apply_sendgrid_events, apply_twilio_status
from hub.templates import Templates
from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import WebhookReceiver
from sandbox.world import DEFAULT_END

T = OutboxMessage.__table__
ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _sms(sb: Sandbox, **kw: Any) -> TwilioSMS:
    creds = sb.credentials["twilio"]
    options = {
        "account_sid": creds["account_sid"],
        "auth_token": creds["auth_token"],
        "from_number": creds["from_number"],
        "base_url": sb.urls["twilio"],
        "messages_per_second": 50,
        "max_retries": 0,
        **kw,
    }
    return TwilioSMS(**options)


def _email(sb: Sandbox, **kw: Any) -> SendGridEmail:
    creds = sb.credentials["sendgrid"]
    return SendGridEmail(
        api_key=creds["api_key"], from_email=creds["from_email"], base_url=sb.urls["sendgrid"], **kw
    )


SETTINGS = NotificationSettings(shop_name="Acme", retry_base_s=0, retry_max_s=0)


def _dispatch(
    engine: sa.Engine, sb: Sandbox, settings: NotificationSettings = SETTINGS, **kw: Any
) -> dict[str, Any]:
    options: dict[str, Any] = {"sms": _sms(sb), "email": _email(sb), "use_prefect": False}
    options.update(kw)
    return asyncio.run(run_dispatch(engine, settings, Templates.load(settings.templates_folder), **options))


def _order(oid: int, email: str, phone: str, status: str = "processing") -> dict[str, Any]:
    return {
        "id": oid,
        "number": str(oid),
        "status": status,
        "total": "12.50",
        "currency": "USD",
        "billing": {"first_name": "Kim", "email": email, "phone": phone},
        "line_items": [{"name": "Mug", "quantity": 1, "total": "12.50"}],
    }


def _rows(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Outbox rows by idempotency key."""
    return {r["idempotency_key"]: r for r in outbox.list_messages(engine, limit=10_000)}


def _expire_leases(engine: sa.Engine) -> None:
    """Time passes: leases of sends in flight run out (what a restarted dispatch finds after a crash)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(T)
            .where(T.c.status.in_(("claimed", "sending")))
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def _time_passes(engine: sa.Engine) -> None:
    """Time passes: leases run out and the retries' waits (SendGrid's Retry-After, backoff) are over."""
    _expire_leases(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.update(T)
            .where(T.c.status == "queued", T.c.next_attempt_at.is_not(None))
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def _twilio_messages(sb: Sandbox, **match: Any) -> list[dict[str, Any]]:
    return sb.call(sb.twilio.messages, **match)


def test_order_events_become_texts_and_emails(engine: sa.Engine, sb: Sandbox) -> None:
    good = _order(1, "kim@example.com", DELIVERABLE)
    bad_number = _order(2, "lee@example.com", flagged(sb, "sms", "invalid"))
    stopped = _order(3, "max@example.com", flagged(sb, "sms", "unsubscribed"))
    for order in (good, bad_number, stopped):
        notify(engine, "order-confirmation", store="s1", order=order)

    first = _dispatch(engine, sb)
    _dispatch(engine, sb)  # the fallback email queued by the first run's failed text

    rows = _rows(engine)
    assert first["status"] == "completed" and first["counts"]["email_requests"] == 1
    assert rows["order-confirmation:s1:1:sms"]["status"] == "sent"
    assert rows["order-confirmation:s1:1:sms"]["provider_id"].startswith("SM")
    assert rows["order-confirmation:s1:1:email"]["status"] == "sent"
    failed = rows["order-confirmation:s1:2:sms"]
    assert failed["status"] == "failed" and failed["error_code"] in ("21211", "invalid_phone")
    assert rows["order-confirmation:s1:2:sms:fallback-email"]["status"] == "sent"
    assert rows["order-confirmation:s1:3:sms"]["status"] == "suppressed"
    assert outbox.suppressed(engine, "sms", [stopped["billing"]["phone"]]) == {stopped["billing"]["phone"]}
    [text] = _twilio_messages(sb, to=DELIVERABLE)
    assert text["body"] == "Acme: thank you, Kim! Your order #1 (12.50 USD) is confirmed."
    emails = sb.call(sb.sendgrid.emails)
    assert sorted(e["to"][0] for e in emails) == [
        "kim@example.com",
        "lee@example.com",
        "lee@example.com",
        "max@example.com",
    ]
    assert {e["custom_args"]["nxt_id"] for e in emails} == {
        str(rows[k]["id"])
        for k in (
            "order-confirmation:s1:1:email",
            "order-confirmation:s1:2:email",
            "order-confirmation:s1:2:sms:fallback-email",
            "order-confirmation:s1:3:email",
        )
    }


def test_texts_go_out_at_the_senders_rate_and_urgent_first(engine: sa.Engine, sb: Sandbox) -> None:
    rate = 12
    sb.call(sb.twilio.set_rate, sb.credentials["twilio"]["from_number"], rate)
    for i in range(36):
        submit_sms(engine, f"+1415555{1000 + i}", f"message {i}")
    urgent, _ = submit_sms(engine, "+14155559999", "urgent one", urgent=True)

    summary = _dispatch(engine, sb, sms=_sms(sb, messages_per_second=rate))

    assert summary["counts"]["sms_sent"] == 37
    sender = sb.call(sb.twilio.summary)["senders"][sb.credentials["twilio"]["from_number"]]
    assert sender["messages"] == 37 and sender["max_received_per_s"] <= rate
    first_chunk = [m["to"] for m in _twilio_messages(sb)][:rate]
    assert "+14155559999" in first_chunk, "the urgent text is in the first second's sends"
    assert outbox.load(engine, [urgent])[0].status == "sent"


@pytest.mark.postgres
def test_provider_errors_are_retried_without_duplicates_or_losses(engine: sa.Engine, sb: Sandbox) -> None:
    sb.set_faults("twilio", script=[500, 429, "drop", "ok", 503, 502], paths=("/Messages.json",))
    sb.set_faults("sendgrid", script=[503, 429], paths=("/v3/mail/send",))
    for i in range(6):
        notify(
            engine, "order-completed", store="s1", order=_order(i, f"c{i}@example.com", f"+1415555{2000 + i}")
        )

    for _ in range(8):  # dispatch runs come back until nothing is left in flight
        _time_passes(engine)
        _dispatch(engine, sb)
        left = [r for r in _rows(engine).values() if r["status"] not in ("sent", "delivered")]
        if not left:
            break

    assert [(r["idempotency_key"], r["status"], r["last_error"]) for r in left] == []
    assert sb.call(sb.twilio.summary)["duplicates"] == 0
    assert len(_twilio_messages(sb)) == 6
    assert sb.call(sb.sendgrid.summary)["duplicates"] == 0
    assert len(sb.call(sb.sendgrid.emails)) == 6


def test_a_text_whose_answer_was_lost_is_found_at_twilio_not_sent_again(
    engine: sa.Engine, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import clients.twilio
    import tasks.outbox

    real = clients.twilio.send_sms

    def accepted_then_lost(client: Any, **kw: Any) -> clients.twilio.SendResult:
        real(client, **kw)  # Twilio creates the message...
        return clients.twilio.SendResult(
            "in_doubt", message="no answer from Twilio: ReadTimeout"
        )  # ...we never hear

    monkeypatch.setattr(tasks.outbox, "twilio_send", accepted_then_lost)
    row_id, _ = submit_sms(engine, DELIVERABLE, "your code is 42")
    _dispatch(engine, sb)
    assert outbox.load(engine, [row_id])[0].status == "sending", "in doubt: not resent blindly"

    monkeypatch.setattr(tasks.outbox, "twilio_send", real)
    _expire_leases(engine)
    summary = _dispatch(engine, sb)

    [message] = _twilio_messages(sb, to=DELIVERABLE)
    row = outbox.load(engine, [row_id])[0]
    assert (row.status, row.provider_id) == ("sent", message["sid"])
    assert summary["counts"]["sms_recovered_sent"] == 1


def test_a_text_in_doubt_that_never_reached_twilio_is_sent_once(engine: sa.Engine, sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["drop"], paths=("/Messages.json",))
    row_id, _ = submit_sms(engine, DELIVERABLE, "your code is 43")
    _dispatch(engine, sb)
    _expire_leases(engine)
    _dispatch(engine, sb)  # recovery: Twilio has no such message, so it goes back in the queue
    _dispatch(engine, sb)

    assert len(_twilio_messages(sb, to=DELIVERABLE)) == 1
    assert outbox.load(engine, [row_id])[0].status == "sent"


_CRASH = """
import asyncio, json, os, signal, sys
sys.path.insert(0, {root!r})
import hub.outbox
from blocks import NotificationSettings, SendGridEmail, TwilioSMS
from flows.notification_dispatch import run_dispatch
from hub.db import create_hub_engine
from hub.templates import Templates

args = json.loads(sys.argv[1])
real = hub.outbox.record

def record(bind, outcomes, **kw):
    if any(o.status == "sent" for o in outcomes):
        os.kill(os.getpid(), signal.SIGKILL)  # the provider accepted; the hub never hears of it
    return real(bind, outcomes, **kw)

hub.outbox.record = record
sms = TwilioSMS(**args["sms"])
email = SendGridEmail(**args["email"])
engine = create_hub_engine(args["hub"])
asyncio.run(run_dispatch(engine, NotificationSettings(), Templates.load(), sms=sms, email=email,
                         only={{args["channel"]: args["rows"]}}, use_prefect=False))
"""


def _crash_dispatch(hub_url: str, sb: Sandbox, channel: str, row_ids: list[int]) -> int:
    """Run a dispatch of `row_ids` in a child process that SIGKILLs itself once the provider accepted."""
    sms, email = _sms(sb), _email(sb)
    args = {
        "hub": hub_url,
        "channel": channel,
        "rows": row_ids,
        "sms": {**sms.model_dump(), "auth_token": sms.auth_token.get_secret_value()},
        "email": {**email.model_dump(), "api_key": email.api_key.get_secret_value()},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    done = subprocess.run(
        [sys.executable, "-c", _CRASH.format(root=str(ROOT)), json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode


@pytest.mark.postgres
def test_a_kill_between_twilios_accept_and_the_hubs_commit(
    engine: sa.Engine, hub_url: str, sb: Sandbox
) -> None:
    row_id, _ = submit_sms(engine, DELIVERABLE, "killed after accept")

    assert _crash_dispatch(hub_url, sb, "sms", [row_id]) == -signal.SIGKILL
    [message] = _twilio_messages(sb, to=DELIVERABLE)
    assert outbox.load(engine, [row_id])[0].status == "sending"

    _dispatch(engine, sb)  # too early: the send's lease still runs, nothing is touched
    assert outbox.load(engine, [row_id])[0].status == "sending"
    _expire_leases(engine)
    _dispatch(engine, sb)

    row = outbox.load(engine, [row_id])[0]
    assert (row.status, row.provider_id) == ("sent", message["sid"])
    assert len(_twilio_messages(sb, to=DELIVERABLE)) == 1, "not sent twice"


def test_a_kill_between_sendgrids_accept_and_the_hubs_commit(
    engine: sa.Engine, hub_url: str, sb: Sandbox
) -> None:
    settled, _ = submit_email(engine, "ann@example.com", "Hi", "<p>one</p>")
    unknown, _ = submit_email(engine, "bob@example.com", "Hi", "<p>two</p>")
    assert _crash_dispatch(hub_url, sb, "email", [settled, unknown]) == -signal.SIGKILL
    assert len(sb.call(sb.sendgrid.emails)) == 2 and len(sb.call(sb.sendgrid.calls)) == 1

    # SendGrid's events (carrying our id) settle the first; none ever come for the second.
    events = sb.call(sb.sendgrid.events, email="ann@example.com")
    assert apply_sendgrid_events(engine, events)["applied"] >= 1
    _expire_leases(engine)
    _dispatch(engine, sb, settings=SETTINGS.model_copy(update={"email_event_window_s": 0}))

    assert outbox.load(engine, [settled])[0].status == "delivered"
    row = outbox.load(engine, [unknown])[0]
    assert row.status == "unknown" and f"nxt notify retry {unknown}" in (row.last_error or "")
    assert len(sb.call(sb.sendgrid.emails)) == 2, "neither was sent again"


def test_one_bad_address_never_sinks_its_request(engine: sa.Engine, sb: Sandbox) -> None:
    bad = flagged(sb, "email", "invalid")
    for i, address in enumerate(["a@example.com", bad, "b@example.com", "c@example.com"]):
        notify(engine, "payment-failed", store="s1", order=_order(i, address, ""), channels=["email"])

    summary = _dispatch(engine, sb)

    assert summary["counts"]["email_requests"] == 1 and summary["counts"]["email_sent"] == 3
    [call] = sb.call(sb.sendgrid.calls)
    assert call["status"] == 202 and call["personalizations"] == 3
    failed = _rows(engine)["payment-failed:s1:1:email"]
    assert failed["status"] == "failed" and "not a valid email address" in failed["last_error"]


def test_bounces_and_opt_outs_stop_later_messages(engine: sa.Engine, sb: Sandbox) -> None:
    bouncing = flagged(sb, "email", "bouncing")
    notify(engine, "order-confirmation", store="s1", order=_order(1, bouncing, ""), channels=["email"])
    _dispatch(engine, sb)
    counts = apply_sendgrid_events(engine, sb.call(sb.sendgrid.events, email=bouncing))
    assert counts["suppressions"] == 1
    assert _rows(engine)["order-confirmation:s1:1:email"]["status"] == "undelivered"

    notify(engine, "order-completed", store="s1", order=_order(1, bouncing, ""), channels=["email"])
    summary = _dispatch(engine, sb)

    assert _rows(engine)["order-completed:s1:1:email"]["status"] == "suppressed"
    assert "email_requests" not in summary["counts"], "no call for a suppressed address"


def test_status_callbacks_name_their_rows(engine: sa.Engine, sb: Sandbox) -> None:
    with WebhookReceiver() as receiver:
        settings = SETTINGS.model_copy(update={"status_callback_url": receiver.url})
        row_id, _ = submit_sms(engine, DELIVERABLE, "with callbacks")
        _dispatch(engine, sb, settings=settings)
        sb.call(sb.twilio.settle)
        sb.call(sb.twilio.flush)
        received = receiver.wait_for(3)  # sending, sent, delivered

    from urllib.parse import parse_qsl

    for request in received:
        update = apply_twilio_status(
            engine, dict(parse_qsl(request.body.decode())), query=dict(parse_qsl(request.query))
        )
        assert update.row_id == row_id
    row = outbox.load(engine, [row_id])[0]
    assert row.status == "delivered" and row.provider_status == "delivered"


def test_bad_templates_fail_the_run_and_missing_variables_fail_their_row(
    engine: sa.Engine, sb: Sandbox, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "order-completed.txt.j2").write_text("{% for x in %}")
    with pytest.raises(NotificationError, match=r"order-completed.txt.j2, line 1"):
        templates_for(SETTINGS.model_copy(update={"templates_folder": str(broken)}))

    missing = tmp_path / "missing"
    missing.mkdir()
    (missing / "order-completed.sms.j2").write_text("{{ order.tracking }}")
    notify(engine, "order-completed", store="s1", order=_order(1, "a@example.com", DELIVERABLE))
    summary = _dispatch(engine, sb, settings=SETTINGS.model_copy(update={"templates_folder": str(missing)}))

    rows = _rows(engine)
    assert rows["order-completed:s1:1:sms"]["status"] == "failed"
    assert "tracking" in rows["order-completed:s1:1:sms"]["last_error"]
    assert rows["order-completed:s1:1:email"]["status"] == "sent", "the batch went on"
    assert summary["status"] == "completed"


def test_a_refused_configuration_stops_the_channel_and_keeps_its_messages(
    engine: sa.Engine, sb: Sandbox
) -> None:
    for i in range(3):
        submit_sms(engine, f"+1415555{3000 + i}", "hello")

    with pytest.raises(
        NotificationError, match="3 texts wait in the outbox: Twilio refused our configuration: Twilio 20003"
    ):
        _dispatch(engine, sb, sms=_sms(sb, auth_token="0" * 32))

    assert {r["status"] for r in _rows(engine).values()} == {"queued"}
    assert _twilio_messages(sb) == []


def test_a_channel_without_its_block_waits(engine: sa.Engine, sb: Sandbox) -> None:
    submit_email(engine, "a@example.com", "Hi", "there")
    quiet = _dispatch(engine, sb, email=None, missing={"email": None})
    assert quiet["status"] == "completed"

    with pytest.raises(NotificationError, match="1 email waits in the outbox: no SendGrid"):
        _dispatch(
            engine, sb, email=None, missing={"email": "no SendGrid Email Provider block named 'default'"}
        )
