"""`/api/integrations/payments/{status,process,refund}`: the seed's JSON, bearer-protected, backed by the
payment flows and the hub's ledger, with the seed's error shape for refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from receiver_harness import API_TOKEN

from blocks import StripeGateway
from sandbox.server import Sandbox, run_sandbox

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture(scope="module")
def stripe_sandbox() -> Iterator[Sandbox]:
    with run_sandbox(services=("stripe",), products=2, customers=2, orders=4, seed=2) as sb:
        yield sb


@pytest.fixture
def api(
    receiver: Any, names: str, stripe_sandbox: Sandbox, hub_url: str, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)  # the flows' hub: the receiver's
    running = receiver()
    creds = stripe_sandbox.credentials["stripe"]
    StripeGateway(secret_key=creds["api_key"], base_url=stripe_sandbox.urls["stripe"]).save(
        names, overwrite=True
    )
    return running


def test_process_refund_and_status_in_the_seed_shape(api: Any, engine: sa.Engine) -> None:
    with api.client(headers=AUTH) as http:
        assert (
            http.post(
                "/api/integrations/payments/process", json={}, headers={"Authorization": ""}
            ).status_code
            == 401
        )
        paid = http.post(
            "/api/integrations/payments/process",
            json={
                "gateway": "stripe",
                "amount": 99.99,
                "currency": "USD",
                "customerId": None,
                "paymentMethodId": "pm_card_visa",
                "description": "Order #12345",
                "metadata": {"orderId": "12345", "source": "online_store"},
            },
        )
        assert paid.status_code == 200, paid.text
        body = paid.json()
        assert (body["success"], body["message"]) == (True, "Payment processed successfully")
        data = body["data"]
        assert (data["gateway"], data["status"], data["amount"], data["currency"]) == (
            "stripe",
            "succeeded",
            99.99,
            "USD",
        )
        assert data["clientSecret"].startswith(data["gatewayTransactionId"])

        refund = http.post(
            "/api/integrations/payments/refund",
            json={
                "transactionId": data["transactionId"],
                "amount": 50.00,
                "reason": "requested_by_customer",
                "metadata": {"refundRequestId": "ref_req_123"},
            },
        )
        assert refund.status_code == 200, refund.text
        assert refund.json()["data"]["amount"] == 50.0 and refund.json()["success"] is True

        too_much = http.post(
            "/api/integrations/payments/refund",
            json={"transactionId": data["transactionId"], "amount": 50.00},
        )
        assert too_much.status_code == 400
        assert too_much.json()["success"] is False and too_much.json()["error"] == "REFUND_EXCEEDS_REMAINING"

        bad = http.post(
            "/api/integrations/payments/process",
            json={
                "gateway": "stripe",
                "amount": 10.001,
                "currency": "USD",
                "paymentMethodId": "pm_card_visa",
            },
        )
        assert bad.status_code == 400
        assert bad.json() == {
            "success": False,
            "message": "amount 10.001 has more decimals than USD allows (2)",
            "error": "INVALID_AMOUNT",
        }
        declined = http.post(
            "/api/integrations/payments/process",
            json={"gateway": "stripe", "amount": 5, "paymentMethodId": "pm_card_visa_chargeDeclined"},
        )
        assert declined.status_code == 402 and declined.json()["error"] == "PAYMENT_DECLINED"

        stats = http.get("/api/integrations/payments/status").json()
    assert stats["success"] is True
    assert stats["data"]["totalPayments"] == 1 and stats["data"]["successfulPayments"] == 1
    assert stats["data"]["totalVolume"] == 99.99 and stats["data"]["averageAmount"] == 99.99
    assert stats["data"]["byGateway"] == {"stripe": {"count": 1, "volume": 99.99}}
    assert stats["data"]["gateways"]["available"] == ["stripe", "paypal", "square", "authorizenet"]
    assert stats["data"]["gateways"]["active"] == 1
