"""Square webhooks: the Subscriptions API through the SDK, and signed deliveries of payment, refund, payout
and dispute events, verified with the SDK's own `verify_signature`, retried as Square retries them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from square import Square
from square.core.api_error import ApiError
from square.utils.webhooks_helper import verify_signature
from square_contract import assert_conforms

from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import ReceivedRequest, WebhookReceiver
from sandbox.world import DEFAULT_END

WORLD = {
    "services": ("square",),
    "products": 20,
    "customers": 10,
    "orders": 300,
    "seed": 1,
    "now": DEFAULT_END,
}
DAY = 86_400


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(**WORLD) as sb:
        sb.call(sb.square.advance)  # announce the days between the pinned history and today first
        yield sb
        assert sb.square.errors == []


@pytest.fixture
def rx() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def client(sb: Sandbox) -> Square:
    return Square(token=sb.credentials["square"]["access_token"], base_url=sb.urls["square"], timeout=10)


def subscribe(sb: Sandbox, url: str, *types: str) -> Any:
    made = client(sb).webhooks.subscriptions.create(
        subscription={"name": "test", "event_types": list(types), "notification_url": url}
    )
    assert made.subscription is not None
    return made.subscription


def pay(sb: Sandbox, amount: int = 1500, **kwargs: Any) -> Any:
    made = client(sb).payments.create(
        source_id="cnon:card-nonce-ok",
        idempotency_key=str(uuid.uuid4()),
        amount_money={"amount": amount, "currency": "USD"},
        **kwargs,
    )
    assert made.payment is not None
    return made.payment


def events(rx: WebhookReceiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in rx.received]


def verified(req: ReceivedRequest, key: str, url: str) -> bool:
    return verify_signature(
        request_body=req.body.decode(),
        signature_header=req.headers["x-square-hmacsha256-signature"],
        signature_key=key,
        notification_url=url,
    )


# --- the Subscriptions API ---------------------------------------------------------------------------
def test_subscriptions_create_list_get_update_delete(sb: Sandbox) -> None:
    subs = client(sb).webhooks.subscriptions
    made = subs.create(
        idempotency_key="sub-1",
        subscription={
            "name": "Orders",
            "event_types": ["payment.created", "refund.updated"],
            "notification_url": "https://hooks.example.com/square",
        },
    ).subscription
    assert made and made.id and made.id.startswith("wbhk_") and made.signature_key and made.enabled
    assert made.api_version == "2026-09-16"  # the request's Square-Version
    again = subs.create(
        idempotency_key="sub-1",
        subscription={
            "name": "Orders",
            "event_types": ["payment.created", "refund.updated"],
            "notification_url": "https://hooks.example.com/square",
        },
    ).subscription
    assert again and again.id == made.id and again.signature_key == made.signature_key
    got = subs.get(subscription_id=made.id).subscription
    assert got and got.signature_key == made.signature_key
    listed = list(subs.list())
    assert [s.id for s in listed] == [made.id] and listed[0].signature_key is None  # lists omit keys
    subs.update(subscription_id=made.id, subscription={"enabled": False, "name": "Paused"})
    assert list(subs.list()) == []
    assert [s.name for s in subs.list(include_disabled=True)] == ["Paused"]
    rotated = subs.update_signature_key(subscription_id=made.id, idempotency_key="rot-1").signature_key
    assert rotated and rotated != made.signature_key
    r = httpx.get(
        sb.urls["square"] + f"/v2/webhooks/subscriptions/{made.id}",
        headers={"Authorization": "Bearer " + sb.credentials["square"]["access_token"]},
    )
    assert_conforms("RetrieveWebhookSubscriptionResponse", r.json())
    subs.delete(subscription_id=made.id)
    with pytest.raises(ApiError) as exc:
        subs.get(subscription_id=made.id)
    assert exc.value.status_code == 404
    types = client(sb).webhooks.event_types.list().event_types or []
    assert {"payment.created", "payout.paid", "dispute.state.updated"} <= set(types)


@pytest.mark.parametrize(
    ("subscription", "code", "field"),
    [
        ({"event_types": ["payment.created"]}, "MISSING_REQUIRED_PARAMETER", "subscription.notification_url"),
        ({"notification_url": "https://x.example"}, "MISSING_REQUIRED_PARAMETER", "subscription.event_types"),
        (
            {"notification_url": "not a url", "event_types": ["payment.created"]},
            "INVALID_VALUE",
            "subscription.notification_url",
        ),
        (
            {"notification_url": "https://x.example", "event_types": ["payment.exploded"]},
            "INVALID_VALUE",
            "subscription.event_types[0]",
        ),
        (
            {"notification_url": "https://x.example", "event_types": []},
            "ARRAY_EMPTY",
            "subscription.event_types",
        ),
        (
            {"notification_url": "https://x.example", "event_types": ["payment.created"], "name": "n" * 65},
            "VALUE_TOO_LONG",
            "subscription.name",
        ),
    ],
)
def test_bad_subscriptions(sb: Sandbox, subscription: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ApiError) as exc:
        client(sb).webhooks.subscriptions.create(subscription=subscription)
    assert exc.value.status_code == 400
    err = exc.value.body["errors"][0]
    assert (err["code"], err["field"]) == (code, field)
    assert sb.call(sb.square.subscriptions) == []


# --- deliveries ------------------------------------------------------------------------------------
def test_payment_events_are_signed_as_square_signs_them(sb: Sandbox, rx: WebhookReceiver) -> None:
    sub = subscribe(sb, rx.url, "payment.created", "payment.updated")
    other = WebhookReceiver()
    with other:
        subscribe(sb, other.url, "refund.created")  # another type: gets nothing below
        p = pay(sb, reference_id="31")
        sb.flush_webhooks()
        assert other.received == []
    (req,) = rx.wait_for(1)
    assert verified(req, sub.signature_key, rx.url)
    assert not verified(req, sb.credentials["square"]["webhook_signature_key"], rx.url)
    assert not verified(req, sub.signature_key, rx.url + "/")  # the URL is signed byte for byte
    assert req.headers["content-type"] == "application/json" and "x-square-signature" in req.headers
    event = json.loads(req.body)
    assert event["type"] == "payment.created" and event["merchant_id"]
    assert event["data"]["type"] == "payment" and event["data"]["id"] == p.id
    assert event["data"]["object"]["payment"]["reference_id"] == "31"
    assert_conforms("PaymentCreatedEvent", event)
    uuid.UUID(event["event_id"])
    logged = sb.square.deliveries.list(event_id=event["event_id"])
    assert [d["status_code"] for d in logged] == [200]


def test_dashboard_endpoints_sign_with_the_accounts_key(sb: Sandbox, rx: WebhookReceiver) -> None:
    reg = httpx.post(
        sb.admin_url("square") + "/square/webhooks", json={"url": rx.url, "event_types": ["payment.updated"]}
    ).json()
    key = sb.credentials["square"]["webhook_signature_key"]
    assert reg["signature_key"] == key and reg["source"] == "admin"
    made = (
        client(sb)
        .payments.create(
            source_id="cnon:card-nonce-ok",
            idempotency_key=str(uuid.uuid4()),
            amount_money={"amount": 800, "currency": "USD"},
            autocomplete=False,
        )
        .payment
    )
    assert made is not None
    client(sb).payments.complete(payment_id=made.id or "")
    sb.flush_webhooks()
    (req,) = rx.wait_for(1)
    assert verified(req, key, rx.url)
    assert json.loads(req.body)["data"]["object"]["payment"]["status"] == "COMPLETED"


def test_refund_events_pending_then_completed(sb: Sandbox, rx: WebhookReceiver) -> None:
    sub = subscribe(sb, rx.url, "refund.created", "refund.updated")
    p = pay(sb, 5000)
    made = (
        client(sb)
        .refunds.refund_payment(
            idempotency_key=str(uuid.uuid4()),
            payment_id=p.id,
            amount_money={"amount": 2000, "currency": "USD"},
        )
        .refund
    )
    sb.flush_webhooks()
    got = rx.wait_for(2)
    assert all(verified(r, sub.signature_key, rx.url) for r in got)
    by_type = {e["type"]: e["data"]["object"]["refund"] for e in events(rx)}
    assert (
        by_type["refund.created"]["status"] == "PENDING"
        and by_type["refund.updated"]["status"] == "COMPLETED"
    )
    assert by_type["refund.created"]["id"] == made.id  # type: ignore[union-attr]
    for e in events(rx):
        assert_conforms("RefundCreatedEvent" if e["type"] == "refund.created" else "RefundUpdatedEvent", e)


def test_dispute_events(sb: Sandbox, rx: WebhookReceiver) -> None:
    subscribe(sb, rx.url, "dispute.created", "dispute.state.updated")
    p = pay(sb, 6000)
    opened = httpx.post(sb.admin_url("square") + "/square/disputes", json={"payment_id": p.id}).json()
    assert opened["state"] == "EVIDENCE_REQUIRED"
    assert client(sb).disputes.get(dispute_id=opened["id"]).dispute.state == "EVIDENCE_REQUIRED"  # type: ignore[union-attr]
    won = httpx.post(
        sb.admin_url("square") + f"/square/disputes/{opened['id']}/resolve", json={"state": "won"}
    )
    assert won.json()["state"] == "WON"
    sb.flush_webhooks()
    rx.wait_for(2)
    assert [(e["type"], e["data"]["object"]["dispute"]["state"]) for e in events(rx)] == [
        ("dispute.created", "EVIDENCE_REQUIRED"),
        ("dispute.state.updated", "WON"),
    ]
    assert events(rx)[0]["location_id"] == sb.credentials["square"]["location_ids"][0]
    bad = httpx.post(
        sb.admin_url("square") + f"/square/disputes/{opened['id']}/resolve", json={"state": "lost"}
    )
    assert bad.status_code == 400 and bad.json()["code"] == "dispute_closed"


def test_payout_events_as_days_pass(sb: Sandbox, rx: WebhookReceiver) -> None:
    subscribe(sb, rx.url, "payout.sent", "payout.paid", "payout.failed")
    admin = sb.admin_url("square") + "/square"
    midnight = (int(sb.world.ledger.now) // DAY + 1) * DAY  # today's payments are paid out then

    pay(sb, 10_000)
    pay(sb, 20_000)
    (first,) = httpx.post(admin + "/payouts/advance", json={"now": midnight + 60}).json()["announced"]
    payout = client(sb).payouts.get(payout_id=first).payout
    entries = list(client(sb).payouts.list_entries(payout_id=first))
    assert payout and payout.status == "SENT" and payout.amount_money
    assert payout.amount_money.amount == sum(
        e.net_amount_money.amount or 0 for e in entries if e.net_amount_money
    )
    assert payout.amount_money.amount == 30_000 - (320 + 610)  # fees: 2.9 % + 30 of each payment
    assert httpx.post(admin + f"/payouts/{first}/fail").json()["status"] == "FAILED"
    assert client(sb).payouts.get(payout_id=first).payout.status == "FAILED"  # type: ignore[union-attr]

    pay(sb, 3_000)
    (second,) = httpx.post(admin + "/payouts/advance", json={"now": midnight + DAY + 60}).json()["announced"]
    assert client(sb).payouts.get(payout_id=second).payout.status == "SENT"  # type: ignore[union-attr]
    assert httpx.post(admin + "/payouts/advance", json={"now": midnight + 2 * DAY + 60}).json()[
        "announced"
    ] == [second]
    assert client(sb).payouts.get(payout_id=second).payout.status == "PAID"  # type: ignore[union-attr]
    sb.flush_webhooks()
    rx.wait_for(4)
    seen = [(e["type"], e["data"]["id"], e["data"]["object"]["payout"]["status"]) for e in events(rx)]
    assert seen == [
        ("payout.sent", first, "SENT"),
        ("payout.failed", first, "FAILED"),
        ("payout.sent", second, "SENT"),
        ("payout.paid", second, "PAID"),
    ]
    for e in events(rx):
        assert_conforms(
            {"payout.sent": "PayoutSentEvent", "payout.paid": "PayoutPaidEvent"}.get(
                e["type"], "PayoutFailedEvent"
            ),
            e,
        )
    bad = httpx.post(admin + f"/payouts/{second}/fail")
    assert bad.status_code == 400 and bad.json()["code"] == "not_in_transit"


def test_failed_deliveries_are_retried_with_the_same_event(sb: Sandbox) -> None:
    answers = iter([500, 302])

    def status(req: ReceivedRequest) -> int:
        return next(answers, 200)

    with WebhookReceiver(status=status) as rx:
        sub = subscribe(sb, rx.url, "payment.created")
        pay(sb)
        sb.flush_webhooks()
        rx.wait_for(1)
        pending = sb.call(sb.square.subscriptions)
        assert pending and httpx.get(sb.admin_url("square") + "/square/webhooks").json()[0]["pending"] == 1
        first = httpx.post(sb.admin_url("square") + "/square/webhooks/deliver").json()["attempts"]
        assert [a["status_code"] for a in first] == [302]  # a redirect is a failure too
        second = httpx.post(sb.admin_url("square") + "/square/webhooks/deliver").json()["attempts"]
        assert [a["status_code"] for a in second] == [200]
        assert httpx.post(sb.admin_url("square") + "/square/webhooks/deliver").json()["attempts"] == []
        got = rx.wait_for(3)
    assert len({r.body for r in got}) == 1  # the same event, byte for byte
    assert all(verified(r, sub.signature_key, rx.url) for r in got)
    assert "square-retry-number" not in got[0].headers
    assert [r.headers["square-retry-number"] for r in got[1:]] == ["1", "2"]
    assert got[1].headers["square-retry-reason"] == "http_status_code_500"
    log = sb.square.deliveries.list(subscription_id=sub.id)
    assert [d["success"] for d in log] == [False, False, True]
    assert log[0]["next_attempt_in_s"] == 60


def test_unreachable_endpoint_is_retried_later(sb: Sandbox) -> None:
    with WebhookReceiver() as rx:
        url = rx.url
    subscribe(sb, url, "payment.created")  # nothing listens there any more
    pay(sb)
    sb.flush_webhooks()
    (attempt,) = sb.square.deliveries.list()
    assert attempt["status_code"] == 0 and attempt["error"] and attempt["next_attempt_in_s"] == 60
    assert sb.square.errors == []
