"""Fixtures for the client tests: a fake WooCommerce store behind MockTransport or real HTTP.

`FakeStore` answers like WooCommerce does (pagination headers, batch shape, error shape) and
checks credentials the way WooCommerce does: Basic or query-string keys over https, OAuth 1.0a
over http, verified with an implementation written here independently of `clients/`
(including the 15-minute nonce replay check). The same store can sit behind
`httpx.MockTransport` or a real threaded HTTP server on 127.0.0.1 (`live_store`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from clients import RetryPolicy, reset_shared_state

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
FAST = RetryPolicy(max_retries=3, base_delay=0.0, jitter=0.0)

# Test modules import the fakes by this name (conftest itself is not importable under
# --import-mode=importlib, and a unique name cannot collide with other test folders).
sys.modules.setdefault("clients_fakes", sys.modules[__name__])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _fresh_shared_state() -> Iterator[None]:
    """Breakers and limiters are process-wide: start every test with none."""
    reset_shared_state()
    yield
    reset_shared_state()


def php_oauth_signature(method: str, url: str, params: dict[str, str], secret: str) -> str:
    """WooCommerce's check_oauth_signature, ported line by line (flat params only)."""

    def rawurlencode(s: str) -> str:
        return quote(s, safe="").replace("%7E", "~")

    params = {k: v for k, v in params.items() if k != "oauth_signature"}
    keys = sorted(params, key=lambda k: k.encode())  # uksort($params, 'strcmp')
    normalized = [(rawurlencode(k), rawurlencode(params[k])) for k in keys]
    query_string = "%26".join(rawurlencode(f"{k}={v}") for k, v in normalized)
    string_to_sign = f"{method}&{rawurlencode(url)}&{query_string}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def wc_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"code": code, "message": message, "data": {"status": status}}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class FakeStore:
    """A WooCommerce store in memory, speaking the wc/v3 wire protocol."""

    products: int = 250
    key: str = KEY
    secret: str = SECRET
    home: str | None = None  # the site's home URL for OAuth (default: what the request names)
    latency: float = 0.0
    items: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[httpx.Response | Exception] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0
    batch_sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i in range(1, self.products + 1):
            self.items[i] = {"id": i, "name": f"Product {i}", "regular_price": f"{i}.00"}

    # -- transports

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return self.respond(request)
        finally:
            self.in_flight -= 1

    def respond(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            fault = self.faults.pop(0)
            if isinstance(fault, Exception):
                raise fault
            return fault
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        return self.route(request)

    # -- auth, as WC_REST_Authentication does it

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        query = dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        if request.url.scheme == "https":
            if query.get("consumer_key") and query.get("consumer_secret"):
                key, secret = query["consumer_key"], query["consumer_secret"]
            else:
                header = request.headers.get("authorization", "")
                if not header.startswith("Basic "):
                    return wc_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            if key != self.key:
                return wc_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
            if secret != self.secret:
                return wc_error(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
            return None
        if "oauth_signature" not in query:
            return wc_error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if query.get("oauth_consumer_key") != self.key:
            return wc_error(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        home = self.home or f"{request.url.scheme}://{request.url.netloc.decode()}"
        url = home + request.url.path
        expected = php_oauth_signature(request.method, url, query, self.secret)
        if not hmac.compare_digest(expected, query["oauth_signature"]):
            return wc_error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        if abs(int(query["oauth_timestamp"]) - time.time()) > 15 * 60:
            return wc_error(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        if query["oauth_nonce"] in self.nonces:
            return wc_error(
                401,
                "woocommerce_rest_authentication_error",
                "Invalid nonce - nonce has already been used.",
            )
        self.nonces.add(query["oauth_nonce"])
        return None

    # -- routes

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        prefix = "/wp-json/wc/v3"
        if not path.startswith(prefix):
            return httpx.Response(404, text="<html><body>Not Found</body></html>")
        route = path[len(prefix) :].strip("/")
        if route == "":
            return httpx.Response(200, json={"namespace": "wc/v3", "routes": {"/wc/v3": {}}})
        if route == "system_status":
            return httpx.Response(200, json={"environment": {"version": "9.9.9"}})
        if route == "products" and request.method == "GET":
            return self.list_products(request)
        if route == "products/batch" and request.method == "POST":
            return self.batch(json.loads(request.content))
        if route.startswith("products/") and route[9:].isdigit():
            item = self.items.get(int(route[9:]))
            if item is None:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            return httpx.Response(200, json=item)
        return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def list_products(self, request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", 1))
        per_page = int(request.url.params.get("per_page", 10))
        if not 1 <= per_page <= 100:
            return wc_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        ids = sorted(self.items)
        chunk = [self.items[i] for i in ids[(page - 1) * per_page : page * per_page]]
        pages = -(-len(ids) // per_page)
        headers = {"X-WP-Total": str(len(ids)), "X-WP-TotalPages": str(pages)}
        return httpx.Response(200, json=chunk, headers=headers)

    def batch(self, body: dict[str, list[Any]]) -> httpx.Response:
        size = sum(len(body.get(op, [])) for op in ("create", "update", "delete"))
        self.batch_sizes.append(size)
        if size > 100:
            return wc_error(
                413,
                "woocommerce_rest_request_entity_too_large",
                "Unable to accept more than 100 items for this request.",
            )
        answer: dict[str, list[Any]] = {}
        for item in body.get("create", []):
            if not item.get("name"):
                answer.setdefault("create", []).append(
                    {
                        "id": 0,
                        "error": {
                            "code": "woocommerce_rest_missing_name",
                            "message": "Name is required.",
                            "data": {"status": 400},
                        },
                    }
                )
                continue
            new_id = max(self.items, default=0) + 1
            self.items[new_id] = {"id": new_id, **item}
            answer.setdefault("create", []).append(self.items[new_id])
        for item in body.get("update", []):
            if item["id"] not in self.items:
                answer.setdefault("update", []).append(
                    {
                        "id": item["id"],
                        "error": {
                            "code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 400},
                        },
                    }
                )
                continue
            self.items[item["id"]].update(item)
            answer.setdefault("update", []).append(self.items[item["id"]])
        for item_id in body.get("delete", []):
            gone = self.items.pop(item_id, None)
            if gone is None:
                answer.setdefault("delete", []).append(
                    {
                        "id": item_id,
                        "error": {
                            "code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 404},
                        },
                    }
                )
            else:
                answer.setdefault("delete", []).append(gone)
        return httpx.Response(200, json=answer)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


class _Handler(BaseHTTPRequestHandler):
    store: FakeStore
    behaviour: dict[str, Any]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _serve(self) -> None:
        mode = self.behaviour.get("mode")
        if mode == "hang":
            time.sleep(self.behaviour.get("delay", 1.0))
        if mode == "drop":
            self.connection.close()
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host")
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=list(self.headers.items()),
            content=body,
        )
        response = self.store.respond(request)
        payload = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


@dataclass
class LiveStore:
    """A FakeStore served over real HTTP on 127.0.0.1."""

    store: FakeStore
    url: str
    behaviour: dict[str, Any]


@pytest.fixture
def live_store() -> Iterator[LiveStore]:
    store = FakeStore(products=30)
    behaviour: dict[str, Any] = {}
    handler = type("Handler", (_Handler,), {"store": store, "behaviour": behaviour})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LiveStore(store, f"http://127.0.0.1:{server.server_address[1]}", behaviour)
    finally:
        server.shutdown()
        server.server_close()
