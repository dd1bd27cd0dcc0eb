"""The SendGrid stand-in's signed Event Webhook: events per the world's email flags, custom_args on every
event, batching, signatures verified with the SDK's `EventWebhook`, retries, duplicates, suppressions."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from messaging_sandbox import SIZES, flagged, sendgrid_client
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook, EventWebhookHeader

from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import ReceivedRequest, WebhookReceiver

REQUIRED = {"email", "timestamp", "event", "sg_event_id", "sg_message_id", "smtp-id"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("sendgrid",), **SIZES) as sb:
        # no opens/clicks/deferrals unless a test asks: exact event lists
        sb.call(
            sb.sendgrid.configure, open_rate=0.0, click_rate=0.0, deferred_rate=0.0, flush_interval_s=3600
        )
        yield sb


@pytest.fixture
def rx() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


@pytest.fixture
def sg(sb: Sandbox, rx: WebhookReceiver) -> SendGridAPIClient:
    client = sendgrid_client(sb)
    client.client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": rx.url})
    return client


def send(sg: SendGridAPIClient, sb: Sandbox, *recipients: str, **extra: Any) -> str:
    body: dict[str, Any] = {
        "personalizations": [
            {"to": [{"email": r}], "custom_args": {"notification_id": f"n-{i}"}}
            for i, r in enumerate(recipients)
        ],
        "from": {"email": sb.credentials["sendgrid"]["from_email"]},
        "subject": "Your order",
        "content": [{"type": "text/plain", "value": "Thanks"}],
        "custom_args": {"store": "main"},
    }
    body.update(extra)
    return str(sg.send(body).headers["X-Message-Id"])


def deliver(sb: Sandbox) -> int:
    return sb.call(sb.sendgrid.deliver_events)


def posted_events(rx: WebhookReceiver) -> list[dict[str, Any]]:
    return [e for r in rx.received for e in json.loads(r.body)]


def verified(req: ReceivedRequest, key: str) -> bool:
    return EventWebhook(key).verify_signature(
        req.body.decode(),
        req.headers[EventWebhookHeader.SIGNATURE.lower()],
        req.headers[EventWebhookHeader.TIMESTAMP.lower()],
    )


def test_events_are_posted_signed_with_custom_args(
    sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver
) -> None:
    message_id = send(sg, sb, "ada@example.com", categories=["order"])
    assert deliver(sb) == 2
    (req,) = rx.received
    assert req.method == "POST" and req.headers["content-type"] == "application/json"
    assert req.body.endswith(b"\r\n")  # verify the raw bytes: re-serialising the JSON breaks the signature
    key = sb.credentials["sendgrid"]["verification_key"]
    assert verified(req, key)
    tampered = ReceivedRequest(req.method, req.path, req.headers, req.body.replace(b"ada", b"eve"))
    assert not verified(tampered, key)
    events = json.loads(req.body)
    assert [e["event"] for e in events] == ["processed", "delivered"]
    for e in events:
        assert REQUIRED <= set(e)
        assert e["email"] == "ada@example.com" and isinstance(e["timestamp"], int)
        assert e["sg_message_id"].startswith(message_id + ".")
        assert e["smtp-id"].startswith(f"<{message_id}@")
        assert (e["notification_id"], e["store"]) == ("n-0", "main")  # custom_args as top-level keys
        assert e["category"] == "order"  # one category: a string
    assert len({e["sg_event_id"] for e in events}) == 2


def test_several_categories_are_an_array(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    send(sg, sb, "ada@example.com", categories=["order", "confirmation"])
    deliver(sb)
    assert {tuple(e["category"]) for e in posted_events(rx)} == {("order", "confirmation")}


def test_events_follow_the_worlds_email_flags(
    sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver
) -> None:
    bouncing, spam, unsub = (flagged(sb, "email", f) for f in ("bouncing", "spamreport", "unsubscribe"))
    send(sg, sb, bouncing, spam, unsub, "ok@example.com")
    deliver(sb)
    by_email: dict[str, list[dict[str, Any]]] = {}
    for e in posted_events(rx):
        by_email.setdefault(e["email"], []).append(e)
    assert [e["event"] for e in by_email[bouncing]] == ["processed", "bounce"]
    bounce = by_email[bouncing][1]
    assert (bounce["type"], bounce["status"]) == ("bounce", "5.1.1") and bounce["reason"].startswith(
        "550 5.1.1"
    )
    assert [e["event"] for e in by_email[spam]] == ["processed", "delivered", "spamreport"]
    assert [e["event"] for e in by_email[unsub]] == ["processed", "delivered", "unsubscribe"]
    assert [e["event"] for e in by_email["ok@example.com"]] == ["processed", "delivered"]
    assert (
        by_email[bouncing][0]["notification_id"] == "n-0" and by_email[unsub][0]["notification_id"] == "n-2"
    )


def test_suppressed_addresses_are_dropped(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    bouncing, unsub = flagged(sb, "email", "bouncing"), flagged(sb, "email", "unsubscribe")
    send(sg, sb, bouncing, unsub)
    later = int(time.time()) + 120  # scheduled after the bounce and the unsubscribe happened
    send(sg, sb, bouncing, unsub, "ok@example.com", send_at=later)
    deliver(sb)
    second = [e for e in posted_events(rx) if e["timestamp"] >= later]
    reasons = {e["email"]: e.get("reason") for e in second if e["event"] == "dropped"}
    assert reasons == {bouncing: "Bounced Address", unsub: "Unsubscribed Address"}
    assert [e["event"] for e in second if e["email"] == "ok@example.com"] == ["processed", "delivered"]
    assert set(sb.call(sb.sendgrid.info)["summary"]["events"]) == {
        "processed",
        "delivered",
        "bounce",
        "unsubscribe",
        "dropped",
    }


def test_opens_clicks_and_deferrals_are_a_stable_share(
    sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver
) -> None:
    sb.call(sb.sendgrid.configure, open_rate=0.5, click_rate=0.25, deferred_rate=0.2)
    send(sg, sb, *(f"c{i}@example.com" for i in range(200)))
    deliver(sb)
    counts: dict[str, int] = {}
    for e in posted_events(rx):
        counts[e["event"]] = counts.get(e["event"], 0) + 1
    assert counts["processed"] == counts["delivered"] == 200
    assert 60 < counts["open"] < 140 and 20 < counts["click"] < 80 and 15 < counts["deferred"] < 65
    clicks = [e for e in posted_events(rx) if e["event"] == "click"]
    assert all(e["url"].startswith("https://") for e in clicks)


def test_event_types_switched_off_are_not_posted(
    sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver
) -> None:
    sg.client.user.webhooks.event.settings.patch(request_body={"processed": False})
    send(sg, sb, "ada@example.com")
    deliver(sb)
    assert [e["event"] for e in posted_events(rx)] == ["delivered"]
    assert [e["event"] for e in sb.call(sb.sendgrid.events)] == ["processed", "delivered"]  # still recorded
    assert sb.call(sb.sendgrid.summary)["events_discarded"] == 1


def test_disabled_webhook_posts_nothing(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    sg.client.user.webhooks.event.settings.patch(request_body={"enabled": False})
    send(sg, sb, "ada@example.com")
    assert deliver(sb) == 0
    assert rx.received == [] and sb.call(sb.sendgrid.summary)["events_discarded"] == 2


def test_unsigned_when_signing_is_off(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    sg.client.user.webhooks.event.settings.signed.patch(request_body={"enabled": False})
    send(sg, sb, "ada@example.com")
    deliver(sb)
    assert EventWebhookHeader.SIGNATURE.lower() not in rx.received[0].headers


def test_batches_hold_at_most_batch_size_events(
    sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver
) -> None:
    sb.call(sb.sendgrid.configure, batch_size=3)
    send(sg, sb, *(f"c{i}@example.com" for i in range(4)))
    assert deliver(sb) == 8
    assert [len(json.loads(r.body)) for r in rx.received] == [3, 3, 2]
    key = sb.credentials["sendgrid"]["verification_key"]
    assert all(verified(r, key) for r in rx.received)


def test_failed_posts_are_retried(sb: Sandbox) -> None:
    answers = iter([500, 200])
    with WebhookReceiver(status=lambda req: next(answers)) as rx:
        sg = sendgrid_client(sb)
        sg.client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": rx.url})
        send(sg, sb, "ada@example.com")
        deliver(sb)  # answered 500: kept for a retry
        assert sb.call(sb.sendgrid.summary)["events_pending"] == 2
        deliver(sb)  # the retry
        assert rx.received[0].body == rx.received[1].body
    log = sb.call(lambda: sb.sendgrid.deliveries.list(kind="event_webhook"))
    assert [(d["attempt"], d["status_code"]) for d in log] == [(1, 500), (2, 200)]
    assert sb.call(sb.sendgrid.summary)["events_pending"] == 0


def test_retries_stop_after_max_attempts(sb: Sandbox) -> None:
    sb.call(sb.sendgrid.configure, max_attempts=2)
    with WebhookReceiver(status=503) as rx:
        sg = sendgrid_client(sb)
        sg.client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": rx.url})
        send(sg, sb, "ada@example.com")
        for _ in range(3):
            deliver(sb)
        assert len(rx.received) == 2
    assert sb.call(sb.sendgrid.summary)["events_pending"] == 0


def test_duplicates_when_asked(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    send(sg, sb, "ada@example.com")
    deliver(sb)
    assert len(rx.received) == 1  # off by default
    sb.call(sb.sendgrid.configure, duplicate_rate=1.0)
    send(sg, sb, "bob@example.com")
    deliver(sb)
    bob = [e for e in posted_events(rx) if e["email"] == "bob@example.com"]
    assert len(bob) == 4 and len({e["sg_event_id"] for e in bob}) == 2  # the same events, twice
    log = sb.call(lambda: sb.sendgrid.deliveries.list(kind="event_webhook"))
    assert [d["duplicate"] for d in log] == [False, False, True]


def test_events_go_out_by_themselves() -> None:
    with run_sandbox(services=("sendgrid",), **SIZES) as sb, WebhookReceiver() as rx:
        sb.call(
            sb.sendgrid.configure, open_rate=0.0, click_rate=0.0, deferred_rate=0.0, flush_interval_s=0.05
        )
        sg = sendgrid_client(sb)
        sg.client.user.webhooks.event.settings.patch(request_body={"enabled": True, "url": rx.url})
        send(sg, sb, "ada@example.com")
        rx.wait_for(2)  # processed at once, delivered a second later, each in the next batch
        assert sorted(e["event"] for e in posted_events(rx)) == ["delivered", "processed"]


def test_admin_routes(sb: Sandbox, sg: SendGridAPIClient, rx: WebhookReceiver) -> None:
    admin = sb.admin_url("sendgrid") + "/sendgrid"
    send(sg, sb, "ada@example.com", "bob@example.com")
    emails = httpx.get(admin + "/emails", params={"arg.notification_id": "n-1"}).json()
    assert [e["to"] for e in emails] == [["bob@example.com"]]
    assert (
        httpx.get(admin + "/emails", params={"to": "ADA@example.com"}).json()[0]["custom_args"][
            "notification_id"
        ]
        == "n-0"
    )
    assert httpx.post(admin + "/events/deliver", json={}).json() == {"posted": 4, "pending": 0}
    assert len(httpx.get(admin + "/events", params={"event": "delivered"}).json()) == 2
    assert httpx.get(admin + "/calls").json()[0]["status"] == 202
    assert httpx.patch(admin + "/settings", json={"open_rate": 2}).status_code == 400
    assert httpx.patch(admin + "/settings", json={"nope": 1}).status_code == 400
    assert httpx.post(admin + "/senders", json={"email": "x@example.com"}).json() == sorted(
        ["x@example.com", sb.credentials["sendgrid"]["from_email"]]
    )
