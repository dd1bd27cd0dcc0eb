"""`PayPalService`: the `Service` that wires the PayPal state, its REST routes and its admin routes together.

The public accessors below are what tests, benches and the demo use (never the state): credentials,
approving an order as the buyer, what the stand-in received, webhook flushing and redelivery, settings.
Call them on the server's loop (`Sandbox.call`) when the sandbox runs in another thread.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import Scope

from sandbox._framework import Faults, Service, request_headers
from sandbox.world import World

from . import webhooks
from .admin import admin_routes
from .errors import PayPalError
from .orders import approve
from .rendering import render_order
from .routes import handle
from .settings import JSON_CT
from .state import PayPalState

__all__ = ["PayPalService"]


class PayPalService(Service):
    """The PayPal stand-in (REST API at the base URL, as `https://api-m.paypal.com` serves it)."""

    name = "paypal"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        admin_token: str | None = None,
        webhook_timeout: float = 10.0,
        reporting_lag_hours: float = 0.0,
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token, webhook_timeout=webhook_timeout)
        self._st = PayPalState(self.world, courier=self.courier)
        self._st.reporting_lag_hours = reporting_lag_hours

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        qs = scope.get("query_string", b"")
        return handle(self._st, scope["method"], scope["path"], qs, request_headers(scope), body)

    def crash_response(self, scope: Scope) -> Response:
        return PayPalError(500, "INTERNAL_SERVER_ERROR").response()

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._st)

    def error_page(self, code: int) -> tuple[str, bytes]:
        if code >= 500:  # PayPal's API gateway answers JSON even when it fails
            body = {"name": "INTERNAL_SERVER_ERROR", "message": "An internal server error occurred."}
            if code == 503:
                body = {"name": "SERVICE_UNAVAILABLE", "message": "Service Unavailable."}
            return JSON_CT, json.dumps(body).encode()
        return super().error_page(code)

    def rate_limited_response(self, retry_after: int) -> Response:
        body = {"name": "RATE_LIMIT_REACHED", "message": "Too many requests. Blocked due to rate limiting."}
        return Response(
            json.dumps(body).encode(), 429, media_type=JSON_CT, headers={"Retry-After": str(retry_after)}
        )

    def on_started(self, base_url: str) -> None:
        super().on_started(base_url)
        self._st.base_url = base_url

    def credentials(self) -> dict[str, Any]:
        st = self._st
        return {"client_id": st.client_id, "client_secret": st.client_secret, "webhook_id": st.webhook_id}

    # --- Python admin API --------------------------------------------------------------------------
    def approve_order(self, order_id: str, *, email: str | None = None) -> dict[str, Any]:
        """The buyer approves the order (fires `CHECKOUT.ORDER.APPROVED`); returns the order's JSON."""
        return render_order(self._st, approve(self._st, order_id, email=email))

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What the stand-in received: orders, captures, refunds, authorizations, each with its request id."""
        return self._st.received.list(kind)

    def set_webhook_url(self, url: str | None, webhook_id: str | None = None) -> None:
        """Point a subscription (default: the credentials' `webhook_id`) at `url`."""
        self._st.webhooks[webhook_id or self._st.webhook_id].url = url

    def configure(
        self,
        *,
        token_ttl: int | None = None,
        reporting_lag_hours: float | None = None,
        block_duplicate_invoice: bool | None = None,
    ) -> None:
        """Change the stand-in's knobs (access token lifetime, reporting lag, duplicate-invoice blocking)."""
        if token_ttl is not None:
            self._st.token_ttl = int(token_ttl)
        if reporting_lag_hours is not None:
            self._st.reporting_lag_hours = float(reporting_lag_hours)
        if block_duplicate_invoice is not None:
            self._st.block_duplicate_invoice = bool(block_duplicate_invoice)

    def expire_tokens(self) -> int:
        """Expire every access token issued so far; returns how many there were."""
        return self._st.expire_tokens()

    def advance_clock(self, seconds: float) -> float:
        """Move the stand-in's clock forward (token expiry, request-id lifetime, reporting lag)."""
        self._st.clock_offset += seconds
        return self._st.now()

    def certificate_pem(self) -> bytes:
        """The certificate deliveries are signed with (also served at the `PAYPAL-CERT-URL`)."""
        return self._st.signing()[1]

    async def redeliver(self) -> list[dict[str, Any]]:
        """Attempt every failed webhook delivery again now."""
        return await webhooks.redeliver(self._st)
