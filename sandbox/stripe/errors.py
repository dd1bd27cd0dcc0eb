"""Stripe's errors: `StripeError` as every handler raises it, and constructors for the ones Stripe words.

The body is Stripe's `{"error": {type, code, decline_code, message, param, doc_url, charge, payment_intent,
payment_method, request_log_url}}` with only the fields that apply, and the status picks the SDK's class:
400/404 `InvalidRequestError` (or `IdempotencyError` for `idempotency_error`), 401 `AuthenticationError`,
402 `CardError`, 403 `PermissionError`, 429 `RateLimitError`, anything else `APIError`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "StripeError",
    "amount_error",
    "idempotency_mismatch",
    "invalid_integer",
    "invalid_request",
    "missing_param",
    "resource_missing",
    "unexpected_state",
    "unknown_param",
]

_NOUNS = {
    "ch": "charge",
    "pi": "payment_intent",
    "re": "refund",
    "txn": "balance transaction",
    "po": "payout",
    "du": "dispute",
    "cus": "customer",
    "pm": "PaymentMethod",
    "evt": "event",
    "we": "webhook endpoint",
}


class StripeError(Exception):
    """One Stripe error response. `headers` are added to the response (e.g. `Stripe-Should-Retry`)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type
        self.code, self.param, self.decline_code = code, param, decline_code
        self.headers = headers or {}
        self.extra = extra  # charge, payment_intent, payment_method, advice_code, ...

    def body(self, request_id: str = "") -> dict[str, Any]:
        err: dict[str, Any] = {}
        if self.code:
            err["code"] = self.code
        if self.decline_code:
            err["decline_code"] = self.decline_code
        if self.code:
            err["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        err["message"] = self.message
        if self.param:
            err["param"] = self.param
        err.update({k: v for k, v in self.extra.items() if v is not None})
        if request_id:
            err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err["type"] = self.type
        return {"error": err}


def invalid_request(message: str, *, param: str | None = None, code: str | None = None, status: int = 400,
                    **extra: Any) -> StripeError:  # fmt: skip
    return StripeError(status, message, param=param, code=code, **extra)


def resource_missing(object_id: str, param: str = "id", noun: str | None = None) -> StripeError:
    """`No such charge: 'ch_x'` (404, `resource_missing`), naming the object by its id's prefix."""
    if noun is None:
        noun = _NOUNS.get(object_id.split("_", 1)[0], "object")
    return StripeError(404, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)


def missing_param(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def unknown_param(param: str) -> StripeError:
    return StripeError(400, f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def invalid_integer(param: str, value: Any) -> StripeError:
    return StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)


def amount_error(code: str, message: str, param: str = "amount") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unexpected_state(message: str, **extra: Any) -> StripeError:
    return StripeError(400, message, code="payment_intent_unexpected_state", **extra)


def idempotency_mismatch(message: str) -> StripeError:
    return StripeError(400, message, type="idempotency_error")
