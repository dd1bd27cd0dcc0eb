"""The old service's payment operations as flows: take a payment, refund one.

`process-payment` and `refund-payment` take the seed's request (`gateway, amount, currency, customerId,
paymentMethodId, description, metadata`; `transactionId, amount, reason, metadata`) and answer its response
`data`. Input is checked before any gateway is called (`hub.payments.check_payment`, `check_refund`); every
gateway call carries an idempotency key (the caller's, else derived from the order and the operation), so a
retried or repeated call makes one payment or refund; the result is written to the ledger and to
`real_time_data` (`payment_processed`, `refund_processed`) in one transaction. A refund of a charge that
names a WooCommerce order is also recorded on the order (`api_refund=false`).

Refusals raise `hub.payments.PaymentError` (`code`, HTTP `status`, one line); nothing is written for them.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from blocks import (
    BlockNotFound,
    PayPalGateway,
    SquareGateway,
    StripeGateway,
    WooCommerceStore,
    aload_block,
)
from flows._hub import open_hub
from flows._runs import capture_client_logs, emit_finished, label_run
from hub.models import Order
from hub.payments import (
    PaymentError,
    check_payment,
    check_refund,
    find_charge,
    major,
    order_of,
    payment_key,
    record_payment,
    record_refund,
    refund_key,
)
from tasks.payments import gateway_payment, gateway_refund, woocommerce_order_refund

__all__ = ["process_payment", "refund_payment"]

_BLOCKS: dict[str, type[Any]] = {"stripe": StripeGateway, "square": SquareGateway, "paypal": PayPalGateway}


async def _gateway_block(gateway: str, name: str) -> Any:
    try:
        return await aload_block(_BLOCKS[gateway], name)
    except BlockNotFound:
        raise PaymentError(
            "GATEWAY_NOT_CONFIGURED",
            f"no {_BLOCKS[gateway].get_block_type_name()} block named {name!r}: create it first "
            f"(nxt blocks create {gateway})",
            status=503,
        ) from None


def _payment_run_name() -> str:
    params = flow_run.parameters
    order = order_of(params.get("metadata")) or "no-order"
    return f"process-payment/{params.get('gateway')}/{order}"


def _refund_run_name() -> str:
    return f"refund-payment/{flow_run.parameters.get('transaction_id')}"


@flow(name="process-payment", flow_run_name=_payment_run_name, timeout_seconds=600)
async def process_payment(
    gateway: str,
    amount: Decimal | str | int | float,
    currency: str,
    customer_id: str | None = None,
    payment_method_id: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    hub: str | None = None,
    block: str = "default",
) -> dict[str, Any]:
    """Take a payment at a gateway, the old service's `POST /api/integrations/payments/process`.

    Args:
        gateway: `stripe` or `square`.
        amount: In major units of `currency` (`99.99`), at most as many decimals as the currency has.
        currency: ISO 4217 code.
        customer_id: The gateway's customer (Stripe `cus_…`, Square customer id).
        payment_method_id: Stripe `pm_…`; Square `source_id` (a card nonce or card on file).
        description: Shown at the gateway.
        metadata: Kept at the gateway; `orderId` names the WooCommerce order (and keys the payment).
        idempotency_key: The caller's key; default: derived from the order (else the whole request).
        hub: Hub Database block name; default NXT_DATABASE_URL, then the embedded SQLite hub.
        block: Name of the gateway's block.

    Returns:
        `gateway, transactionId, gatewayTransactionId, status, amount, currency, clientSecret`.

    Raises:
        PaymentError: bad input, a declined card, a refusal by the gateway (nothing written).
    """
    gateway, amount_minor, code = check_payment(gateway, amount, currency)
    if not payment_method_id or not str(payment_method_id).strip():
        raise PaymentError(
            "MISSING_PAYMENT_METHOD", "paymentMethodId is required (Stripe pm_…, Square source)"
        )
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    order = order_of(meta)
    if order and "order_id" not in meta:
        meta["order_id"] = order  # what the WooCommerce plugins set, and what reconciliation reads
    key = payment_key(gateway, amount_minor, code, customer_id, payment_method_id, meta, idempotency_key)
    await label_run(["payments", "process-payment", f"gateway:{gateway}"])
    capture_client_logs()
    gateway_block = await _gateway_block(gateway, block)
    engine = await open_hub(hub)
    request = {
        "amount_minor": amount_minor,
        "currency": code,
        "payment_method_id": str(payment_method_id).strip(),
        "customer_id": customer_id,
        "description": description,
        "metadata": meta,
        "order_id": order,
    }
    try:
        result = await gateway_payment(gateway, gateway_block, request, key)
    except PaymentError as exc:
        _announce("nxt.payments.payment", gateway, False, {"error": exc.code, "idempotency_key": key})
        raise
    answer = {
        "gateway": gateway,
        **result["answer"],
        "amount": float(major(amount_minor, code)),
        "currency": code,
    }
    data = answer | {
        "orderId": order,
        "customerId": customer_id,
        "idempotencyKey": key,
        "description": description,
    }
    with engine.begin() as conn:
        record_payment(conn, result["row"], data)
    _announce("nxt.payments.payment", gateway, True, data)
    return answer


@flow(name="refund-payment", flow_run_name=_refund_run_name, timeout_seconds=600)
async def refund_payment(
    transaction_id: str,
    amount: Decimal | str | int | float | None = None,
    reason: str | None = None,
    metadata: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    hub: str | None = None,
    block: str = "default",
    store: str | None = "default",
) -> dict[str, Any]:
    """Refund a payment, the old service's `POST /api/integrations/payments/refund`.

    Args:
        transaction_id: The charge (Stripe `ch_…` or `pi_…`, PayPal capture, Square payment) as the ledger
            knows it (ingested, or taken by `process_payment`).
        amount: In major units; None refunds what remains.
        reason: The refund's reason (Stripe's `duplicate`, `fraudulent`, `requested_by_customer` go in its
            `reason`; anything else in its metadata).
        metadata: Kept at the gateway; `refundRequestId` keys the refund.
        idempotency_key: The caller's key; default: derived from the order and the amount.
        hub: Hub Database block name.
        block: Name of the gateway's block.
        store: The WooCommerce Store block whose order the refund is also recorded on (None: not).

    Returns:
        `gateway, refundId, transactionId, status, amount, currency, orderId, wooCommerceRefundId`.

    Raises:
        PaymentError: unknown transaction, more than remains, a refusal by the gateway (nothing written).
    """
    engine = await open_hub(hub)

    def find() -> Any:
        with engine.connect() as conn:
            return find_charge(conn, transaction_id)

    charge = await asyncio.to_thread(find)
    if charge is None:
        raise PaymentError(
            "TRANSACTION_NOT_FOUND",
            f"no payment {transaction_id!r} in the ledger (run `nxt payments ingest` if it is new)",
            status=404,
        )
    amount_minor = check_refund(charge, amount)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    key = refund_key(charge, amount_minor, meta, idempotency_key)
    await label_run(["payments", "refund-payment", f"gateway:{charge.gateway}"])
    capture_client_logs()
    gateway_block = await _gateway_block(charge.gateway, block)
    charge_json = {"gateway": charge.gateway, "gateway_id": charge.gateway_id, "currency": charge.currency}
    try:
        row = await gateway_refund(gateway_block, charge_json, amount_minor, key, reason, meta)
    except PaymentError as exc:
        _announce("nxt.payments.refund", charge.gateway, False, {"error": exc.code, "idempotency_key": key})
        raise
    if charge.order_id is not None and row.get("order_id") is None:
        row = {**row, "order_id": charge.order_id, "order_ref": str(charge.order_id)}
    answer: dict[str, Any] = {
        "gateway": charge.gateway,
        "refundId": row["gateway_id"],
        "transactionId": charge.gateway_id,
        "status": row["status"],
        "amount": float(major(amount_minor, charge.currency)),
        "currency": charge.currency,
        "orderId": charge.order_id,
        "wooCommerceRefundId": None,
    }
    with engine.begin() as conn:
        record_refund(conn, row, answer | {"reason": reason, "idempotencyKey": key})
    if (
        store
        and charge.order_id is not None
        and await asyncio.to_thread(_order_exists, engine, store, charge.order_id)
    ):
        store_block = await aload_block(WooCommerceStore, store)
        recorded = await woocommerce_order_refund(
            store_block,
            charge.order_id,
            str(major(amount_minor, charge.currency)),
            reason,
            key,
            row["gateway_id"],
        )
        answer["wooCommerceRefundId"] = recorded["id"]
    _announce("nxt.payments.refund", charge.gateway, True, answer)
    return answer


def _order_exists(engine: Engine, store: str, order_id: int) -> bool:
    import sqlalchemy as sa

    t = Order.__table__
    with engine.connect() as conn:
        return (
            conn.execute(sa.select(t.c.id).where(t.c.store == store, t.c.remote_id == order_id)).first()
            is not None
        )


def _announce(event: str, gateway: str, ok: bool, payload: dict[str, Any]) -> None:
    if flow_run.id is None:
        return
    emit_finished(event, kind="payments.gateway", name=gateway, ok=ok, payload=payload)
