"""The WooCommerce-specific admin routes under `/_sandbox/woocommerce`: store-side edits and inspection.

What a shop owner does in wp-admin (edit, trash, refund, mint keys) plus sandbox controls (touch records,
fire or deliver webhooks on demand). They call the same functions as the REST routes, so indexes,
caches and webhooks stay right. Answers are plain JSON (`{"error": ...}` on failure), not WordPress's.
"""

from __future__ import annotations

import random
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import AdminRoutes, admin_json, read_object

from . import webhooks, writes
from .encoding import parse_wp_date
from .errors import WooError, invalid_id
from .refunds import create_refund
from .rendering import record_json, render_refund, render_webhook
from .store import Store

__all__ = ["admin_routes"]


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, WooError):
        return admin_json({"error": exc.message, "code": exc.code}, exc.status)
    return None


def admin_routes(st: Store) -> list[Route]:
    kinds = {"products": "product", "variations": "variation", "customers": "customer", "orders": "order"}

    def kind_of(request: Request) -> str:
        k = kinds.get(request.path_params["resource"])
        if k is None:
            raise WooError("sandbox_unknown_resource", f"resource must be one of {', '.join(kinds)}", 404)
        return k

    async def info(request: Request) -> Any:
        w = st.world
        statuses: dict[str, int] = {}
        for o in w.orders.values():
            statuses[o.status] = statuses.get(o.status, 0) + 1
        return {
            "seed": w.seed,
            "counts": {
                "products": len(w.products),
                "variations": len(w.variations),
                "customers": len(w.customers),
                "orders": len(w.orders),
            },
            "order_statuses": statuses,
            "gmt_offset": st.gmt_offset,
            "credentials": st.credentials(),
        }

    async def touch(request: Request) -> Any:
        data = await read_object(request)
        kind = kind_of(request)
        ids = [int(i) for i in data.get("ids") or []]
        if not ids and data.get("count"):
            store = sorted(st.table(kind))
            ids = random.Random(data.get("seed", 0)).sample(store, min(int(data["count"]), len(store)))
        at = data.get("at")
        if isinstance(at, str):
            parsed = parse_wp_date(at, 0, True)
            if parsed is None:
                raise ValueError("at: use an ISO 8601 date or epoch seconds")
            at = int(parsed)
        done = writes.touch(st, kind, ids, at=at, webhooks=data.get("webhooks", True))
        return {"touched": done}

    async def create(request: Request) -> Any:
        data = await read_object(request)
        kind = kind_of(request)
        parent = data.pop("parent_id", None) if kind == "variation" else None
        webhooks = data.pop("webhooks", True)
        rec = writes.create(st, kind, data, parent=parent, webhooks=webhooks)
        return record_json(st, kind, rec.id)

    async def one(request: Request) -> Any:
        kind = kind_of(request)
        rid = int(request.path_params["id"])
        rec = st.table(kind).get(rid)
        if rec is None:
            raise invalid_id(kind)
        action = request.path_params.get("action")
        if request.method == "GET":
            return record_json(st, kind, rid)
        if request.method == "DELETE":
            return writes.delete(st, kind, rec, force=True)
        data = await read_object(request)
        webhooks = data.pop("webhooks", True)
        if action == "trash":
            writes.trash(st, kind, rec, webhooks=webhooks)
        elif action == "restore":
            writes.restore(st, kind, rec, webhooks=webhooks)
        elif action is None:
            writes.update(st, kind, rec, data, webhooks=webhooks)
        else:
            raise ValueError(f"unknown action {action!r}: use trash or restore")
        return record_json(st, kind, rid)

    async def refund(request: Request) -> Any:
        o = st.world.orders.get(int(request.path_params["id"]))
        if o is None:
            raise invalid_id("order")
        rf = create_refund(st, o, await read_object(request))
        return render_refund(st, rf)

    async def hooks(request: Request) -> Any:
        return [
            render_webhook(st, w)
            | {"secret": w.secret, "failure_count": w.failure_count, "pending": sorted(w.pending)}
            for w in st.webhooks.values()
        ]

    async def deliver(request: Request) -> Any:
        w = st.webhooks.get(int(request.path_params["id"]))
        if w is None:
            raise WooError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        data = await read_object(request)
        rid = int(data["resource_id"])
        topic = str(data.get("topic") or w.topic)
        return await webhooks.deliver(st, w, rid, topic, manual=True)

    async def emit(request: Request) -> Any:
        data = await read_object(request)
        kind, event = str(data["topic"]).split(".", 1)
        webhooks.emit(st, kind, event, int(data["resource_id"]))
        if data.get("wait", True):
            await st.courier.flush()
        return {"queued": True}

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0}

    async def keys(request: Request) -> Any:
        data = await read_object(request)
        perm = str(data.get("permissions", "read_write"))
        if perm not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        k = st.add_key(perm)
        return {"consumer_key": k.consumer_key, "consumer_secret": k.consumer_secret, "permissions": perm}

    r = AdminRoutes("/woocommerce", refusal=_refusal)
    r.get("", info)
    r.get("/webhooks", hooks)
    r.post("/webhooks/flush", flush)
    r.post("/webhooks/emit", emit)
    r.post("/webhooks/{id:int}/deliver", deliver)
    r.post("/keys", keys)
    r.post("/orders/{id:int}/refunds", refund)
    r.post("/{resource}/touch", touch)
    r.post("/{resource}", create)
    r.add("/{resource}/{id:int}", one, ["GET", "PATCH", "PUT", "DELETE"])
    r.post("/{resource}/{id:int}/{action}", one)
    return r.routes
