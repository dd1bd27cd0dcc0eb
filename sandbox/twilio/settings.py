"""Constants of the Twilio stand-in: API version, limits, throughput defaults and Twilio's own tables.

Constants only (no logic), so every other module can import it.
"""

from __future__ import annotations

__all__ = [
    "ACCOUNTS_PREFIX",
    "API_VERSION",
    "BODY_MAX",
    "CALLBACK_STATUSES",
    "CALLBACK_TIMEOUT_S",
    "DEFAULT_DELIVERY_DELAY_S",
    "DEFAULT_MPS",
    "DEFAULT_SENDING_DELAY_S",
    "DELIVERY_ERRORS",
    "JSON_CT",
    "MORE_INFO",
    "PAGE_SIZE_DEFAULT",
    "PAGE_SIZE_MAX",
    "PRICE_PER_SEGMENT",
    "TERMINAL",
    "TOLL_FREE_NPAS",
    "VALIDITY_DEFAULT",
    "VALIDITY_MAX",
]

API_VERSION = "2010-04-01"
ACCOUNTS_PREFIX = f"/{API_VERSION}/Accounts"
JSON_CT = "application/json; charset=utf-8"
MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

BODY_MAX = 1600  # characters, after which Twilio answers 21617
VALIDITY_DEFAULT = 36_000  # seconds a message may wait in the sender's queue (Twilio's default and maximum)
VALIDITY_MAX = 36_000
PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 1000

#: Messages (segments) per second a sender gets, by kind (US/Canada). A messaging service gets the sum of
#: its numbers' rates.
DEFAULT_MPS = {"long_code": 1.0, "toll_free": 3.0, "short_code": 100.0}
TOLL_FREE_NPAS = ("800", "833", "844", "855", "866", "877", "888")

#: Time a message spends in `sending` before `sent`, and in `sent` before `delivered`/`undelivered`.
DEFAULT_SENDING_DELAY_S = 0.05
DEFAULT_DELIVERY_DELAY_S = 0.2
CALLBACK_TIMEOUT_S = 15.0  # Twilio's default webhook timeout

#: Statuses that trigger a status callback (never the initial one: queued, or accepted with a service).
CALLBACK_STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed")
TERMINAL = ("delivered", "undelivered", "failed")

#: US outbound SMS list price per segment, as Twilio prints it (negative: a charge).
PRICE_PER_SEGMENT = "-0.00790"

#: `error_message` of the asynchronous errors a message can end with.
DELIVERY_ERRORS = {
    30001: "Queue overflow",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
}
