"""The WooCommerce-specific admin routes under `/_sandbox/woocommerce`: store-side edits and inspection.

What a shop owner does in wp-admin (edit, trash, refund, mint keys) plus sandbox controls (touch records,
fire or deliver webhooks on demand). They call the same functions as the REST routes, so indexes,
caches and webhooks stay right. Answers are plain JSON (`{"error": ...}` on failure), not WordPress's.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import admin_json, read_json

from . import webhooks, writes
from .encoding import parse_wp_date
from .errors import WooError, invalid_id
from .refunds import create_refund
from .rendering import record_json, render_refund, render_webhook
from .store import Store

__all__ = ["admin_routes"]


def admin_routes(st: Store) -> list[Route]:
    kinds = {"products": "product", "variations": "variation", "customers": "customer", "orders": "order"}

    def kind_of(request: Request) -> str:
        k = kinds.get(request.path_params["resource"])
        if k is None:
            raise WooError("sandbox_unknown_resource", f"resource must be one of {', '.join(kinds)}", 404)
        return k

    def wrap(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def inner(request: Request) -> Response:
            try:
                data = fn(request)
                if asyncio.iscoroutine(data):
                    data = await data
                return data if isinstance(data, Response) else admin_json(data)
            except WooError as exc:
                return admin_json({"error": exc.message, "code": exc.code}, exc.status)
            except (ValueError, KeyError, TypeError) as exc:
                return admin_json({"error": str(exc)}, 400)

        return inner

    async def body_of(request: Request) -> dict[str, Any]:
        data = await read_json(request)
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        return data

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
        data = await body_of(request)
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
        data = await body_of(request)
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
        data = await body_of(request)
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
        rf = create_refund(st, o, await body_of(request))
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
        data = await body_of(request)
        rid = int(data["resource_id"])
        topic = str(data.get("topic") or w.topic)
        return await webhooks.deliver(st, w, rid, topic, manual=True)

    async def emit(request: Request) -> Any:
        data = await body_of(request)
        kind, event = str(data["topic"]).split(".", 1)
        webhooks.emit(st, kind, event, int(data["resource_id"]))
        if data.get("wait", True):
            await st.courier.flush()
        return {"queued": True}

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0}

    async def keys(request: Request) -> Any:
        data = await body_of(request)
        perm = str(data.get("permissions", "read_write"))
        if perm not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        k = st.add_key(perm)
        return {"consumer_key": k.consumer_key, "consumer_secret": k.consumer_secret, "permissions": perm}

    p = "/woocommerce"
    return [
        Route(p, wrap(info), methods=["GET"]),
        Route(p + "/webhooks", wrap(hooks), methods=["GET"]),
        Route(p + "/webhooks/flush", wrap(flush), methods=["POST"]),
        Route(p + "/webhooks/emit", wrap(emit), methods=["POST"]),
        Route(p + "/webhooks/{id:int}/deliver", wrap(deliver), methods=["POST"]),
        Route(p + "/keys", wrap(keys), methods=["POST"]),
        Route(p + "/orders/{id:int}/refunds", wrap(refund), methods=["POST"]),
        Route(p + "/{resource}/touch", wrap(touch), methods=["POST"]),
        Route(p + "/{resource}", wrap(create), methods=["POST"]),
        Route(p + "/{resource}/{id:int}", wrap(one), methods=["GET", "PATCH", "PUT", "DELETE"]),
        Route(p + "/{resource}/{id:int}/{action}", wrap(one), methods=["POST"]),
    ]
