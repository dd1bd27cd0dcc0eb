"""A PayPal REST API stand-in: OAuth2, Orders v2, Payments v2, Transaction Search and webhooks.

It renders the gateway `paypal` of the shared world's ledger: captures and refunds made through the API
land in the ledger, and the seeded history (with its planted discrepancies) is what Transaction Search and
the captures endpoints serve. Where this differs from PayPal is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings    constants: currencies, lifetimes, limits, event names, transaction event codes
    encoding    money per currency, RFC 3339 times, compact JSON, raw JSON spans
    errors      `PayPalError` / `OAuthError`: PayPal's error JSON and the PayPal-Debug-Id header
    state       `PayPalState`: credentials, tokens, orders, authorizations, request ids, webhooks
    rendering   orders, captures, refunds, authorizations as PayPal renders them
    rest        the request object, `Prefer`, JSON bodies and answers
    auth        the OAuth token endpoint and the bearer check
    webhooks    subscriptions, signed deliveries, the certificate, verify-webhook-signature
    orders      create, get, approve, capture, authorize
    payments    captures, refunds, authorizations
    reporting   Transaction Search
    admin       the `/_sandbox/paypal` routes
    routes      the route table and the dispatcher
    service     `PayPalService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .errors import PayPalError
from .service import PayPalService
from .webhooks import sign as sign_transmission

__all__ = ["PayPalError", "PayPalService", "sign_transmission"]
