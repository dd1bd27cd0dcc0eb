"""`AuthorizeNetService`: the `Service` wiring the gateway state, its JSON endpoint and admin routes.

Public accessors for tests, benches and the demo (never the state): credentials, settling now, the clock,
what the gateway received, webhook flushing and redelivery. Call them on the server's loop
(`Sandbox.call`) when the sandbox runs in another thread.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import Scope

from sandbox._framework import Faults, Service, request_headers
from sandbox.world import World

from . import webhooks
from .admin import admin_routes, settle_now
from .encoding import dumps
from .errors import error_body
from .routes import handle
from .settings import API_PATH, JSON_CT, MESSAGES
from .state import AnetState

__all__ = ["AuthorizeNetService"]


class AuthorizeNetService(Service):
    """The Authorize.Net stand-in (the JSON API at `<base_url>/xml/v1/request.api`)."""

    name = "authorizenet"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        admin_token: str | None = None,
        webhook_timeout: float = 10.0,
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token, webhook_timeout=webhook_timeout)
        self._st = AnetState(self.world, courier=self.courier)

    async def respond(self, scope: Scope, body: bytes) -> Response:
        return handle(self._st, scope["method"], scope["path"], request_headers(scope), body)

    def crash_response(self, scope: Scope) -> Response:
        # The gateway answers even its own failures with HTTP 200 and an E00001 error body.
        return Response(dumps(error_body("E00001", MESSAGES["E00001"])), 200, media_type=JSON_CT)

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._st)

    def on_started(self, base_url: str) -> None:
        super().on_started(base_url)
        self._st.base_url = base_url

    def credentials(self) -> dict[str, Any]:
        st = self._st
        return {
            "api_login_id": st.api_login_id,
            "transaction_key": st.transaction_key,
            "signature_key": st.signature_key,
        }

    @property
    def api_url(self) -> str:
        """The full request URL (what Authorize.Net's SDKs call the environment)."""
        return self.base_url + API_PATH

    # --- Python admin API --------------------------------------------------------------------------
    def settle_now(self) -> int:
        """Move the clock past the next daily cutoff and settle; returns how many batches there are."""
        return settle_now(self._st)

    def advance_clock(self, seconds: float) -> float:
        self._st.clock_offset += seconds
        return self._st.now()

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What the gateway received (transactions by type, with the refId each used)."""
        return self._st.received.list(kind)

    async def redeliver(self) -> list[dict[str, Any]]:
        """Attempt every failed webhook delivery again now."""
        return await webhooks.redeliver(self._st)
