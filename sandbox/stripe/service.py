"""`StripeService`: the `Service` that wires the account's state, the `/v1` routes and the admin routes.

It adds only what the framework asks of a stand-in (vendor app, admin routes, credentials, Stripe's error
bodies for injected faults, start and shutdown) and the Python accessors tests, benches and the demo use.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route as AdminRoute
from starlette.types import Scope

from sandbox._framework import Faults, Service
from sandbox.world import World

from . import balance, disputes, webhooks
from .admin import admin_routes, advance
from .encoding import dumps
from .errors import StripeError
from .rendering import dispute_json, endpoint_json, lookup
from .routes import build_routes, handle
from .settings import JSON_CT, WEBHOOK_RETRY_DELAYS
from .store import State

__all__ = ["StripeService"]


class StripeService(Service):
    """The Stripe stand-in. Build with a `World`; `asgi()` serves it."""

    name = "stripe"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        admin_token: str | None = None,
        webhook_timeout: float = 30.0,
        webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS,
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token, webhook_timeout=webhook_timeout)
        self._st = State(
            self.world,
            courier=self.courier,
            webhook_retry_delays=webhook_retry_delays,
        )
        self._routes = build_routes()

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        return handle(self._st, self._routes, scope, body, on_crash=self.log_exception)

    def admin_routes(self) -> list[AdminRoute]:
        return admin_routes(self._st)

    def credentials(self) -> dict[str, Any]:
        return self._st.credentials()

    def error_page(self, code: int) -> tuple[str, bytes]:
        # What reaches a client when something in front of the API fails: Stripe's api_error JSON.
        return JSON_CT, dumps(StripeError(code, "An unknown error occurred", type="api_error").body())

    def rate_limited_response(self, retry_after: int) -> Response:
        # Stripe's rate limit: no Retry-After, and `Stripe-Should-Retry: false` so the SDKs do not retry.
        err = StripeError(
            429,
            "Request rate limit exceeded. You can learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
        return Response(
            dumps(err.body(self._st.request_id())),
            429,
            headers={"Stripe-Should-Retry": "false", "Request-Id": self._st.request_id()},
            media_type=JSON_CT,
        )

    def on_started(self, base_url: str) -> None:
        super().on_started(base_url)
        self._st.base_url = base_url

    # --- Python accessors (call them on the server's loop: `Sandbox.call`) ------------------------------
    @property
    def account_id(self) -> str:
        return self._st.account_id

    def now(self) -> int:
        """The account's clock (real time plus what `advance` added)."""
        return self._st.now()

    def received(self, kind: str | None = None) -> list[dict[str, Any]]:
        """What the account received (`payment_intent`, `refund`, `customer`, `payment_method`,
        `webhook_endpoint`), each with the idempotency key of the request that created it."""
        return self._st.received.list(kind)

    def object_json(self, object_id: str) -> dict[str, Any] | None:
        """Any object of the account as the API renders it (charge, payment intent, refund, ...), or None."""
        return lookup(self._st, object_id)

    def events(self, type_: str | None = None) -> list[dict[str, Any]]:
        """Events, oldest first, as `/v1/events` renders them."""
        from .rendering import event_json

        return [event_json(self._st, e) for e in self._st.events.values() if type_ is None or e.type == type_]

    def advance(self, *, to: int | None = None, seconds: int = 0) -> dict[str, Any]:
        """Move the account's clock forward; payouts are made and paid, idempotency keys expire."""
        return advance(self._st, to=to, seconds=seconds)

    def sync(self) -> dict[str, list[str]]:
        """Let the ledger catch up with the clock (as serving a payout does); returns new/paid payout ids."""
        return balance.sync(self._st)

    def register_webhook(self, url: str, enabled_events: list[str] | None = None) -> dict[str, Any]:
        """An endpoint that receives events signed with the credentials' `webhook_secret`."""
        return endpoint_json(self._st, webhooks.register(self._st, url, enabled_events), with_secret=True)

    def set_webhook_retry_delays(self, delays: list[float] | tuple[float, ...]) -> None:
        """Seconds between delivery attempts (one more attempt than delays)."""
        if any(float(d) < 0 for d in delays):
            raise ValueError("delays must be >= 0")
        self._st.retry_delays = tuple(float(d) for d in delays)

    async def deliver_now(self) -> list[dict[str, Any]]:
        """Attempt every pending delivery now (scheduled retries included); returns the attempts."""
        return await webhooks.deliver_now(self._st)

    def open_dispute(
        self, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None
    ) -> dict[str, Any]:
        """The cardholder disputes a charge (events `charge.dispute.created`, `...funds_withdrawn`)."""
        return dispute_json(
            self._st, disputes.open_dispute(self._st, charge_id, reason=reason, amount=amount)
        )

    def resolve_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        """The network decides a dispute: `won` or `lost`."""
        return dispute_json(self._st, disputes.resolve_dispute(self._st, dispute_id, outcome))
