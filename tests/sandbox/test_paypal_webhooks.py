"""PayPal webhooks: registration, signed deliveries, the certificate, and verify-webhook-signature."""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from gateway_testing import paypal_http

from clients import PayPalClient
from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import ReceivedRequest, WebhookReceiver
from sandbox.world import DEFAULT_END

SIZES = {"products": 10, "customers": 5, "orders": 20, "seed": 2, "now": DEFAULT_END}
ORDER = {
    "intent": "CAPTURE",
    "purchase_units": [{"amount": {"currency_code": "USD", "value": "9.99"}, "invoice_id": "WC-3"}],
}
VERIFY = "/v1/notifications/verify-webhook-signature"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("paypal",), **SIZES) as sandbox:
        yield sandbox


@pytest.fixture
def rx() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def subscribe(pp: httpx.Client, url: str, *names: str) -> dict[str, Any]:
    r = pp.post("/v1/notifications/webhooks", json={"url": url, "event_types": [{"name": n} for n in names]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def capture(sb: Sandbox, pp: httpx.Client) -> dict[str, Any]:
    oid = pp.post("/v2/checkout/orders", json=ORDER).json()["id"]
    sb.call(sb.paypal.approve_order, oid)
    r = pp.post(f"/v2/checkout/orders/{oid}/capture")
    sb.flush_webhooks()
    return dict(r.json()["purchase_units"][0]["payments"]["captures"][0])


def verify_body(req: ReceivedRequest, webhook_id: str, event: bytes | None = None) -> bytes:
    """The verify request built as PayPal asks: the event embedded as the raw bytes received."""
    h = req.headers
    head = json.dumps(
        {
            "auth_algo": h["paypal-auth-algo"],
            "cert_url": h["paypal-cert-url"],
            "transmission_id": h["paypal-transmission-id"],
            "transmission_sig": h["paypal-transmission-sig"],
            "transmission_time": h["paypal-transmission-time"],
            "webhook_id": webhook_id,
        }
    )[:-1]
    return head.encode() + b', "webhook_event": ' + (req.body if event is None else event) + b"}"


def verify(pp: httpx.Client, content: bytes) -> httpx.Response:
    return pp.post(VERIFY, content=content, headers={"Content-Type": "application/json"})


def test_registration_answers_the_subscription(sb: Sandbox, rx: WebhookReceiver) -> None:
    with paypal_http(sb) as pp:
        hook = subscribe(pp, rx.url, "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED")
        assert len(hook["id"]) == 17 and hook["url"] == rx.url
        assert hook["event_types"][0] == {
            "name": "PAYMENT.CAPTURE.COMPLETED",
            "description": "A payment capture completes.",
        }
        assert {link["rel"] for link in hook["links"]} == {"self", "update", "delete"}
        listed = pp.get("/v1/notifications/webhooks").json()["webhooks"]
        assert hook["id"] in {h["id"] for h in listed}
        assert sb.credentials["paypal"]["webhook_id"] in {h["id"] for h in listed}  # the credentials' one
        assert pp.delete(f"/v1/notifications/webhooks/{hook['id']}").status_code == 204
        assert pp.get(f"/v1/notifications/webhooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "name", "field"),
    [
        (
            {"url": "http://hooks.example.com/paypal", "event_types": [{"name": "*"}]},
            "VALIDATION_ERROR",
            "url",
        ),
        (
            {"url": "https://hooks.example.com/x", "event_types": [{"name": "PAYMENT.SALE.NOPE"}]},
            "VALIDATION_ERROR",
            "event_types[0].name",
        ),
        ({"url": "https://hooks.example.com/x", "event_types": []}, "VALIDATION_ERROR", "event_types"),
    ],
)
def test_bad_registrations(sb: Sandbox, body: dict[str, Any], name: str, field: str) -> None:
    with paypal_http(sb) as pp:
        r = pp.post("/v1/notifications/webhooks", json=body)
    assert r.status_code == 400 and r.json()["name"] == name and r.json()["details"][0]["field"] == field


def test_a_url_is_registered_once(sb: Sandbox) -> None:
    with paypal_http(sb) as pp:
        subscribe(pp, "https://hooks.example.com/once", "*")
        r = pp.post(
            "/v1/notifications/webhooks",
            json={"url": "https://hooks.example.com/once", "event_types": [{"name": "*"}]},
        )
    assert r.status_code == 400 and r.json()["name"] == "WEBHOOK_URL_ALREADY_EXISTS"


def test_delivery_is_signed_as_paypal_signs(sb: Sandbox, rx: WebhookReceiver) -> None:
    with paypal_http(sb) as pp:
        hook = subscribe(pp, rx.url, "PAYMENT.CAPTURE.COMPLETED")
        cap = capture(sb, pp)
    (req,) = rx.wait_for(1)
    event = json.loads(req.body)
    assert event["event_type"] == "PAYMENT.CAPTURE.COMPLETED" and event["id"].startswith("WH-")
    assert event["resource_type"] == "capture" and event["resource"]["id"] == cap["id"]
    assert event["resource"]["supplementary_data"]["related_ids"]["order_id"]
    assert set(event) == {
        "id",
        "event_version",
        "create_time",
        "resource_type",
        "resource_version",
        "event_type",
        "summary",
        "resource",
        "links",
    }
    h = req.headers
    assert h["paypal-auth-algo"] == "SHA256withRSA"
    cert = x509.load_pem_x509_certificate(httpx.get(h["paypal-cert-url"]).content)
    message = (
        f"{h['paypal-transmission-id']}|{h['paypal-transmission-time']}|{hook['id']}|{zlib.crc32(req.body)}"
    )
    cert.public_key().verify(  # raises if the signature does not match
        base64.b64decode(h["paypal-transmission-sig"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_verify_answers_success_only_for_a_real_delivery(sb: Sandbox, rx: WebhookReceiver) -> None:
    with paypal_http(sb) as pp:
        hook = subscribe(pp, rx.url, "*")
        capture(sb, pp)
        req = rx.wait_for(1)[0]
        ok = verify(pp, verify_body(req, hook["id"]))
        assert ok.status_code == 200 and ok.json() == {"verification_status": "SUCCESS"}
        reserialised = json.dumps(json.loads(req.body)).encode()  # spaces after separators: other bytes
        tampered = req.body.replace(b'"9.99"', b'"0.99"')
        for content in (
            verify_body(req, hook["id"], reserialised),
            verify_body(req, hook["id"], tampered),
            verify_body(req, sb.credentials["paypal"]["webhook_id"]),
        ):
            r = verify(pp, content)
            assert r.status_code == 200 and r.json() == {"verification_status": "FAILURE"}
        forged = json.loads(verify_body(req, hook["id"]))
        forged["transmission_id"] = "0f0f0f0f-0000-11ee-8000-000000000000"
        assert verify(pp, json.dumps(forged).encode()).json() == {"verification_status": "FAILURE"}


def test_verify_refuses_incomplete_requests(sb: Sandbox) -> None:
    with paypal_http(sb) as pp:
        r = pp.post(VERIFY, json={"auth_algo": "SHA256withRSA", "webhook_event": {}})
        assert r.status_code == 400 and r.json()["name"] == "VALIDATION_ERROR"
        assert r.json()["details"][0]["field"] == "cert_url"
    assert httpx.post(sb.urls["paypal"] + VERIFY, json={}).status_code == 401


def test_our_client_verifies_with_the_raw_body(sb: Sandbox, rx: WebhookReceiver) -> None:
    with paypal_http(sb) as pp:
        hook = subscribe(pp, rx.url, "*")
        capture(sb, pp)
    req = rx.wait_for(1)[0]
    creds = sb.credentials["paypal"]

    async def run() -> tuple[bool, bool, bool]:
        async with PayPalClient(
            base_url=sb.urls["paypal"], client_id=creds["client_id"], client_secret=creds["client_secret"]
        ) as c:
            genuine = await c.verify_webhook_signature(
                headers=req.headers, body=req.body, webhook_id=hook["id"]
            )
            forged = await c.verify_webhook_signature(
                headers=req.headers, body=req.body + b" ", webhook_id="X" * 17
            )
            missing = await c.verify_webhook_signature(headers={}, body=req.body, webhook_id=hook["id"])
            return genuine, forged, missing

    assert asyncio.run(run()) == (True, False, False)


def test_credentials_webhook_receives_events_once_given_a_url(sb: Sandbox, rx: WebhookReceiver) -> None:
    webhook_id = sb.credentials["paypal"]["webhook_id"]
    r = httpx.put(sb.admin_url("paypal") + f"/paypal/webhooks/{webhook_id}", json={"url": rx.url})
    assert r.status_code == 200
    with paypal_http(sb) as pp:
        capture(sb, pp)
        types = [json.loads(x.body)["event_type"] for x in rx.wait_for(2)]
        assert types == ["CHECKOUT.ORDER.APPROVED", "PAYMENT.CAPTURE.COMPLETED"]
        assert verify(pp, verify_body(rx.received[1], webhook_id)).json()["verification_status"] == "SUCCESS"


def test_only_subscribed_events_are_delivered(sb: Sandbox, rx: WebhookReceiver) -> None:
    with paypal_http(sb) as pp:
        subscribe(pp, rx.url, "PAYMENT.CAPTURE.REFUNDED")
        cap = capture(sb, pp)
        assert rx.received == []
        pp.post(f"/v2/payments/captures/{cap['id']}/refund")
        sb.flush_webhooks()
    (req,) = rx.wait_for(1)
    event = json.loads(req.body)
    assert event["event_type"] == "PAYMENT.CAPTURE.REFUNDED" and event["resource_type"] == "refund"
    assert event["resource"]["amount"]["value"] == "9.99"


def test_failed_deliveries_are_logged_and_redelivered(sb: Sandbox) -> None:
    status = {"code": 500}
    with WebhookReceiver(status=lambda req: status["code"]) as rx, paypal_http(sb) as pp:
        subscribe(pp, rx.url, "PAYMENT.CAPTURE.COMPLETED")
        capture(sb, pp)
        log = httpx.get(sb.admin_url("paypal") + "/deliveries").json()
        assert [d["success"] for d in log] == [False] and log[0]["status_code"] == 500
        status["code"] = 200
        again = httpx.post(sb.admin_url("paypal") + "/paypal/webhooks/redeliver").json()
        assert [d["success"] for d in again] == [True]
        first, second = rx.wait_for(2)
        assert first.body == second.body  # the same event ...
        assert (
            first.headers["paypal-transmission-id"] != second.headers["paypal-transmission-id"]
        )  # ... sent anew
