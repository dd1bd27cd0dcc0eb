"""Writing: create, update, delete, trash, restore and touch records, and the REST handlers that call them.

These functions are shared by the REST routes, the batch endpoint and the admin routes: each one keeps
the indexes (SKUs, emails) and caches right, bumps `date_modified` and fires the webhooks of the write.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.responses import Response

from sandbox.world import Customer, LineItem, Order, Product, Variation

from .encoding import as_int, cents, php_empty
from .errors import WooError, exists, invalid_id, parent_mismatch, update_invalid_id, user_invalid_id
from .gateways import link_payment
from .rendering import blank_address, record_bytes, render, render_order
from .rest import Req, json_response, raw_response
from .schemas import SCHEMAS
from .settings import SCHEMA_NAMES
from .store import Store
from .validation import validate_body
from .webhooks import emit

__all__ = [
    "create",
    "creator",
    "delete",
    "deleter",
    "path_of",
    "restore",
    "touch",
    "trash",
    "update",
    "updater",
]

EMAIL_EXISTS = (
    'An account is already registered with your email address. <a href="#" class="showlogin">'
    "Please log in.</a>"
)


def create(
    st: Store,
    kind: str,
    body: dict[str, Any],
    *,
    parent: int | None = None,
    webhooks: bool = True,
    validate: bool = True,
) -> Any:
    """Create a `kind` record from an API body; `validate=False` skips WordPress's schema checks (batch)."""
    if validate:
        validate_body(SCHEMAS[SCHEMA_NAMES[kind]], body)
    w = st.world
    now = st.now()
    if kind == "product":
        sku = str(body.get("sku") or "")
        if sku and sku in st.sku_index:
            raise WooError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                400,
                resource_id=st.sku_index[sku],
                unique_sku=sku,
            )
        pid = w.new_post_id()
        name = str(body.get("name") or "Product")
        rec: Any = Product(
            id=pid,
            type=str(body.get("type") or "simple"),
            name=name,
            slug=str(body.get("slug") or f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{pid}"),
            sku=sku,
            regular_cents=cents(body.get("regular_price")) or 0,
            sale_cents=cents(body.get("sale_price")),
            stock_quantity=as_int(body["stock_quantity"]) if body.get("stock_quantity") is not None else None,
            status=str(body.get("status") or "publish"),
            created=now,
            modified=now,
            category=0,
        )
        if sku:
            st.sku_index[sku] = pid
        w.products[pid] = rec
    elif kind == "variation":
        p = w.products.get(parent or 0)
        if p is None:
            raise WooError("woocommerce_rest_product_variation_invalid_parent", "Invalid parent ID.", 404)
        sku = str(body.get("sku") or "")
        if sku and sku in st.sku_index:
            raise WooError(
                "product_invalid_sku",
                "Invalid or duplicated SKU.",
                400,
                resource_id=st.sku_index[sku],
                unique_sku=sku,
            )
        vid = w.new_post_id()
        attrs = tuple(
            (str(a.get("name", "")), str(a.get("option", "")))
            for a in body.get("attributes") or []
            if isinstance(a, dict)
        ) or (("Option", str(vid)),)
        rec = Variation(
            vid,
            p.id,
            sku,
            attrs,
            cents(body.get("regular_price")) or 0,
            cents(body.get("sale_price")),
            as_int(body["stock_quantity"]) if body.get("stock_quantity") is not None else None,
            now,
            now,
        )
        w.variations[vid] = rec
        p.variation_ids.append(vid)
        if sku:
            st.sku_index[sku] = vid
        st.touched("product", p.id)
    elif kind == "customer":
        email = str(body.get("email") or "").strip()
        if not email:
            raise WooError(
                "rest_missing_callback_param", "Missing parameter(s): email", 400, params=["email"]
            )
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise WooError("registration-error-invalid-email", "Please provide a valid email address.", 400)
        if email.lower() in st.emails:
            raise WooError(
                "registration-error-email-exists",
                EMAIL_EXISTS,
                400,
            )
        uid = w.new_user_id()
        username = str(body.get("username") or email.split("@")[0])
        rec = Customer(
            uid,
            str(body.get("first_name") or ""),
            str(body.get("last_name") or ""),
            email,
            username,
            now,
            now,
        )
        billing = body.get("billing")
        if isinstance(billing, dict) and isinstance(billing.get("phone"), str):
            rec.phone = billing["phone"]
        w.customers[uid] = rec
        st.emails[email.lower()] = uid
    else:
        rec = _create_order(st, body, now)
    if kind != "order":
        _apply_doc(st, kind, rec, body)
    st.touched(kind, rec.id)
    if webhooks:
        emit(st, kind, "created", rec.id)
    return rec


def _create_order(st: Store, body: dict[str, Any], now: int) -> Order:
    w = st.world
    cid = as_int(body.get("customer_id"))
    if cid and cid not in w.customers:
        raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
    items = _line_items(st, body.get("line_items") or [])
    sent = body.get("billing")
    billing: dict[str, Any] = sent if isinstance(sent, dict) else {}
    oid = w.new_post_id()
    order = Order(
        id=oid,
        status="pending",
        customer_id=cid,
        currency=str(body.get("currency") or w.currency),
        created=now,
        modified=now,
        paid=None,
        completed=None,
        payment_method=str(body.get("payment_method") or ""),
        transaction_id=str(body.get("transaction_id") or ""),
        line_items=items,
        shipping_cents=sum(
            cents(s.get("total")) or 0 for s in body.get("shipping_lines") or [] if isinstance(s, dict)
        ),
        shipping_tax_cents=0,
        discount_cents=0,
        order_key="wc_order_"
        + "".join(random.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=13)),
        billing_first=str(billing.get("first_name") or ""),
        billing_last=str(billing.get("last_name") or ""),
        billing_email=str(billing.get("email") or ""),
        billing_phone=str(billing.get("phone") or ""),
    )
    if body.get("status"):
        _set_status(order, str(body["status"]), now)
    if body.get("set_paid") in (True, "true", "1", 1):
        _payment_complete(order, now)
    w.orders[oid] = order
    # A REST-created order has the addresses it was sent, nothing derived.
    doc: dict[str, Any] = {
        "billing": {**blank_address(True), **billing},
        "shipping": {**blank_address(False), **body["shipping"]}
        if isinstance(body.get("shipping"), dict)
        else blank_address(False),
    }
    if "customer_note" in body:
        doc["customer_note"] = str(body["customer_note"])
    if isinstance(body.get("meta_data"), list):
        doc["meta_data"] = _meta(body["meta_data"], [])
    doc["created_via"] = "rest-api"
    order.doc = doc
    link_payment(st, order, at=now)
    return order


def _set_status(o: Order, status: str, now: int) -> None:
    """`WC_Order::set_status`: a change to processing or completed sets `date_paid` once (whatever the
    payment method: `maybe_set_date_paid`), a change to completed sets `date_completed`."""
    if status == o.status:
        return
    o.status = status
    if status in ("processing", "completed") and o.paid is None:
        o.paid = now
    if status == "completed":
        o.completed = now


def _payment_complete(o: Order, now: int) -> None:
    """`WC_Order::payment_complete` (what `set_paid` calls): marks the order paid; no gateway is asked."""
    if o.status in ("on-hold", "pending", "failed", "cancelled"):
        if o.paid is None:
            o.paid = now
        _set_status(o, "processing", now)  # needs_processing(): the seeded goods are physical


def _line_items(st: Store, raw: Any) -> list[LineItem]:
    w = st.world
    items = []
    for li in raw if isinstance(raw, list) else []:
        if not isinstance(li, dict):
            continue
        pid, vid = as_int(li.get("product_id")), as_int(li.get("variation_id"))
        qty = max(as_int(li.get("quantity"), 1), 0)
        if vid:
            v = w.variations.get(vid)
            if v is None:
                raise WooError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
            unit, name, sku = (
                v.regular_cents,
                f"{w.products[v.parent_id].name} - {v.attributes[0][1]}",
                v.sku,
            )
            pid = v.parent_id
        else:
            p = w.products.get(pid)
            if p is None:
                raise WooError("woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400)
            unit, name, sku = p.price_cents, p.name, p.sku
        if li.get("total") not in (None, "") and cents(li.get("total")) is not None and qty:
            unit = (cents(li["total"]) or 0) // qty
        items.append(LineItem(w.new_item_id(), pid, vid, name, sku, qty, unit, 0))
    return items


def _meta(new: list[Any], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [dict(m) for m in old]
    for m in new:
        if not isinstance(m, dict) or "key" not in m:
            continue
        for cur in out:
            if (m.get("id") and cur.get("id") == m.get("id")) or (
                not m.get("id") and cur.get("key") == m["key"]
            ):
                cur["value"] = m.get("value")
                break
        else:
            out.append({"id": random.randrange(10**6, 10**7), "key": m["key"], "value": m.get("value")})
    return out


def _apply_doc(st: Store, kind: str, rec: Any, body: dict[str, Any]) -> None:
    """Keep a client's writable fields (descriptions, addresses, meta) on the record."""
    current = render(st, kind, rec)
    schema = SCHEMAS[SCHEMA_NAMES[kind]]["properties"]
    core = {
        "id",
        "name",
        "slug",
        "sku",
        "regular_price",
        "sale_price",
        "price",
        "stock_quantity",
        "status",
        "type",
        "email",
        "first_name",
        "last_name",
        "username",
        "_links",
        "variations",
        "line_items",
        "refunds",
    }
    writable = {k for k, v in schema.items() if not v.get("readonly")}
    doc = {k: v for k, v in current.items() if k in writable and k not in core and not k.startswith("date_")}
    for k, v in body.items():
        prop = schema.get(k)
        if (
            prop is None
            or prop.get("readonly")
            or k in core
            or k.startswith("date_")
            or k in ("password", "set_paid")
        ):
            continue
        if k == "meta_data" and isinstance(v, list):
            doc[k] = _meta(v, doc.get(k) or [])
        elif isinstance(v, dict) and isinstance(doc.get(k), dict):
            doc[k] = {**doc[k], **v}
        else:
            doc[k] = v
    rec.doc = doc


def update(
    st: Store,
    kind: str,
    rec: Any,
    body: dict[str, Any],
    *,
    webhooks: bool = True,
    validate: bool = True,
) -> None:
    """Apply an API body to `rec`; `validate=False` skips WordPress's schema checks (batch)."""
    if validate:
        validate_body(SCHEMAS[SCHEMA_NAMES[kind]], body)
    if kind in ("product", "variation"):
        if "sku" in body:
            sku = str(body["sku"] or "")
            if sku and st.sku_index.get(sku, rec.id) != rec.id:
                raise WooError(
                    "product_invalid_sku",
                    "Invalid or duplicated SKU.",
                    400,
                    resource_id=st.sku_index[sku],
                    unique_sku=sku,
                )
            st.sku_index.pop(rec.sku, None)
            rec.sku = sku
            if sku:
                st.sku_index[sku] = rec.id
        if "regular_price" in body:
            rec.regular_cents = cents(body["regular_price"]) or 0
        if "sale_price" in body:
            rec.sale_cents = cents(body["sale_price"])
        if "stock_quantity" in body:
            rec.stock_quantity = None if body["stock_quantity"] is None else as_int(body["stock_quantity"])
        if body.get("manage_stock") is False:
            rec.stock_quantity = None
        if "status" in body:
            rec.status = str(body["status"])
        if kind == "product":
            if "name" in body:
                rec.name = str(body["name"])
            if "slug" in body:
                rec.slug = str(body["slug"])
            if "type" in body:
                rec.type = str(body["type"])
        else:
            st.touched("product", rec.parent_id)
    elif kind == "customer":
        # update_item()'s order: another user's email, then the username, then the email's own checks.
        email = str(body["email"]).strip() if "email" in body and body["email"] is not None else None
        if email and email.lower() in st.emails and email != rec.email:  # email_exists() ignores case
            raise WooError("woocommerce_rest_customer_invalid_email", "Email address is invalid.", 400)
        if body.get("username") and body["username"] != rec.username:
            raise WooError("woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400)
        if email is not None:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise WooError(
                    "registration-error-invalid-email", "Please provide a valid email address.", 400
                )
            if st.emails.get(rec.email.lower()) == rec.id:
                st.emails.pop(rec.email.lower())
            rec.email = email
            st.emails[email.lower()] = rec.id
        for f in ("first_name", "last_name"):
            if f in body:
                setattr(rec, f, str(body[f]))
        billing = body.get("billing")
        if isinstance(billing, dict) and isinstance(billing.get("phone"), str):
            rec.phone = billing["phone"]
    else:
        _update_order(st, rec, body)
    _apply_doc(st, kind, rec, body)
    rec.modified = st.now()
    st.touched(kind, rec.id)
    if webhooks:
        emit(st, kind, "updated", rec.id)


def _update_order(st: Store, o: Order, body: dict[str, Any]) -> None:
    if "customer_id" in body:
        cid = as_int(body["customer_id"])
        if cid and cid not in st.world.customers:
            raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
        o.customer_id = cid
    if "line_items" in body and isinstance(body["line_items"], list):
        by_id = {li.id: li for li in o.line_items}
        new = []
        for li in body["line_items"]:
            if isinstance(li, dict) and as_int(li.get("id")) in by_id:
                cur = by_id[as_int(li["id"])]
                if "quantity" in li:
                    q = as_int(li["quantity"], cur.quantity)
                    if q <= 0:
                        o.line_items.remove(cur)
                    else:
                        cur.quantity = q
            elif isinstance(li, dict):
                new.append(li)
        o.line_items.extend(_line_items(st, new))
    for f in ("payment_method", "transaction_id", "currency"):
        if f in body:
            setattr(o, f, str(body[f] or ""))
    if isinstance(body.get("billing"), dict):
        b = body["billing"]
        o.billing_first = str(b.get("first_name", o.billing_first))
        o.billing_last = str(b.get("last_name", o.billing_last))
        o.billing_email = str(b.get("email", o.billing_email))
        o.billing_phone = str(b.get("phone", o.billing_phone))
    now = st.now()
    if body.get("status"):
        _set_status(o, str(body["status"]), now)
    # save_object(): an existing order is marked paid only while it still needs payment.
    needs_payment = o.status in ("pending", "failed") and o.total_cents > 0
    if body.get("set_paid") in (True, "true", "1", 1) and needs_payment:
        _payment_complete(o, now)
    for f in ("billing", "shipping"):
        if isinstance(body.get(f), dict):
            rendered = render_order(st, o)[f]
            o.doc = dict(o.doc or {})
            o.doc[f] = {**rendered, **body[f]}
    link_payment(st, o, at=now)


def delete(st: Store, kind: str, rec: Any, *, force: bool, webhooks: bool = True) -> dict[str, Any]:
    """DELETE semantics: products/orders go to the trash unless `force`; others need `force`."""
    label = {
        "product": "product",
        "order": "order",
        "variation": "product_variation",
        "customer": "customer",
    }[kind]
    if not force and kind in ("customer", "variation"):
        what = "Customers" if kind == "customer" else "Variations"
        raise WooError("woocommerce_rest_trash_not_supported", f"{what} do not support trashing.", 501)
    previous: dict[str, Any] = json.loads(record_bytes(st, kind, rec))
    if not force:
        if rec.status == "trash":
            raise WooError("woocommerce_rest_already_trashed", f"The {label} has already been deleted.", 410)
        trash(st, kind, rec, webhooks=webhooks)
        return dict(json.loads(record_bytes(st, kind, rec)))
    st.table(kind).pop(rec.id, None)
    st.touched(kind, rec.id)
    if kind in ("product", "variation"):
        st.sku_index.pop(rec.sku, None)
    if kind == "product":
        for vid in rec.variation_ids:
            v = st.world.variations.pop(vid, None)
            if v is not None:
                st.sku_index.pop(v.sku, None)
                st.touched("variation", vid)
    elif kind == "variation":
        parent = st.world.products.get(rec.parent_id)
        if parent is not None and rec.id in parent.variation_ids:
            parent.variation_ids.remove(rec.id)
            st.touched("product", parent.id)
    elif kind == "customer":
        st.emails.pop(rec.email.lower(), None)
    if webhooks and kind != "variation":
        emit(st, kind, "deleted", rec.id)
    return previous


def trash(st: Store, kind: str, rec: Any, *, webhooks: bool = True) -> None:
    if kind == "order":
        rec.pre_trash_status = rec.status
    rec.status = "trash"
    rec.modified = st.now()
    st.touched(kind, rec.id)
    if webhooks:
        emit(st, kind, "deleted", rec.id)


def restore(st: Store, kind: str, rec: Any, *, webhooks: bool = True) -> None:
    if rec.status != "trash":
        return
    rec.status = (rec.pre_trash_status or "pending") if kind == "order" else "draft"
    rec.modified = st.now()
    st.touched(kind, rec.id)
    if webhooks:
        emit(st, kind, "restored", rec.id)


def touch(
    st: Store, kind: str, ids: Iterable[int], *, at: int | None = None, webhooks: bool = True
) -> list[int]:
    """Bump `date_modified` (a store-side edit): to `at` (epoch seconds) or now."""
    store = st.table(kind)
    done = []
    when = st.now() if at is None else at
    for rid in ids:
        rec = store.get(rid)
        if rec is None:
            continue
        rec.modified = when
        st.touched(kind, rid)
        if kind == "variation":
            st.touched("product", rec.parent_id)
        done.append(rid)
        if webhooks and kind != "variation":
            emit(st, kind, "updated", rid)
    return done


# --- REST handlers ---------------------------------------------------------------------------------
# WordPress validates a dispatched request's body before the route's permission check and callback, so a
# bad field is `rest_invalid_param` whatever the id; then come the permission check (customers look the
# user up there) and the controller's own checks.
def creator(st: Store, kind: str) -> Callable[[Req], Any]:
    async def handler(req: Req) -> Response:
        body = req.params_json()
        validate_body(SCHEMAS[SCHEMA_NAMES[kind]], body)
        if kind == "customer" and not str(body.get("email") or "").strip():
            raise WooError(
                "rest_missing_callback_param", "Missing parameter(s): email", 400, params=["email"]
            )
        if not php_empty(body.get("id")):  # create_item(): "Cannot create existing ..."
            raise exists(kind)
        parent = as_int(req.params.get("product_id")) if kind == "variation" else None
        rec = create(st, kind, body, parent=parent, validate=False)
        return raw_response(record_bytes(st, kind, rec), 201, {"Location": st.api(path_of(kind, rec))})

    return handler


def updater(st: Store, kind: str) -> Callable[[Req], Any]:
    async def handler(req: Req) -> Response:
        body = req.params_json()
        validate_body(SCHEMAS[SCHEMA_NAMES[kind]], body)
        rec = st.table(kind).get(as_int(req.params.get("id")))
        if rec is None:  # customers: the permission check's 404; the others: update_item()'s 400
            raise user_invalid_id() if kind == "customer" else update_invalid_id(kind)
        if kind == "variation" and rec.parent_id != as_int(req.params.get("product_id")):
            raise parent_mismatch()
        update(st, kind, rec, body, validate=False)
        return raw_response(record_bytes(st, kind, rec))

    return handler


def deleter(st: Store, kind: str) -> Callable[[Req], Any]:
    async def handler(req: Req) -> Response:
        rec = st.table(kind).get(as_int(req.params.get("id")))
        # The sandbox also refuses another product's variation (WooCommerce's delete_item would delete it).
        if rec is None or (kind == "variation" and rec.parent_id != as_int(req.params.get("product_id"))):
            raise invalid_id(kind)  # before the force check, customers' in their permission check
        force = str(req.query.get("force", "")).lower() in ("true", "1")
        if not force:
            try:
                force = bool(req.params_json().get("force") in (True, "true", "1", 1))
            except WooError:
                force = False
        data = delete(st, kind, rec, force=force)
        return json_response(data)

    return handler


def path_of(kind: str, rec: Any) -> str:
    if kind == "variation":
        return f"/products/{rec.parent_id}/variations/{rec.id}"
    return f"/{kind}s/{rec.id}"
