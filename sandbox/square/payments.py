"""The Payments API: CreatePayment (with Square's sandbox test values), GetPayment, ListPayments,
CompletePayment, CancelPayment and CancelPaymentByIdempotencyKey, all over the world's ledger.

A payment created here is a ledger charge at `square` (so ledger ingestion and reconciliation see it):
`autocomplete` true (the default) captures it (COMPLETED), false leaves it authorised (APPROVED) until
CompletePayment or CancelPayment; a declining test value records a FAILED charge and answers 400 with
`PAYMENT_METHOD_ERROR` and that payment. The `reference_id` is where the WooCommerce plugin puts the order
number, so the ledger reads the order from it.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import Response

from sandbox.ledger import Charge, NotFound

from . import webhooks
from .errors import SquareError, not_found
from .idempotency import run_idempotent
from .locations import check_location
from .pagination import decode_cursor, encode_cursor, keyset_page, query_fingerprint, time_window
from .rendering import payment, payment_status
from .rest import Req, json_response, money_field, string_field
from .settings import (
    CARD_BRANDS,
    CURRENCIES,
    IDEMPOTENCY_KEY_MAX,
    NOTE_MAX,
    REFERENCE_ID_MAX,
    TEST_SOURCES,
    YEAR,
)
from .state import Received, SquareState

__all__ = [
    "announce",
    "cancel_by_idempotency_key",
    "cancel_payment",
    "complete_payment",
    "create_payment",
    "find_payment",
    "get_payment",
    "list_payments",
]

_NONCE_NOT_FOUND = (
    "Card nonce not found in this `sandbox` application environment. Please ensure an application ID "
    "belonging to the same environment is used for the SqPaymentForm."
)
_SORT_FIELDS = ("CREATED_AT", "OFFLINE_CREATED_AT", "UPDATED_AT")


def find_payment(st: SquareState, payment_id: str) -> Charge:
    try:
        return st.ledger.charge("square", payment_id)
    except NotFound:
        raise not_found("payment", payment_id) from None


def announce(st: SquareState, c: Charge, event_type: str = "payment.updated") -> None:
    webhooks.emit(st, event_type, "payment", payment(st, c))


def _respond(req: Req, status: int, raw: bytes) -> Response:
    return Response(raw, status, headers={"Square-Version": req.version}, media_type="application/json")


# --- CreatePayment ------------------------------------------------------------------------------------
def create_payment(st: SquareState, req: Req) -> Response:
    body = req.json()
    source_id = string_field(body, "source_id", required=True)
    key = string_field(body, "idempotency_key", required=True, max_len=IDEMPOTENCY_KEY_MAX)
    assert source_id is not None and key is not None
    amount, currency = money_field(body, "amount_money", CURRENCIES)
    if body.get("tip_money") is not None:
        raise SquareError(
            400, "BAD_REQUEST", "The sandbox does not take tips: send the total as amount_money."
        )
    if body.get("app_fee_money") is not None:
        money_field(body, "app_fee_money", CURRENCIES)  # validated; app fees are not modelled
    autocomplete = body.get("autocomplete", True)
    if not isinstance(autocomplete, bool):
        raise SquareError(400, "EXPECTED_BOOLEAN", "Expected a boolean value.", field="autocomplete")
    location_id = string_field(body, "location_id") or st.main_location
    check_location(st, location_id)
    reference_id = string_field(body, "reference_id", max_len=REFERENCE_ID_MAX)
    note = string_field(body, "note", max_len=NOTE_MAX)
    email = string_field(body, "buyer_email_address", max_len=255)
    order_id = string_field(body, "order_id")
    for name in ("customer_id", "verification_token", "delay_duration", "delay_action", "team_member_id"):
        string_field(body, name)
    if currency != st.ledger.currency:
        raise SquareError(
            400,
            "INVALID_VALUE",
            f"This merchant can only process payments in {st.ledger.currency}, but amount was provided in "
            f"{currency}.",
            field="amount_money.currency",
        )
    if source_id == "cnon:card-nonce-already-used":
        raise SquareError(
            400, "CARD_TOKEN_USED", "Card nonce already used; please request new nonce.", field="source_id"
        )
    outcome = TEST_SOURCES.get(source_id)
    if outcome is None:
        if source_id.startswith("cnon:"):
            raise SquareError(404, "NOT_FOUND", _NONCE_NOT_FOUND, field="source_id")
        if source_id.startswith("ccof:"):
            raise SquareError(404, "NOT_FOUND", f"Card with id `{source_id}` not found.", field="source_id")
        raise SquareError(
            400,
            "INVALID_VALUE",
            f"The sandbox takes Square's test values as `source_id` (e.g. cnon:card-nonce-ok), "
            f"not `{source_id}`.",
            field="source_id",
        )
    square_code, failure_code, decline = outcome

    def execute() -> tuple[int, dict[str, Any], str]:
        kwargs: dict[str, Any] = {
            "amount_minor": amount,
            "currency": currency,
            "created": int(st.now()),
            "location_id": location_id,
            "square_order_id": order_id,
            "metadata": {"reference_id": reference_id} if reference_id else {},
            "description": note or "",
            "customer_email": email or "",
            "card_brand": "visa",
            "card_last4": "5858",
        }
        if square_code:
            c = st.ledger.add_charge(
                "square",
                status="failed",
                failure_code=failure_code,
                decline_code=decline,
                failure_message=f"Authorization error: '{square_code}'",
                **kwargs,
            )
        else:
            c = st.ledger.add_charge("square", status="succeeded", captured=autocomplete, **kwargs)
        received = Received("payment", c.id, key, body, c.created)
        st.received["payment"].append(received)
        st.received_by_id[c.id] = received
        rendered = payment(st, c)
        webhooks.emit(st, "payment.created", "payment", rendered)
        if square_code:
            error = {
                "code": square_code,
                "detail": f"Authorization error: '{square_code}'",
                "category": "PAYMENT_METHOD_ERROR",
            }
            return 400, {"errors": [error], "payment": rendered}, c.id
        return 200, {"payment": rendered}, c.id

    status, raw = run_idempotent(st, "CreatePayment", key, body, execute)
    return _respond(req, status, raw)


# --- reads ---------------------------------------------------------------------------------------------
def get_payment(st: SquareState, req: Req) -> Response:
    return json_response({"payment": payment(st, find_payment(st, req.params["id"]))}, req)


def list_payments(st: SquareState, req: Req) -> Response:
    fingerprint = query_fingerprint(req, "payments")
    cursor = decode_cursor(st, req, fingerprint)
    lo, hi = time_window(st, req, cursor, default_span=YEAR)
    ulo, uhi = time_window(st, req, None, begin="updated_at_begin_time", end="updated_at_end_time")
    desc = req.q_sort_order("DESC") == "DESC"
    sort_field = req.q_enum("sort_field", _SORT_FIELDS) or "CREATED_AT"
    location_id = check_location(st, req.q("location_id") or st.main_location)
    total = req.q_int("total")
    last_4 = req.q("last_4")
    brand = req.q("card_brand")
    offline = req.q_bool("is_offline_payment")
    limit = req.q_limit()
    assert lo is not None and hi is not None
    charges = st.ledger.charges("square", created_gte=math.ceil(lo), created_lt=math.ceil(hi))
    picked = [
        c
        for c in charges
        if (c.location_id or st.main_location) == location_id
        and (ulo is None or c.updated >= ulo)
        and (uhi is None or c.updated < uhi)
        and (total is None or c.amount_minor == total)
        and (last_4 is None or c.card_last4 == last_4)
        and (brand is None or CARD_BRANDS.get(c.card_brand, "OTHER_BRAND") == brand)
        and not offline  # no offline payments in the sandbox
    ]
    if sort_field == "UPDATED_AT":

        def key(c: Charge) -> tuple[Any, ...]:
            return (c.updated, c.id)
    else:

        def key(c: Charge) -> tuple[Any, ...]:
            return (c.created, c.id)

    picked.sort(key=key)
    chunk, more = keyset_page(picked, key, desc=desc, after=cursor.key if cursor else None, limit=limit)
    out: dict[str, Any] = {}
    if chunk:
        out["payments"] = [payment(st, c) for c in chunk]
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, key(chunk[-1]), (lo, hi))
    return json_response(out, req)


# --- CompletePayment, CancelPayment ---------------------------------------------------------------------
def _not_open(c: Charge) -> SquareError:
    status = payment_status(c)
    code = {
        "COMPLETED": "DELAYED_TRANSACTION_CAPTURED",
        "CANCELED": "DELAYED_TRANSACTION_CANCELED",
        "FAILED": "DELAYED_TRANSACTION_FAILED",
    }.get(status, "BAD_REQUEST")
    return SquareError(400, code, f"Payment `{c.id}` is {status}, not APPROVED.")


def _optional_body(req: Req) -> dict[str, Any]:
    return req.json() if req.body.strip() else {}


def complete_payment(st: SquareState, req: Req) -> Response:
    c = find_payment(st, req.params["id"])
    string_field(_optional_body(req), "version_token")
    if payment_status(c) != "APPROVED":
        raise _not_open(c)
    st.ledger.capture("square", c.id, at=int(st.now()))
    announce(st, c)
    return json_response({"payment": payment(st, c)}, req)


def cancel_payment(st: SquareState, req: Req) -> Response:
    c = find_payment(st, req.params["id"])
    if payment_status(c) != "APPROVED":
        raise _not_open(c)
    st.ledger.cancel("square", c.id, at=int(st.now()))
    announce(st, c)
    return json_response({"payment": payment(st, c)}, req)


def cancel_by_idempotency_key(st: SquareState, req: Req) -> Response:
    """Cancel the payment a CreatePayment with this key made (when its answer was lost); no payment, no-op."""
    key = string_field(req.json(), "idempotency_key", required=True, max_len=IDEMPOTENCY_KEY_MAX)
    assert key is not None
    record = st.idempotency.get(("CreatePayment", key))
    if record is not None and record.resource_id:
        c = st.ledger.charge("square", record.resource_id)
        if payment_status(c) == "APPROVED":
            st.ledger.cancel("square", c.id, at=int(st.now()))
            announce(st, c)
    return json_response({}, req)
