"""Constants of the Stripe stand-in: versions, limits, currencies, test cards, event types, route params.

Nothing here knows about requests or state; every other module of the package may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACCOUNT_API_VERSION",
    "API_PREFIX",
    "DEFAULT_LIMIT",
    "EVENT_TYPES",
    "IDEMPOTENCY_KEY_MAX",
    "IDEMPOTENCY_TTL",
    "JSON_CT",
    "LIST_LIMIT_MAX",
    "MAX_AMOUNT",
    "METADATA_KEY_MAX",
    "METADATA_KEYS_MAX",
    "METADATA_VALUE_MAX",
    "MINIMUM_AMOUNTS",
    "PARAMS",
    "SUPPORTED_CURRENCIES",
    "TEST_CARDS",
    "TEST_TOKENS",
    "WEBHOOK_RETRY_DELAYS",
    "ZERO_DECIMAL",
    "TestCard",
]

API_PREFIX = "/v1"
JSON_CT = "application/json"
#: The version an account created today would default to (events and webhooks render at it).
ACCOUNT_API_VERSION = "2026-10-28.endive"
DEFAULT_LIMIT = 10
LIST_LIMIT_MAX = 100
IDEMPOTENCY_TTL = 24 * 3600  # Stripe prunes keys once they are at least 24 hours old
IDEMPOTENCY_KEY_MAX = 255
METADATA_KEYS_MAX = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500
MAX_AMOUNT = 99_999_999  # "Amount must be no more than $999,999.99"
#: Seconds between delivery attempts after a failed one (Stripe retries for days; the sandbox in seconds).
WEBHOOK_RETRY_DELAYS = (1.0, 5.0, 25.0)

#: docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
#: docs.stripe.com/currencies: the presentment currencies a US account accepts for cards.
SUPPORTED_CURRENCIES = frozenset(
    """usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd
    cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd
    hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga
    mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron
    rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs
    vnd vuv wst xaf xcd xof xpf yer zar zmw""".split()
)
#: docs.stripe.com/currencies#minimum-and-maximum-charge-amounts, in minor units of the charge currency.
MINIMUM_AMOUNTS = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}


@dataclass(frozen=True, slots=True)
class TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    # a decline: (code, decline_code, message, param, advice_code); None succeeds
    decline: tuple[str, str, str, str | None, str | None] | None = None


_GENERIC = ("card_declined", "generic_decline", "Your card was declined.", None, "try_again_later")
_FUNDS = ("card_declined", "insufficient_funds", "Your card has insufficient funds.", None, "try_again_later")
_LOST = ("card_declined", "lost_card", "Your card was declined.", None, "do_not_try_again")
_STOLEN = ("card_declined", "stolen_card", "Your card was declined.", None, "do_not_try_again")
_EXPIRED = ("expired_card", "expired_card", "Your card has expired.", "exp_month", "confirm_card_data")
_CVC = (
    "incorrect_cvc",
    "incorrect_cvc",
    "Your card's security code is incorrect.",
    "cvc",
    "confirm_card_data",
)
_PROCESSING = (
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
    None,
    "try_again_later",
)
_FRAUD = ("card_declined", "fraudulent", "Your card was declined.", None, None)
_VELOCITY = (
    "card_declined",
    "card_velocity_exceeded",
    "Your card was declined for making repeated attempts too frequently or exceeding its amount limit.",
    None,
    "try_again_later",
)

#: docs.stripe.com/testing: the PaymentMethod test ids, and what a payment with each does.
TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556", "debit"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_mastercard_debit": TestCard("mastercard", "8210", "debit"),
    "pm_card_mastercard_prepaid": TestCard("mastercard", "5100", "prepaid"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_discover": TestCard("discover", "1117"),
    "pm_card_diners": TestCard("diners", "0004"),
    "pm_card_jcb": TestCard("jcb", "0505"),
    "pm_card_unionpay": TestCard("unionpay", "0005"),
    "pm_card_bypassPending": TestCard("visa", "0077"),
    # declines: the `visa_` names are the current docs', the others the older names Stripe still accepts
    "pm_card_visa_chargeDeclined": TestCard("visa", "0002", decline=_GENERIC),
    "pm_card_chargeDeclined": TestCard("visa", "0002", decline=_GENERIC),
    "pm_card_visa_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", decline=_FUNDS),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", decline=_FUNDS),
    "pm_card_visa_chargeDeclinedLostCard": TestCard("visa", "9987", decline=_LOST),
    "pm_card_chargeDeclinedLostCard": TestCard("visa", "9987", decline=_LOST),
    "pm_card_visa_chargeDeclinedStolenCard": TestCard("visa", "9979", decline=_STOLEN),
    "pm_card_chargeDeclinedStolenCard": TestCard("visa", "9979", decline=_STOLEN),
    "pm_card_chargeDeclinedExpiredCard": TestCard("visa", "0069", decline=_EXPIRED),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard("visa", "0127", decline=_CVC),
    "pm_card_chargeDeclinedProcessingError": TestCard("visa", "0119", decline=_PROCESSING),
    "pm_card_chargeDeclinedFraudulent": TestCard("visa", "0019", decline=_FRAUD),
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": TestCard("visa", "6975", decline=_VELOCITY),
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", decline=_GENERIC),
}
#: `card[token]` test tokens for POST /v1/payment_methods: tok_<x> behaves as pm_card_<x>.
TEST_TOKENS: dict[str, TestCard] = {"tok_" + k[len("pm_card_") :]: v for k, v in TEST_CARDS.items()}

#: The event types the stand-in emits (a subset of Stripe's, named as Stripe names them).
EVENT_TYPES = frozenset(
    {
        "charge.captured",
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.failed",
        "charge.refunded",
        "charge.succeeded",
        "charge.updated",
        "customer.created",
        "customer.deleted",
        "customer.updated",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "payment_intent.created",
        "payment_intent.payment_failed",
        "payment_intent.succeeded",
        "payment_method.attached",
        "payment_method.detached",
        "payout.created",
        "payout.paid",
        "payout.updated",
        "refund.created",
        "refund.updated",
    }
)

_LIST = {"created", "ending_before", "expand", "limit", "starting_after"}
#: Parameters each route accepts (from Stripe's OpenAPI spec); any other is `parameter_unknown`.
PARAMS: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "customers.create": {
            "address", "balance", "description", "email", "expand", "invoice_settings", "metadata", "name",
            "payment_method", "phone", "preferred_locales", "shipping", "tax_exempt",
        },
        "customers.update": {
            "address", "balance", "description", "email", "expand", "invoice_settings", "metadata", "name",
            "phone", "preferred_locales", "shipping", "tax_exempt",
        },
        "customers.list": _LIST | {"email"},
        "customers.payment_methods": _LIST - {"created"} | {"type"},
        "payment_methods.create": {"billing_details", "card", "customer", "expand", "metadata", "type"},
        "payment_methods.update": {"billing_details", "expand", "metadata"},
        "payment_methods.list": _LIST - {"created"} | {"customer", "type"},
        "payment_methods.attach": {"customer", "expand"},
        "payment_methods.detach": {"expand"},
        "payment_intents.create": {
            "amount", "automatic_payment_methods", "capture_method", "confirm", "confirmation_method",
            "currency", "customer", "description", "error_on_requires_action", "expand", "metadata",
            "off_session", "payment_method", "payment_method_data", "payment_method_options",
            "payment_method_types", "receipt_email", "return_url", "setup_future_usage", "shipping",
            "statement_descriptor", "statement_descriptor_suffix", "transfer_group", "use_stripe_sdk",
        },
        "payment_intents.update": {
            "amount", "capture_method", "currency", "customer", "description", "expand", "metadata",
            "payment_method", "payment_method_types", "receipt_email", "setup_future_usage", "shipping",
            "statement_descriptor", "statement_descriptor_suffix", "transfer_group",
        },
        "payment_intents.confirm": {
            "capture_method", "client_secret", "error_on_requires_action", "expand", "off_session",
            "payment_method", "payment_method_data", "payment_method_options", "payment_method_types",
            "receipt_email", "return_url", "setup_future_usage", "shipping", "use_stripe_sdk",
        },
        "payment_intents.capture": {
            "amount_to_capture", "expand", "metadata", "statement_descriptor", "statement_descriptor_suffix",
        },
        "payment_intents.cancel": {"cancellation_reason", "expand"},
        "payment_intents.list": _LIST | {"customer"},
        "charges.update": {"customer", "description", "expand", "fraud_details", "metadata", "receipt_email",
                           "shipping", "transfer_group"},
        "charges.list": _LIST | {"customer", "payment_intent", "transfer_group"},
        "refunds.create": {"amount", "charge", "currency", "expand", "metadata", "payment_intent", "reason"},
        "refunds.update": {"expand", "metadata"},
        "refunds.list": _LIST | {"charge", "payment_intent"},
        "balance_transactions.list": _LIST | {"currency", "payout", "source", "type"},
        "payouts.list": _LIST | {"arrival_date", "destination", "status"},
        "disputes.update": {"evidence", "expand", "metadata", "submit"},
        "disputes.close": {"expand"},
        "disputes.list": _LIST | {"charge", "payment_intent"},
        "events.list": _LIST | {"delivery_success", "type", "types"},
        "webhook_endpoints.create": {"api_version", "connect", "description", "enabled_events", "expand",
                                     "metadata", "url"},
        "webhook_endpoints.update": {"description", "disabled", "enabled_events", "expand", "metadata",
                                     "url"},
        "webhook_endpoints.list": _LIST - {"created"},
        "retrieve": {"expand"},
        "delete": set(),
    }.items()
}  # fmt: skip
