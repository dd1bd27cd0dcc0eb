"""Constants of the SendGrid stand-in: Mail Send limits, event timing, webhook batching, rate limits.

Constants only (no logic), so every other module can import it.
"""

from __future__ import annotations

__all__ = [
    "BODY_MAX_BYTES",
    "CATEGORIES_MAX",
    "CATEGORY_MAX_LEN",
    "CUSTOM_ARGS_MAX_BYTES",
    "DEFAULT_EVENT_SETTINGS",
    "EVENT_DELAYS_S",
    "EVENT_SETTING_OF",
    "HELP",
    "JSON_CT",
    "PERSONALIZATIONS_MAX",
    "RATE_LIMITS",
    "RECIPIENTS_MAX",
    "SEND_AT_MAX_AHEAD_S",
]

JSON_CT = "application/json"

PERSONALIZATIONS_MAX = 1000
RECIPIENTS_MAX = 1000  # to + cc + bcc over all personalizations
CUSTOM_ARGS_MAX_BYTES = 10_000
SEND_AT_MAX_AHEAD_S = 72 * 3600
CATEGORIES_MAX = 10
CATEGORY_MAX_LEN = 255
BODY_MAX_BYTES = 30 * 1024 * 1024  # the whole message, attachments included

#: The `help` links SendGrid puts in Mail Send errors.
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#{anchor}"

#: Requests per rolling minute per endpoint, reported in X-RateLimit-* (SendGrid's default is 600;
#: Mail Send has its own, higher, limit).
RATE_LIMITS = {"mail_send": 10_000, "default": 600}

#: Seconds after the send (or `send_at`) at which each event happens.
EVENT_DELAYS_S = {
    "processed": 0.0,
    "dropped": 0.0,
    "deferred": 0.5,
    "delivered": 1.0,
    "bounce": 1.0,
    "open": 5.0,
    "click": 6.0,
    "spamreport": 10.0,
    "unsubscribe": 10.0,
}

#: The Event Webhook setting that switches each event type on.
EVENT_SETTING_OF = {
    "processed": "processed",
    "dropped": "dropped",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounce": "bounce",
    "open": "open",
    "click": "click",
    "spamreport": "spam_report",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "group_resubscribe": "group_resubscribe",
}

DEFAULT_EVENT_SETTINGS = {
    "enabled": False,
    "url": "",
    "group_resubscribe": True,
    "delivered": True,
    "group_unsubscribe": True,
    "spam_report": True,
    "bounce": True,
    "deferred": True,
    "unsubscribe": True,
    "processed": True,
    "open": True,
    "click": True,
    "dropped": True,
    "oauth_client_id": "",
    "oauth_token_url": "",
}
