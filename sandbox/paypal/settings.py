"""Constants of the PayPal stand-in: currencies, limits, lifetimes, event names and transaction codes.

Constants only (no logic), so every other module can import it. Sources: the OpenAPI files in
`/work/shared/contracts/paypal/` and the vendor notes (`reference/vendor-protocols.md` section 3).
"""

from __future__ import annotations

__all__ = [
    "CERT_ID",
    "CURRENCY_DECIMALS",
    "DEFAULT_TOKEN_TTL",
    "EVENT_CODES",
    "EVENT_TYPES",
    "JSON_CT",
    "MAX_PURCHASE_UNITS",
    "MAX_RANGE_SECONDS",
    "MAX_WEBHOOKS",
    "ORDERS_DOCS",
    "PAYMENTS_DOCS",
    "REPORTING_FIELDS",
    "REQUEST_ID_TTL",
    "SCOPE",
    "SEARCH_HISTORY_SECONDS",
    "TOKEN_PREFIX",
    "UNSUPPORTED_ISO_CURRENCIES",
]

JSON_CT = "application/json"

#: PayPal REST currencies and their decimal places (developer.paypal.com/api/rest/reference/currency-codes).
CURRENCY_DECIMALS: dict[str, int] = {
    "AUD": 2, "BRL": 2, "CAD": 2, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "HKD": 2, "HUF": 0, "ILS": 2,
    "JPY": 0, "MYR": 2, "MXN": 2, "TWD": 0, "NZD": 2, "NOK": 2, "PHP": 2, "PLN": 2, "GBP": 2, "SGD": 2,
    "SEK": 2, "CHF": 2, "THB": 2, "USD": 2,
}  # fmt: skip

#: Real ISO 4217 currencies PayPal's REST APIs do not take (a merchant gets CURRENCY_NOT_SUPPORTED); any
#: other code outside CURRENCY_DECIMALS is not a currency at all (INVALID_CURRENCY_CODE).
UNSUPPORTED_ISO_CURRENCIES = frozenset(
    "AED ARS BDT BGN CLP COP EGP GHS HRK IDR INR ISK KES KRW KWD LKR MAD NGN PEN PKR QAR RON RSD RUB SAR "
    "TRY UAH VND ZAR".split()
)

#: Access tokens live about 9 hours at PayPal (`expires_in` ~32,400 s); tests shorten it through admin.
DEFAULT_TOKEN_TTL = 32_400
TOKEN_PREFIX = "A21AA"
SCOPE = (
    "https://uri.paypal.com/services/payments/futurepayments "
    "https://uri.paypal.com/services/reporting/search/read "
    "https://uri.paypal.com/services/payments/refund "
    "https://uri.paypal.com/services/payments/realtimepayment "
    "https://uri.paypal.com/services/payments/payment/authcapture "
    "https://uri.paypal.com/services/applications/webhooks openid"
)

#: How long a PayPal-Request-Id is remembered: Orders "6 hours", Payments "45 days" (the contracts).
REQUEST_ID_TTL = {"orders": 6 * 3600, "payments": 45 * 86_400}
MAX_PURCHASE_UNITS = 10

#: Transaction Search: at most 31 days per query, 3 years of history, these `fields`.
MAX_RANGE_SECONDS = 31 * 86_400
SEARCH_HISTORY_SECONDS = 3 * 365 * 86_400
REPORTING_FIELDS = (
    "transaction_info",
    "payer_info",
    "shipping_info",
    "auction_info",
    "cart_info",
    "incentive_info",
    "store_info",
)

#: Transaction event codes (developer.paypal.com/docs/transaction-search/transaction-event-codes).
EVENT_CODES = {
    "capture": "T0006",  # PayPal Checkout APIs
    "refund": "T1107",  # Payment refund, initiated by merchant
    "hold": "T1110",  # Hold for dispute investigation (a buyer complaint on a PayPal wallet payment)
    "release": "T1111",  # Cancellation of hold for dispute resolution (the merchant won)
    "reversal": "T1106",  # Payment reversal, initiated by PayPal (a dispute the merchant lost)
    "chargeback": "T1201",  # Chargeback (a card payment disputed with the card issuer)
    "chargeback_reversal": "T1202",  # Chargeback reversal (the merchant won)
}

#: Webhook event names a subscription may list ("*" is every event).
EVENT_TYPES = {
    "CHECKOUT.ORDER.APPROVED": "An order has been approved by buyer.",
    "CHECKOUT.ORDER.COMPLETED": "Checkout Order Completed.",
    "PAYMENT.AUTHORIZATION.CREATED": "A payment authorization was created.",
    "PAYMENT.AUTHORIZATION.VOIDED": "A payment authorization was voided.",
    "PAYMENT.CAPTURE.COMPLETED": "A payment capture completes.",
    "PAYMENT.CAPTURE.DENIED": "A payment capture is denied.",
    "PAYMENT.CAPTURE.PENDING": "The state of a payment capture changes to pending.",
    "PAYMENT.CAPTURE.REFUNDED": "A merchant refunds a payment capture.",
    "PAYMENT.CAPTURE.REVERSED": "PayPal reverses a payment capture.",
    "CUSTOMER.DISPUTE.CREATED": "A dispute is created.",
    "CUSTOMER.DISPUTE.RESOLVED": "A dispute is resolved.",
    "CUSTOMER.DISPUTE.UPDATED": "A dispute is updated.",
}
MAX_WEBHOOKS = 10  # per REST app
CERT_ID = "CERT-360caa42-fca2a594-a5cafa77"

ORDERS_DOCS = "https://developer.paypal.com/docs/api/orders/v2/#error-"
PAYMENTS_DOCS = "https://developer.paypal.com/docs/api/payments/v2/#error-"
