"""What every stand-in shares: fault injection, request statistics, delivery log and admin endpoints.

A stand-in is a `Service`: a vendor ASGI app (the real wire protocol, under the vendor's paths) plus admin
routes under `/_sandbox/...`. `Service.asgi()` composes them:

    /_sandbox/...      admin and inspection (never faulted, never counted, no vendor auth)
    everything else    FaultMiddleware -> the vendor app

The admin routes mint keys and show webhook secrets, so they answer loopback clients only, unless the
service has an admin token: then every admin request must send `Authorization: Bearer <token>`
(compared in constant time), from anywhere, loopback included.

Faults are decided per request in this order: scripted outcomes (`script`, consumed one per request),
the concurrency cap (queue), rate limit (429 + Retry-After), drop, error rate (500/502/503), latency, slow.
Randomness comes from a seeded RNG so a faulted run is reproducible request-for-request.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import math
import random
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox._delivery import Courier, DeliveryLog
from sandbox.answer_key import answer_key_route
from sandbox.world import World, build_world

__all__ = [
    "ADMIN_PREFIX",
    "AdminRoutes",
    "DeliveryLog",
    "FaultMiddleware",
    "Faults",
    "Service",
    "Stats",
    "admin_json",
    "is_loopback_host",
    "read_body",
    "read_json",
    "read_object",
    "ReceivedLog",
    "request_headers",
    "validate_admin_token",
]

ADMIN_PREFIX = "/_sandbox"
ADMIN_TOKEN_ENV = "NXT_SANDBOX_ADMIN_TOKEN"
ADMIN_TOKEN_MIN = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: fits a Bearer header as is

# What the host in front of a PHP site sends when things go wrong (nginx defaults).
_NGINX = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def nginx_page(code: int) -> tuple[str, bytes]:
    return "text/html", _NGINX.format(code=code, reason=_REASONS.get(code, "Error")).encode()


def cloudflare_page(code: int) -> tuple[str, bytes]:
    body = (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head><title>{host} | {code}: {reason}</title></head>\n'
        '<body><div id="cf-wrapper"><h1><span>{reason}</span> '
        '<span class="code-label">Error code {code}</span></h1>'
        '<p>Visit <a href="https://www.cloudflare.com/5xx-error-landing">cloudflare.com</a> '
        "for more information.</p></div></body>\n</html>\n"
    ).format(host="127.0.0.1", code=code, reason=_REASONS.get(code, "Error"))
    return "text/html; charset=UTF-8", body.encode()


ErrorPage = Callable[[int], tuple[str, bytes]]


@dataclass
class Faults:
    """Faults for one service. All off by default; every field can be changed at runtime.

    - `latency_ms` (+ uniform `jitter_ms`): added to every vendor request with `asyncio.sleep`.
    - `error_rate`: share of requests answered with one of `error_statuses` and the host's body.
    - `rate_limit_rpm`: requests per rolling minute; past it, 429 with `Retry-After` (seconds).
    - `slow_rate`/`slow_ms`: share of requests held `slow_ms` before answering (past a client timeout).
    - `drop_rate`: share of requests whose connection is closed with no response at all.
    - `max_concurrency`: requests served at once; the rest wait in line (like PHP-FPM workers).
    - `script`: outcomes for the next requests, consumed one per request: an HTTP status (500, 502, 503,
      429), "drop", "slow" or "ok". Deterministic faults for tests.
    - `paths`: if set, faults apply only to request paths containing one of these substrings.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    rate_limit_rpm: int = 0
    slow_rate: float = 0.0
    slow_ms: float = 30_000.0
    drop_rate: float = 0.0
    max_concurrency: int = 0
    script: list[int | str] = field(default_factory=list)
    paths: tuple[str, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        self.error_statuses = tuple(int(s) for s in self.error_statuses)
        self.paths = tuple(self.paths)
        self.script = list(self.script)
        self.validate()

    def validate(self) -> None:
        for name in ("latency_ms", "jitter_ms", "slow_ms"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("error_rate", "slow_rate", "drop_rate"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.rate_limit_rpm < 0 or self.max_concurrency < 0:
            raise ValueError("rate_limit_rpm and max_concurrency must be >= 0")
        for s in self.error_statuses:
            if not 400 <= s <= 599:
                raise ValueError(f"error status {s} is not an HTTP error status")
        for item in self.script:
            if not (isinstance(item, int) and 200 <= item <= 599) and item not in ("drop", "slow", "ok"):
                raise ValueError(f"script item {item!r}: use an HTTP status, 'drop', 'slow' or 'ok'")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, base: Faults | None = None) -> Faults:
        """Build from JSON; unknown keys are refused so a typo does not silently do nothing."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        merged = asdict(base) if base is not None else {}
        merged.update(data)
        try:
            return cls(**merged)
        except (TypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["error_statuses"] = list(self.error_statuses)
        d["paths"] = list(self.paths)
        return d


class Stats:
    """Request counts by path and status, requests in flight and the most at once."""

    def __init__(self, recent: int = 20_000) -> None:
        self._recent_size = recent
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.by_path_status: Counter[tuple[str, int]] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=self._recent_size)
        self.started = time.time()

    def begin(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, method: str, path: str, query: str, status: int, fault: str = "") -> None:
        self.in_flight -= 1
        self.total += 1
        self.by_path[path] += 1
        self.by_status[status] += 1
        self.by_path_status[(path, status)] += 1
        if fault:
            self.faults[fault] += 1
        self.recent.append({"method": method, "path": path, "query": query, "status": status, "fault": fault})

    def to_dict(self, *, recent: bool = False) -> dict[str, Any]:
        by_path_status: dict[str, dict[str, int]] = {}
        for (path, status), n in sorted(self.by_path_status.items()):
            by_path_status.setdefault(path, {})[str(status)] = n
        out: dict[str, Any] = {
            "total": self.total,
            "by_path": dict(sorted(self.by_path.items())),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_path_status": by_path_status,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "faults": dict(self.faults),
        }
        if recent:
            out["recent"] = list(self.recent)
        return out


class _Drop(Exception):
    pass


def _abort_connection(send: Send) -> bool:
    """Close the TCP connection under this request with no response (uvicorn's protocol objects)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort()
    # Tell uvicorn the peer is gone so it neither logs nor tries to send a 500 on a dead socket.
    cycle.disconnected = True  # type: ignore[union-attr]
    return True


class FaultMiddleware:
    """Applies a service's `Faults` to its vendor paths and records `Stats`."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service
        self._hits: deque[float] = deque()
        self._sem: asyncio.Semaphore | None = None
        self._sem_size = 0

    def _semaphore(self, size: int) -> asyncio.Semaphore | None:
        if size <= 0:
            return None
        if self._sem is None or self._sem_size != size:
            self._sem, self._sem_size = asyncio.Semaphore(size), size
        return self._sem

    def _rate_limited(self, rpm: int, now: float) -> int:
        """Seconds to wait if the rolling minute is full, else 0 (and the hit is counted)."""
        hits = self._hits
        while hits and hits[0] <= now - 60.0:
            hits.popleft()
        if len(hits) >= rpm:
            return max(1, math.ceil(hits[0] + 60.0 - now))
        hits.append(now)
        return 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        svc = self.service
        stats = svc.stats
        path = scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        status_box = [0]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        fault = ""
        f = svc.faults
        applies = not f.paths or any(p in path for p in f.paths)
        sem = self._semaphore(f.max_concurrency) if applies else None
        if sem is not None:
            await sem.acquire()  # waiting in line is not being served: count only after this
        stats.begin()
        try:
            try:
                fault = await self._decide(f, applies) if applies else ""
                if f.latency_ms and applies:
                    jitter = svc.rng.uniform(0, f.jitter_ms) if f.jitter_ms else 0.0
                    await asyncio.sleep((f.latency_ms + jitter) / 1000.0)
                if fault == "drop":
                    if _abort_connection(send):
                        status_box[0] = 0
                        return
                    raise _Drop  # not under uvicorn: fall back to a broken response
                if fault.startswith("status:"):
                    code = int(fault.split(":", 1)[1])
                    await svc.error_response(code, scope)(scope, receive, send_wrapper)
                    return
                if fault.startswith("429:"):
                    retry_after = fault.split(":", 1)[1]
                    resp = svc.rate_limited_response(int(retry_after))
                    await resp(scope, receive, send_wrapper)
                    return
                if fault == "slow":
                    held = await self._hold(receive, f.slow_ms / 1000.0)
                    if held is None:  # the client gave up first: nothing to answer
                        status_box[0] = 0
                        return
                    receive = held
                await self.app(scope, receive, send_wrapper)
            finally:
                if sem is not None:
                    sem.release()
        except _Drop:
            status_box[0] = 0
            raise
        except Exception:  # the sandbox must never crash: answer like the host's PHP would
            svc.log_exception()
            if status_box[0] == 0:
                status_box[0] = 500
                await svc.error_response(500, scope)(scope, receive, send)
        finally:
            stats.end(scope["method"], path, query, status_box[0], fault.split(":")[0])

    @staticmethod
    async def _hold(receive: Receive, seconds: float) -> Receive | None:
        """Hold the request `seconds`, but stop early if the client disconnects (returns None)."""
        messages: list[Message] = []
        while True:
            msg = await receive()
            messages.append(msg)
            if msg["type"] == "http.disconnect":
                return None
            if not msg.get("more_body"):
                break
        sleeper = asyncio.ensure_future(asyncio.sleep(seconds))
        watcher = asyncio.ensure_future(receive())
        await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if watcher.done():
            sleeper.cancel()
            return None
        watcher.cancel()

        async def replay() -> Message:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        return replay

    async def _decide(self, f: Faults, applies: bool) -> str:
        if f.script:
            item = f.script.pop(0)
            if item == "ok":
                return ""
            if item in ("drop", "slow"):
                return str(item)
            if item == 429:
                return "429:1"
            return f"status:{item}"
        rng = self.service.rng
        if f.rate_limit_rpm:
            wait = self._rate_limited(f.rate_limit_rpm, time.monotonic())
            if wait:
                return f"429:{wait}"
        if f.drop_rate and rng.random() < f.drop_rate:
            return "drop"
        if f.error_rate and rng.random() < f.error_rate:
            return f"status:{rng.choice(f.error_statuses)}"
        if f.slow_rate and rng.random() < f.slow_rate:
            return "slow"
        return ""


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client disconnected first."""
    body = bytearray()
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            return bytes(body)


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of a repeated one)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def read_json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    return json.loads(body)


def admin_json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def _admin_error(message: str, status: int = 400, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_object(request: Request) -> dict[str, Any]:
    """An admin request's JSON object (`{}` for no body); anything else is a ValueError (a 400)."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise ValueError("send a JSON object")
    return data


class ReceivedLog:
    """What a stand-in's API received (records with a `kind`), oldest first, for tests and benchmarks that
    count duplicates and losses from the vendor's side."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, kind: str, **fields: Any) -> None:
        self.items.append({"kind": kind, **fields})

    def list(self, *kinds: str | None) -> list[dict[str, Any]]:
        """Copies of the records of these kinds (every record when none is given)."""
        wanted = {k for k in kinds if k is not None}
        return [dict(r) for r in self.items if not wanted or r["kind"] in wanted]

    def __len__(self) -> int:
        return len(self.items)


AdminHandler = Callable[[Request], Awaitable[Any]]
#: A vendor's own errors as an admin answer (`{"error": ..., "code": ...}`), or None for "not mine".
Refusal = Callable[[Exception], Response | None]


class AdminRoutes:
    """A stand-in's admin routes under `/_sandbox<prefix>` (e.g. `/stripe`), in the order they are added.

    A handler returns JSON-able data (or a `Response`). A vendor error is answered by `refusal`; bad
    input that is left (ValueError, KeyError, TypeError) is a 400 `{"error": ...}`, not a crash.

        r = AdminRoutes("/stripe", refusal=_refusal)
        r.get("", info)
        r.received(st.received)
        r.post("/webhooks/flush", flush)
        return r.routes
    """

    def __init__(self, prefix: str, *, refusal: Refusal | None = None) -> None:
        self.prefix = prefix
        self.routes: list[Route] = []
        self._refusal = refusal

    def add(self, path: str, fn: AdminHandler, methods: list[str]) -> None:
        self.routes.append(Route(self.prefix + path, self._wrap(fn), methods=methods))

    def get(self, path: str, fn: AdminHandler) -> None:
        self.add(path, fn, ["GET"])

    def post(self, path: str, fn: AdminHandler) -> None:
        self.add(path, fn, ["POST"])

    def received(self, log: ReceivedLog) -> None:
        """`GET <prefix>/received`: the log, `?kind=` narrowing it (repeated or comma-separated)."""

        async def received(request: Request) -> Any:
            kinds = [k for raw in request.query_params.getlist("kind") for k in raw.split(",") if k]
            return log.list(*kinds)

        self.get("/received", received)

    def _wrap(self, fn: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            try:
                data = await fn(request)
            except Exception as exc:
                refused = self._refusal(exc) if self._refusal is not None else None
                if refused is not None:
                    return refused
                if isinstance(exc, ValueError | KeyError | TypeError):
                    return admin_json({"error": str(exc)}, 400)
                raise
            return data if isinstance(data, Response) else admin_json(data)

        return handler


def validate_admin_token(token: str) -> str:
    """The token if it can guard the admin routes; else ValueError saying what a token must be."""
    if len(token) < ADMIN_TOKEN_MIN or not _TOKEN_CHARS.fullmatch(token):
        raise ValueError(
            f"an admin token needs at least {ADMIN_TOKEN_MIN} characters of A-Z a-z 0-9 - . _ ~ + / "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def is_loopback_host(host: str | None) -> bool:
    """Whether `host` (an address, or `localhost`) can only be reached from this machine."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, credentials = value.strip().partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" else None
    return None


class Service:
    """Base for a stand-in: vendor app + shared admin. Subclasses set `name` and answer `respond()`.

    The constructor wires what every stand-in has: the `world` it serves (a default one when None),
    `faults`, the admin token, request `stats`, the delivery log and the `courier` its webhooks leave
    through (`webhook_timeout`: seconds a receiver has to answer). A subclass builds its state from these
    and hands it the courier.
    """

    name = "service"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        admin_token: str | None = None,
        webhook_timeout: float = 10.0,
    ) -> None:
        # bytes, private, never in a repr or a response: only compared with what a request presents
        self._admin_token = validate_admin_token(admin_token).encode() if admin_token is not None else None
        self.world = world if world is not None else build_world()
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.stats = Stats()
        self.deliveries = DeliveryLog()
        self.courier = Courier(self.deliveries, timeout=webhook_timeout)
        self.base_url = ""  # set by the server once the port is known
        self.errors: list[str] = []

    # --- hooks for subclasses -------------------------------------------------------------------
    def vendor_app(self) -> ASGIApp:
        """The vendor API: reads the whole request body, then answers `respond(scope, body)`.

        A crash is logged (`/_sandbox/errors`) and answered with `crash_response()`; a client that leaves
        before its body arrived gets nothing.
        """

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            body = await read_body(receive)
            if body is None:
                return
            try:
                resp = await self.respond(scope, body)
            except Exception:
                self.log_exception()
                resp = self.crash_response(scope)
            await resp(scope, receive, send)

        return app

    async def respond(self, scope: Scope, body: bytes) -> Response:
        """The vendor's answer to one request (its routes and dispatcher)."""
        raise NotImplementedError

    def crash_response(self, scope: Scope) -> Response:
        """What a request that crashed the stand-in gets: the host's 500 unless the vendor says otherwise."""
        return self.error_response(500, scope)

    def admin_routes(self) -> list[Route]:
        return []

    def credentials(self) -> dict[str, Any]:
        return {}

    def error_page(self, code: int) -> tuple[str, bytes]:
        return nginx_page(code)

    def on_started(self, base_url: str) -> None:
        self.base_url = base_url

    async def on_shutdown(self) -> None:
        await self.courier.shutdown()

    # --- deliveries -------------------------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server's event loop (set by the server): deliveries queued from other threads run there."""
        return self.courier.loop

    @loop.setter
    def loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.courier.loop = loop

    async def flush(self) -> None:
        """Wait until every delivery under way has been attempted (retries on a timer keep waiting)."""
        await self.courier.flush()

    # --- shared -----------------------------------------------------------------------------------
    def log_exception(self) -> None:
        import traceback

        self.errors.append(traceback.format_exc())

    def error_response(self, code: int, scope: Scope) -> Response:
        media, body = self.error_page(code)
        headers = {"Retry-After": "30"} if code == 503 else None
        return Response(body, status_code=code, media_type=media, headers=headers)

    def rate_limited_response(self, retry_after: int) -> Response:
        media, body = nginx_page(429)
        return Response(body, status_code=429, media_type=media, headers={"Retry-After": str(retry_after)})

    def set_faults(self, data: dict[str, Any], *, merge: bool = False) -> Faults:
        self.faults = Faults.from_dict(data, self.faults if merge else None)
        self.rng = random.Random(self.faults.seed)
        return self.faults

    def admin_refusal(self, scope: Scope) -> Response | None:
        """Why this admin request is refused (401/403 JSON), or None to serve it."""
        if self._admin_token is not None:
            presented = _bearer(scope)
            if presented is not None and hmac.compare_digest(presented, self._admin_token):
                return None
            return _admin_error(
                "the sandbox admin endpoints need the admin token: send Authorization: Bearer <token>",
                401,
                headers={"WWW-Authenticate": 'Bearer realm="sandbox admin"'},
            )
        client = scope.get("client")
        if client and is_loopback_host(client[0]):
            return None
        return _admin_error(
            "the sandbox admin endpoints answer loopback clients only; to reach them from another host, "
            f"start the sandbox with --admin-token TOKEN (or {ADMIN_TOKEN_ENV}=TOKEN) "
            "and send Authorization: Bearer TOKEN",
            403,
        )

    def _shared_admin_routes(self) -> list[Route]:
        async def info(request: Request) -> Response:
            return admin_json(
                {
                    "service": self.name,
                    "base_url": self.base_url,
                    "credentials": self.credentials(),
                    "faults": self.faults.to_dict(),
                    "stats": self.stats.to_dict(),
                    "errors": len(self.errors),
                }
            )

        async def stats(request: Request) -> Response:
            if request.method in ("DELETE", "POST"):
                self.stats.reset()
            recent = request.query_params.get("recent") in ("1", "true")
            return admin_json(self.stats.to_dict(recent=recent))

        async def faults(request: Request) -> Response:
            if request.method in ("PUT", "PATCH", "POST"):
                try:
                    data = await read_json(request)
                    if not isinstance(data, dict):
                        raise ValueError("send a JSON object of fault settings")
                    self.set_faults(data, merge=request.method == "PATCH")
                except ValueError as exc:
                    return _admin_error(str(exc))
            elif request.method == "DELETE":
                self.set_faults({})
            return admin_json(self.faults.to_dict())

        async def deliveries(request: Request) -> Response:
            if request.method == "DELETE":
                self.deliveries.clear()
            return admin_json(list(self.deliveries.items))

        async def errors(request: Request) -> Response:
            return admin_json(self.errors)

        any_method = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [
            Route("/", info, methods=["GET"]),
            Route("/stats", stats, methods=["GET", "DELETE"]),
            Route("/stats/reset", stats, methods=["POST"]),
            Route("/faults", faults, methods=any_method),
            Route("/deliveries", deliveries, methods=["GET", "DELETE"]),
            Route("/errors", errors, methods=["GET"]),
            answer_key_route(self.world),
        ]

    def asgi(self) -> ASGIApp:
        """The whole app: admin under /_sandbox, the faulted vendor app everywhere else."""
        admin = Router(routes=self._shared_admin_routes() + self.admin_routes())
        vendor = FaultMiddleware(self.vendor_app(), self)
        prefix = ADMIN_PREFIX

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "lifespan":
                await _lifespan(self, receive, send)
                return
            path: str = scope.get("path", "")
            if path == prefix or path.startswith(prefix + "/"):
                refusal = self.admin_refusal(scope)
                if refusal is not None:
                    await refusal(scope, receive, send)
                    return
                sub = dict(scope)
                sub["path"] = path[len(prefix) :] or "/"
                sub["root_path"] = scope.get("root_path", "") + prefix
                try:
                    await admin(sub, receive, send)
                except Exception as exc:  # admin bugs must not take the server down either
                    self.log_exception()
                    await _admin_error(f"admin error: {exc}", 500)(scope, receive, send)
                return
            await vendor(scope, receive, send)

        return app


async def _lifespan(service: Service, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            try:
                await service.on_shutdown()
            finally:
                await send({"type": "lifespan.shutdown.complete"})
            return


Handler = Callable[[Request], Awaitable[Response]]
