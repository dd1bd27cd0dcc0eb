"""Reading: which records a listing matches (filters, dates, search), in which order, and the GET handlers.

`matching_ids()` caches the sorted id list of a query per resource version (bumped by every write), so
paging through a 100,000-record listing sorts it once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from sandbox.world import CATEGORIES

from .encoding import as_int, parse_list, parse_wp_date
from .errors import invalid_id
from .rendering import record_bytes
from .rest import Req, paged, raw_response, trim_fields
from .store import Store

__all__ = ["get_rec", "getter", "lister", "matching_ids"]


def matching_ids(st: Store, kind: str, args: dict[str, Any], parent: int | None = None) -> list[int]:
    key_args = tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in args.items()
            if k not in ("page", "per_page", "offset", "context")
        )
    )
    cache_key = (kind, st.versions[kind], parent, key_args)
    hit = st.lists.get(cache_key)
    if hit is not None:
        st.lists.move_to_end(cache_key)
        return hit
    ids = _query(st, kind, args, parent)
    st.lists[cache_key] = ids
    if len(st.lists) > 64:
        st.lists.popitem(last=False)
    return ids


def _query(st: Store, kind: str, args: dict[str, Any], parent: int | None) -> list[int]:
    store = st.table(kind)
    if kind == "variation":
        p = st.world.products.get(parent or 0)
        recs: list[Any] = [store[v] for v in (p.variation_ids if p else []) if v in store]
    else:
        recs = list(store.values())
    include = args.get("include") or []
    exclude = set(args.get("exclude") or [])
    search = (args.get("search") or "").lower()
    off = st.gmt_offset * 3600
    gmt = bool(args.get("dates_are_gmt"))
    shift = 0 if gmt else off
    bounds = []
    for name, attr, after in (
        ("after", "created", True),
        ("before", "created", False),
        ("modified_after", "modified", True),
        ("modified_before", "modified", False),
    ):
        if args.get(name):
            v = parse_wp_date(args[name], st.gmt_offset, gmt)
            if v is not None:
                bounds.append((attr, after, v))
    if include:
        inc = set(include)
        recs = [r for r in recs if r.id in inc]
    if exclude:
        recs = [r for r in recs if r.id not in exclude]
    for attr, after, v in bounds:  # WP date_query after/before are exclusive
        if after:
            recs = [r for r in recs if getattr(r, attr) + shift > v]
        else:
            recs = [r for r in recs if getattr(r, attr) + shift < v]
    if kind in ("product", "variation", "order"):
        status = args.get("status", "any")
        statuses = set(status if isinstance(status, list) else [status])
        if "any" in statuses:
            # WP_Query's `any` leaves out trash; an `any` anywhere in an orders list short-circuits to
            # plain `any` (WC_REST_Orders_Controller::prepare_objects_query), so `any,trash` has no trash.
            recs = [r for r in recs if r.status != "trash"]
        else:
            recs = [r for r in recs if r.status in statuses]
    if kind == "product":
        if args.get("type"):
            recs = [r for r in recs if r.type == args["type"]]
        if args.get("sku"):
            skus = set(parse_list(args["sku"]))
            recs = [r for r in recs if r.sku in skus]
        if args.get("slug"):
            recs = [r for r in recs if r.slug == args["slug"]]
        if args.get("category"):
            cats = {c[0]: i for i, c in enumerate(CATEGORIES)}
            want = {cats.get(as_int(c), -1) for c in parse_list(args["category"])}
            recs = [r for r in recs if r.category in want]
        if args.get("stock_status"):
            recs = [
                r
                for r in recs
                if (r.stock_quantity is None or r.stock_quantity > 0) == (args["stock_status"] == "instock")
            ]
        if args.get("parent"):
            recs = [r for r in recs if 0 in set(args["parent"])]
        if search:
            recs = [r for r in recs if search in r.name.lower() or search in r.sku.lower()]
    elif kind == "variation":
        if args.get("sku"):
            skus = set(parse_list(args["sku"]))
            recs = [r for r in recs if r.sku in skus]
        if search:
            recs = [r for r in recs if search in r.sku.lower()]
    elif kind == "customer":
        if args.get("email"):
            recs = [r for r in recs if r.email.lower() == args["email"].lower()]
        if args.get("role") not in (None, "all", "customer"):
            recs = []
        if search:
            recs = [
                r
                for r in recs
                if search in r.email.lower()
                or search in r.username.lower()
                or search in f"{r.first_name} {r.last_name}".lower()
            ]
    elif kind == "order":
        if args.get("customer") is not None:
            recs = [r for r in recs if r.customer_id == args["customer"]]
        if args.get("product"):
            pid = args["product"]
            recs = [r for r in recs if any(li.product_id == pid for li in r.line_items)]
        if search:
            recs = [
                r
                for r in recs
                if search == str(r.id)
                or search in r.billing_email.lower()
                or search in f"{r.billing_first} {r.billing_last}".lower()
                or search in r.transaction_id.lower()
            ]
    return _sorted(kind, recs, args, include)


def _sorted(kind: str, recs: list[Any], args: dict[str, Any], include: list[int]) -> list[int]:
    orderby = args.get("orderby", "name" if kind == "customer" else "date")
    desc = args.get("order", "asc" if kind == "customer" else "desc") == "desc"
    if orderby == "include" and include:
        pos = {v: i for i, v in enumerate(include)}
        recs.sort(key=lambda r: pos.get(r.id, 0))
        return [r.id for r in recs]
    if orderby == "id":
        key: Callable[[Any], Any] = lambda r: r.id  # noqa: E731
    elif orderby in ("date", "registered_date"):
        key = lambda r: (r.created, r.id)  # noqa: E731
    elif orderby == "modified":
        key = lambda r: (r.modified, r.id)  # noqa: E731
    elif orderby == "title":
        key = lambda r: (getattr(r, "name", ""), r.id)  # noqa: E731
    elif orderby == "slug":
        key = lambda r: (getattr(r, "slug", ""), r.id)  # noqa: E731
    elif orderby == "name":
        key = lambda r: (f"{r.first_name} {r.last_name}", r.id)  # noqa: E731
    elif orderby == "price":
        key = lambda r: (r.price_cents, r.id)  # noqa: E731
    elif orderby == "popularity":
        key = lambda r: (r.total_sales, r.id)  # noqa: E731
    else:
        key = lambda r: (0, r.id)  # noqa: E731
    recs.sort(key=key, reverse=desc)
    return [r.id for r in recs]


# --- generic handlers ------------------------------------------------------------------------


def get_rec(st: Store, kind: str, req: Req, rec_id: int | None = None) -> Any:
    rid = rec_id if rec_id is not None else as_int(req.params.get("id"))
    rec = st.table(kind).get(rid)
    if rec is None:
        raise invalid_id(kind)
    if kind == "variation":
        if rec.parent_id != as_int(req.params.get("product_id")):
            raise invalid_id(kind)
    return rec


def lister(st: Store, kind: str) -> Callable[[Req], Response]:
    def handler(req: Req) -> Response:
        parent = None
        path = {"product": "/products", "customer": "/customers", "order": "/orders"}.get(kind, "")
        if kind == "variation":
            parent = as_int(req.params["product_id"])
            path = f"/products/{parent}/variations"
        ids = matching_ids(st, kind, req.args, parent)
        store = st.table(kind)
        return paged(st, req, path, ids, lambda i: record_bytes(st, kind, store[i]))

    return handler


def getter(st: Store, kind: str) -> Callable[[Req], Response]:
    def handler(req: Req) -> Response:
        rec = get_rec(st, kind, req)
        return raw_response(trim_fields(req, record_bytes(st, kind, rec)))

    return handler
