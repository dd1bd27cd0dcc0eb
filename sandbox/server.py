"""Run stand-ins in-process: uvicorn on 127.0.0.1 in a background thread, one port per service.

    with run_sandbox(services=("woocommerce",), products=50, customers=20, orders=80, seed=7) as sb:
        sb.urls["woocommerce"]          # site URL; the API is under /wp-json/wc/v3
        sb.credentials["woocommerce"]   # consumer_key, consumer_secret, webhook_secret, ...
        sb.woocommerce.touch("product", [12])   # thread-safe via sb.call(...) for bulk edits

All services run on one event loop in one thread (they are I/O bound; this keeps start-up cheap).
With `tls=True` each port serves HTTPS with a certificate from a throwaway CA (trustme); `sb.ca_file`
is the CA bundle a client must trust.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from sandbox._framework import ADMIN_PREFIX, Faults, Service, validate_admin_token
from sandbox.authorizenet import AuthorizeNetService
from sandbox.paypal import PayPalService
from sandbox.sendgrid import SendGridService
from sandbox.square import SquareService
from sandbox.stripe import StripeService
from sandbox.twilio import TwilioService
from sandbox.woocommerce import WooCommerceService
from sandbox.world import (
    DEFAULT_CONTACT_FLAG_RATE,
    DEFAULT_DISCREPANCY_RATE,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_VARIABLE_SHARE,
    World,
    build_world,
)

__all__ = ["SERVICES", "Sandbox", "current_minute", "run_sandbox", "start_sandbox"]

T = TypeVar("T")

#: Stand-ins this build knows. The gateways and providers join as their issues land.
SERVICES: dict[str, Callable[..., Service]] = {
    "woocommerce": WooCommerceService,
    "stripe": StripeService,
    "paypal": PayPalService,
    "square": SquareService,
    "authorizenet": AuthorizeNetService,
    "twilio": TwilioService,
    "sendgrid": SendGridService,
}

FaultSpec = Faults | Mapping[str, Any] | None


def current_minute() -> int:
    """Now, in epoch seconds rounded down to the minute: the default end of the world's history."""
    return int(time.time()) // 60 * 60


class Sandbox:
    """A running sandbox: URLs, credentials, the shared world and each service object."""

    def __init__(self, world: World, services: dict[str, Service], *, tls: bool, host: str) -> None:
        self.world = world
        self.services = services
        self.tls = tls
        self.host = host
        self.ca_file: str | None = None
        self.urls: dict[str, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.startup_seconds = 0.0

    # --- access ----------------------------------------------------------------------------------
    @property
    def woocommerce(self) -> WooCommerceService:
        svc = self.services["woocommerce"]
        assert isinstance(svc, WooCommerceService)
        return svc

    @property
    def stripe(self) -> StripeService:
        svc = self.services["stripe"]
        assert isinstance(svc, StripeService)
        return svc

    @property
    def square(self) -> SquareService:
        svc = self.services["square"]
        assert isinstance(svc, SquareService)
        return svc

    @property
    def twilio(self) -> TwilioService:
        svc = self.services["twilio"]
        assert isinstance(svc, TwilioService)
        return svc

    @property
    def sendgrid(self) -> SendGridService:
        svc = self.services["sendgrid"]
        assert isinstance(svc, SendGridService)
        return svc

    @property
    def paypal(self) -> PayPalService:
        svc = self.services["paypal"]
        assert isinstance(svc, PayPalService)
        return svc

    @property
    def authorizenet(self) -> AuthorizeNetService:
        svc = self.services["authorizenet"]
        assert isinstance(svc, AuthorizeNetService)
        return svc

    @property
    def credentials(self) -> dict[str, dict[str, Any]]:
        return {name: svc.credentials() for name, svc in self.services.items()}

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting the sandbox CA (None when serving plain HTTP)."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None

    def admin_url(self, service: str = "woocommerce") -> str:
        return self.urls[service] + ADMIN_PREFIX

    def describe(self) -> dict[str, Any]:
        """What `nxt sandbox up --json` prints: each service's base URL and credentials."""
        out: dict[str, Any] = {}
        for name, svc in self.services.items():
            entry: dict[str, Any] = {"base_url": self.urls[name], "admin_url": self.admin_url(name)}
            entry.update(svc.credentials())
            if name == "woocommerce":
                entry["api_url"] = self.urls[name] + "/wp-json/wc/v3"
            if name == "authorizenet":
                entry["api_url"] = self.urls[name] + "/xml/v1/request.api"
            if self.ca_file:
                entry["ca_file"] = self.ca_file
            out[name] = entry
        return out

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` on the server's loop (thread-safe world edits from a test thread)."""
        assert self._loop is not None

        async def run() -> T:
            result = fn(*args, **kwargs)
            if asyncio.iscoroutine(result):
                result = await result
            return result  # type: ignore[no-any-return]

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=60)

    def set_faults(self, service: str = "woocommerce", **settings: Any) -> Faults:
        """Replace a service's faults (keyword arguments as in `Faults`)."""
        return self.call(self.services[service].set_faults, settings)

    def flush_webhooks(self) -> None:
        """Block until every queued webhook delivery (of every service that sends them) was attempted."""
        for svc in self.services.values():
            flush = getattr(svc, "flush", None)
            if flush is not None:
                self.call(flush)

    # --- lifecycle -------------------------------------------------------------------------------
    def _bind(self, port: int) -> socket.socket:
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP, and
        # without it Nagle + delayed ACK add ~40 ms to every response.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(2048)
        sock.setblocking(False)
        return sock

    def start(self, *, port: int = 0, timeout: float = 30.0) -> None:
        t0 = time.perf_counter()
        ssl_kwargs: dict[str, Any] = {}
        if self.tls:
            import trustme

            self._tmp = tempfile.TemporaryDirectory(prefix="nxt-sandbox-")
            tmp = Path(self._tmp.name)
            ca = trustme.CA()
            cert = ca.issue_cert(self.host, "localhost", "127.0.0.1")
            ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
            cert.private_key_pem.write_to_path(str(tmp / "key.pem"))
            cert.cert_chain_pems[0].write_to_path(str(tmp / "cert.pem"))
            for extra in cert.cert_chain_pems[1:]:
                extra.write_to_path(str(tmp / "cert.pem"), append=True)
            self.ca_file = str(tmp / "ca.pem")
            ssl_kwargs = {"ssl_certfile": str(tmp / "cert.pem"), "ssl_keyfile": str(tmp / "key.pem")}
        scheme = "https" if self.tls else "http"
        sockets: list[tuple[uvicorn.Server, socket.socket]] = []
        for i, (name, svc) in enumerate(self.services.items()):
            sock = self._bind(port + i if port else 0)
            bound = sock.getsockname()[1]
            self.urls[name] = f"{scheme}://{self.host}:{bound}"
            svc.on_started(self.urls[name])
            config = uvicorn.Config(
                svc.asgi(),
                log_level="warning",
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=2,
                timeout_keep_alive=30,
                **ssl_kwargs,
            )
            server = uvicorn.Server(config)
            self._servers.append(server)
            sockets.append((server, sock))

        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            for svc in self.services.values():
                svc.loop = loop  # deliveries queued from other threads run here

            async def main() -> None:
                tasks = [asyncio.create_task(s.serve(sockets=[sock])) for s, sock in sockets]
                while not all(s.started for s, _ in sockets):
                    if any(t.done() for t in tasks):
                        break
                    await asyncio.sleep(0.005)
                ready.set()
                await asyncio.gather(*tasks)

            try:
                loop.run_until_complete(main())
            except BaseException as exc:  # surfaced to the starting thread
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="nxt-sandbox", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure or not all(s.started for s in self._servers):
            self.stop()
            raise RuntimeError(f"sandbox did not start: {failure[0] if failure else 'timeout'}")
        self.startup_seconds = time.perf_counter() - t0

    def stop(self) -> None:
        for s in self._servers:
            s.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _faults_for(name: str, faults: FaultSpec | Mapping[str, FaultSpec]) -> Faults | None:
    if faults is None:
        return None
    if isinstance(faults, Faults):
        return faults
    if name in faults or any(k in SERVICES for k in faults):  # per-service mapping
        spec = faults.get(name)
        if spec is None:
            return None
        return spec if isinstance(spec, Faults) else Faults.from_dict(dict(spec))
    return Faults.from_dict(dict(faults))


def start_sandbox(
    *,
    services: tuple[str, ...] | list[str] = ("woocommerce",),
    products: int = 200,
    customers: int = 100,
    orders: int = 300,
    seed: int = 1,
    tls: bool = False,
    faults: FaultSpec | Mapping[str, FaultSpec] = None,
    host: str = "127.0.0.1",
    port: int = 0,
    gmt_offset_hours: float = 0.0,
    webhook_timeout: float = 60.0,
    cache_records: int = 120_000,
    world: World | None = None,
    now: int | None = None,
    discrepancy_rate: float = DEFAULT_DISCREPANCY_RATE,
    contact_flag_rate: float = DEFAULT_CONTACT_FLAG_RATE,
    admin_token: str | None = None,
    variable_share: float = DEFAULT_VARIABLE_SHARE,
    history_days: int = DEFAULT_HISTORY_DAYS,
) -> Sandbox:
    """Build the world, start every service and return the running `Sandbox` (call `.stop()`).

    The world's history ends at `now` (epoch seconds; None = the current time rounded down to the minute,
    so vendors' "last 30 days" windows see recent activity; pass it for reproducible dates).
    `discrepancy_rate`, `contact_flag_rate`, `variable_share` and `history_days` are `build_world`'s.
    They are ignored with `world=`.

    The admin routes (`/_sandbox/...`) answer loopback clients only, unless `admin_token` is given:
    then they answer any client that sends `Authorization: Bearer <admin_token>`, and no other.
    """
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}; known: {', '.join(SERVICES)}")
    if admin_token is not None:
        validate_admin_token(admin_token)  # before the world is built: fail fast
    if world is None:
        world = build_world(
            seed=seed,
            products=products,
            customers=customers,
            orders=orders,
            gmt_offset_hours=gmt_offset_hours,
            end=current_minute() if now is None else int(now),
            discrepancy_rate=discrepancy_rate,
            contact_flag_rate=contact_flag_rate,
            variable_share=variable_share,
            history_days=history_days,
        )
    # The world is long-lived: move it out of the cyclic GC's sight so collections during a large pull
    # do not rescan hundreds of thousands of records.
    gc.collect()
    gc.freeze()
    built: dict[str, Service] = {}
    for name in services:
        kwargs: dict[str, Any] = {"faults": _faults_for(name, faults), "admin_token": admin_token}
        if name == "woocommerce":
            kwargs["webhook_timeout"] = webhook_timeout
            kwargs["cache_records"] = cache_records
        built[name] = SERVICES[name](world, **kwargs)
    sb = Sandbox(world, built, tls=tls, host=host)
    sb.start(port=port)
    return sb


@contextmanager
def run_sandbox(**kwargs: Any) -> Iterator[Sandbox]:
    """Context manager around `start_sandbox` (same keyword arguments); stops the servers on exit."""
    sb = start_sandbox(**kwargs)
    try:
        yield sb
    finally:
        sb.stop()
