"""Orders v2: create, get, approve (as the buyer would), capture and authorize.

Create validates the body the way PayPal does (400 `INVALID_REQUEST` for the schema, 422
`UNPROCESSABLE_ENTITY` for the business rules, each with the issue name in `details[]`). An order with a
`payment_source.card` is approved at creation (advanced card payments; it needs a `PayPal-Request-Id`); a
`payment_source.paypal` order is `PAYER_ACTION_REQUIRED` with a `payer-action` link; any other is
`CREATED` with an `approve` link, and waits for the buyer (`approve()`: the admin endpoint, or following the
link). Capturing writes one ledger charge per purchase unit, so ledger ingestion sees it.

A `PayPal-Request-Id` seen before (with a successful answer) returns the order as it is now, with 200, as
PayPal documents for idempotent requests; a request that failed is not remembered.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from sandbox.cards import card_brand, luhn_valid

from .encoding import AmountIssue, format_minor, parse_amount
from .errors import PayPalError, detail, invalid_request, not_found, unprocessable
from .rendering import card_source, historic_order, render_authorization, render_capture, render_order
from .rest import Req, json_response
from .settings import CURRENCY_DECIMALS, MAX_PURCHASE_UNITS, UNSUPPORTED_ISO_CURRENCIES
from .state import Authorization, Order, PayPalState, PurchaseUnit
from .webhooks import emit

__all__ = [
    "approve",
    "authorize_order",
    "capture_order",
    "create_order",
    "find_order",
    "get_order",
    "money_text",
]

_BREAKDOWN_PLUS = ("item_total", "tax_total", "shipping", "handling", "insurance")
_BREAKDOWN_MINUS = ("shipping_discount", "discount")
_AUTHORIZATION_DAYS = 29
_DECLINE_NAMES = ("CCREJECT",)  # PayPal's negative-testing card holder names decline the capture


def _missing(field: str) -> PayPalError:
    return invalid_request(
        [
            detail(
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
                field=field,
                location="body",
            )
        ]
    )


def _bad(issue: str, field: str, value: Any, description: str) -> PayPalError:
    return invalid_request([detail(issue, description, field=field, value=value, location="body")])


def _amount(st: PayPalState, raw: Any, field: str) -> tuple[int, str]:
    if not isinstance(raw, dict):
        raise _missing(field)
    cur = raw.get("currency_code")
    if cur is None:
        raise _missing(f"{field}/currency_code")
    if not isinstance(cur, str) or len(cur) != 3:
        raise _bad(
            "INVALID_STRING_LENGTH",
            f"{field}/currency_code",
            cur,
            "The value of a field is either too short or too long.",
        )
    if cur in UNSUPPORTED_ISO_CURRENCIES:
        raise unprocessable(
            "CURRENCY_NOT_SUPPORTED",
            "Currency code is not currently supported. Please refer "
            "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported "
            "currency codes.",
            field=f"{field}/currency_code",
            value=cur,
            location="body",
        )
    if cur not in CURRENCY_DECIMALS:
        raise unprocessable(
            "INVALID_CURRENCY_CODE",
            "Currency code is invalid or is not currently supported. Please refer "
            "https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported "
            "currency codes.",
            field=f"{field}/currency_code",
            value=cur,
            location="body",
        )
    if "value" not in raw:
        raise _missing(f"{field}/value")
    try:
        return parse_amount(raw["value"], cur), cur
    except AmountIssue as exc:
        if exc.status == 400:
            raise _bad(exc.issue, f"{field}/value", raw["value"], exc.description) from None
        raise unprocessable(
            exc.issue, exc.description, field=f"{field}/value", value=raw["value"], location="body"
        ) from None


def _breakdown(pu_field: str, raw: dict[str, Any], total: int, cur: str, items: list[dict[str, Any]]) -> None:
    breakdown = raw.get("breakdown")
    if breakdown is None:
        if items:
            raise unprocessable(
                "ITEM_TOTAL_REQUIRED",
                "If item details are specified (items.unit_amount and items.quantity) corresponding "
                "amount.breakdown.item_total is required.",
                field=f"{pu_field}/amount/breakdown/item_total",
                location="body",
            )
        return
    if not isinstance(breakdown, dict):
        raise _bad(
            "INVALID_PARAMETER_SYNTAX",
            f"{pu_field}/amount/breakdown",
            breakdown,
            "The value of a field does not conform to the expected format.",
        )
    parts: dict[str, int] = {}
    for key in _BREAKDOWN_PLUS + _BREAKDOWN_MINUS:
        if key in breakdown:
            value, part_cur = _amount_part(breakdown[key], f"{pu_field}/amount/breakdown/{key}", cur)
            parts[key] = value
    expected = sum(parts.get(k, 0) for k in _BREAKDOWN_PLUS) - sum(parts.get(k, 0) for k in _BREAKDOWN_MINUS)
    if expected != total:
        raise unprocessable(
            "AMOUNT_MISMATCH",
            "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount - "
            "discount.",
            field=f"{pu_field}/amount/value",
            value=format_minor(total, cur),
            location="body",
        )
    if items:
        if "item_total" not in parts:
            raise unprocessable(
                "ITEM_TOTAL_REQUIRED",
                "If item details are specified (items.unit_amount and items.quantity) corresponding "
                "amount.breakdown.item_total is required.",
                field=f"{pu_field}/amount/breakdown/item_total",
                location="body",
            )
        item_sum = 0
        for i, item in enumerate(items):
            unit, _ = _amount_part(
                item.get("unit_amount"), f"{pu_field}/items/@name=='{item.get('name', i)}'/unit_amount", cur
            )
            qty = str(item.get("quantity", ""))
            if not qty.isdigit():
                raise _bad(
                    "INVALID_PARAMETER_SYNTAX",
                    f"{pu_field}/items/{i}/quantity",
                    qty,
                    "The value of a field does not conform to the expected format.",
                )
            item_sum += unit * int(qty)
        if item_sum != parts["item_total"]:
            raise unprocessable(
                "ITEM_TOTAL_MISMATCH",
                "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.",
                field=f"{pu_field}/amount/breakdown/item_total/value",
                value=format_minor(parts["item_total"], cur),
                location="body",
            )


def _amount_part(raw: Any, field: str, cur: str) -> tuple[int, str]:
    if not isinstance(raw, dict) or "value" not in raw:
        raise _missing(field)
    if raw.get("currency_code") != cur:
        raise unprocessable(
            "CURRENCY_MISMATCH",
            "Currency code should be the same for all amounts in a purchase unit.",
            field=f"{field}/currency_code",
            value=raw.get("currency_code"),
            location="body",
        )
    try:
        return parse_amount(raw["value"], cur, allow_zero=True), cur
    except AmountIssue as exc:
        if exc.status == 400:
            raise _bad(exc.issue, f"{field}/value", raw["value"], exc.description) from None
        raise unprocessable(
            exc.issue, exc.description, field=f"{field}/value", value=raw["value"], location="body"
        ) from None


def _string(raw: dict[str, Any], key: str, field: str, limit: int) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(
            "INVALID_PARAMETER_SYNTAX",
            field,
            value,
            "The value of a field does not conform to the expected format.",
        )
    if not 1 <= len(value) <= limit:
        raise _bad(
            "INVALID_STRING_LENGTH", field, value, "The value of a field is either too short or too long."
        )
    return value


def _purchase_units(st: PayPalState, body: dict[str, Any], intent: str) -> list[PurchaseUnit]:
    raw_units = body.get("purchase_units")
    if raw_units is None:
        raise _missing("/purchase_units")
    if not isinstance(raw_units, list) or not raw_units:
        raise _bad(
            "INVALID_ARRAY_MIN_ITEMS",
            "/purchase_units",
            "",
            "The number of items in an array parameter is too small.",
        )
    if len(raw_units) > MAX_PURCHASE_UNITS:
        raise _bad(
            "INVALID_ARRAY_MAX_ITEMS",
            "/purchase_units",
            str(len(raw_units)),
            "The number of items in an array parameter is too large.",
        )
    if intent == "AUTHORIZE" and len(raw_units) > 1:
        raise unprocessable(
            "UNSUPPORTED_INTENT",
            "`intent=AUTHORIZE` is not supported for multiple purchase units. Only `intent=CAPTURE` is "
            "supported.",
            field="/intent",
            value=intent,
            location="body",
        )
    units: list[PurchaseUnit] = []
    for i, raw in enumerate(raw_units):
        if not isinstance(raw, dict):
            raise _bad(
                "INVALID_PARAMETER_SYNTAX",
                f"/purchase_units/{i}",
                "",
                "The value of a field does not conform to the expected format.",
            )
        ref = raw.get("reference_id")
        if ref is None and len(raw_units) > 1:
            raise unprocessable(
                "REFERENCE_ID_REQUIRED",
                "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are "
                "provided.",
                field=f"/purchase_units/{i}/reference_id",
                location="body",
            )
        ref = _string(raw, "reference_id", f"/purchase_units/{i}/reference_id", 256) or "default"
        field = f"/purchase_units/@reference_id=='{ref}'"
        if "amount" not in raw:
            raise _missing(f"{field}/amount")
        total, cur = _amount(st, raw["amount"], f"{field}/amount")
        items = raw.get("items") or []
        if not isinstance(items, list):
            raise _bad(
                "INVALID_PARAMETER_SYNTAX",
                f"{field}/items",
                "",
                "The value of a field does not conform to the expected format.",
            )
        _breakdown(field, raw["amount"], total, cur, items)
        units.append(
            PurchaseUnit(
                reference_id=ref,
                amount_minor=total,
                currency=cur,
                invoice_id=_string(raw, "invoice_id", f"{field}/invoice_id", 127),
                custom_id=_string(raw, "custom_id", f"{field}/custom_id", 127),
                description=_string(raw, "description", f"{field}/description", 127),
                soft_descriptor=_string(raw, "soft_descriptor", f"{field}/soft_descriptor", 22),
                items=[dict(x) for x in items],
                breakdown=dict(raw["amount"]["breakdown"])
                if isinstance(raw["amount"].get("breakdown"), dict)
                else None,
            )
        )
    refs = [u.reference_id for u in units]
    if len(set(refs)) != len(refs):
        raise unprocessable(
            "DUPLICATE_REFERENCE_ID",
            "`reference_id` must be unique if multiple `purchase_unit` are provided.",
            field="/purchase_units",
            location="body",
        )
    if len({u.currency for u in units}) > 1:
        raise unprocessable(
            "MULTI_CURRENCY_ORDER",
            "Multiple differing values of currency_code are not supported. Entire Order request must have "
            "the same currency_code.",
            field="/purchase_units",
            location="body",
        )
    return units


def _card(st: PayPalState, raw: Any, now: float) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _missing("/payment_source/card")
    number = raw.get("number")
    if number is None:
        raise unprocessable(
            "CARD_NUMBER_REQUIRED",
            "The card number is required when attempting to process payment with card.",
            field="/payment_source/card/number",
            location="body",
        )
    if not isinstance(number, str) or not re.fullmatch(r"\d{13,19}", number):
        raise _bad(
            "INVALID_PARAMETER_SYNTAX",
            "/payment_source/card/number",
            "",
            "The value of a field does not conform to the expected format.",
        )
    if not luhn_valid(number):
        raise _bad(
            "INVALID_PARAMETER_VALUE", "/payment_source/card/number", "", "A parameter value is not valid."
        )
    expiry = raw.get("expiry")
    if expiry is None:
        raise unprocessable(
            "CARD_EXPIRY_REQUIRED",
            "The card expiry is required when attempting to process payment with card.",
            field="/payment_source/card/expiry",
            location="body",
        )
    m = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", str(expiry))
    if not m:
        raise _bad(
            "INVALID_PARAMETER_SYNTAX",
            "/payment_source/card/expiry",
            expiry,
            "The value of a field does not conform to the expected format.",
        )
    from datetime import UTC, datetime

    today = datetime.fromtimestamp(now, UTC)
    if (int(m.group(1)), int(m.group(2))) < (today.year, today.month):
        raise unprocessable(
            "CARD_EXPIRED",
            "The card is expired",
            field="/payment_source/card/expiry",
            value=expiry,
            location="body",
        )
    name = str(raw.get("name") or "")
    return card_source(card_brand(number), number[-4:], name=name, expiry=str(expiry))


def find_order(st: PayPalState, order_id: str) -> Order:
    o = st.orders.get(order_id) or historic_order(st, order_id)
    if o is None:
        raise not_found("order_id", order_id)
    return o


def create_order(st: PayPalState, req: Req) -> Response:
    body = req.json(required=True)
    if not isinstance(body, dict):
        raise invalid_request(
            [
                detail(
                    "MALFORMED_REQUEST_JSON",
                    "The request JSON is not well formed.",
                    field="/",
                    location="body",
                )
            ]
        )
    replay = st.remembered("orders.create", req.request_id)
    if replay is not None and replay in st.orders:
        st.log("order", replay, req.request_id, replayed=True)
        return json_response(render_order(st, st.orders[replay], minimal=req.minimal))
    intent = body.get("intent")
    if intent is None:
        raise _missing("/intent")
    if intent not in ("CAPTURE", "AUTHORIZE"):
        raise _bad("INVALID_PARAMETER_VALUE", "/intent", intent, "A parameter value is not valid.")
    units = _purchase_units(st, body, intent)
    now = st.now()
    source = body.get("payment_source")
    kind, card = "", {}
    if source is not None:
        if not isinstance(source, dict) or len(source) != 1:
            raise _bad("INVALID_PARAMETER_VALUE", "/payment_source", "", "A parameter value is not valid.")
        kind = next(iter(source))
        if kind == "card":
            if not req.request_id:
                raise invalid_request(
                    [
                        detail(
                            "PAYPAL_REQUEST_ID_REQUIRED",
                            "A PayPal-Request-Id is required if you are trying to process payment for an "
                            "Order. "
                            "Please specify a PayPal-Request-Id or Create the Order without a "
                            "'payment_source' specified.",
                        )
                    ]
                )
            card = _card(st, source["card"], now)
        elif kind != "paypal":
            raise _bad(
                "INVALID_PARAMETER_VALUE", f"/payment_source/{kind}", "", "A parameter value is not valid."
            )
    status = {"card": "APPROVED", "paypal": "PAYER_ACTION_REQUIRED"}.get(kind, "CREATED")
    order = Order(
        id=st.new_id("order"),
        intent=intent,
        status=status,
        purchase_units=units,
        created=now,
        updated=now,
        source=kind,
        card=card,
    )
    st.orders[order.id] = order
    st.remember("orders.create", req.request_id, order.id)
    st.log(
        "order",
        order.id,
        req.request_id,
        replayed=False,
        intent=intent,
        amounts=[{"value": format_minor(u.amount_minor, u.currency), "currency": u.currency} for u in units],
        invoice_ids=[u.invoice_id for u in units],
        custom_ids=[u.custom_id for u in units],
    )
    # PayPal's sandbox answers 200 (not 201) when payer action is required; 201 otherwise.
    return json_response(render_order(st, order, minimal=req.minimal), 200 if kind == "paypal" else 201)


def get_order(st: PayPalState, req: Req) -> Response:
    return json_response(render_order(st, find_order(st, req.params["id"])))


def approve(st: PayPalState, order_id: str, *, email: str | None = None) -> Order:
    """The buyer approves the order at PayPal (what the `approve` link's page does)."""
    o = st.orders.get(order_id)
    if o is None:
        raise not_found("order_id", order_id)
    if o.status not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
        raise unprocessable(
            "ORDER_NOT_APPROVED" if o.status == "VOIDED" else "ORDER_ALREADY_CAPTURED",
            f"The order is {o.status}.",
        )
    if o.status != "APPROVED":
        o.status, o.updated = "APPROVED", st.now()
        o.payer = _payer_for(st, o, email)
        emit(
            st,
            "CHECKOUT.ORDER.APPROVED",
            "checkout-order",
            render_order(st, o),
            "An order has been approved by buyer",
        )
    return o


def _payer_for(st: PayPalState, o: Order, email: str | None) -> dict[str, Any]:
    """The buyer: the shop customer the order names (by invoice or custom id) when the world has them."""
    from sandbox.ledger import order_id_from_metadata

    first, last, mail = "PayPal", "Buyer", email or ""
    wc_id = order_id_from_metadata("paypal", o.purchase_units[0].metadata())
    wc = st.world.orders.get(wc_id) if wc_id is not None else None
    if wc is not None:
        first, last, mail = wc.billing_first, wc.billing_last, email or wc.billing_email
    mail = mail or f"buyer-{o.id.lower()}@personal.example.com"
    return {
        "name": {"given_name": first, "surname": last},
        "email_address": mail,
        "payer_id": st.payer_id_for(mail),
        "address": {"country_code": "US"},
    }


def _blocked_duplicate_invoice(st: PayPalState, pu: PurchaseUnit) -> bool:
    """PayPal accounts block a second payment for an invoice id by default ("block accidental payments")."""
    if not pu.invoice_id or not st.block_duplicate_invoice:
        return False
    from sandbox.ledger import order_id_from_metadata

    wc_id = order_id_from_metadata("paypal", {"invoice_id": pu.invoice_id})
    pool = st.ledger.charges_for_order("paypal", wc_id) if wc_id is not None else st.ledger.charges("paypal")
    return any(c.status == "succeeded" and c.metadata.get("invoice_id") == pu.invoice_id for c in pool)


def _common_capture_checks(o: Order, action: str) -> None:
    if (o.intent == "CAPTURE") != (action == "capture"):
        raise unprocessable(
            "ACTION_DOES_NOT_MATCH_INTENT",
            f"Order was created with an intent to '{o.intent}'. Please use the '{o.intent.lower()}' endpoint "
            "or create an order with the appropriate intent.",
        )
    if o.status in ("CREATED", "PAYER_ACTION_REQUIRED"):
        raise unprocessable(
            "ORDER_NOT_APPROVED",
            "Payer has not yet approved the Order for payment. Please redirect the payer to the "
            "'rel':'approve' "
            "url returned as part of the HATEOAS links within the Create Order call or provide a valid "
            "payment_source in the request.",
        )
    if o.status == "COMPLETED":
        if action == "capture":
            raise unprocessable(
                "ORDER_ALREADY_CAPTURED",
                "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
            )
        raise unprocessable(
            "ORDER_ALREADY_AUTHORIZED",
            "Order already authorized.If 'intent=AUTHORIZE' only one authorization per order is allowed.",
        )
    if o.status == "VOIDED":
        raise unprocessable("ORDER_NOT_APPROVED", "The order has been voided.")


def capture_order(st: PayPalState, req: Req) -> Response:
    order_id = req.params["id"]
    replay = st.remembered(f"orders.capture:{order_id}", req.request_id)
    if replay is not None:
        st.log("capture", replay, req.request_id, replayed=True, order=order_id)
        return json_response(
            render_order(st, find_order(st, order_id), minimal=req.minimal, after_action=True)
        )
    req.json()  # a body, if any, must be JSON (PayPal takes an empty one or `{}`)
    o = find_order(st, order_id)
    _common_capture_checks(o, "capture")
    for pu in o.purchase_units:
        if _blocked_duplicate_invoice(st, pu):
            raise unprocessable(
                "DUPLICATE_INVOICE_ID",
                "Duplicate Invoice ID detected. To avoid a potential duplicate transaction your account "
                "setting "
                "requires that Invoice Id be unique for each transaction.",
            )
    now = st.now()
    declined = o.source == "card" and str(o.card.get("name", "")).upper().startswith(_DECLINE_NAMES)
    for pu in o.purchase_units:
        c = st.ledger.add_charge(
            "paypal",
            amount_minor=pu.amount_minor,
            currency=pu.currency,
            created=int(now),
            status="failed" if declined else "succeeded",
            charge_id=st.new_id("charge"),
            paypal_order_id=o.id,
            metadata=pu.metadata(),
            description=pu.description,
            customer_email=o.payer.get("email_address", "") if o.payer else "",
            customer_name=" ".join(o.payer.get("name", {}).values())
            if o.payer
            else str(o.card.get("name", "")),
            card_brand=_ledger_brand(o.card.get("brand", "")) if o.source == "card" else "",
            card_last4=str(o.card.get("last_digits", "")) if o.source == "card" else "",
            failure_code="card_declined" if declined else "",
            decline_code="do_not_honor" if declined else "",
        )
        pu.capture_ids.append(c.id)
        st.log(
            "capture",
            c.id,
            req.request_id,
            replayed=False,
            order=o.id,
            status=c.status,
            amount=format_minor(c.amount_minor, c.currency),
            currency=c.currency,
            invoice_id=pu.invoice_id,
            custom_id=pu.custom_id,
        )
        capture = render_capture(st, c, standalone=True)
        if declined:
            emit(
                st,
                "PAYMENT.CAPTURE.DENIED",
                "capture",
                capture,
                f"Payment denied for {_money_text(c.amount_minor, c.currency)}",
            )
        else:
            emit(
                st,
                "PAYMENT.CAPTURE.COMPLETED",
                "capture",
                capture,
                f"Payment completed for {_money_text(c.amount_minor, c.currency)}",
            )
    # A declined card capture still completes the order: the capture carries the DECLINED status.
    o.status, o.updated = "COMPLETED", now
    st.remember(f"orders.capture:{order_id}", req.request_id, o.id)
    return json_response(render_order(st, o, minimal=req.minimal, after_action=True), 201)


def authorize_order(st: PayPalState, req: Req) -> Response:
    order_id = req.params["id"]
    replay = st.remembered(f"orders.authorize:{order_id}", req.request_id)
    if replay is not None:
        st.log("authorization", replay, req.request_id, replayed=True, order=order_id)
        return json_response(
            render_order(st, find_order(st, order_id), minimal=req.minimal, after_action=True)
        )
    req.json()
    o = find_order(st, order_id)
    _common_capture_checks(o, "authorize")
    now = st.now()
    pu = o.purchase_units[0]
    a = Authorization(
        id=st.new_id("authorization"),
        order_id=o.id,
        reference_id=pu.reference_id,
        amount_minor=pu.amount_minor,
        currency=pu.currency,
        created=now,
        updated=now,
        expires=now + _AUTHORIZATION_DAYS * 86_400,
    )
    st.authorizations[a.id] = a
    pu.authorization_ids.append(a.id)
    o.status, o.updated = "COMPLETED", now
    st.remember(f"orders.authorize:{order_id}", req.request_id, a.id)
    st.log(
        "authorization",
        a.id,
        req.request_id,
        replayed=False,
        order=o.id,
        amount=format_minor(a.amount_minor, a.currency),
        currency=a.currency,
    )
    emit(
        st,
        "PAYMENT.AUTHORIZATION.CREATED",
        "authorization",
        render_authorization(st, a, standalone=True),
        f"A payment authorization was created for {_money_text(a.amount_minor, a.currency)}",
    )
    return json_response(render_order(st, o, minimal=req.minimal, after_action=True), 201)


def money_text(minor: int, currency: str) -> str:
    """How PayPal's event summaries print an amount: `$ 12.34 USD`."""
    return _money_text(minor, currency)


def _ledger_brand(brand: str) -> str:
    return {"VISA": "visa", "MASTERCARD": "mastercard", "AMEX": "amex", "DISCOVER": "discover"}.get(
        brand, brand.lower()
    )


def _money_text(minor: int, currency: str) -> str:
    value = Decimal(format_minor(minor, currency))
    symbol = "$ " if currency == "USD" else ""
    return f"{symbol}{value} {currency}"
