"""Authorize.Net webhooks: the REST registration API and deliveries signed with X-ANET-Signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_testing import anet_post

from sandbox.authorizenet import sign_notification
from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import WebhookReceiver
from sandbox.world import DEFAULT_END

SIZES = {"products": 10, "customers": 5, "orders": 20, "seed": 8, "now": DEFAULT_END}
EVENTS = [
    "net.authorize.payment.authcapture.created",
    "net.authorize.payment.refund.created",
    "net.authorize.payment.void.created",
]


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("authorizenet",), **SIZES) as sandbox:
        yield sandbox


def rest(
    sb: Sandbox, method: str, path: str, body: Any = None, auth: tuple[str, str] | None = None
) -> httpx.Response:
    creds = sb.credentials["authorizenet"]
    return httpx.request(
        method,
        sb.urls["authorizenet"] + "/rest/v1" + path,
        json=body,
        auth=auth or (creds["api_login_id"], creds["transaction_key"]),
    )


def charge(sb: Sandbox, invoice: str, amount: str = "12.34") -> str:
    tr = {
        "transactionType": "authCaptureTransaction",
        "amount": amount,
        "payment": {"creditCard": {"cardNumber": "4111111111111111", "expirationDate": "2035-12"}},
        "order": {"invoiceNumber": invoice},
    }
    answer = anet_post(sb, "createTransactionRequest", {"transactionRequest": tr})[1]
    sb.flush_webhooks()
    return str(answer["transactionResponse"]["transId"])


def test_registration_needs_the_merchant_credentials(sb: Sandbox) -> None:
    r = rest(sb, "GET", "/webhooks", auth=("someone", "else"))
    assert r.status_code == 401 and r.json()["reason"] == "AUTHENTICATION_ERROR"


def test_register_list_update_delete(sb: Sandbox) -> None:
    r = rest(
        sb,
        "POST",
        "/webhooks",
        {"name": "nxt", "url": "https://hooks.example.com/anet", "eventTypes": EVENTS[:1]},
    )
    assert r.status_code == 200
    hook = r.json()
    assert hook["status"] == "active" and hook["eventTypes"] == EVENTS[:1]
    assert hook["_links"]["self"]["href"] == f"/rest/v1/webhooks/{hook['webhookId']}"
    assert [h["webhookId"] for h in rest(sb, "GET", "/webhooks").json()] == [hook["webhookId"]]
    updated = rest(sb, "PUT", f"/webhooks/{hook['webhookId']}", {"status": "inactive"}).json()
    assert updated["status"] == "inactive" and updated["url"] == "https://hooks.example.com/anet"
    assert rest(sb, "DELETE", f"/webhooks/{hook['webhookId']}").status_code == 200
    assert rest(sb, "GET", f"/webhooks/{hook['webhookId']}").status_code == 404
    assert "net.authorize.payment.refund.created" in {
        e["name"] for e in rest(sb, "GET", "/eventtypes").json()
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            {"url": "https://hooks.example.com/x", "eventTypes": ["net.authorize.nope"]},
            "ERROR_INVALID_EVENTTYPE",
        ),
        ({"url": "http://hooks.example.com/x", "eventTypes": EVENTS}, "VALIDATION_ERROR"),
        ({"url": "https://hooks.example.com/x", "eventTypes": []}, "VALIDATION_ERROR"),
    ],
)
def test_bad_registrations(sb: Sandbox, body: dict[str, Any], reason: str) -> None:
    r = rest(sb, "POST", "/webhooks", body)
    assert r.status_code == 400 and r.json()["reason"] == reason


def test_deliveries_are_signed_with_the_signature_key_text(sb: Sandbox) -> None:
    key = sb.credentials["authorizenet"]["signature_key"]
    with WebhookReceiver() as rx:
        hook = rest(sb, "POST", "/webhooks", {"url": rx.url, "eventTypes": EVENTS}).json()
        trans_id = charge(sb, "900001")
        (req,) = rx.wait_for(1)
    body = json.loads(req.body)
    assert set(body) == {"notificationId", "eventType", "eventDate", "webhookId", "payload"}
    assert (body["eventType"], body["webhookId"]) == (
        "net.authorize.payment.authcapture.created",
        hook["webhookId"],
    )
    payload = body["payload"]
    assert (
        payload["id"] == trans_id and payload["entityName"] == "transaction" and payload["responseCode"] == 1
    )
    assert payload["authAmount"] == 12.34 and payload["invoiceNumber"] == "900001"
    signature = req.headers["x-anet-signature"]
    expected = hmac.new(key.encode(), req.body, hashlib.sha512).hexdigest()
    assert signature == "sha512=" + expected.upper()  # uppercase hex, keyed by the key's text as given
    assert signature.lower() == "sha512=" + expected  # compared case-insensitively by receivers
    assert sign_notification(req.body, key) == signature
    wrong = hmac.new(bytes.fromhex(key), req.body, hashlib.sha512).hexdigest().upper()
    assert signature != "sha512=" + wrong  # not keyed by the key's bytes


def test_refund_and_void_events_and_inactive_hooks(sb: Sandbox) -> None:
    with WebhookReceiver() as rx:
        hook = rest(sb, "POST", "/webhooks", {"url": rx.url, "eventTypes": EVENTS[1:]}).json()
        trans_id = charge(sb, "900002")
        void = {"transactionType": "voidTransaction", "refTransId": trans_id}
        anet_post(sb, "createTransactionRequest", {"transactionRequest": void})
        sb.flush_webhooks()
        (req,) = rx.wait_for(1)
        assert json.loads(req.body)["eventType"] == "net.authorize.payment.void.created"
        rest(sb, "PUT", f"/webhooks/{hook['webhookId']}", {"status": "inactive"})
        anet_post(
            sb,
            "createTransactionRequest",
            {"transactionRequest": void | {"refTransId": charge(sb, "900003")}},
        )
        sb.flush_webhooks()
        assert len(rx.received) == 1


def test_failed_deliveries_are_logged_and_redelivered(sb: Sandbox) -> None:
    status = {"code": 503}
    with WebhookReceiver(status=lambda req: status["code"]) as rx:
        rest(sb, "POST", "/webhooks", {"url": rx.url, "eventTypes": EVENTS})
        charge(sb, "900004")
        log = httpx.get(sb.admin_url("authorizenet") + "/deliveries").json()
        assert [(d["success"], d["status_code"]) for d in log] == [(False, 503)]
        status["code"] = 200
        again = httpx.post(sb.admin_url("authorizenet") + "/authorizenet/webhooks/redeliver").json()
        assert [d["success"] for d in again] == [True]
        first, second = rx.wait_for(2)
        assert (
            first.body == second.body
            and first.headers["x-anet-signature"] == second.headers["x-anet-signature"]
        )
