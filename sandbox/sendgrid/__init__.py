"""A faithful SendGrid v3 account: Mail Send with SendGrid's validation and errors, rate-limit headers,
and the signed Event Webhook with its settings API.

It honours the shared `World`'s email flags (invalid addresses, bounces, spam reports, unsubscribes).
Where this differs from SendGrid is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings          constants: Mail Send limits, event timing, rate limits, webhook defaults
    errors            `SendGridError` (SendGrid's error JSON)
    signing           the Event Webhook's ECDSA P-256 key and signature
    store             `Store`: key, senders, emails, events, suppressions, webhook settings (the state)
    validation        Mail Send validation, every error with its field
    events            the events of an accepted email, by recipient
    webhooks          batching, signing and posting events, retries and duplicates
    auth              Bearer API key
    mail              `POST /v3/mail/send`
    webhook_settings  `/v3/user/webhooks/event/settings` and `/signed`
    routes            the dispatcher and the X-RateLimit headers
    admin             the `/_sandbox/sendgrid` routes and the summary
    service           `SendGridService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .errors import SendGridError
from .service import SendGridService
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SendGridError", "SendGridService"]
