"""Signed webhook deliveries from the Stripe stand-in, verified with `stripe.Webhook.construct_event`:
admin-registered and API-created endpoints, event filters, retries, and the delivery log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import stripe
from stripe_sandbox import stripe_sdk

from sandbox.server import Sandbox, run_sandbox
from sandbox.stripe import sign
from sandbox.testing import ReceivedRequest, WebhookReceiver
from sandbox.world import DEFAULT_END


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("stripe",), products=10, customers=10, orders=80, seed=4, now=DEFAULT_END
    ) as s:
        yield s


def _events(rx: WebhookReceiver, secret: str) -> list[stripe.Event]:
    return [
        stripe.Webhook.construct_event(r.body.decode(), r.headers["stripe-signature"], secret)
        for r in rx.received
    ]


def test_signature_matches_the_reference_vector() -> None:
    body = b'{"id":"evt_test","object":"event"}'
    assert sign(body, "whsec_test_secret", 1_700_000_000) == (
        "t=1700000000,v1=8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724"
    )


def test_admin_endpoint_gets_every_event_signed_with_the_webhook_secret(sb: Sandbox) -> None:
    secret = sb.credentials["stripe"]["webhook_secret"]
    with WebhookReceiver() as rx:
        r = httpx.post(sb.admin_url("stripe") + "/stripe/webhook-endpoints", json={"url": rx.url})
        assert r.status_code == 200 and r.json()["secret"] == secret
        client = stripe_sdk(sb)
        pi = client.v1.payment_intents.create(
            params={"amount": 1500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
        received = rx.wait_for(5)
        sb.flush_webhooks()  # the stand-in logs an attempt once it has the answer
        events = _events(rx, secret)
    assert sorted(e.type for e in events) == sorted(
        [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "refund.created",
            "charge.refunded",
        ]
    )
    assert all(r.headers["content-type"].startswith("application/json") for r in received)
    by_type = {e.type: e for e in events}
    assert by_type["payment_intent.succeeded"].data.object.id == pi.id
    assert by_type["charge.refunded"].data.object.amount_refunded == 500
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            received[0].body.decode(), received[0].headers["stripe-signature"], "whsec_wrong"
        )
    log = httpx.get(sb.admin_url("stripe") + "/deliveries").json()
    assert len(log) == 5 and all(d["success"] and d["status_code"] == 200 for d in log)


def test_api_endpoint_signs_with_its_own_secret_and_filters_types(sb: Sandbox) -> None:
    client = stripe_sdk(sb)
    with WebhookReceiver() as rx:
        ep = client.v1.webhook_endpoints.create(params={"url": rx.url, "enabled_events": ["refund.created"]})
        assert ep.secret.startswith("whsec_") and ep.secret != sb.credentials["stripe"]["webhook_secret"]
        assert ep.status == "enabled" and ep.enabled_events == ["refund.created"]
        assert "secret" not in client.v1.webhook_endpoints.retrieve(ep.id).to_dict()
        assert [e.id for e in client.v1.webhook_endpoints.list().data] == [ep.id]
        pi = client.v1.payment_intents.create(
            params={"amount": 1500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )
        refund = client.v1.refunds.create(params={"payment_intent": pi.id})
        rx.wait_for(1)
        sb.flush_webhooks()
        (event,) = _events(rx, ep.secret)
        assert event.type == "refund.created" and event.data.object.id == refund.id
        assert event.request.idempotency_key and event.request.id.startswith("req_")
        with pytest.raises(stripe.SignatureVerificationError):
            _events(rx, sb.credentials["stripe"]["webhook_secret"])
        assert client.v1.webhook_endpoints.delete(ep.id).deleted is True
        client.v1.refunds.create(params={"charge": _pay_id(client)})
        sb.flush_webhooks()
        assert len(rx.received) == 1
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.webhook_endpoints.create(params={"url": "not a url", "enabled_events": ["*"]})
    assert exc.value.param == "url"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.webhook_endpoints.create(params={"url": "https://example.com/hook"})
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "enabled_events")


def _pay_id(client: stripe.StripeClient) -> str:
    pi = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    return str(pi.latest_charge)


def test_a_failed_delivery_is_retried_and_logged(sb: Sandbox) -> None:
    sb.call(sb.stripe.set_webhook_retry_delays, [60.0])  # far away: deliver_now must not wait for it
    calls: list[int] = []

    def status(req: ReceivedRequest) -> int:
        calls.append(1)
        return 500 if len(calls) == 1 else 200

    with WebhookReceiver(status=status) as rx:
        sb.call(sb.stripe.register_webhook, rx.url, ["payment_intent.created"])
        client = stripe_sdk(sb)
        pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
        rx.wait_for(1)
        sb.flush_webhooks()
        first = httpx.get(sb.admin_url("stripe") + "/deliveries").json()
        assert [(d["attempt"], d["status_code"], d["success"]) for d in first] == [(1, 500, False)]
        assert first[0]["next_attempt_in"] == 60.0
        event = client.v1.events.list(params={"type": "payment_intent.created", "limit": 1}).data[0]
        assert event.data.object.id == pi.id and event.pending_webhooks == 1
        assert [e.id for e in client.v1.events.list(params={"delivery_success": False}).data] == [event.id]
        delivered = httpx.post(sb.admin_url("stripe") + "/stripe/webhooks/deliver").json()
        assert [(d["attempt"], d["status_code"], d["success"]) for d in delivered] == [(2, 200, True)]
        assert len(rx.received) == 2 and rx.received[0].body == rx.received[1].body
        assert client.v1.events.retrieve(event.id).pending_webhooks == 0


def test_retries_happen_on_their_own_with_backoff(sb: Sandbox) -> None:
    sb.call(sb.stripe.set_webhook_retry_delays, [0.01, 0.02])
    with WebhookReceiver(status=503) as rx:
        sb.call(sb.stripe.register_webhook, rx.url, ["customer.created"])
        stripe_sdk(sb).v1.customers.create(params={"email": "retry@example.com"})
        rx.wait_for(3)  # the first attempt and two retries, then Stripe gives up
        sb.flush_webhooks()
        ids = {json.loads(r.body)["id"] for r in rx.received}
    assert len(ids) == 1
    log = httpx.get(sb.admin_url("stripe") + "/deliveries").json()
    assert [d["attempt"] for d in log] == [1, 2, 3] and "next_attempt_in" not in log[-1]


def test_disputes_and_payouts_send_their_events(sb: Sandbox) -> None:
    secret = sb.credentials["stripe"]["webhook_secret"]
    with WebhookReceiver() as rx:
        sb.call(
            sb.stripe.register_webhook, rx.url, ["charge.dispute.created", "payout.created", "payout.paid"]
        )
        client = stripe_sdk(sb)
        client.v1.payment_intents.create(
            params={"amount": 250_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )  # enough to pay out after the dispute below has withdrawn its amount and fee
        charge = _pay_id(client)
        r = httpx.post(
            sb.admin_url("stripe") + "/stripe/disputes", json={"charge": charge, "reason": "fraudulent"}
        )
        assert r.status_code == 200 and r.json()["status"] == "needs_response"
        rx.wait_for(1)
        advanced = httpx.post(sb.admin_url("stripe") + "/stripe/advance", json={"days": 5}).json()
        assert advanced["payouts_created"] and advanced["payouts_paid"]
        sb.flush_webhooks()
        kinds = [e.type for e in _events(rx, secret)]
    assert kinds[0] == "charge.dispute.created"
    assert kinds.count("payout.created") == len(advanced["payouts_created"])
    assert kinds.count("payout.paid") == len(advanced["payouts_paid"])
