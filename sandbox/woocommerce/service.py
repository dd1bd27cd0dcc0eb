"""`WooCommerceService`: the `Service` that wires the store, its REST routes and its admin routes together.

The service owns one `Store` and hands it to the modules that do the work (see the package docstring);
it adds only what the framework asks of a stand-in (vendor app, admin routes, credentials, error pages,
start and shutdown) and the Python admin API tests and the demo use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import Scope

from sandbox._framework import Faults, Service
from sandbox.world import World

from . import rendering, webhooks, writes
from .admin import admin_routes
from .encoding import php_json
from .errors import WooError, invalid_id
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
        admin_token: str | None = None,
        webhook_timeout: float = 60.0,
        webhook_delay_ms: float = 0.0,
        cache_records: int = 120_000,
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token, webhook_timeout=webhook_timeout)
        self._st = Store(
            self.world,
            courier=self.courier,
            webhook_delay_ms=webhook_delay_ms,
            cache_records=cache_records,
        )
        self._routes = build_routes(self._st)

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        try:
            return await handle(self._st, self._routes, scope, body)
        except WooError as exc:
            return exc.response()

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._st)

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

    # --- Python admin API: reading -----------------------------------------------------------------
    # Call these on the server's loop (`Sandbox.call`) when the sandbox runs in another thread.
    def ids(self, kind: str) -> list[int]:
        """Sorted ids of the `kind` records (`product`, `variation`, `customer`, `order`), trashed too."""
        return sorted(self._st.table(kind))

    def record(self, kind: str, rec_id: int) -> Any | None:
        """The world's record (`sandbox.world.Product`, ...) or None. Edit it only through the writes below,
        or call `invalidate()` after changing it directly."""
        return self._st.table(kind).get(rec_id)

    def records(self, kind: str) -> Iterator[Any]:
        """The world's `kind` records (a snapshot: safe to write while iterating)."""
        return iter(list(self._st.table(kind).values()))

    def record_json(self, kind: str, rec_id: int) -> dict[str, Any] | None:
        """The record as a client would receive it (decoded), or None if it does not exist."""
        return rendering.record_json(self._st, kind, rec_id)

    def record_bytes(self, kind: str, rec_id: int) -> bytes | None:
        """The record's JSON exactly as served (rendered once, then cached until written), or None."""
        rec = self._st.table(kind).get(rec_id)
        return None if rec is None else rendering.record_bytes(self._st, kind, rec)

    def credentials(self) -> dict[str, Any]:
        return self._st.credentials()

    # --- Python admin API: store-side edits (each fires its webhooks unless webhooks=False) ------------
    def create(
        self, kind: str, body: dict[str, Any], *, parent: int | None = None, webhooks: bool = True
    ) -> int:
        """Create a record from an API-shaped body (`parent`: a variation's product); returns its id."""
        return int(writes.create(self._st, kind, body, parent=parent, webhooks=webhooks).id)

    def update(self, kind: str, rec_id: int, body: dict[str, Any], *, webhooks: bool = True) -> None:
        """Apply an API-shaped body to a record (bumps `date_modified`, fires `*.updated`)."""
        writes.update(self._st, kind, self._existing(kind, rec_id), body, webhooks=webhooks)

    def delete(self, kind: str, rec_id: int, *, force: bool, webhooks: bool = True) -> dict[str, Any]:
        """REST DELETE: permanent with `force`, else products/orders go to the trash. Returns the record."""
        return writes.delete(self._st, kind, self._existing(kind, rec_id), force=force, webhooks=webhooks)

    def trash(self, kind: str, rec_id: int, *, webhooks: bool = True) -> None:
        writes.trash(self._st, kind, self._existing(kind, rec_id), webhooks=webhooks)

    def restore(self, kind: str, rec_id: int, *, webhooks: bool = True) -> None:
        writes.restore(self._st, kind, self._existing(kind, rec_id), webhooks=webhooks)

    def touch(
        self, kind: str, ids: Iterable[int], *, at: int | None = None, webhooks: bool = True
    ) -> list[int]:
        """Bump `date_modified` to `at` (epoch seconds) or now; returns the ids that exist."""
        return writes.touch(self._st, kind, ids, at=at, webhooks=webhooks)

    def invalidate(self, kind: str, ids: Iterable[int]) -> None:
        """Forget cached renders and listings after changing world records directly (no date bump)."""
        for rec_id in ids:
            self._st.touched(kind, rec_id)
        self._st.versions[kind] += 1  # listings are cached per version: drop them even for no ids

    def create_refund(self, order_id: int, body: dict[str, Any]) -> int:
        """Refund from the store's admin (`amount`, `reason`, `api_refund`); returns the refund's id."""
        return create_refund(self._st, self._existing("order", order_id), body).id

    def add_key(self, permissions: str) -> ApiKey:
        """A new API key with `read`, `write` or `read_write` permissions."""
        return self._st.add_key(permissions)

    # --- webhooks --------------------------------------------------------------------------------
    def emit(self, kind: str, event: str, rec_id: int) -> None:
        """Queue deliveries of `<kind>.<event>` for a record, as if the store fired it."""
        webhooks.emit(self._st, kind, event, rec_id)

    def _existing(self, kind: str, rec_id: int) -> Any:
        rec = self._st.table(kind).get(rec_id)
        if rec is None:
            raise invalid_id(kind)
        return rec
