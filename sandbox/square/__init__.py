"""A Square stand-in: the `/v2` Payments, Refunds, Payouts, Disputes, Locations and Webhook Subscriptions
APIs, driven by the official `squareup` SDK, over the one seeded world's ledger.

Payments, refunds, payouts and disputes are the ledger's Square records rendered in Square's format (a
payment created here is a ledger charge, so ledger ingestion and reconciliation see it); the stand-in keeps
only what Square keeps beside them (credentials, idempotency keys, subscriptions, deliveries). Where this
differs from Square is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings      constants: versions, limits, test values, event types, retry schedule
    encoding      Square's wire encoding: compact JSON, RFC 3339 times, money
    errors        `SquareError` and the common error bodies
    state         `SquareState`: credentials, locations, idempotency records, subscriptions, deliveries
    rendering     ledger records as Square renders them, and the event envelope
    rest          the parsed request, JSON responses, query and body checks
    auth          Bearer token and `Square-Version`
    pagination    signed keyset cursors and time windows
    idempotency   replay / IDEMPOTENCY_KEY_REUSED
    webhooks      events, signed deliveries with retries, the Webhook Subscriptions API
    locations     the Locations API
    payments      the Payments API
    refunds       the Refunds API
    payouts       the Payouts API and the passing of days
    disputes      the Disputes API
    routes        the route table and the dispatcher
    admin         the `/_sandbox/square` routes
    service       `SquareService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .errors import SquareError
from .service import SquareService
from .settings import API_VERSION, TEST_SOURCES
from .webhooks import sign

__all__ = ["API_VERSION", "TEST_SOURCES", "SquareError", "SquareService", "sign"]
