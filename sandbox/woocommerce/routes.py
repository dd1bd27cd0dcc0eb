"""The route table of `/wp-json/wc/v3` and the dispatcher: parse, authenticate, validate, call the handler.

`build_routes()` lists every route with its handler and permission kind per method, as
`register_rest_route` would; `handle()` answers one request the way `WP_REST_Server` does (method override,
`OPTIONS` with the route's schema, `HEAD` as `GET`, `rest_no_route` for the rest). Paths outside
`/wp-json` get WordPress's HTML 404.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import request_headers

from .auth import authenticate, check_permission
from .batch import batcher
from .encoding import parse_php_query
from .errors import WooError
from .queries import getter, lister
from .refunds import delete_refund, get_refund, list_refunds, post_refund
from .rest import Req, json_response
from .schemas import SCHEMAS, collection_args, item_args
from .store import Store
from .system_status import system_status
from .validation import validate_args
from .webhooks import create_webhook, delete_webhook, get_webhook, list_webhooks, update_webhook
from .writes import creator, deleter, updater

__all__ = ["Route", "build_routes", "handle"]

WP_404 = (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head><meta charset="UTF-8" />'
    '<title>Page not found &#8211; Sandbox Store</title></head>\n<body class="error404">'
    '<main><h1 class="page-title">Oops! That page can&rsquo;t be found.</h1></main></body>\n</html>\n'
)


@dataclass
class Route:
    pattern: re.Pattern[str]
    display: str  # as WordPress lists it in the index
    handlers: dict[str, tuple[Callable[..., Any], str]]  # method -> (handler, permission kind)
    schema: str | None
    list_kind: str | None = None


def build_routes(st: Store) -> list[Route]:
    def rt(
        pattern: str,
        display: str,
        schema: str | None,
        handlers: dict[str, tuple[Callable[..., Any], str]],
        list_kind: str | None = None,
    ) -> Route:
        return Route(re.compile("^" + pattern + "$"), display, handlers, schema, list_kind)

    def index(req: Req) -> Response:
        listed: dict[str, Any] = {}
        for route in routes:
            name = "/wc/v3" + route.display
            methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in route.handlers]
            entry: dict[str, Any] = {
                "namespace": "wc/v3",
                "methods": methods,
                "endpoints": [{"methods": [m], "args": {}} for m in methods],
            }
            if "(?P" not in route.display:
                entry["_links"] = {"self": [{"href": f"{st.base_url}/wp-json{name}"}]}
            listed[name] = entry
        return json_response(
            {
                "namespace": "wc/v3",
                "routes": listed,
                "_links": {"up": [{"href": f"{st.base_url}/wp-json/"}]},
            }
        )

    ID = r"(?P<id>\d+)"
    routes: list[Route] = [
        rt("", "", None, {"GET": (index, "public")}),
        rt(
            "/system_status", "/system_status", "system_status", {"GET": (partial(system_status, st), "list")}
        ),
    ]
    for kind, base, schema in (
        ("product", "/products", "product"),
        ("customer", "/customers", "customer"),
        ("order", "/orders", "shop_order"),
    ):
        routes += [
            rt(
                base,
                base,
                schema,
                {"GET": (lister(st, kind), "list"), "POST": (creator(st, kind), "create")},
                kind,
            ),
            rt(
                base + "/batch",
                base + "/batch",
                schema,
                {
                    "POST": (batcher(st, kind), "batch"),
                    "PUT": (batcher(st, kind), "batch"),
                    "PATCH": (batcher(st, kind), "batch"),
                },
            ),
            rt(
                f"{base}/{ID}",
                base + "/(?P<id>[\\d]+)",
                schema,
                {
                    "GET": (getter(st, kind), "view"),
                    "PUT": (updater(st, kind), "edit"),
                    "PATCH": (updater(st, kind), "edit"),
                    "POST": (updater(st, kind), "edit"),
                    "DELETE": (deleter(st, kind), "delete"),
                },
            ),
        ]
    var = r"/products/(?P<product_id>\d+)/variations"
    var_d = "/products/(?P<product_id>[\\d]+)/variations"
    routes += [
        rt(
            var,
            var_d,
            "product_variation",
            {"GET": (lister(st, "variation"), "list"), "POST": (creator(st, "variation"), "create")},
            "variation",
        ),
        rt(
            var + "/batch",
            var_d + "/batch",
            "product_variation",
            {
                "POST": (batcher(st, "variation"), "batch"),
                "PUT": (batcher(st, "variation"), "batch"),
                "PATCH": (batcher(st, "variation"), "batch"),
            },
        ),
        rt(
            f"{var}/{ID}",
            var_d + "/(?P<id>[\\d]+)",
            "product_variation",
            {
                "GET": (getter(st, "variation"), "view"),
                "PUT": (updater(st, "variation"), "edit"),
                "PATCH": (updater(st, "variation"), "edit"),
                "POST": (updater(st, "variation"), "edit"),
                "DELETE": (deleter(st, "variation"), "delete"),
            },
        ),
    ]
    ref = r"/orders/(?P<order_id>\d+)/refunds"
    ref_d = "/orders/(?P<order_id>[\\d]+)/refunds"
    routes += [
        rt(
            ref,
            ref_d,
            "shop_order_refund",
            {"GET": (partial(list_refunds, st), "list"), "POST": (partial(post_refund, st), "create")},
            "refund",
        ),
        rt(
            f"{ref}/{ID}",
            ref_d + "/(?P<id>[\\d]+)",
            "shop_order_refund",
            {"GET": (partial(get_refund, st), "view"), "DELETE": (partial(delete_refund, st), "delete")},
        ),
        rt(
            "/webhooks",
            "/webhooks",
            "webhook",
            {"GET": (partial(list_webhooks, st), "list"), "POST": (partial(create_webhook, st), "create")},
            "webhook",
        ),
        rt(
            f"/webhooks/{ID}",
            "/webhooks/(?P<id>[\\d]+)",
            "webhook",
            {
                "GET": (partial(get_webhook, st), "view"),
                "PUT": (partial(update_webhook, st), "edit"),
                "PATCH": (partial(update_webhook, st), "edit"),
                "POST": (partial(update_webhook, st), "edit"),
                "DELETE": (partial(delete_webhook, st), "delete"),
            },
        ),
    ]
    return routes


async def handle(st: Store, routes: list[Route], scope: Scope, body: bytes) -> Response:
    path: str = scope["path"]
    if not (path == "/wp-json" or path.startswith("/wp-json/")):
        return Response(WP_404, 404, media_type="text/html; charset=UTF-8")
    if path in ("/wp-json", "/wp-json/"):
        return json_response(_wp_root(st))
    route_path = path[len("/wp-json") :].rstrip("/") or "/"
    if not (route_path == "/wc/v3" or route_path.startswith("/wc/v3/")):
        raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
    qs = scope.get("query_string", b"").decode("latin-1")
    headers = request_headers(scope)
    method = scope["method"].upper()
    query = parse_php_query(qs)
    if method == "POST":
        override = headers.get("x-http-method-override") or query.get("_method")
        if isinstance(override, str) and override.upper() in ("PUT", "PATCH", "DELETE", "GET"):
            method = override.upper()
    req = Req(
        method=method,
        route=route_path[len("/wc/v3") :],
        raw_path=scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0],
        query=query,
        query_pairs=parse_qsl(qs, keep_blank_values=True),
        headers=headers,
        body=body,
        https=scope.get("scheme") == "https",
    )
    key, auth_error = authenticate(st, req, scope["method"].upper())
    if auth_error is not None:
        raise auth_error
    for route in routes:
        m = route.pattern.match(req.route)
        if not m:
            continue
        req.params = m.groupdict()
        if method == "OPTIONS":
            return _options(route)
        if method == "HEAD" and "GET" in route.handlers:
            method = "GET"
        if method not in route.handlers:
            break
        handler, perm = route.handlers[method]
        if route.list_kind and method == "GET":
            req.args = validate_args(collection_args(route.list_kind), req.query, gmt_offset=st.gmt_offset)
        if perm != "public":
            check_permission(key, perm, method)
        result = handler(req)
        if asyncio.iscoroutine(result):
            result = await result
        return result  # type: ignore[no-any-return]  # handlers are sync or async, both answer a Response
    raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)


def _options(route: Route) -> Response:
    methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in route.handlers]
    endpoints = []
    for m in methods:
        if m == "GET" and route.list_kind:
            args = collection_args(route.list_kind)
        elif m == "GET":
            args = item_args(route.schema or "")
        elif route.schema and m in ("POST", "PUT", "PATCH"):
            props = SCHEMAS[route.schema]["properties"]
            args = {
                k: {kk: vv for kk, vv in v.items() if kk != "context"} | {"required": False}
                for k, v in props.items()
                if not v.get("readonly")
            }
        else:
            args = {
                "force": {
                    "type": "boolean",
                    "default": False,
                    "description": "Whether to bypass trash and force deletion.",
                    "required": False,
                }
            }
        endpoints.append({"methods": [m], "args": args})
    data: dict[str, Any] = {"namespace": "wc/v3", "methods": methods, "endpoints": endpoints}
    if route.schema:
        data["schema"] = SCHEMAS[route.schema]
    return json_response(data, headers={"Allow": ", ".join(methods)})


def _wp_root(st: Store) -> dict[str, Any]:
    return {
        "name": "Sandbox Store",
        "description": "A WooCommerce stand-in",
        "url": st.base_url,
        "home": st.base_url,
        "gmt_offset": str(st.gmt_offset).rstrip("0").rstrip(".") or "0",
        "timezone_string": "",
        "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wp/v2"],
        "authentication": [],
        "routes": {},
    }
