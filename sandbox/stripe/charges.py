"""Charges: the ledger's Stripe charges (the seeded history and the API's payments), retrieved, listed
(newest first, by `created`, `payment_intent`, `customer`) and updated (description, metadata, receipt email).

A metadata update goes to the ledger (`Ledger.update_metadata`), so the order a charge names follows it.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import Charge, LedgerError

from . import events
from .errors import resource_missing
from .rendering import charge_json, find_intent_charges
from .rest import Req, check_params, get_metadata, get_str, page, parse_created, render_one
from .store import State

__all__ = ["get_charge", "list_charges", "load_charge", "update_charge"]


def load_charge(st: State, charge_id: str, param: str = "id") -> Charge:
    try:
        return st.ledger.charge("stripe", charge_id)
    except LedgerError:
        raise resource_missing(charge_id, param=param, noun="charge") from None


def get_charge(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    return render_one(st, req, charge_json(st, load_charge(st, req.path_params["id"])))


def update_charge(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "charges.update")
    c = load_charge(st, req.path_params["id"])
    metadata = get_metadata(req, c.metadata)
    description = get_str(req, "description")
    receipt = get_str(req, "receipt_email")
    customer = get_str(req, "customer")
    if customer:
        cu = st.customers.get(customer)
        if cu is None or cu.deleted:
            raise resource_missing(customer, param="customer")
    req.begin()
    before = charge_json(st, c)
    if metadata is not None:
        st.ledger.update_metadata("stripe", c.id, metadata, at=st.now())
    if description is not None:
        c.description = description
    extra = st.charge_extra.setdefault(c.id, {})
    if receipt is not None:
        extra["receipt_email"] = receipt or None
    if customer and not extra.get("customer"):
        extra["customer"] = customer
    after = charge_json(st, c)
    previous = {k: before[k] for k in after if before[k] != after[k]}
    if previous:
        events.emit(st, "charge.updated", after, req, previous)
    return render_one(st, req, after)


def list_charges(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "charges.list")
    created = parse_created(req)
    pi = get_str(req, "payment_intent", empty_ok=False)
    customer = get_str(req, "customer", empty_ok=False)
    group = get_str(req, "transfer_group")
    if pi:
        items = [c for c in find_intent_charges(st, pi) if c.created in created]
        items.reverse()
    else:
        items = st.ledger.charges("stripe", created_gte=created.gte, created_lt=created.lt)
        items.reverse()
    if customer:
        items = [c for c in items if st.charge_extra.get(c.id, {}).get("customer") == customer]
    if group:
        items = []  # the sandbox's charges have no transfer group

    def find(charge_id: str) -> Charge | None:
        try:
            return st.ledger.charge("stripe", charge_id)
        except LedgerError:
            return None

    return page(st, req, items, "/v1/charges", lambda c: charge_json(st, c), find=find)
