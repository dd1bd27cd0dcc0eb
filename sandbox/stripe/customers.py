"""Customers: create, retrieve (a deleted one reads `{id, object, deleted: true}`), update, delete, list."""

from __future__ import annotations

from typing import Any

from . import events
from .errors import invalid_request, resource_missing
from .payment_methods import attach, resolve
from .rendering import customer_json
from .rest import Req, check_params, get_enum, get_int, get_metadata, get_str, page, parse_created, render_one
from .store import Customer, State

__all__ = ["create_customer", "delete_customer", "get_customer", "list_customers", "update_customer"]

_TEXT = ("email", "name", "phone", "description")


def _hash(req: Req, name: str) -> dict[str, Any] | None:
    raw = req.params.get(name)
    if raw is None:
        return None
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid object", param=name)
    return raw


def _fields(req: Req) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _TEXT:
        value = get_str(req, name)
        if value is not None:
            out[name] = value or None
    for name in ("address", "shipping"):
        given = _hash(req, name)
        if given is not None:
            out[name] = given or None
    balance = get_int(req, "balance")
    if balance is not None:
        out["balance"] = balance
    exempt = get_enum(req, "tax_exempt", ["exempt", "none", "reverse"])
    if exempt is not None:
        out["tax_exempt"] = exempt
    locales = req.params.get("preferred_locales")
    if locales is not None:
        out["preferred_locales"] = [locales] if isinstance(locales, str) and locales else list(locales or [])
    settings = _hash(req, "invoice_settings")
    if settings is not None:
        pm = settings.get("default_payment_method")
        if pm is not None:
            out["default_payment_method"] = pm or None
    return out


def _get(st: State, cus_id: str) -> Customer:
    cu = st.customers.get(cus_id)
    if cu is None:
        raise resource_missing(cus_id)
    return cu


def create_customer(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "customers.create")
    fields = _fields(req)
    metadata = get_metadata(req) or {}
    pm_id = get_str(req, "payment_method")
    default_pm = fields.pop("default_payment_method", None)
    req.begin()
    cu = Customer(
        id=st.new_id("cus_", 14),
        created=st.now(),
        metadata=metadata,
        invoice_prefix=st.new_id("", 8).upper(),
        **fields,
    )
    st.customers[cu.id] = cu
    st.record("customer", id=cu.id, email=cu.email, idempotency_key=req.idempotency_key, created=cu.created)
    events.emit(st, "customer.created", customer_json(st, cu), req)
    if pm_id:
        attach(st, resolve(st, pm_id), cu, req)
    if default_pm:
        pm = st.payment_methods.get(default_pm)
        if pm is None or pm.customer != cu.id:
            raise invalid_request(
                f"No such PaymentMethod: '{default_pm}'", param="invoice_settings[default_payment_method]"
            )
        cu.default_payment_method = default_pm
    return render_one(st, req, customer_json(st, cu))


def get_customer(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    return render_one(st, req, customer_json(st, _get(st, req.path_params["id"])))


def update_customer(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "customers.update")
    cu = _get(st, req.path_params["id"])
    if cu.deleted:
        raise resource_missing(cu.id)
    fields = _fields(req)
    metadata = get_metadata(req, cu.metadata)
    default_pm = fields.get("default_payment_method")
    if default_pm:
        pm = st.payment_methods.get(default_pm)
        if pm is None or pm.customer != cu.id:
            raise invalid_request(
                f"No such PaymentMethod: '{default_pm}'", param="invoice_settings[default_payment_method]"
            )
    req.begin()
    before = customer_json(st, cu)
    for name, value in fields.items():
        setattr(cu, name, value)
    if metadata is not None:
        cu.metadata = metadata
    after = customer_json(st, cu)
    previous = {k: before[k] for k in after if before.get(k) != after[k]}
    if previous:
        events.emit(st, "customer.updated", after, req, previous)
    return render_one(st, req, after)


def delete_customer(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "delete")
    cu = _get(st, req.path_params["id"])
    if cu.deleted:
        raise resource_missing(cu.id)
    last = customer_json(st, cu)
    cu.deleted = True
    for pm in st.payment_methods.values():
        if pm.customer == cu.id:
            pm.customer, pm.detached = None, True
    events.emit(st, "customer.deleted", last, req)
    return customer_json(st, cu)


def list_customers(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "customers.list")
    email = get_str(req, "email")
    created = parse_created(req)
    items = [
        c
        for c in reversed(st.customers.values())
        if not c.deleted and c.created in created and (email is None or c.email == email)
    ]
    return page(st, req, items, "/v1/customers", lambda c: customer_json(st, c), find=st.customers.get)
