"""Why the receiver refuses a request: one exception, with the HTTP status and a one-line reason.

Routes and dependencies raise `Rejected`; the app turns it into `{"success": false, "message": reason}`
with its status, and one `dashboard_events` row (`webhook_rejected` or `api_rejected`). No stack trace
ever reaches a response.
"""

from __future__ import annotations

from typing import Any

from fastapi import status

__all__ = ["HubUnavailable", "Rejected"]


class Rejected(Exception):
    """A request the receiver refuses.

    Attributes:
        status: The HTTP status (401 bad signature, 400 bad body, 413 too large, 404 unknown, 503 ...).
        reason: One line for the caller and the dashboard row; never a secret.
        source: The webhook source or API area, for the dashboard row.
        error: Details answered as the body's `error` (`code`, `field`, ...), when the API has them.
    """

    def __init__(
        self, status: int, reason: str, *, source: str | None = None, error: dict[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.source = source
        self.error = error


class HubUnavailable(Rejected):
    """The hub could not store the event: 503, so that senders that retry (Stripe, Square, PayPal) do."""

    def __init__(self, reason: str, *, source: str | None = None) -> None:
        super().__init__(status.HTTP_503_SERVICE_UNAVAILABLE, reason, source=source)
