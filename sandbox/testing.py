"""Helpers other test suites can reuse: OAuth 1.0a signing for httpx and a webhook receiver.

    with run_sandbox(products=20) as sb, WebhookReceiver() as rx:
        client = woocommerce_client(sb)          # httpx.Client signing OAuth1 (http) or Basic (https)
        client.post("/webhooks", json={"topic": "product.updated", "delivery_url": rx.url})
        ...
        rx.wait_for(2)                           # the ping + one delivery

The OAuth signer is written from RFC 5849 and WooCommerce's documentation, independently of the
stand-in's verifier, so a test that passes through both says the two agree with the spec.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import socket
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import httpx
import uvicorn

__all__ = [
    "OAuth1",
    "ReceivedRequest",
    "WebhookReceiver",
    "oauth1_sign",
    "verify_webhook_signature",
    "woocommerce_client",
]


def _enc(s: str) -> str:
    return quote(s, safe="-._~")


def oauth1_sign(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    params: list[tuple[str, str]] | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
    signature_method: str = "HMAC-SHA256",
) -> list[tuple[str, str]]:
    """Query parameters (request params + oauth_*) for a one-legged OAuth 1.0a request to `url`."""
    parts = urlsplit(url)
    base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    pairs = list(parse_qsl(parts.query, keep_blank_values=True)) + list(params or [])
    oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_timestamp", str(int(time.time()) if timestamp is None else timestamp)),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_signature_method", signature_method),
    ]
    signed: dict[str, str] = {}  # what PHP's $_GET holds: last value wins, `a[]` numbered a[0], a[1]
    counters: dict[str, int] = {}
    for k, v in pairs + oauth:
        if k.endswith("[]"):
            n = counters.get(k, 0)
            counters[k] = n + 1
            k = f"{k[:-2]}[{n}]"
        signed[k] = v
    normalized = sorted((_enc(k), _enc(v)) for k, v in signed.items())
    param_string = "%26".join(_enc(f"{k}={v}") for k, v in normalized)
    base = f"{method.upper()}&{_enc(base_url)}&{param_string}"
    algo = hashlib.sha1 if signature_method == "HMAC-SHA1" else hashlib.sha256
    digest = hmac.new(f"{consumer_secret}&".encode(), base.encode(), algo).digest()
    sent = [(k, v) for k, v in pairs] + oauth
    return sent + [("oauth_signature", base64.b64encode(digest).decode())]


class OAuth1(httpx.Auth):
    """httpx auth that signs each request with WooCommerce's one-legged OAuth 1.0a (query string)."""

    def __init__(self, consumer_key: str, consumer_secret: str, **kwargs: Any) -> None:
        self.consumer_key, self.consumer_secret, self.kwargs = consumer_key, consumer_secret, kwargs

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = str(request.url.copy_with(query=None))
        pairs = list(parse_qsl(request.url.query.decode(), keep_blank_values=True))
        signed = oauth1_sign(
            request.method,
            url,
            self.consumer_key,
            self.consumer_secret,
            params=pairs,
            **self.kwargs,
        )
        request.url = request.url.copy_with(params=signed)
        yield request


def woocommerce_client(sb: Any, *, key: str = "consumer_key", **kwargs: Any) -> httpx.Client:
    """An httpx client on the sandbox's WooCommerce API, authenticated as a real client would be."""
    creds = sb.credentials["woocommerce"]
    secret_name = key.replace("key", "secret")
    base = sb.urls["woocommerce"] + "/wp-json/wc/v3"
    if base.startswith("https"):
        auth: httpx.Auth = httpx.BasicAuth(creds[key], creds[secret_name])
        kwargs.setdefault("verify", sb.ssl_context())
    else:
        auth = OAuth1(creds[key], creds[secret_name])
    return httpx.Client(base_url=base, auth=auth, **kwargs)


def verify_webhook_signature(body: bytes, secret: str, signature: str) -> bool:
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""  # the raw query string (signatures such as Twilio's cover the full URL)


@dataclass
class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that records what it receives and answers `status`.

    `status` may be an int or a callable taking the request and returning an int.
    """

    status: int | Callable[[ReceivedRequest], int] = 200
    received: list[ReceivedRequest] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        req = ReceivedRequest(
            scope["method"],
            scope["path"],
            {k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body,
            scope.get("query_string", b"").decode("latin-1"),
        )
        code = self.status(req) if callable(self.status) else self.status
        with self._cond:
            self.received.append(req)
            self._cond.notify_all()
        await send({"type": "http.response.start", "status": code, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def __enter__(self) -> WebhookReceiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
        config = uvicorn.Config(
            self._app, log_level="warning", lifespan="off", access_log=False, interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        server = self._server
        self._thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until `n` requests have arrived (or raise TimeoutError)."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= n, timeout):
                raise TimeoutError(f"expected {n} requests, got {len(self.received)}")
            return list(self.received)
