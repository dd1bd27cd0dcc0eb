"""A faithful Stripe account: the v1 API the official `stripe` SDK speaks, its idempotency and its webhooks.

It renders the shared world's Stripe ledger (charges, refunds, disputes, balance transactions, payouts,
generated from the WooCommerce orders with planted discrepancies) and writes the API's payments, captures,
refunds and disputes back into it, so ledger ingestion and reconciliation see one truth. Where this differs
from Stripe is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings          constants: versions, limits, currencies, test cards, event types, route params
    encoding          form bodies with bracket keys, JSON out, money in messages, ids
    errors            `StripeError` and the errors Stripe words
    store             `State`: keys, clock, Stripe-only objects, events, endpoints, saved responses
    rendering         objects as the API renders them, and `expand[]`
    rest              the request, parameter checks, list pages
    auth              API keys (Bearer or Basic), Stripe-Version, Stripe-Account
    idempotency       Idempotency-Key: save, replay, mismatch, expiry
    webhooks          webhook endpoints and signed, retried deliveries
    events            events per state change, and `/v1/events`
    payment_methods   test PaymentMethods, cards from tokens, attach/detach
    customers         customers
    payment_intents   create, confirm, capture, cancel, update, list
    charges           charges
    refunds           refunds
    balance           balance, balance transactions, payouts (and the ledger's clock)
    disputes          disputes, and what the card network does to them
    routes            the route table and the dispatcher
    admin             the `/_sandbox/stripe` routes
    service           `StripeService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .service import StripeService
from .settings import ACCOUNT_API_VERSION, TEST_CARDS
from .webhooks import sign

__all__ = ["ACCOUNT_API_VERSION", "TEST_CARDS", "StripeService", "sign"]
