"""`process-payment` and `refund-payment` against the gateway stand-ins: the seed's answers, one payment or
refund per idempotency key however often a call is repeated or retried, bad input refused with a specific
code before anything is written, a refund of a WooCommerce order recorded on the order without a second
refund at the gateway, and a refund whose answer was lost after the gateway accepted it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from blocks import StripeGateway, WooCommerceStore
from clients.errors import TransportFailure
from deployments.sandbox_blocks import blocks_for
from flows.ledger_ingestion import run_ingestion
from flows.payments import process_payment, refund_payment
from flows.woocommerce_sync import run_sync
from hub.db import create_hub_engine
from hub.payments import PaymentError
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END
from tasks.payments import gateway_refund
from tasks.policy import is_transient

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def pay_sandbox() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("woocommerce", "stripe", "paypal", "square"),
        products=8,
        customers=10,
        orders=80,
        seed=21,
        now=DEFAULT_END,
        discrepancy_rate=0,
    ) as sb:
        yield sb


@pytest.fixture(scope="module")
def block_name(pay_sandbox: Sandbox) -> str:
    name = f"pay-{uuid.uuid4().hex[:8]}"
    for service, block in blocks_for(pay_sandbox).items():
        if service == "woocommerce":
            block = WooCommerceStore(**{**block.model_dump(), "rate_limit_rpm": 60_000})
        block.save(name, overwrite=True)
    return name


@pytest.fixture
def sb(pay_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield pay_sandbox
    for service in ("stripe", "paypal", "square"):
        pay_sandbox.set_faults(service)


@pytest.fixture
def engine(hub_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    return create_hub_engine(hub_url)


def counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            conn.execute(sa.text("SELECT count(*) FROM gateway_transactions")).scalar_one(),
            conn.execute(sa.text("SELECT count(*) FROM real_time_data")).scalar_one(),
        )


def pay(block_name: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("gateway", "stripe")
    kwargs.setdefault("currency", "USD")
    kwargs.setdefault("payment_method_id", "pm_card_visa")
    return asyncio.run(process_payment(block=block_name, **kwargs))


def test_a_payment_answers_like_the_seed_and_a_repeat_pays_once(
    sb: Sandbox, engine: sa.Engine, block_name: str
) -> None:
    order = str(90_000 + uuid.uuid4().int % 10_000)
    meta = {"orderId": order, "source": "online_store"}
    first = pay(block_name, amount="99.99", description=f"Order #{order}", metadata=meta)
    again = pay(block_name, amount="99.99", description=f"Order #{order}", metadata=meta)

    assert first == again
    assert set(first) == {
        "gateway",
        "transactionId",
        "gatewayTransactionId",
        "status",
        "amount",
        "currency",
        "clientSecret",
    }
    assert (first["gateway"], first["status"], first["amount"], first["currency"]) == (
        "stripe",
        "succeeded",
        99.99,
        "USD",
    )
    assert first["transactionId"].startswith("ch_") and first["gatewayTransactionId"].startswith("pi_")
    made = [
        r for r in sb.call(sb.stripe.received, "payment_intent") if r["id"] == first["gatewayTransactionId"]
    ]
    assert len(made) == 1 and made[0]["idempotency_key"] == f"nxt-pay-stripe-order-{order}"
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM gateway_transactions")).mappings().one()
        logged = conn.execute(sa.text("SELECT * FROM real_time_data")).mappings().all()
    assert (row["order_id"], row["amount_minor"], row["status"]) == (int(order), 9999, "succeeded")
    assert [r["data_type"] for r in logged] == ["payment_processed"]


def test_square_payments_and_declines(sb: Sandbox, engine: sa.Engine, block_name: str) -> None:
    ok = pay(block_name, gateway="square", amount="12.50", payment_method_id="cnon:card-nonce-ok")
    assert (ok["gateway"], ok["status"], ok["amount"]) == ("square", "succeeded", 12.5)
    before = counts(engine)
    with pytest.raises(PaymentError) as caught:
        pay(block_name, gateway="square", amount="12.51", payment_method_id="cnon:card-nonce-declined")
    assert (caught.value.code, caught.value.status) == ("PAYMENT_DECLINED", 402)
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": "10.001"}, "INVALID_AMOUNT"),
        ({"amount": "10.5", "currency": "JPY"}, "INVALID_AMOUNT"),
        ({"amount": "0"}, "INVALID_AMOUNT"),
        ({"amount": "-5"}, "INVALID_AMOUNT"),
        ({"amount": "ten"}, "INVALID_AMOUNT"),
        ({"amount": "10", "currency": "XYZ"}, "UNKNOWN_CURRENCY"),
        ({"amount": "10", "gateway": "bitcoin"}, "UNKNOWN_GATEWAY"),
        ({"amount": "10", "payment_method_id": "pm_card_visa_chargeDeclined"}, "PAYMENT_DECLINED"),
        ({"amount": "10", "payment_method_id": ""}, "MISSING_PAYMENT_METHOD"),
    ],
)
def test_bad_payments_are_refused_with_a_specific_code_and_write_nothing(
    sb: Sandbox, engine: sa.Engine, block_name: str, kwargs: dict[str, Any], code: str
) -> None:
    intents = len(sb.call(sb.stripe.received, "payment_intent"))
    with pytest.raises(PaymentError) as caught:
        pay(block_name, **kwargs)
    assert caught.value.code == code
    assert caught.value.as_json() == {"success": False, "message": caught.value.message, "error": code}
    assert "\n" not in caught.value.message
    assert counts(engine) == (0, 0)
    if code != "PAYMENT_DECLINED":
        assert len(sb.call(sb.stripe.received, "payment_intent")) == intents, "no gateway call"


@pytest.mark.postgres
def test_refunds_once_per_key_and_never_more_than_remains(
    sb: Sandbox, engine: sa.Engine, block_name: str
) -> None:
    paid = pay(block_name, amount="50.00", metadata={"idempotencyKey": f"k-{uuid.uuid4()}"})
    refund = asyncio.run(
        refund_payment(
            paid["transactionId"], amount="20.00", reason="requested_by_customer", block=block_name
        )
    )
    repeat = asyncio.run(
        refund_payment(
            paid["transactionId"], amount="20.00", reason="requested_by_customer", block=block_name
        )
    )
    assert refund == repeat
    assert (refund["status"], refund["amount"], refund["transactionId"]) == (
        "succeeded",
        20.0,
        paid["transactionId"],
    )
    made = [r for r in sb.call(sb.stripe.received, "refund") if r["id"] == refund["refundId"]]
    assert len(made) == 1
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT data_type FROM real_time_data ORDER BY id")).scalars().all()
    assert kinds == ["payment_processed", "refund_processed"]

    before = counts(engine)
    with pytest.raises(PaymentError) as caught:
        asyncio.run(refund_payment(paid["transactionId"], amount="30.01", block=block_name))
    assert caught.value.code == "REFUND_EXCEEDS_REMAINING" and "30.00 USD" in caught.value.message
    with pytest.raises(PaymentError) as unknown:
        asyncio.run(refund_payment("ch_nope", block=block_name))
    assert (unknown.value.code, unknown.value.status) == ("TRANSACTION_NOT_FOUND", 404)
    assert counts(engine) == before

    rest = asyncio.run(refund_payment(paid["transactionId"], block=block_name))  # what remains
    assert rest["amount"] == 30.0
    with pytest.raises(PaymentError, match="refunded in full"):
        asyncio.run(refund_payment(paid["transactionId"], block=block_name))


@pytest.mark.postgres
def test_a_refund_whose_answer_was_lost_is_retried_with_the_same_key(
    sb: Sandbox, engine: sa.Engine, block_name: str
) -> None:
    paid = pay(block_name, amount="40.00", metadata={"idempotencyKey": f"k-{uuid.uuid4()}"})
    creds = sb.credentials["stripe"]
    impatient = StripeGateway(
        secret_key=creds["api_key"], base_url=sb.urls["stripe"], max_network_retries=0, timeout_ms=300
    )
    charge = {"gateway": "stripe", "gateway_id": paid["transactionId"], "currency": "USD"}
    key = f"refund-{uuid.uuid4()}"
    # The gateway takes 1.5 s to answer: the client gives up after 0.3 s, the gateway refunds anyway.
    sb.set_faults("stripe", latency_ms=1500, paths=["/v1/refunds"])
    with pytest.raises(TransportFailure) as lost:
        asyncio.run(gateway_refund.fn(impatient, charge, 1500, key))
    assert is_transient(lost.value), "the task's retry policy retries it"
    for _ in range(100):  # the gateway finishes the request it accepted
        if any(r["idempotency_key"] == key for r in sb.call(sb.stripe.received, "refund")):
            break
        asyncio.run(asyncio.sleep(0.05))
    sb.set_faults("stripe")
    retried = asyncio.run(gateway_refund.fn(impatient, charge, 1500, key))  # the retry: same inputs, same key
    made = [r for r in sb.call(sb.stripe.received, "refund") if r["idempotency_key"] == key]
    assert len(made) == 1 and retried["gateway_id"] == made[0]["id"]
    refunds = sb.call(sb.stripe.object_json, paid["transactionId"])["amount_refunded"]
    assert refunds == 1500


def test_a_refund_of_a_woocommerce_order_is_recorded_on_the_order(
    sb: Sandbox, engine: sa.Engine, block_name: str
) -> None:
    store = WooCommerceStore.load(block_name)
    summary = asyncio.run(run_sync(store, engine, store=block_name, sync_type="orders", use_prefect=False))
    assert summary["status"] == "completed"
    end = datetime.fromtimestamp(DEFAULT_END, UTC)
    gateways = {g: b for g, b in blocks_for(sb).items() if g == "paypal"}
    asyncio.run(
        run_ingestion(
            gateways,
            engine,
            since=end - timedelta(days=740),
            now=end + timedelta(minutes=1),
            use_prefect=False,
        )
    )
    order = next(
        o
        for o in sb.call(sb.world.paid_orders)
        if o.payment_method == "ppcp-gateway" and o.status == "completed" and not o.refunds
    )
    refunds_at_paypal = len([r for r in sb.call(sb.paypal.received, "refund") if not r["replayed"]])
    answer = asyncio.run(
        refund_payment(
            order.transaction_id, amount="1.00", reason="damaged", block=block_name, store=block_name
        )
    )
    assert answer["orderId"] == order.id and answer["wooCommerceRefundId"]
    again = asyncio.run(
        refund_payment(
            order.transaction_id, amount="1.00", reason="damaged", block=block_name, store=block_name
        )
    )
    assert (
        again["wooCommerceRefundId"] == answer["wooCommerceRefundId"]
        and again["refundId"] == answer["refundId"]
    )
    made = [r for r in sb.call(sb.paypal.received, "refund") if not r["replayed"]]
    assert len(made) == refunds_at_paypal + 1, "one refund at PayPal"
    doc = sb.call(sb.woocommerce.record_json, "order", order.id)
    assert [Decimal(r["total"]) for r in doc["refunds"]] == [Decimal("-1.00")]
