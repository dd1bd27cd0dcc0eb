"""`SendGridService`: the `Service` that wires the account, its v3 API and its admin routes together.

Besides what the framework asks of a stand-in (vendor app, admin routes, credentials, SendGrid's error
bodies for faults), it offers the Python admin API tests and benchmarks use. Call those on the server's
loop (`Sandbox.call`) when the sandbox runs in another thread.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from sandbox._framework import Faults, Service
from sandbox.world import World

from . import admin, webhooks
from .errors import SendGridError
from .routes import handle, rate_headers, too_many_requests
from .settings import JSON_CT, RATE_LIMITS
from .store import Store

__all__ = ["SendGridService"]

_SERVER_ERRORS = {500: "internal server error", 502: "bad gateway", 503: "service unavailable"}


class SendGridService(Service):
    """The SendGrid stand-in (Mail Send, the Event Webhook). Build with a `World`; `asgi()` serves it."""

    name = "sendgrid"

    def __init__(
        self, world: World | None = None, *, faults: Faults | None = None, admin_token: str | None = None
    ) -> None:
        super().__init__(world, faults=faults, admin_token=admin_token)
        self._st = Store(self.world, courier=self.courier)

    # --- what the framework asks of a stand-in -----------------------------------------------------
    async def respond(self, scope: Scope, body: bytes) -> Response:
        try:
            return await handle(self._st, scope, body)
        except SendGridError as exc:
            return exc.response()

    def admin_routes(self) -> list[Route]:
        return admin.admin_routes(self._st)

    def credentials(self) -> dict[str, Any]:
        return self._st.credentials()

    def error_page(self, code: int) -> tuple[str, bytes]:
        message = _SERVER_ERRORS.get(code, "internal server error")
        return JSON_CT, json.dumps({"errors": [{"field": None, "message": message}]}).encode()

    def rate_limited_response(self, retry_after: int) -> Response:
        limit = RATE_LIMITS["mail_send"]
        return too_many_requests(rate_headers(limit, 0, time.time() + retry_after)).response()

    async def on_shutdown(self) -> None:
        await self._st.worker.stop()
        await super().on_shutdown()

    # --- Python admin API --------------------------------------------------------------------------
    def emails(self, **match: Any) -> list[dict[str, Any]]:
        """Every email accepted (one per personalization), oldest first; `to=` or custom args narrow it."""
        records = [admin.email_record(e) for e in self._st.emails]
        to = match.pop("to", None)
        if to is not None:
            records = [r for r in records if to.lower() in (a.lower() for a in r["to"] + r["cc"] + r["bcc"])]
        return [r for r in records if all(r["custom_args"].get(k) == v for k, v in match.items())]

    def calls(self) -> list[dict[str, Any]]:
        """Every `POST /v3/mail/send`, accepted or not, with its status and X-Message-Id."""
        return list(self._st.calls)

    def events(self, **match: Any) -> list[dict[str, Any]]:
        """Every event generated (posted or not), in generation order; `email=`, `event=` narrow it."""
        return [e for e in self._st.events if all(e.get(k) == v for k, v in match.items())]

    def summary(self) -> dict[str, Any]:
        return admin.summary(self._st)

    def info(self) -> dict[str, Any]:
        return admin.info(self._st)

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Event shares (`open_rate`, ...), `duplicate_rate`, batching and retries of the Event Webhook."""
        return admin.configure(self._st, settings)

    def verify_sender(self, email: str) -> list[str]:
        """Add a verified sender identity."""
        return admin.verify_sender(self._st, email)

    def set_event_webhook(self, url: str, *, enabled: bool = True, signed: bool = True) -> None:
        """What the settings API would do: point the Event Webhook at `url`."""
        self._st.event_settings.update({"url": url, "enabled": enabled})
        self._st.signed = signed

    async def deliver_events(self, *, everything: bool = True) -> int:
        """Post pending events now (all of them, or only those due); returns how many were posted."""
        return await webhooks.deliver_now(self._st, everything=everything)
