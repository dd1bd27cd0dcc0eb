"""`TwilioService`: the `Service` that wires the account, its Messages API and its admin routes together.

Besides what the framework asks of a stand-in (vendor app, admin routes, credentials, Twilio's error
bodies for faults), it offers the Python admin API tests and benchmarks use. Call those on the server's
loop (`Sandbox.call`) when the sandbox runs in another thread.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from sandbox._framework import Faults, Service
from sandbox.world import World

from . import admin, delivery
from .errors import TwilioError
from .rendering import admin_record
from .routes import handle, too_many_requests
from .settings import JSON_CT
from .store import Store

__all__ = ["TwilioService"]

_SERVER_ERRORS = {500: (20500, "Internal Server Error"), 502: (20502, "Bad Gateway")}


class TwilioService(Service):
    """The Twilio stand-in (Programmable Messaging). Build with a `World`; `asgi()` serves it."""

    name = "twilio"

    def __init__(
        self, world: World | None = None, *, faults: Faults | None = None, admin_token: str | None = None
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token)
        self._st = Store(self.world, courier=self.courier)

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        self._st.in_flight = self.stats.in_flight  # requests being served now, this one included
        try:
            return await handle(self._st, scope, body)
        except TwilioError as exc:
            return exc.response()

    def admin_routes(self) -> list[Route]:
        return admin.admin_routes(self._st)

    def credentials(self) -> dict[str, Any]:
        return self._st.credentials()

    def error_page(self, code: int) -> tuple[str, bytes]:
        twilio_code, message = _SERVER_ERRORS.get(code, (20503, "Service Unavailable"))
        body = TwilioError(twilio_code, message, code).response().body
        return JSON_CT, bytes(body)

    def rate_limited_response(self, retry_after: int) -> Response:
        resp = too_many_requests().response()
        resp.headers["Retry-After"] = str(retry_after)
        return resp

    async def on_shutdown(self) -> None:
        await self._st.worker.stop()
        await super().on_shutdown()

    # --- Python admin API --------------------------------------------------------------------------
    def messages(self, **match: Any) -> list[dict[str, Any]]:
        """Admin records of every message received, oldest first; `to=`, `status=`, ... narrow them."""
        records = [admin_record(self._st, m) for m in self._st.ordered]
        return [r for r in records if all(r.get(k) == v for k, v in match.items())]

    def message(self, sid: str) -> dict[str, Any] | None:
        m = self._st.messages.get(sid)
        return None if m is None else admin_record(self._st, m)

    def summary(self) -> dict[str, Any]:
        """Counts by status, per-sender throughput and repeated (to, body) pairs."""
        return admin.summary(self._st)

    def info(self) -> dict[str, Any]:
        """Account, numbers, messaging services, sender rates, settings and the clock."""
        return admin.info(self._st)

    def api_key(self) -> tuple[str, str]:
        """An API key of the account: (SID, secret), for `Client(sid, secret, account_sid)`."""
        return self._st.api_key_sid, self._st.api_key_secret

    def now(self) -> float:
        return self._st.clock.now()

    def freeze(self) -> None:
        """Stop the clock: nothing progresses until `advance()`."""
        self._st.clock.freeze()

    def unfreeze(self) -> None:
        self._st.clock.unfreeze()
        delivery.process_due(self._st)

    def advance(self, seconds: float) -> int:
        """Move the clock forward, applying the status changes that became due; returns how many."""
        return delivery.advance(self._st, seconds)

    def settle(self) -> int:
        """Advance the clock until every message has its final status; returns how many changes."""
        return delivery.settle(self._st)

    def set_rate(self, sender: str, mps: float) -> dict[str, Any]:
        """Messages per second of a number (added to the account if new) or a messaging service."""
        return admin.set_rate(self._st, sender, mps)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """`sending_delay_s`, `delivery_delay_s`, `concurrency_limit`, `callback_timeout_s`."""
        return admin.configure(self._st, settings)
