"""`SquareService`: the `Service` that wires the Square account, its `/v2` routes and its admin routes.

The service owns one `SquareState` and hands it to the modules that do the work (see the package
docstring); it adds only what the framework asks of a stand-in (vendor app, admin routes, credentials,
error pages, shutdown) and the Python accessors tests and the demo use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import Scope

from sandbox._framework import Faults, Service, cloudflare_page
from sandbox.world import World

from . import disputes, payouts, refunds, webhooks
from .admin import admin_routes
from .encoding import dumps
from .errors import SquareError
from .rendering import dispute, payment, payout, refund, subscription
from .routes import build_routes, handle
from .settings import JSON_CT, WEBHOOK_TIMEOUT
from .state import SquareState

__all__ = ["SquareService"]


class SquareService(Service):
    """The Square stand-in. Build with a `World`; `asgi()` serves it.

    `refund_delay`: seconds a refund stays PENDING before it completes (0: right after the answer).
    `clock`: where "now" comes from (epoch seconds; default `time.time`).
    """

    name = "square"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        admin_token: str | None = None,
        webhook_timeout: float = WEBHOOK_TIMEOUT,
        refund_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token, webhook_timeout=webhook_timeout)
        self._state = SquareState(
            self.world,
            courier=self.courier,
            refund_delay=refund_delay,
            clock=clock,
        )
        self._routes = build_routes()

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        return await handle(self._state, self._routes, scope, body)

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._state)

    def credentials(self) -> dict[str, Any]:
        return self._state.credentials()

    def error_page(self, code: int) -> tuple[str, bytes]:
        # Square answers its own failures in JSON; a 502 comes from the CDN in front of it.
        if code == 502:
            return cloudflare_page(code)
        err = {500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}.get(code)
        if err is None:
            return super().error_page(code)
        return JSON_CT, SquareError(
            code, err, "An internal error has occurred.", category="API_ERROR"
        ).body_bytes()

    def rate_limited_response(self, retry_after: int) -> Response:
        body = dumps(
            {
                "errors": [
                    {"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED", "detail": "Rate limit exceeded."}
                ]
            }
        )
        return Response(body, 429, media_type=JSON_CT, headers={"Retry-After": str(retry_after)})

    def on_started(self, base_url: str) -> None:
        super().on_started(base_url)
        self._state.base_url = base_url

    # --- Python accessors (call them on the server's loop: `Sandbox.call`) ------------------------------
    @property
    def location_ids(self) -> list[str]:
        """The seller's locations; the first is the main one."""
        return list(self._state.location_ids)

    def payment_json(self, payment_id: str) -> dict[str, Any]:
        """A payment exactly as `GET /v2/payments/{id}` renders it."""
        return payment(self._state, self._state.ledger.charge("square", payment_id))

    def refund_json(self, refund_id: str) -> dict[str, Any]:
        return refund(self._state, self._state.ledger.refund("square", refund_id))

    def payout_json(self, payout_id: str) -> dict[str, Any]:
        return payout(self._state, self._state.ledger.payout("square", payout_id))

    def dispute_json(self, dispute_id: str) -> dict[str, Any]:
        return dispute(self._state, self._state.ledger.dispute("square", dispute_id))

    def received(self, kind: str) -> list[dict[str, Any]]:
        """What the API created (`payment` or `refund`), each with its idempotency key and replay count."""
        return [r.to_dict() for r in self._state.received[kind]]

    @property
    def idempotency_conflicts(self) -> int:
        return self._state.conflicts

    def register_webhook(self, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
        """A Dashboard-made subscription (signed with the account's `webhook_signature_key`)."""
        return subscription(webhooks.register_endpoint(self._state, url, event_types), with_key=True)

    def subscriptions(self) -> list[dict[str, Any]]:
        return [subscription(s, with_key=True) for s in self._state.subscriptions.values()]

    def open_dispute(self, payment_id: str, *, reason: str = "fraudulent") -> dict[str, Any]:
        return dispute(self._state, disputes.open_dispute(self._state, payment_id, reason=reason))

    def resolve_dispute(self, dispute_id: str, state: str) -> dict[str, Any]:
        return dispute(self._state, disputes.resolve_dispute(self._state, dispute_id, state))

    def advance(self, now: int | None = None) -> list[str]:
        """Run the days' payouts up to `now` (default the clock); returns the payouts announced."""
        return payouts.advance(self._state, now)

    def fail_payout(self, payout_id: str) -> dict[str, Any]:
        return payout(self._state, payouts.fail_payout(self._state, payout_id))

    def complete_refund(self, refund_id: str) -> bool:
        return refunds.complete_refund(self._state, refund_id)

    async def deliver_now(self) -> list[dict[str, Any]]:
        """Attempt every waiting webhook delivery (retries included) now."""
        return await webhooks.deliver_now(self._state)
