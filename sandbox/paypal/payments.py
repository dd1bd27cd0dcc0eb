"""Payments v2: captures (get, refund), refunds (get) and authorizations (get, capture, void).

Refunds go through `Ledger.add_refund`, so the ledger refuses what PayPal refuses and the refusals come back
with PayPal's issue names: more than remains is 422 `REFUND_AMOUNT_EXCEEDED`, a fully refunded capture
`CAPTURE_FULLY_REFUNDED`, another currency `REFUND_CAPTURE_CURRENCY_MISMATCH`, an open dispute
`TRANSACTION_DISPUTED`, a declined capture `REFUND_NOT_ALLOWED`. A `PayPal-Request-Id` seen before returns
that refund as it is now (200); the stand-in keeps them 45 days, as the Payments contract says.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.ledger import Charge, InvalidState, NotFound, RefundExceedsRemaining

from .encoding import AmountIssue, format_minor, parse_amount
from .errors import PayPalError, debug_id, detail, invalid_request, not_found, unprocessable
from .orders import money_text
from .rendering import render_authorization, render_capture, render_refund
from .rest import Req, json_response
from .settings import CURRENCY_DECIMALS, PAYMENTS_DOCS
from .state import Authorization, PayPalState
from .webhooks import emit

__all__ = [
    "capture_authorization",
    "get_authorization",
    "get_capture",
    "get_refund",
    "refund_capture",
    "void_authorization",
]


def _issue(issue: str, description: str, **where: Any) -> PayPalError:
    return unprocessable(issue, description, docs=PAYMENTS_DOCS, **where)


def _capture(st: PayPalState, capture_id: str) -> Charge:
    try:
        return st.ledger.charge("paypal", capture_id)
    except NotFound:
        raise not_found("capture_id", capture_id, docs=PAYMENTS_DOCS) from None


def get_capture(st: PayPalState, req: Req) -> Response:
    return json_response(render_capture(st, _capture(st, req.params["capture_id"]), standalone=True))


def get_refund(st: PayPalState, req: Req) -> Response:
    try:
        r = st.ledger.refund("paypal", req.params["refund_id"])
    except NotFound:
        raise not_found("refund_id", req.params["refund_id"], docs=PAYMENTS_DOCS) from None
    return json_response(render_refund(st, r))


def _money(raw: Any, field: str, currency: str) -> int:
    if not isinstance(raw, dict) or "value" not in raw or "currency_code" not in raw:
        missing = "currency_code" if isinstance(raw, dict) and "value" in raw else "value"
        raise invalid_request(
            [
                detail(
                    "MISSING_REQUIRED_PARAMETER",
                    "A required field / parameter is missing.",
                    field=f"{field}/{missing}",
                    location="body",
                )
            ],
            docs=PAYMENTS_DOCS,
        )
    cur = raw["currency_code"]
    if cur not in CURRENCY_DECIMALS:
        raise _issue(
            "INVALID_CURRENCY_CODE",
            "Currency code is invalid or is not currently supported. Please refer "
            "https://developer.paypal.com/docs/api/reference/currency-codes/ for list of supported "
            "currency codes.",
            field=f"{field}/currency_code",
            value=cur,
            location="body",
        )
    try:
        minor = parse_amount(raw["value"], cur)
    except AmountIssue as exc:
        if exc.status == 400:
            raise invalid_request(
                [
                    detail(
                        exc.issue,
                        exc.description,
                        field=f"{field}/value",
                        value=raw["value"],
                        location="body",
                    )
                ],
                docs=PAYMENTS_DOCS,
            ) from None
        issue, text = exc.issue, exc.description
        if issue == "DECIMAL_PRECISION" and CURRENCY_DECIMALS[cur] == 0:
            issue = "DECIMALS_NOT_SUPPORTED"
            text = (
                "Currency does not support decimals. Please refer to "
                "https://developer.paypal.com/docs/api/reference/currency-codes/ for more information."
            )
        raise _issue(issue, text, field=f"{field}/value", value=raw["value"], location="body") from None
    if cur != currency:
        raise _issue(
            "REFUND_CAPTURE_CURRENCY_MISMATCH",
            "Refund must be in the same currency as the capture",
            field=f"{field}/currency_code",
            value=cur,
            location="body",
        )
    return minor


def _text(body: dict[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise invalid_request(
            [
                detail(
                    "INVALID_STRING_LENGTH",
                    "The value of a field is either too short or too long.",
                    field=f"/{key}",
                    location="body",
                )
            ],
            docs=PAYMENTS_DOCS,
        )
    return value


def refund_capture(st: PayPalState, req: Req) -> Response:
    capture_id = req.params["capture_id"]
    req.docs = PAYMENTS_DOCS
    replay = st.remembered(f"payments.refund:{capture_id}", req.request_id)
    if replay is not None:
        st.log("refund", replay, req.request_id, replayed=True, capture=capture_id)
        return json_response(render_refund(st, st.ledger.refund("paypal", replay), minimal=req.minimal))
    body = req.json()
    if not isinstance(body, dict):
        raise invalid_request(
            [
                detail(
                    "MALFORMED_REQUEST_JSON",
                    "The request JSON is not well formed.",
                    field="/",
                    location="body",
                )
            ],
            docs=PAYMENTS_DOCS,
        )
    c = _capture(st, capture_id)
    amount = _money(body["amount"], "/amount", c.currency) if body.get("amount") is not None else None
    note = _text(body, "note_to_payer", 255)
    _text(body, "invoice_id", 127)
    _text(body, "custom_id", 127)
    if c.status != "succeeded" or not c.captured:
        raise _issue("REFUND_NOT_ALLOWED", "Capture cannot be refunded.")
    if c.remaining_minor == 0:
        raise _issue("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded")
    try:
        r = st.ledger.add_refund("paypal", c.id, amount, created=int(st.now()), reason=note)
    except RefundExceedsRemaining:
        raise _issue(
            "REFUND_AMOUNT_EXCEEDED",
            "The refund amount must be less than or equal to the capture amount that has not yet been "
            "refunded.",
            field="/amount/value",
            value=format_minor(amount or 0, c.currency),
            location="body",
        ) from None
    except InvalidState as exc:
        if exc.code == "charge_disputed":
            raise _issue(
                "TRANSACTION_DISPUTED",
                "Partial refunds cannot be offered at this time because there is an open case on this "
                "transaction. Visit the PayPal Resolution Center to review this case.",
            ) from None
        raise _issue("REFUND_NOT_ALLOWED", "Capture cannot be refunded.") from None
    st.remember(f"payments.refund:{capture_id}", req.request_id, r.id)
    st.log(
        "refund",
        r.id,
        req.request_id,
        replayed=False,
        capture=c.id,
        amount=format_minor(r.amount_minor, r.currency),
        currency=r.currency,
        invoice_id=c.metadata.get("invoice_id", ""),
        custom_id=c.metadata.get("custom_id", ""),
    )
    emit(
        st,
        "PAYMENT.CAPTURE.REFUNDED",
        "refund",
        render_refund(st, r),
        f"A {money_text(r.amount_minor, r.currency)} capture payment was refunded",
    )
    return json_response(render_refund(st, r, minimal=req.minimal), 201)


# --- authorizations ----------------------------------------------------------------------------------
def _authorization(st: PayPalState, auth_id: str) -> Authorization:
    a = st.authorizations.get(auth_id)
    if a is None:
        raise not_found("authorization_id", auth_id, docs=PAYMENTS_DOCS)
    return a


def get_authorization(st: PayPalState, req: Req) -> Response:
    return json_response(
        render_authorization(st, _authorization(st, req.params["authorization_id"]), standalone=True)
    )


def capture_authorization(st: PayPalState, req: Req) -> Response:
    auth_id = req.params["authorization_id"]
    req.docs = PAYMENTS_DOCS
    replay = st.remembered(f"payments.capture:{auth_id}", req.request_id)
    if replay is not None:
        st.log("capture", replay, req.request_id, replayed=True, authorization=auth_id)
        return json_response(render_capture(st, st.ledger.charge("paypal", replay), standalone=True))
    body = req.json()
    if not isinstance(body, dict):
        raise invalid_request(
            [
                detail(
                    "MALFORMED_REQUEST_JSON",
                    "The request JSON is not well formed.",
                    field="/",
                    location="body",
                )
            ],
            docs=PAYMENTS_DOCS,
        )
    a = _authorization(st, auth_id)
    now = st.now()
    if a.status == "VOIDED":
        raise _issue("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured or reauthorized. ")
    if a.status == "CAPTURED":
        raise _issue("AUTHORIZATION_ALREADY_CAPTURED", "Authorization has previously been captured.")
    if a.expires <= now:
        raise _issue("AUTHORIZATION_EXPIRED", "An expired authorization cannot be captured.")
    amount = a.amount_minor
    if body.get("amount") is not None:
        raw = body["amount"]
        if isinstance(raw, dict) and raw.get("currency_code") not in (None, a.currency):
            raise _issue(
                "AUTH_CAPTURE_CURRENCY_MISMATCH",
                "Currency of capture must be the same as currency of authorization.",
            )
        amount = _money(raw, "/amount", a.currency)
    captured = sum(st.ledger.charge("paypal", c).amount_minor for c in a.capture_ids)
    if captured + amount > a.amount_minor:
        raise _issue(
            "MAX_CAPTURE_AMOUNT_EXCEEDED",
            "Capture amount exceeds allowable limit. Please contact customer service or your account "
            "manager to "
            "request the change to your overage limit.",
        )
    o = st.orders[a.order_id]
    pu = next(p for p in o.purchase_units if p.reference_id == a.reference_id)
    invoice = body.get("invoice_id") if isinstance(body.get("invoice_id"), str) else pu.invoice_id
    meta = pu.metadata() | ({"invoice_id": invoice} if invoice else {})
    c = st.ledger.add_charge(
        "paypal",
        amount_minor=amount,
        currency=a.currency,
        created=int(now),
        charge_id=st.new_id("charge"),
        paypal_order_id=o.id,
        metadata=meta,
        customer_email=o.payer.get("email_address", "") if o.payer else "",
        card_brand="",
        card_last4="",
    )
    a.capture_ids.append(c.id)
    pu.capture_ids.append(c.id)
    final = body.get("final_capture", True) is not False
    a.status = "CAPTURED" if final or captured + amount == a.amount_minor else "PARTIALLY_CAPTURED"
    a.updated = now
    st.remember(f"payments.capture:{auth_id}", req.request_id, c.id)
    st.log(
        "capture",
        c.id,
        req.request_id,
        replayed=False,
        authorization=a.id,
        amount=format_minor(amount, a.currency),
        currency=a.currency,
    )
    capture = render_capture(st, c, standalone=True)
    emit(
        st,
        "PAYMENT.CAPTURE.COMPLETED",
        "capture",
        capture,
        f"Payment completed for {money_text(amount, a.currency)}",
    )
    return json_response(capture, 201)


def void_authorization(st: PayPalState, req: Req) -> Response:
    req.docs = PAYMENTS_DOCS
    a = _authorization(st, req.params["authorization_id"])
    if a.status in ("CAPTURED", "PARTIALLY_CAPTURED"):
        raise _issue(
            "PREVIOUSLY_CAPTURED", "Authorization has been previously captured and hence cannot be voided."
        )
    if a.status == "VOIDED":
        raise _issue(
            "PREVIOUSLY_VOIDED", "Authorization has been previously voided and hence cannot be voided again."
        )
    a.status, a.updated = "VOIDED", st.now()
    rendered = render_authorization(st, a, standalone=True)
    emit(st, "PAYMENT.AUTHORIZATION.VOIDED", "authorization", rendered, "A payment authorization was voided")
    if req.minimal:
        return Response(b"", 204, headers={"PayPal-Debug-Id": debug_id()})
    return json_response(rendered)
