"""Constants of the Square stand-in: the versions it claims, its limits, and Square's own tables.

Constants only (no logic), so every other module can import it.
"""

from __future__ import annotations

__all__ = [
    "API_VERSION",
    "CARD_BRANDS",
    "CURRENCIES",
    "DEFAULT_LIMIT",
    "DELAY_DURATION",
    "DELAY_SECONDS",
    "EVENT_TYPES",
    "IDEMPOTENCY_KEY_MAX",
    "JSON_CT",
    "MAX_LIMIT",
    "NOTE_MAX",
    "REASON_MAX",
    "REFERENCE_ID_MAX",
    "RETRY_SCHEDULE",
    "SUBSCRIPTION_NAME_MAX",
    "TEST_SOURCES",
    "WEBHOOK_TIMEOUT",
    "YEAR",
]

#: What an application gets when it sends no `Square-Version` (squareup 46 sends 2026-09-16 itself).
API_VERSION = "2025-08-20"
JSON_CT = "application/json"

MAX_LIMIT = 100  # ListPayments, ListPaymentRefunds, ListPayouts, ListPayoutEntries: larger is ignored
DEFAULT_LIMIT = 100
IDEMPOTENCY_KEY_MAX = 45  # CreatePaymentRequest.idempotency_key
REFERENCE_ID_MAX = 40
NOTE_MAX = 500
REASON_MAX = 192
SUBSCRIPTION_NAME_MAX = 64
YEAR = 365 * 86_400

#: ISO 4217 codes Square's `Currency` enum knows (api.json); anything else is INVALID_ENUM_VALUE.
CURRENCIES = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP "
    "BYR BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB "
    "EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD "
    "JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD MAD MDL MGA MKD MMK MNT "
    "MOP MRO MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR "
    "RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SLE SOS SRD SSP STD SVC SYP SZL THB TJS TMT TND "
    "TOP TRY TTD TWD TZS UAH UGX USD USN USS UYI UYU UZS VEF VND VUV WST XAF XAG XAU XBA XBB XBC XBD "
    "XCD XDR XOF XPD XPF XPT XTS XXX YER ZAR ZMK ZMW BTC XUS".split()
)

#: Card-not-present authorisations (`autocomplete: false`) wait this long before Square cancels them.
DELAY_DURATION = "PT168H"
DELAY_SECONDS = 168 * 3600

#: Square's sandbox test values for `source_id` (developer.squareup.com/docs/devtools/sandbox/payments):
#: source -> (Square error code or "" for success, the ledger's failure_code, decline_code).
TEST_SOURCES: dict[str, tuple[str, str, str]] = {
    "cnon:card-nonce-ok": ("", "", ""),
    "ccof:customer-card-id-ok": ("", "", ""),
    "cnon:card-nonce-declined": ("GENERIC_DECLINE", "card_declined", "generic_decline"),
    "cnon:card-nonce-rejected-cvv": ("CVV_FAILURE", "incorrect_cvc", "incorrect_cvc"),
    "cnon:card-nonce-rejected-postalcode": ("ADDRESS_VERIFICATION_FAILURE", "incorrect_zip", "incorrect_zip"),
    "cnon:card-nonce-rejected-expiration": ("INVALID_EXPIRATION", "invalid_expiry", "invalid_expiry_year"),
    "ccof:customer-card-id-declined": ("GENERIC_DECLINE", "card_declined", "generic_decline"),
    "ccof:customer-card-id-rejected-cvv": ("CVV_FAILURE", "incorrect_cvc", "incorrect_cvc"),
}

#: The ledger's card brands as Square names them.
CARD_BRANDS = {
    "visa": "VISA",
    "mastercard": "MASTERCARD",
    "amex": "AMERICAN_EXPRESS",
    "discover": "DISCOVER",
    "": "OTHER_BRAND",
}

#: Webhook event types this stand-in emits, with the API version that introduced each.
EVENT_TYPES: dict[str, str] = {
    "payment.created": "2020-02-26",
    "payment.updated": "2020-02-26",
    "refund.created": "2020-02-26",
    "refund.updated": "2020-02-26",
    "payout.sent": "2021-09-15",
    "payout.paid": "2021-09-15",
    "payout.failed": "2021-09-15",
    "dispute.created": "2021-09-15",
    "dispute.state.updated": "2021-09-15",
}

#: Square answers a webhook within 10 s or counts a failure; retries follow 1, 2, 4, 8, 16, 32 minutes, then
#: hourly, for 24 hours after the first attempt (developer.squareup.com/docs/webhooks/step4manage).
WEBHOOK_TIMEOUT = 10.0
RETRY_SCHEDULE: tuple[int, ...] = (60, 120, 240, 480, 960, 1920) + (3600,) * 23
