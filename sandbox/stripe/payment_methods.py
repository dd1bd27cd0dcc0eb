"""PaymentMethods: Stripe's test ids (`pm_card_visa`, `pm_card_chargeDeclined`, ...), cards from test tokens,
attach/detach, and the lists by customer.

Using a test id (to confirm a payment or attach it) makes a new PaymentMethod with an id of its own, as
Stripe does; the card it stands for decides what a payment with it does (`settings.TEST_CARDS`). Raw card
numbers are refused as Stripe refuses them without raw-card access. A detached PaymentMethod can never be
attached again.
"""

from __future__ import annotations

import random
from typing import Any

from . import events
from .errors import StripeError, invalid_request, missing_param, resource_missing, unknown_param
from .rendering import charge_for_pm, payment_method_json
from .rest import Req, check_params, get_enum, get_metadata, get_str, page, render_one
from .settings import TEST_CARDS, TEST_TOKENS, TestCard
from .store import Customer, PaymentMethod, State

__all__ = [
    "RAW_CARD",
    "attach",
    "attach_payment_method",
    "create_payment_method",
    "customer_payment_methods",
    "detach_payment_method",
    "get_payment_method",
    "list_payment_methods",
    "new_payment_method",
    "resolve",
    "update_payment_method",
]

RAW_CARD = (
    "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test "
    "tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing "
    "raw card data APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis."
)


def new_payment_method(st: State, card: TestCard, *, billing: dict[str, Any] | None = None) -> PaymentMethod:
    r = random.Random(f"{card.brand}{card.last4}")
    pm = PaymentMethod(
        id=st.new_id("pm_1", 23),
        created=st.now(),
        card=card,
        exp_month=st.rng.randrange(1, 13),
        exp_year=st.now() // 31_557_600 + 1970 + st.rng.randrange(1, 6),
        fingerprint="".join(
            r.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=16)
        ),
        billing_details=dict(billing or {}),
    )
    st.payment_methods[pm.id] = pm
    return pm


def known(st: State, pm_id: str) -> bool:
    """Whether `pm_id` names a PaymentMethod (stored, a test id, or one of the seeded history)."""
    return pm_id in st.payment_methods or pm_id in TEST_CARDS or charge_for_pm(st, pm_id) is not None


def resolve(st: State, pm_id: str, param: str = "payment_method") -> PaymentMethod:
    """The PaymentMethod to pay with: a stored one, or a new one made from a test id."""
    pm = st.payment_methods.get(pm_id)
    if pm is not None:
        return pm
    card = TEST_CARDS.get(pm_id)
    if card is not None:
        return new_payment_method(st, card)
    raise resource_missing(pm_id, param=param)


def attach(st: State, pm: PaymentMethod, customer: Customer, req: Req | None) -> None:
    if pm.detached:
        raise invalid_request(
            "This PaymentMethod was previously used without being attached to a Customer or was detached "
            "from a Customer, and may not be used again."
        )
    if pm.customer is not None and pm.customer != customer.id:
        raise invalid_request("The payment method you provided has already been attached to a customer.")
    if pm.customer == customer.id:
        return
    pm.customer = customer.id
    events.emit(st, "payment_method.attached", payment_method_json(st, pm.id) or {}, req)


def _customer(st: State, cus_id: str, param: str = "customer") -> Customer:
    cu = st.customers.get(cus_id)
    if cu is None or cu.deleted:
        raise resource_missing(cus_id, param=param)
    return cu


def _billing(req: Req) -> dict[str, Any] | None:
    raw = req.params.get("billing_details")
    if raw is None:
        return None
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid object", param="billing_details")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in ("address", "email", "name", "phone"):
            raise unknown_param(f"billing_details[{key}]")
        out[key] = value or None
    return out


def create_payment_method(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_methods.create")
    kind = get_str(req, "type", required=True)
    if kind != "card":
        raise invalid_request(
            f"Invalid type: {kind}. The sandbox's account accepts card payment methods only.", param="type"
        )
    card = req.params.get("card")
    if not isinstance(card, dict):
        raise missing_param("card")
    if "number" in card:
        raise StripeError(402, RAW_CARD)
    token = card.get("token")
    if not isinstance(token, str) or not token:
        raise missing_param("card[token]")
    test = TEST_TOKENS.get(token)
    if test is None:
        raise invalid_request(f"No such token: '{token}'", param="card[token]", code="resource_missing")
    billing = _billing(req)
    metadata = get_metadata(req)
    cus_id = get_str(req, "customer")
    customer = _customer(st, cus_id) if cus_id else None
    req.begin()
    pm = new_payment_method(st, test, billing=billing)
    pm.metadata = metadata or {}
    if customer is not None:
        attach(st, pm, customer, req)
    st.record("payment_method", id=pm.id, idempotency_key=req.idempotency_key, created=pm.created)
    return render_one(st, req, payment_method_json(st, pm.id) or {})


def get_payment_method(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    pm_id = req.path_params["id"]
    obj = payment_method_json(st, pm_id)
    if obj is None and pm_id in TEST_CARDS:  # a test id reads as the card it stands for
        pm = PaymentMethod(pm_id, st.now(), TEST_CARDS[pm_id], 12, 2034, "test" + pm_id[-12:])
        st.payment_methods[pm_id] = pm
        obj = payment_method_json(st, pm_id)
        del st.payment_methods[pm_id]
    if obj is None:
        raise resource_missing(pm_id)
    return render_one(st, req, obj)


def _stored(st: State, req: Req) -> PaymentMethod:
    pm_id = req.path_params["id"]
    pm = st.payment_methods.get(pm_id)
    if pm is None:
        if pm_id in TEST_CARDS:
            return resolve(st, pm_id, param="id")
        raise resource_missing(pm_id)
    return pm


def update_payment_method(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_methods.update")
    pm = _stored(st, req)
    billing = _billing(req)
    metadata = get_metadata(req, pm.metadata)
    req.begin()
    if billing is not None:
        pm.billing_details.update(billing)
    if metadata is not None:
        pm.metadata = metadata
    return render_one(st, req, payment_method_json(st, pm.id) or {})


def attach_payment_method(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_methods.attach")
    cus_id = get_str(req, "customer", required=True, empty_ok=False)
    assert cus_id is not None
    customer = _customer(st, cus_id)
    pm = _stored(st, req)
    req.begin()
    attach(st, pm, customer, req)
    return render_one(st, req, payment_method_json(st, pm.id) or {})


def detach_payment_method(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_methods.detach")
    pm = _stored(st, req)
    req.begin()
    if pm.customer is None:
        raise invalid_request(
            "The payment method you provided is not attached to a customer so detachment is impossible."
        )
    cu = st.customers.get(pm.customer)
    if cu is not None and cu.default_payment_method == pm.id:
        cu.default_payment_method = None
    pm.customer, pm.detached = None, True
    obj = payment_method_json(st, pm.id) or {}
    events.emit(st, "payment_method.detached", obj, req, previous={"customer": cu.id if cu else None})
    return render_one(st, req, obj)


def _listed(st: State, req: Req, customer: str | None, url: str) -> dict[str, Any]:
    get_enum(req, "type", ["card"])
    items = (
        []
        if customer is None
        else [p for p in reversed(st.payment_methods.values()) if p.customer == customer]
    )
    return page(
        st, req, items, url, lambda p: payment_method_json(st, p.id) or {}, find=st.payment_methods.get
    )


def list_payment_methods(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "payment_methods.list")
    cus_id = get_str(req, "customer", empty_ok=False)
    if cus_id:
        _customer(st, cus_id)
    return _listed(st, req, cus_id or None, "/v1/payment_methods")


def customer_payment_methods(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "customers.payment_methods")
    cu = _customer(st, req.path_params["id"], param="customer")
    return _listed(st, req, cu.id, f"/v1/customers/{cu.id}/payment_methods")
