"""A faithful Twilio Programmable Messaging account: the Messages API of 2010-04-01, its errors, paging,
throughput queues, status progression and signed status callbacks.

It honours the shared `World`'s contact flags (invalid numbers, STOP replies, landlines, unreachable
handsets). Where this differs from Twilio is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings        constants: API version, limits, default rates, delivery error texts
    encoding        form bodies, RFC 2822 dates, DateSent formats, SMS segments
    errors          `TwilioError` (Twilio's error JSON) and the common errors
    clock           `Clock`: the stand-in's time, which tests freeze and advance
    store           `Store`: credentials, senders, messaging services, messages, the schedule (the state)
    rendering       the Message resource as Twilio renders it, and the admin record
    auth            HTTP Basic with the auth token or an API key
    callbacks       signed status callbacks, in order per message
    delivery        throughput queues and the status progression
    messages        create (validation), fetch, list (filters, paging)
    routes          the dispatcher
    admin           the `/_sandbox/twilio` routes and the summary
    service         `TwilioService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .callbacks import sign as sign_callback
from .errors import TwilioError
from .service import TwilioService
from .settings import API_VERSION

__all__ = ["API_VERSION", "TwilioError", "TwilioService", "sign_callback"]
