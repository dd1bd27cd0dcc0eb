"""Payment operation tasks: one gateway call each, always with an idempotency key.

A retried attempt (the project's retry policy retries timeouts, 429 and 5xx) sends the same key, so a
gateway that accepted the first attempt and whose answer was lost answers that same payment or refund
instead of making another (Stripe `Idempotency-Key`, Square `idempotency_key`, PayPal
`PayPal-Request-Id`). A refusal (a declined card, a refund above what remains) is raised as `Declined` or
`ApiError` with the vendor's code, never retried.
"""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from typing import Any

from blocks import PayPalGateway, SquareGateway, StripeGateway, WooCommerceStore
from clients.errors import RETRYABLE, ApiError, Declined
from hub.payments import PaymentError, major
from tasks.ledger_rows import (
    paypal_refund_row,
    square_payment_row,
    square_refund_row,
    stripe_charge_row,
    stripe_refund_row,
    vendor_errors,
)
from tasks.log import run_logger
from tasks.policy import batch_task

__all__ = ["gateway_payment", "gateway_refund", "woocommerce_order_refund"]

PAYMENT_TIMEOUT_S = 120
SQUARE_KEY_LIMIT = 45  # Square refuses longer idempotency keys
_STRIPE_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def square_key(key: str) -> str:
    """Square takes idempotency keys of at most 45 characters: a longer key becomes its digest."""
    return (
        key if len(key) <= SQUARE_KEY_LIMIT else hashlib.sha256(key.encode()).hexdigest()[:SQUARE_KEY_LIMIT]
    )


def refused(exc: ApiError) -> PaymentError:
    """A gateway's refusal as the payment flows report it (never retried)."""
    if isinstance(exc, Declined):
        return PaymentError("PAYMENT_DECLINED", str(exc.message), status=402)
    code = (exc.vendor_code or "").upper()
    if code in (
        "REFUND_AMOUNT_EXCEEDED",
        "REFUND_AMOUNT_INVALID",
        "CHARGE_ALREADY_REFUNDED",
        "CAPTURE_FULLY_REFUNDED",
    ):
        return PaymentError("REFUND_EXCEEDS_REMAINING", str(exc.message))
    if exc.status in (401, 403):
        return PaymentError("GATEWAY_AUTH_FAILED", str(exc.message), status=502)
    return PaymentError("GATEWAY_REFUSED", str(exc.message), status=400 if exc.status < 500 else 502)


def _refusal(service: str, exc: Exception, status: int | None, code: str | None, message: str) -> ApiError:
    return ApiError(f"{service}: {message}", service=service, status=status or 400, vendor_code=code)


# --- payments -----------------------------------------------------------------------------------------------
def _stripe_payment(
    block: StripeGateway, request: dict[str, Any], key: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    import stripe

    client = block.client()
    params: Any = {  # the SDK's TypedDict, built up
        "amount": request["amount_minor"],
        "currency": request["currency"].lower(),
        "payment_method": request["payment_method_id"],
        "confirm": True,
        "payment_method_types": ["card"],
        "metadata": request["metadata"],
        "expand": ["latest_charge.balance_transaction"],
    }
    if request.get("customer_id"):
        params["customer"] = request["customer_id"]
    if request.get("description"):
        params["description"] = request["description"]
    try:
        with vendor_errors("Stripe"):
            intent = client.v1.payment_intents.create(
                params=params, options={"idempotency_key": key}
            ).to_dict()
    except stripe.CardError as exc:
        err = exc.error
        raise Declined(
            f"Stripe declined the card: {exc.user_message or exc.code}",
            service="Stripe",
            status=402,
            vendor_code=getattr(err, "decline_code", None) or exc.code,
        ) from None
    except stripe.StripeError as exc:
        raise _refusal("Stripe", exc, exc.http_status, exc.code, exc.user_message or str(exc)) from None
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        raise ApiError(
            f"Stripe: payment intent {intent['id']} is {intent['status']} with no charge", status=402
        )
    row = stripe_charge_row(charge, intent)
    answer = {
        "transactionId": charge["id"],
        "gatewayTransactionId": intent["id"],
        "status": intent["status"],
        "clientSecret": intent.get("client_secret"),
    }
    return row, answer


def _square_payment(
    block: SquareGateway, request: dict[str, Any], key: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    from square.core.api_error import ApiError as SquareApiError

    client = block.client()
    kwargs: dict[str, Any] = {
        "source_id": request["payment_method_id"],
        "idempotency_key": square_key(key),
        "amount_money": {"amount": request["amount_minor"], "currency": request["currency"]},
    }
    if block.location_ids:
        kwargs["location_id"] = block.location_ids[0]
    order = request.get("order_id")
    if order:
        kwargs["reference_id"] = str(order)
    if request.get("description"):
        kwargs["note"] = request["description"][:500]
    if request.get("customer_id"):
        kwargs["customer_id"] = request["customer_id"]
    try:
        with vendor_errors("Square"):
            payment = client.payments.create(**kwargs).payment
    except SquareApiError as exc:
        errors = (exc.body or {}).get("errors") if isinstance(exc.body, dict) else None
        first = errors[0] if errors else {}
        detail = first.get("detail") or str(exc.body)[:200]
        if isinstance(exc.body, dict) and exc.body.get("payment"):
            raise Declined(
                f"Square declined the card: {detail}",
                service="Square",
                status=402,
                vendor_code=first.get("code"),
            ) from None
        raise _refusal("Square", exc, exc.status_code, first.get("code"), detail) from None
    assert payment is not None
    data = payment.model_dump(mode="json", exclude_none=True)
    row = square_payment_row(data)
    return row, {
        "transactionId": data["id"],
        "gatewayTransactionId": data.get("order_id") or data["id"],
        "status": "succeeded" if data["status"] == "COMPLETED" else data["status"].lower(),
        "clientSecret": None,
    }


@batch_task("gateway-payment", task_run_name="pay {gateway}", timeout_seconds=PAYMENT_TIMEOUT_S)
async def gateway_payment(
    gateway: str, block: StripeGateway | SquareGateway, request: dict[str, Any], key: str
) -> dict[str, Any]:
    """Take one payment at `gateway` with idempotency key `key`.

    Args:
        gateway: `stripe` or `square`.
        block: The gateway's block (it builds the SDK client).
        request: `amount_minor`, `currency`, `payment_method_id`, `customer_id`, `description`, `metadata`,
            `order_id`.
        key: The idempotency key (the same on every attempt).

    Returns:
        `{"row": the ledger row, "answer": transactionId, gatewayTransactionId, status, clientSecret}`.
    """
    read = {"stripe": _stripe_payment, "square": _square_payment}[gateway]
    row: dict[str, Any]
    answer: dict[str, Any]
    try:
        row, answer = await asyncio.to_thread(read, block, request, key)  # type: ignore[arg-type]
    except RETRYABLE:
        raise
    except ApiError as exc:
        raise refused(exc) from None
    run_logger().info("%s payment %s: %s", gateway, answer["transactionId"], answer["status"])
    return {"row": row, "answer": answer}


# --- refunds ------------------------------------------------------------------------------------------------
def _stripe_refund(
    block: StripeGateway,
    charge: dict[str, Any],
    amount_minor: int,
    key: str,
    reason: str | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    import stripe

    params: Any = {  # the SDK's TypedDict, built up
        "charge": charge["gateway_id"],
        "amount": amount_minor,
        "metadata": {**metadata, **({"reason": reason} if reason else {})},
        "expand": ["balance_transaction"],
    }
    if reason in _STRIPE_REASONS:
        params["reason"] = reason
    try:
        with vendor_errors("Stripe"):
            refund = (
                block.client().v1.refunds.create(params=params, options={"idempotency_key": key}).to_dict()
            )
    except stripe.StripeError as exc:
        raise _refusal("Stripe", exc, exc.http_status, exc.code, exc.user_message or str(exc)) from None
    return stripe_refund_row(refund)


def _square_refund(
    block: SquareGateway,
    charge: dict[str, Any],
    amount_minor: int,
    key: str,
    reason: str | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    from square.core.api_error import ApiError as SquareApiError

    kwargs: dict[str, Any] = {
        "idempotency_key": square_key(key),
        "payment_id": charge["gateway_id"],
        "amount_money": {"amount": amount_minor, "currency": charge["currency"]},
    }
    if reason:
        kwargs["reason"] = reason[:192]
    try:
        with vendor_errors("Square"):
            refund = block.client().refunds.refund_payment(**kwargs).refund
    except SquareApiError as exc:
        errors = (exc.body or {}).get("errors") if isinstance(exc.body, dict) else None
        first = errors[0] if errors else {}
        raise _refusal(
            "Square", exc, exc.status_code, first.get("code"), first.get("detail") or str(exc.body)[:200]
        ) from None
    assert refund is not None
    return square_refund_row(refund.model_dump(mode="json", exclude_none=True))


async def _paypal_refund(
    block: PayPalGateway,
    charge: dict[str, Any],
    amount_minor: int,
    key: str,
    reason: str | None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    async with block.client() as client:
        refund = await client.refund_capture(
            charge["gateway_id"],
            amount=major(amount_minor, charge["currency"]),
            currency=charge["currency"],
            note_to_payer=reason,
            request_id=key,
        )
    amount = refund.get("amount") or {
        "value": str(major(amount_minor, charge["currency"])),
        "currency_code": charge["currency"],
    }
    fee = (refund.get("seller_payable_breakdown") or {}).get("paypal_fee")
    info = {
        "transaction_id": refund["id"],
        "paypal_reference_id": charge["gateway_id"],
        "transaction_status": {"COMPLETED": "S", "PENDING": "P", "FAILED": "D", "CANCELLED": "V"}.get(
            str(refund.get("status")), "S"
        ),
        "transaction_amount": {
            "value": str(-Decimal(str(amount["value"]))),
            "currency_code": amount["currency_code"],
        },
        "fee_amount": fee,
        "transaction_initiation_date": refund.get("create_time"),
    }
    return paypal_refund_row(info)


@batch_task("gateway-refund", task_run_name="refund {charge[gateway_id]}", timeout_seconds=PAYMENT_TIMEOUT_S)
async def gateway_refund(
    block: StripeGateway | SquareGateway | PayPalGateway,
    charge: dict[str, Any],
    amount_minor: int,
    key: str,
    reason: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Refund `amount_minor` of `charge` (its `gateway`, `gateway_id`, `currency`) with idempotency `key`;
    returns the refund's ledger row."""
    gateway = charge["gateway"]
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    try:
        if gateway == "paypal":
            row = await _paypal_refund(block, charge, amount_minor, key, reason, meta)  # type: ignore[arg-type]
        else:
            call = {"stripe": _stripe_refund, "square": _square_refund}[gateway]
            row = await asyncio.to_thread(call, block, charge, amount_minor, key, reason, meta)  # type: ignore[arg-type]
    except RETRYABLE:
        raise
    except ApiError as exc:
        raise refused(exc) from None
    if row.get("created_at") is None:
        from hub.models import utcnow

        row["created_at"] = utcnow()
    run_logger().info(
        "%s refund %s of %s: %s", gateway, row["gateway_id"], charge["gateway_id"], row["status"]
    )
    return row


@batch_task("woocommerce-order-refund", task_run_name="record refund on order {order_id}")
async def woocommerce_order_refund(
    store: WooCommerceStore, order_id: int, amount: str, reason: str | None, key: str, gateway_refund_id: str
) -> dict[str, Any]:
    """Record a refund made at the gateway on the WooCommerce order (`POST /orders/{id}/refunds` with
    `api_refund=false`, so WooCommerce does not refund a second time).

    WooCommerce has no idempotency key: the refund carries `key` in its meta data and a short mark of it at
    the end of its reason (`[nxt:<12 hex>]`, for stores or plugins that drop refund meta data), and a
    refund of the order that already carries either is returned instead of making another."""
    mark = f"[nxt:{hashlib.sha256(key.encode()).hexdigest()[:12]}]"
    async with store.client() as client:
        existing = await client.get(f"orders/{order_id}/refunds", params={"per_page": 100})
        for refund in existing or []:
            meta = {m.get("key"): m.get("value") for m in refund.get("meta_data") or []}
            if meta.get("nxt_refund_key") == key or mark in str(refund.get("reason") or ""):
                return {"id": refund["id"], "created": False}
        body = {
            "amount": amount,
            "reason": f"{reason} {mark}" if reason else mark,
            "api_refund": False,
            "meta_data": [
                {"key": "nxt_refund_key", "value": key},
                {"key": "nxt_gateway_refund_id", "value": gateway_refund_id},
            ],
        }
        created = await client.post(f"orders/{order_id}/refunds", body)
    run_logger().info("recorded refund %s on order %s", created.get("id"), order_id)
    return {"id": created["id"], "created": True}
