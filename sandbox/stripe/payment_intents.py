"""PaymentIntents: create (with or without `confirm`), update, confirm, capture (in part too), cancel, list.

A confirmation charges the card in the shared ledger (`Ledger.add_charge` with the intent's id and metadata,
so the order it names is reconciled like any other payment): a test card that declines leaves a `failed`
charge, puts the intent back to `requires_payment_method` with `last_payment_error`, and answers Stripe's
402 `card_error` carrying the charge id and the whole intent; a good card succeeds, or waits in
`requires_capture` with `capture_method=manual`. Events follow each change as Stripe sends them.

Intents of the seeded history have no `Intent`: they render from their charges, and the first change to
one turns it into an `Intent` with what it showed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sandbox.ledger import Charge, LedgerError

from . import events
from .errors import StripeError, amount_error, invalid_request, resource_missing, unexpected_state
from .payment_methods import RAW_CARD, known, resolve
from .rendering import charge_json, find_intent_charges, intent_json, last_error, payment_method_json
from .rest import (
    Req,
    check_params,
    get_amount,
    get_bool,
    get_currency,
    get_enum,
    get_int,
    get_metadata,
    get_str,
    page,
    parse_created,
    render_one,
)
from .store import Customer, Intent, PaymentMethod, State

__all__ = [
    "cancel_intent",
    "capture_intent",
    "confirm_intent",
    "create_intent",
    "get_intent",
    "list_intents",
    "update_intent",
]

_CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_UNCONFIRMED = ("requires_payment_method", "requires_confirmation", "requires_action")


class _Ref(NamedTuple):
    id: str
    created: int


# --- lookups ------------------------------------------------------------------------------------------------
def _view(st: State, pi_id: str, param: str = "intent") -> dict[str, Any]:
    obj = intent_json(st, pi_id)
    if obj is None:
        raise resource_missing(pi_id, param=param)
    return obj


def _materialize(st: State, pi_id: str) -> Intent:
    """The `Intent` to change: the API's own, or one made from a seeded intent's rendering."""
    pi = st.intents.get(pi_id)
    if pi is not None:
        return pi
    v = _view(st, pi_id)
    pi = Intent(
        id=pi_id,
        created=v["created"],
        amount=v["amount"],
        currency=v["currency"],
        client_secret=v["client_secret"],
        status=v["status"],
        capture_method=v["capture_method"],
        confirmation_method=v["confirmation_method"],
        payment_method=v["payment_method"],
        description=v["description"],
        metadata=dict(v["metadata"]),
        canceled_at=v["canceled_at"],
        last_payment_error=v["last_payment_error"],
    )
    st.intents[pi_id] = pi
    return pi


def _latest(st: State, pi: Intent) -> Charge | None:
    charges = find_intent_charges(st, pi.id)
    return charges[-1] if charges else None


def _customer(st: State, cus_id: str | None) -> Customer | None:
    if not cus_id:
        return None
    cu = st.customers.get(cus_id)
    if cu is None or cu.deleted:
        raise resource_missing(cus_id, param="customer")
    return cu


# --- parameters ---------------------------------------------------------------------------------------------
def _payment_method_param(st: State, req: Req) -> str | None:
    pm_id = get_str(req, "payment_method")
    if pm_id and not known(st, pm_id):
        raise resource_missing(pm_id, param="payment_method")
    if req.params.get("payment_method_data") is not None:
        data = req.params["payment_method_data"]
        if isinstance(data, dict) and isinstance(data.get("card"), dict) and "number" in data["card"]:
            raise StripeError(402, RAW_CARD)
        raise invalid_request(
            "The sandbox takes payment methods by id (payment_method=pm_card_visa, ...), not "
            "payment_method_data.",
            param="payment_method_data",
        )
    return pm_id or None


def _types(req: Req) -> list[str] | None:
    raw = req.params.get("payment_method_types")
    if raw is None:
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        raise invalid_request("Invalid array", param="payment_method_types")
    for i, v in enumerate(values):
        if v != "card":
            raise invalid_request(
                f"The payment method type provided: {v} is invalid. This payment method is available to "
                "Stripe accounts in the sandbox only as card.",
                param=f"payment_method_types[{i}]",
            )
    return list(values)


def _apm(req: Req) -> dict[str, Any] | None:
    raw = req.params.get("automatic_payment_methods")
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("enabled") not in ("true", "false"):
        raise invalid_request("Invalid boolean", param="automatic_payment_methods[enabled]")
    return {"allow_redirects": raw.get("allow_redirects", "always"), "enabled": raw["enabled"] == "true"}


def _descriptor(req: Req, name: str, limit: int) -> str | None:
    value = get_str(req, name)
    if value and len(value) > limit:
        raise invalid_request(
            f"The {name.replace('_', ' ')} must be at most {limit} characters long.", param=name
        )
    return value or None


def _common(st: State, req: Req) -> dict[str, Any]:
    """The settable fields shared by create and update (only those given)."""
    out: dict[str, Any] = {}
    for name in ("description", "receipt_email"):
        value = get_str(req, name)
        if value is not None:
            out[name] = value or None
    for name, limit in (("statement_descriptor", 22), ("statement_descriptor_suffix", 22)):
        if name in req.params:
            out[name] = _descriptor(req, name, limit)
    usage = get_enum(req, "setup_future_usage", ["off_session", "on_session"])
    if "setup_future_usage" in req.params:
        out["setup_future_usage"] = usage
    if "shipping" in req.params:
        ship = req.params["shipping"]
        if ship != "" and not isinstance(ship, dict):
            raise invalid_request("Invalid object", param="shipping")
        out["shipping"] = ship or None
    capture = get_enum(req, "capture_method", ["automatic", "automatic_async", "manual"])
    if capture is not None:
        out["capture_method"] = capture
    types = _types(req)
    if types is not None:
        out["payment_method_types"] = types
    if "customer" in req.params:
        cu = _customer(st, get_str(req, "customer"))
        out["customer"] = cu.id if cu else None
    return out


# --- the payment ------------------------------------------------------------------------------------------
def _charge(st: State, req: Req, pi: Intent, pm: PaymentMethod) -> dict[str, Any]:
    """Charge `pm` for `pi` in the ledger and move the intent on. Raises the 402 of a decline."""
    now = st.now()
    cu = st.customers.get(pi.customer or "")
    common: dict[str, Any] = {
        "amount_minor": pi.amount,
        "currency": pi.currency.upper(),
        "created": now,
        "payment_intent_id": pi.id,
        "metadata": dict(pi.metadata),
        "description": pi.description or "",
        "customer_email": pi.receipt_email or (cu.email if cu and cu.email else "") or "",
        "customer_name": (cu.name if cu and cu.name else "") or "",
        "card_brand": pm.card.brand,
        "card_last4": pm.card.last4,
    }
    extra = {
        "payment_method": pm.id,
        "customer": pi.customer,
        "receipt_email": pi.receipt_email,
        "statement_descriptor": pi.statement_descriptor,
        "statement_descriptor_suffix": pi.statement_descriptor_suffix,
    }
    if pm.card.decline is not None:
        code, decline_code, message, param, advice = pm.card.decline
        c = st.ledger.add_charge(
            "stripe",
            status="failed",
            failure_code=code,
            decline_code=decline_code,
            failure_message=message,
            **common,
        )
        st.charge_extra[c.id] = extra | {"advice_code": advice, "param": param}
        pi.status, pi.payment_method = "requires_payment_method", None
        pi.last_payment_error = last_error(st, c)
        events.emit(st, "charge.failed", charge_json(st, c), req)
        obj = intent_json(st, pi.id) or {}
        events.emit(st, "payment_intent.payment_failed", obj, req)
        raise StripeError(
            402,
            message,
            type="card_error",
            code=code,
            decline_code=decline_code,
            param=param,
            advice_code=advice,
            charge=c.id,
            payment_intent=render_one(st, req, obj) if req.expand else obj,
            payment_method=payment_method_json(st, pm.id),
        )
    manual = pi.capture_method == "manual"
    c = st.ledger.add_charge("stripe", status="succeeded", captured=not manual, **common)
    st.charge_extra[c.id] = extra
    pi.payment_method, pi.last_payment_error = pm.id, None
    pi.status = "requires_capture" if manual else "succeeded"
    events.emit(st, "charge.succeeded", charge_json(st, c), req)
    obj = intent_json(st, pi.id) or {}
    events.emit(
        st, "payment_intent.amount_capturable_updated" if manual else "payment_intent.succeeded", obj, req
    )
    return obj


def _confirm(st: State, req: Req, pi: Intent, pm_id: str | None) -> dict[str, Any]:
    if pi.status not in _CONFIRMABLE:
        if pi.status == "succeeded":
            raise unexpected_state(
                "You cannot confirm this PaymentIntent because it has already succeeded after being "
                "previously confirmed.",
                payment_intent=intent_json(st, pi.id),
            )
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi.status}. Only a "
            "PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, "
            "requires_action, requires_payment_method.",
            payment_intent=intent_json(st, pi.id),
        )
    pm_id = pm_id or pi.payment_method
    if not pm_id:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You can either "
            "update the PaymentIntent with a payment method and then confirm it again, or confirm it again "
            "directly with a payment method.",
            payment_intent=intent_json(st, pi.id),
        )
    pm = resolve(st, pm_id)
    if pm.detached:
        raise invalid_request(
            "This PaymentMethod was previously used without being attached to a Customer or was detached "
            "from a Customer, and may not be used again.",
            param="payment_method",
        )
    if pm.customer is not None and pi.customer is not None and pm.customer != pi.customer:
        raise invalid_request(
            f"The provided PaymentMethod belongs to a different Customer ({pm.customer}) than the one on "
            f"this PaymentIntent ({pi.customer}).",
            param="payment_method",
        )
    return _charge(st, req, pi, pm)


# --- handlers ---------------------------------------------------------------------------------------------
def create_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.create")
    currency = get_currency(req)
    assert currency is not None
    amount = get_amount(req, currency)
    assert amount is not None
    fields = _common(st, req)
    confirm = get_bool(req, "confirm") or False
    confirmation = get_enum(req, "confirmation_method", ["automatic", "manual"]) or "automatic"
    apm = _apm(req)
    if apm is not None and "payment_method_types" in fields:
        raise invalid_request(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            param="automatic_payment_methods",
        )
    pm_id = _payment_method_param(st, req)
    metadata = get_metadata(req) or {}
    off_session = req.params.get("off_session")
    if off_session is not None and not confirm:
        raise invalid_request(
            "You may only specify `off_session` when confirming the PaymentIntent (confirm=true).",
            param="off_session",
        )
    get_str(req, "return_url")
    get_bool(req, "error_on_requires_action")
    req.begin()
    pi = Intent(
        id=st.ledger.new_id("stripe", "payment_intent"),
        created=st.now(),
        amount=amount,
        currency=currency,
        client_secret="",
        confirmation_method=confirmation,
        metadata=metadata,
        automatic_payment_methods=apm,
        status="requires_confirmation" if pm_id else "requires_payment_method",
        payment_method=pm_id,
        **fields,
    )
    pi.client_secret = f"{pi.id}_secret_{st.new_id('', 25)}"
    if pm_id and pm_id in st.payment_methods:
        pi.payment_method = pm_id
    elif pm_id:
        pi.payment_method = resolve(st, pm_id).id
    st.intents[pi.id] = pi
    st.record(
        "payment_intent",
        id=pi.id,
        amount=amount,
        currency=currency,
        metadata=dict(metadata),
        idempotency_key=req.idempotency_key,
        request_id=req.request_id,
        created=pi.created,
    )
    obj = intent_json(st, pi.id) or {}
    events.emit(st, "payment_intent.created", obj, req)
    if confirm:
        obj = _confirm(st, req, pi, None)
    return render_one(st, req, obj)


def get_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    get_str(req, "client_secret")
    return render_one(st, req, _view(st, req.path_params["id"]))


def update_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.update")
    pi_id = req.path_params["id"]
    view = _view(st, pi_id)
    fields = _common(st, req)
    metadata = get_metadata(req, view["metadata"])
    currency = get_currency(req, required=False)
    amount = get_amount(req, currency or str(view["currency"]), required=False)
    pm_id = _payment_method_param(st, req)
    req.begin()
    pi = _materialize(st, pi_id)
    payment_fields = set(fields) - {"description", "receipt_email", "shipping"}
    if pi.status not in _UNCONFIRMED and (payment_fields or amount is not None or currency or pm_id):
        raise unexpected_state(
            f"You cannot update this PaymentIntent because it has a status of {pi.status}. Updates are only "
            "allowed when the PaymentIntent has a status of requires_payment_method, requires_confirmation, "
            "or requires_action.",
            payment_intent=intent_json(st, pi.id),
        )
    for name, value in fields.items():
        setattr(pi, name, value)
    if amount is not None:
        pi.amount = amount
    if currency:
        pi.currency = currency
    if metadata is not None:
        pi.metadata = metadata
    if pm_id:
        pi.payment_method = resolve(st, pm_id).id
        if pi.status == "requires_payment_method":
            pi.status = "requires_confirmation"
    return render_one(st, req, intent_json(st, pi.id) or {})


def confirm_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.confirm")
    pi_id = req.path_params["id"]
    _view(st, pi_id)
    pm_id = _payment_method_param(st, req)
    capture = get_enum(req, "capture_method", ["automatic", "automatic_async", "manual"])
    receipt = get_str(req, "receipt_email")
    get_str(req, "return_url")
    get_bool(req, "error_on_requires_action")
    req.begin()
    pi = _materialize(st, pi_id)
    if pi.status in _CONFIRMABLE:
        if capture is not None:
            pi.capture_method = capture
        if receipt is not None:
            pi.receipt_email = receipt or None
    return render_one(st, req, _confirm(st, req, pi, pm_id))


def capture_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.capture")
    pi_id = req.path_params["id"]
    view = _view(st, pi_id)
    to_capture = get_int(req, "amount_to_capture")
    metadata = get_metadata(req, view["metadata"])
    if to_capture is not None and to_capture < 1:
        raise amount_error(
            "parameter_invalid_integer", "This value must be greater than or equal to 1.", "amount_to_capture"
        )
    req.begin()
    pi = _materialize(st, pi_id)
    if pi.status != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of {pi.status}. Only a "
            "PaymentIntent with one of the following statuses may be captured: requires_capture.",
            payment_intent=intent_json(st, pi.id),
        )
    c = _latest(st, pi)
    assert c is not None
    if to_capture is not None and to_capture > c.amount_minor:
        raise amount_error(
            "amount_too_large",
            f"The amount to capture ({to_capture}) is greater than the amount capturable on this "
            f"PaymentIntent ({c.amount_minor}).",
            "amount_to_capture",
        )
    if metadata is not None:
        pi.metadata = metadata
    st.ledger.capture("stripe", c.id, at=st.now(), amount_minor=to_capture)
    pi.status = "succeeded"
    events.emit(st, "charge.captured", charge_json(st, c), req, {"amount_captured": 0, "captured": False})
    obj = intent_json(st, pi.id) or {}
    events.emit(st, "payment_intent.succeeded", obj, req)
    return render_one(st, req, obj)


def cancel_intent(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.cancel")
    pi_id = req.path_params["id"]
    _view(st, pi_id)
    reason = get_enum(
        req, "cancellation_reason", ["duplicate", "fraudulent", "requested_by_customer", "abandoned"]
    )
    req.begin()
    pi = _materialize(st, pi_id)
    if pi.status not in _CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi.status}. Only a "
            "PaymentIntent with one of the following statuses may be canceled: requires_payment_method, "
            "requires_capture, requires_confirmation, requires_action, processing.",
            payment_intent=intent_json(st, pi.id),
        )
    now = st.now()
    if pi.status == "requires_capture":
        c = _latest(st, pi)
        assert c is not None
        try:
            st.ledger.cancel("stripe", c.id, at=now)
        except LedgerError as exc:  # the ledger disagrees: say so rather than half-cancel
            raise StripeError(500, f"An unknown error occurred ({exc})", type="api_error") from None
        events.emit(st, "charge.refunded", charge_json(st, c), req, {"amount_refunded": 0, "refunded": False})
    pi.status, pi.canceled_at, pi.cancellation_reason = "canceled", now, reason
    obj = intent_json(st, pi.id) or {}
    events.emit(st, "payment_intent.canceled", obj, req)
    return render_one(st, req, obj)


def _refs(st: State) -> list[_Ref]:
    """Every intent, oldest first: the seeded ones (from their charges) and the API's."""
    seen: dict[str, int] = {}
    for c in st.ledger.charges("stripe"):
        if c.payment_intent_id and c.payment_intent_id not in seen:
            seen[c.payment_intent_id] = c.created
    for pi in st.intents.values():
        seen.setdefault(pi.id, pi.created)
    refs = [_Ref(i, t) for i, t in seen.items()]
    refs.sort(key=lambda r: r.created)
    return refs


def list_intents(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_intents.list")
    created = parse_created(req)
    customer = get_str(req, "customer", empty_ok=False)
    refs = [r for r in reversed(_refs(st)) if r.created in created]
    if customer:
        refs = [r for r in refs if r.id in st.intents and st.intents[r.id].customer == customer]

    def find(pi_id: str) -> _Ref | None:
        obj = intent_json(st, pi_id)
        return _Ref(pi_id, obj["created"]) if obj else None

    return page(st, req, refs, "/v1/payment_intents", lambda r: intent_json(st, r.id) or {}, find=find)
