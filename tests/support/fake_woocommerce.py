"""A fake WooCommerce store for client tests, behind MockTransport or a real server on 127.0.0.1.

`FakeStore` answers like WooCommerce does (pagination headers, `include`, `status` with WordPress's
"any leaves out trash", `_fields`, per-id 404 codes, batch shape, error shape) and checks
credentials the way WooCommerce does: Basic or query-string keys over https, OAuth 1.0a over http,
verified with an implementation written here independently of `clients/` (including the 15-minute
nonce replay check).

`LiveServer` serves a store over real HTTP on 127.0.0.1 from a thread, with misbehaviours a real
network has: hanging, dropping the connection, trickling a body, an endless or oversized body, and
replaced headers.

Imported by name (`from fake_woocommerce import ...`): `tests/support` is on pytest's `pythonpath`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx

from clients import RetryPolicy

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_fedcba9876543210fedcba9876543210fedcba98"
FAST = RetryPolicy(max_retries=3, base_delay=0.0, jitter=0.0)
# How long a gated request waits for its companions before the test fails instead of hanging.
GATE_GUARD_S = 10.0

PREFIX = "/wp-json/wc/v3"
# The 404 code WooCommerce sends for an id that does not exist, per collection.
INVALID_ID = {
    "products": "woocommerce_rest_product_invalid_id",
    "orders": "woocommerce_rest_shop_order_invalid_id",
    "customers": "woocommerce_rest_invalid_id",
    "variations": "woocommerce_rest_product_variation_invalid_id",
}


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


class Gate:
    """Holds requests until `size` are in flight at once, then lets every request through.

    Proves concurrency without sleeps: if the client never has `size` requests in flight, the
    held ones fail after `GATE_GUARD_S` instead of passing by luck of timing. The first `skip`
    requests pass at once (e.g. the first page, which a paged read fetches on its own).
    """

    def __init__(self, size: int, *, skip: int = 0) -> None:
        self.size = size
        self.skip = skip
        self.open = asyncio.Event()

    async def wait(self, in_flight: int) -> None:
        if self.skip > 0:
            self.skip -= 1
            return
        if in_flight >= self.size:
            self.open.set()
        try:
            await asyncio.wait_for(self.open.wait(), GATE_GUARD_S)
        except TimeoutError:
            raise AssertionError(f"never {self.size} requests in flight at once") from None


@dataclass
class FakeStore:
    """A WooCommerce store in memory, speaking the wc/v3 wire protocol."""

    products: int = 250
    key: str = KEY
    secret: str = SECRET
    home: str | None = None  # the site's home URL for OAuth (default: what the request names)
    items: dict[int, dict[str, Any]] = field(default_factory=dict)  # products by id
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    variations: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)  # by parent
    requests: list[httpx.Request] = field(default_factory=list)
    faults: list[httpx.Response | Exception] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    in_flight: int = 0
    max_in_flight: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    gate: Gate | None = None  # when set, requests wait at the gate (see `Gate`)
    extra_headers: dict[str, str] = field(default_factory=dict)  # sent on every listing

    def __post_init__(self) -> None:
        for i in range(1, self.products + 1):
            self.items[i] = {"id": i, "name": f"Product {i}", "regular_price": f"{i}.00", "status": "publish"}

    # -- transports

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait(self.in_flight)
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

    def collection(self, route: str) -> tuple[str, dict[int, dict[str, Any]]] | None:
        """(kind, records) for a collection route, e.g. "orders" or "products/7/variations"."""
        parts = route.split("/")
        if route in ("products", "orders", "customers"):
            return route, {"products": self.items, "orders": self.orders, "customers": self.customers}[route]
        if len(parts) == 3 and parts[0] == "products" and parts[1].isdigit() and parts[2] == "variations":
            return "variations", self.variations.setdefault(int(parts[1]), {})
        return None

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if not path.startswith(PREFIX):
            return httpx.Response(404, text="<html><body>Not Found</body></html>")
        route = path[len(PREFIX) :].strip("/")
        if route == "":
            return httpx.Response(200, json={"namespace": "wc/v3", "routes": {"/wc/v3": {}}})
        if route == "system_status":
            return httpx.Response(200, json={"environment": {"version": "9.9.9"}})
        if route == "products/batch" and request.method == "POST":
            return self.batch(json.loads(request.content))
        found = self.collection(route)
        if found is not None and request.method == "GET":
            return self.listing(request, *found)
        head, _, last = route.rpartition("/")
        found = self.collection(head)
        if found is not None and last.isdigit() and request.method == "GET":
            kind, records = found
            item = records.get(int(last))
            if item is None:
                return wc_error(404, INVALID_ID[kind], "Invalid ID.")
            return httpx.Response(200, json=item)
        return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")

    def listing(
        self, request: httpx.Request, kind: str, records: dict[int, dict[str, Any]]
    ) -> httpx.Response:
        params = request.url.params
        page = int(params.get("page", 1))
        per_page = int(params.get("per_page", 10))
        if not 1 <= per_page <= 100:
            return wc_error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        chosen = sorted(records)
        if params.get("include"):
            wanted = {int(i) for i in params["include"].split(",")}
            chosen = [i for i in chosen if i in wanted]
        if kind in ("products", "orders"):
            # WordPress: "any" (the default) leaves trash out, and an "any" in a list wins.
            statuses = set(params.get("status", "any").split(","))
            if "any" in statuses:
                chosen = [i for i in chosen if records[i].get("status") != "trash"]
            else:
                chosen = [i for i in chosen if records[i].get("status") in statuses]
        rows = [records[i] for i in chosen[(page - 1) * per_page : page * per_page]]
        if params.get("_fields"):
            keep = params["_fields"].split(",")
            rows = [{k: row.get(k) for k in keep if k in row} for row in rows]
        pages = -(-len(chosen) // per_page)
        headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages), **self.extra_headers}
        return httpx.Response(200, json=rows, headers=headers)

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


# --------------------------------------------------------------------------------------------
# A real server on 127.0.0.1


class _Handler(BaseHTTPRequestHandler):
    store: FakeStore
    behaviour: dict[str, Any]
    release: threading.Event
    served: list[str]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _serve(self) -> None:
        self.served.append(self.path)
        mode = self.behaviour.get("mode")
        if mode == "hang":
            self.release.wait()  # until the test ends: the client's timeout must fire first
            return
        if mode == "drop":
            self.connection.close()
            return
        if mode == "trickle":
            self._trickle()
            return
        if mode == "endless":
            self._endless()
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
        skip = ("content-length", "connection")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in skip}
        headers.update(self.behaviour.get("headers", {}))
        self.send_response(response.status_code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(self.behaviour.get("content_length", len(payload))))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client may hang up after the headers
            self.wfile.write(payload)

    def _trickle(self) -> None:
        """Headers at once, then one byte of a never-ending body every `interval` seconds."""
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "1000000")
        self.end_headers()
        interval = self.behaviour.get("interval", 0.02)
        with contextlib.suppress(OSError):
            self.wfile.write(b"[")
            self.wfile.flush()
            while not self.release.wait(interval):
                self.wfile.write(b" ")
                self.wfile.flush()

    def _endless(self) -> None:
        """A chunked body (no content-length) that never ends, as fast as the client reads."""
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        chunk = b" " * 65536
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        with contextlib.suppress(OSError):
            while not self.release.is_set():
                self.wfile.write(frame)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _serve


@dataclass
class LiveServer:
    """A FakeStore served over real HTTP on 127.0.0.1.

    Attributes:
        store: The store behind it.
        url: `http://127.0.0.1:<port>`.
        behaviour: What the server does, changeable during a test: `mode` ("hang", "drop",
            "trickle" with `interval`, "endless"), `headers` (replacing the store's), and
            `content_length` (announced instead of the real one).
        served: Request paths received, in order (every attempt, whatever the mode).
    """

    store: FakeStore
    url: str
    behaviour: dict[str, Any]
    served: list[str]


@contextlib.contextmanager
def live_server(store: FakeStore) -> Iterator[LiveServer]:
    """Serve `store` on 127.0.0.1 until the block ends; hanging handlers are released then."""
    behaviour: dict[str, Any] = {}
    release = threading.Event()
    served: list[str] = []
    attrs = {"store": store, "behaviour": behaviour, "release": release, "served": served}
    handler = type("Handler", (_Handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LiveServer(store, f"http://127.0.0.1:{server.server_address[1]}", behaviour, served)
    finally:
        release.set()
        server.shutdown()
        server.server_close()
