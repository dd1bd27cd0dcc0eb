"""Bad input for every vendor, with real signatures made by the sandbox stand-ins (their own signers, with
the credentials they deliver with; PayPal's a delivery the stand-in made, checked through its
verify-webhook-signature API): the genuine request is stored; a missing signature, a forged one, a
body changed after signing and a stale timestamp are 401; a signed body that is not the vendor's event
is 400. Every refusal is answered `{"success": false, "message"}` without a stack trace, and written as
exactly one `webhook_rejected` dashboard row with its reason; the receiver keeps serving."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from gateway_testing import paypal_http
from receiver_harness import Running, rows, save_blocks, settings_for, start_receiver

from blocks import (
    AuthorizeNetGateway,
    PayPalGateway,
    SendGridEmail,
    SquareGateway,
    StripeGateway,
    TwilioSMS,
)
from sandbox.authorizenet.webhooks import sign as anet_sign
from sandbox.sendgrid.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SigningKey
from sandbox.server import Sandbox, run_sandbox
from sandbox.square.webhooks import sign as square_sign
from sandbox.stripe.webhooks import sign as stripe_sign
from sandbox.testing import WebhookReceiver
from sandbox.twilio.callbacks import sign as twilio_sign
from sandbox.woocommerce.webhooks import sign_webhook
from sandbox.world import DEFAULT_END

SEED = 7
VENDORS = ("woocommerce", "stripe", "paypal", "square", "authorizenet", "twilio", "sendgrid")
# (content, headers) of a request; a maker signs `content` as the vendor would (or not, or wrongly).
Request = tuple[bytes, dict[str, str]]


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(
        services=(*VENDORS,), products=10, customers=10, orders=20, seed=SEED, now=DEFAULT_END
    ) as sb:
        yield sb


@pytest.fixture
def running(sb: Sandbox, names: str, engine: sa.Engine) -> Iterator[Running]:
    """A receiver whose blocks hold the stand-ins' own secrets."""
    c = sb.credentials
    save_blocks(names, woo_secret=c["woocommerce"]["webhook_secret"])
    StripeGateway(secret_key=c["stripe"]["api_key"], webhook_secret=c["stripe"]["webhook_secret"]).save(
        names, overwrite=True
    )
    SquareGateway(
        access_token=c["square"]["access_token"], webhook_signature_key=c["square"]["webhook_signature_key"]
    ).save(names, overwrite=True)
    AuthorizeNetGateway(
        api_login_id=c["authorizenet"]["api_login_id"],
        transaction_key=c["authorizenet"]["transaction_key"],
        signature_key=c["authorizenet"]["signature_key"],
    ).save(names, overwrite=True)
    TwilioSMS(
        account_sid=c["twilio"]["account_sid"],
        auth_token=c["twilio"]["auth_token"],
        from_number=c["twilio"]["from_number"],
    ).save(names, overwrite=True)
    SendGridEmail(
        api_key=c["sendgrid"]["api_key"],
        from_email=c["sendgrid"]["from_email"],
        verification_key=c["sendgrid"]["verification_key"],
    ).save(names, overwrite=True)
    PayPalGateway(
        client_id=c["paypal"]["client_id"],
        client_secret=c["paypal"]["client_secret"],
        webhook_id=c["paypal"]["webhook_id"],
        base_url=sb.urls["paypal"],
    ).save(names, overwrite=True)
    running = start_receiver(settings_for(names), engine)
    yield running
    running.stop()


# --- the vendors' requests, signed by the stand-ins' code -------------------------------------------
def _woo(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, **_: Any) -> Request:
    secret = secret or sb.credentials["woocommerce"]["webhook_secret"]
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Signature": sign_webhook(body, secret),
    }


def _stripe(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, age: int = 0) -> Request:
    secret = secret or sb.credentials["stripe"]["webhook_secret"]
    return body, {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe_sign(body, secret, int(time.time()) - age),
    }


def _square(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, **_: Any) -> Request:
    key = secret or sb.credentials["square"]["webhook_signature_key"]
    return body, {
        "Content-Type": "application/json",
        "x-square-hmacsha256-signature": square_sign(key, url, body),
    }


def _anet(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, **_: Any) -> Request:
    key = secret or sb.credentials["authorizenet"]["signature_key"]
    return body, {"Content-Type": "application/json", "X-ANET-Signature": anet_sign(body, key)}


def _twilio(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, **_: Any) -> Request:
    from urllib.parse import parse_qsl

    token = secret or sb.credentials["twilio"]["auth_token"]
    params = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_sign(url, params, token),
    }


def _sendgrid(sb: Sandbox, url: str, body: bytes, *, secret: str | None = None, age: int = 0) -> Request:
    key = SigningKey(SEED if secret is None else SEED + 1)
    stamp = str(int(time.time()) - age)
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: key.sign(stamp, body),
        TIMESTAMP_HEADER: stamp,
    }


SIGNERS: dict[str, Callable[..., Request]] = {
    "woocommerce": _woo,
    "stripe": _stripe,
    "square": _square,
    "authorizenet": _anet,
    "twilio": _twilio,
    "sendgrid": _sendgrid,
}
SIGNATURE_HEADERS = {
    "woocommerce": ("x-wc-webhook-signature",),
    "stripe": ("stripe-signature",),
    "paypal": ("paypal-transmission-sig",),
    "square": ("x-square-hmacsha256-signature",),
    "authorizenet": ("x-anet-signature",),
    "twilio": ("x-twilio-signature",),
    "sendgrid": (SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower()),
}
STALE = {"stripe", "sendgrid"}  # the vendors that sign a timestamp (Standard Webhooks: test_webhooks.py)


def _event(vendor: str) -> bytes:
    unique = uuid.uuid4().hex
    if vendor == "woocommerce":
        return json.dumps({"id": 4100 + int(unique[:4], 16) % 1000, "status": "processing"}).encode()
    if vendor == "stripe":
        return json.dumps(
            {
                "id": f"evt_{unique[:24]}",
                "object": "event",
                "type": "charge.refunded",
                "created": int(time.time()),
                "data": {"object": {"id": f"ch_{unique[:24]}", "object": "charge"}},
            }
        ).encode()
    if vendor == "square":
        return json.dumps(
            {
                "merchant_id": "M1",
                "type": "payment.updated",
                "event_id": unique,
                "data": {"type": "payment", "id": f"pay_{unique[:8]}", "object": {"payment": {"id": "p"}}},
            }
        ).encode()
    if vendor == "authorizenet":
        return json.dumps(
            {
                "notificationId": unique,
                "eventType": "net.authorize.payment.authcapture.created",
                "payload": {"id": "60012345678", "entityName": "transaction"},
            }
        ).encode()
    if vendor == "twilio":
        return f"MessageSid=SM{unique}&MessageStatus=delivered&To=%2B14155550142".encode()
    assert vendor == "sendgrid"
    event = {"email": "a@example.com", "event": "delivered", "sg_event_id": unique, "timestamp": 1}
    return json.dumps([event]).encode() + b"\r\n"


def _paypal_delivery(sb: Sandbox) -> Request:
    """A PAYMENT.CAPTURE.COMPLETED delivery exactly as the PayPal stand-in signed and sent it."""
    with WebhookReceiver() as rx, paypal_http(sb) as pp:
        sb.call(sb.paypal.set_webhook_url, rx.url)
        order = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "amount": {"currency_code": "USD", "value": "9.99"},
                    "invoice_id": f"WC-{uuid.uuid4().hex[:8]}",
                }
            ],
        }
        oid = pp.post("/v2/checkout/orders", json=order).json()["id"]
        sb.call(sb.paypal.approve_order, oid)
        assert pp.post(f"/v2/checkout/orders/{oid}/capture").status_code == 201
        sb.flush_webhooks()
        sb.call(sb.paypal.set_webhook_url, None)
        req = next(
            r for r in rx.received if json.loads(r.body).get("event_type") == "PAYMENT.CAPTURE.COMPLETED"
        )
    keep = (
        "content-type",
        "paypal-auth-algo",
        "paypal-cert-url",
        "paypal-transmission-id",
        "paypal-transmission-sig",
        "paypal-transmission-time",
    )
    return req.body, {k: v for k, v in req.headers.items() if k in keep}


def _cases(sb: Sandbox, vendor: str, url: str) -> list[tuple[str, Request, int, str]]:
    """(what, request, status, words in the message) for `vendor`; the first is the genuine one."""
    if vendor == "paypal":
        body, headers = _paypal_delivery(sb)
        forged = dict(headers, **{"paypal-transmission-sig": headers["paypal-transmission-sig"][::-1]})
        return [
            ("genuine", (body, headers), 200, ""),
            ("missing", (body, {"content-type": "application/json"}), 401, "missing"),
            ("forged", (body, forged), 401, ""),
            ("tampered", (body.replace(b"9.99", b"0.01"), headers), 401, ""),
        ]
    sign = SIGNERS[vendor]
    body = _event(vendor)
    genuine = sign(sb, url, body)
    unsigned = {k: v for k, v in genuine[1].items() if k.lower() not in SIGNATURE_HEADERS[vendor]}
    tampered_body = body + b"&ErrorCode=1" if vendor == "twilio" else body.replace(b"}", b" }", 1)
    garbage = b"ErrorCode=1" if vendor == "twilio" else b"{not json"
    cases = [
        ("genuine", genuine, 200, ""),
        ("missing", (body, unsigned), 401, ""),
        ("forged", sign(sb, url, body, secret="not-the-vendors-secret-0123456789"), 401, ""),
        ("tampered", (tampered_body, genuine[1]), 401, ""),
        ("unparseable", sign(sb, url, garbage), 400, ""),
    ]
    if vendor in STALE:
        cases.append(("stale", sign(sb, url, body, age=600), 401, "tolerance"))
    return cases


def test_every_refusal_is_answered_and_recorded_once(
    sb: Sandbox, running: Running, engine: sa.Engine
) -> None:
    """Every vendor in one receiver (each test's receiver costs seconds of block saves)."""
    for vendor in VENDORS:
        _refusals_of(vendor, sb, running, engine)


def _refusals_of(vendor: str, sb: Sandbox, running: Running, engine: sa.Engine) -> None:
    path = f"/api/webhooks/{vendor}"
    cases = _cases(sb, vendor, running.url + path)
    with running.client() as http:
        for what, (content, headers), code, words in cases:
            resp = http.post(path, content=content, headers=headers)
            assert resp.status_code == code, (vendor, what, resp.text)
            body = resp.json()
            assert body["success"] is (code == 200), (vendor, what)
            if code != 200:
                assert body["message"] and words in body["message"], (vendor, what, body)
                assert "Traceback" not in resp.text and 'File "' not in resp.text, (vendor, what)
        # still serving: the genuine request again is a duplicate
        content, headers = cases[0][1]
        again = http.post(path, content=content, headers=headers)
        assert again.status_code == 200 and again.json()["duplicate"] is True, vendor
    running.call(running.runtime.writer.flush())
    refused = [
        r
        for r in rows(engine, "dashboard_events")
        if r.event_type == "webhook_rejected" and r.data["path"] == path
    ]
    expected = [code for _, _, code, _ in cases if code != 200]
    assert [r.data["status"] for r in refused] == expected, vendor
    for row in refused:
        assert row.data["source"] == vendor and row.data["reason"], vendor
        assert row.message.endswith(row.data["reason"]) and "Traceback" not in row.message
    (stored,) = rows(engine, source=vendor)  # only the genuine request was stored
    assert vendor in ("twilio", "sendgrid") or stored.payload == json.loads(cases[0][1][0]), vendor
    if vendor == "paypal":  # the stand-in's event, checked by its verify-webhook-signature API
        event = json.loads(cases[0][1][0])
        assert (stored.event_key, stored.topic) == (event["id"], "PAYMENT.CAPTURE.COMPLETED")
        assert stored.resource == f"capture.{event['resource']['id']}"


def test_a_wrong_method_an_unknown_source_and_an_oversized_body(running: Running, engine: sa.Engine) -> None:
    with running.client() as http:
        answers = [
            http.get("/api/webhooks/sendgrid"),
            http.delete("/api/webhooks/paypal"),
            http.post("/api/webhooks/klarna", content=b"{}"),
            http.post("/api/webhooks/third-party/unknown", content=b"{}"),
            http.post("/api/webhooks/twilio", content=b"a" * (1024 * 1024 + 1)),
            http.post(
                "/api/webhooks/sendgrid",
                content=iter([b"[" + b" " * 600_000, b" " * 600_000 + b"]"]),  # chunked: no Content-Length
            ),
        ]
    assert [a.status_code for a in answers] == [405, 405, 404, 404, 413, 413]
    for answer in answers:
        assert answer.json()["success"] is False and "Traceback" not in answer.text
    running.call(running.runtime.writer.flush())
    refused = [r for r in rows(engine, "dashboard_events") if r.event_type == "webhook_rejected"]
    assert [r.data["status"] for r in refused] == [405, 405, 404, 404, 413, 413]
    assert all(r.data["reason"] for r in refused)
    with httpx.Client(base_url=running.url) as http:
        assert http.get("/healthz").status_code == 200
