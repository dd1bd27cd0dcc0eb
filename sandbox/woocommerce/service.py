"""`WooCommerceService`: the `Service` that wires the store, its REST routes and its admin routes together.

The service owns one `Store` and hands it to the modules that do the work (see the package docstring);
it adds only what the framework asks of a stand-in (vendor app, admin routes, credentials, error pages,
start and shutdown) and the Python admin API tests and the demo use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox._framework import Faults, Service
from sandbox.world import Order, Refund, World, build_world

from . import rendering, webhooks, writes
from .admin import admin_routes
from .encoding import php_json
from .errors import WooError
from .refunds import create_refund
from .routes import build_routes, handle
from .settings import JSON_CT
from .store import ApiKey, Store

__all__ = ["WooCommerceService"]

_CRITICAL = (
    '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/'
    'documentation/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>'
)


class WooCommerceService(Service):
    """The WooCommerce stand-in. Build with a `World`; `asgi()` serves it."""

    name = "woocommerce"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        webhook_timeout: float = 60.0,
        webhook_delay_ms: float = 0.0,
        cache_records: int = 120_000,
    ) -> None:
        super().__init__(faults=faults)
        self.world = world if world is not None else build_world()
        self._st = Store(
            self.world,
            deliveries=self.deliveries,
            webhook_timeout=webhook_timeout,
            webhook_delay_ms=webhook_delay_ms,
            cache_records=cache_records,
        )
        self._routes = build_routes(self._st)

    # --- what the framework asks of a stand-in -----------------------------------------------------
    def vendor_app(self) -> ASGIApp:
        st, routes = self._st, self._routes

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            body = bytearray()
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            try:
                resp = await handle(st, routes, scope, bytes(body))
            except WooError as exc:
                resp = exc.response()
            except Exception:
                self.log_exception()
                media, page = self.error_page(500)
                resp = Response(page, 500, media_type=media)
            await resp(scope, receive, send)

        return app

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._st)

    def credentials(self) -> dict[str, Any]:
        return self._st.credentials()

    def error_page(self, code: int) -> tuple[str, bytes]:
        if code == 500:  # PHP fatal inside WordPress: the REST fatal-error handler answers JSON
            body = {
                "code": "internal_server_error",
                "message": _CRITICAL,
                "data": {"status": 500},
                "additional_errors": [],
            }
            return JSON_CT, php_json(body)
        return super().error_page(code)

    def on_started(self, base_url: str) -> None:
        super().on_started(base_url)
        self._st.base_url = base_url

    async def on_shutdown(self) -> None:
        await webhooks.shutdown(self._st)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The server's event loop (set by the server): deliveries queued from other threads run there."""
        return self._st.loop

    @loop.setter
    def loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._st.loop = loop

    # --- Python admin API ------------------------------------------------------------------------
    def add_key(self, permissions: str) -> ApiKey:
        return self._st.add_key(permissions)

    def record_bytes(self, kind: str, rec: Any) -> bytes:
        return rendering.record_bytes(self._st, kind, rec)

    def record_json(self, kind: str, rec_id: int) -> dict[str, Any] | None:
        return rendering.record_json(self._st, kind, rec_id)

    def render_product(self, rec: Any) -> dict[str, Any]:
        return rendering.render_product(self._st, rec)

    def create(
        self, kind: str, body: dict[str, Any], *, parent: int | None = None, webhooks: bool = True
    ) -> Any:
        return writes.create(self._st, kind, body, parent=parent, webhooks=webhooks)

    def update(self, kind: str, rec: Any, body: dict[str, Any], *, webhooks: bool = True) -> None:
        writes.update(self._st, kind, rec, body, webhooks=webhooks)

    def delete(self, kind: str, rec: Any, *, force: bool, webhooks: bool = True) -> dict[str, Any]:
        return writes.delete(self._st, kind, rec, force=force, webhooks=webhooks)

    def trash(self, kind: str, rec: Any, *, webhooks: bool = True) -> None:
        writes.trash(self._st, kind, rec, webhooks=webhooks)

    def restore(self, kind: str, rec: Any, *, webhooks: bool = True) -> None:
        writes.restore(self._st, kind, rec, webhooks=webhooks)

    def touch(
        self, kind: str, ids: Iterable[int], *, at: int | None = None, webhooks: bool = True
    ) -> list[int]:
        return writes.touch(self._st, kind, ids, at=at, webhooks=webhooks)

    def create_refund(self, o: Order, body: dict[str, Any]) -> Refund:
        return create_refund(self._st, o, body)

    def emit(self, kind: str, event: str, rec_id: int) -> None:
        webhooks.emit(self._st, kind, event, rec_id)

    async def flush(self) -> None:
        await webhooks.flush(self._st)

    # temporary: callers still reach into these until they move to public accessors
    def _store(self, kind: str) -> dict[int, Any]:
        return self._st.table(kind)

    def _touched(self, kind: str, rec_id: int) -> None:
        self._st.touched(kind, rec_id)

    @property
    def _versions(self) -> dict[str, int]:
        return self._st.versions
