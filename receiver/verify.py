"""Signature checks, one per vendor, each exactly as the vendor signs, on the raw body, constant-time.

Every function raises `Rejected(401, reason)` when the signature is missing, wrong, or its timestamp is
outside the tolerance, and returns nothing otherwise. The vendor SDK's own helper is used wherever the
SDK has one (Stripe, Square, Twilio, SendGrid, Standard Webhooks); WooCommerce, Authorize.Net and the old
service's `X-Webhook-Signature` are plain HMACs compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import importlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import status

from receiver.errors import Rejected

__all__ = [
    "SDK_MODULES",
    "authorizenet",
    "legacy_hmac",
    "paypal",
    "preload",
    "sendgrid",
    "square",
    "standard_webhooks",
    "stripe",
    "twilio",
    "woocommerce",
]

_401 = status.HTTP_401_UNAUTHORIZED

# The vendor SDK modules the checks below import where they are used (so that `nxt` commands that never
# verify a webhook do not pay for them); `preload` imports them all when the receiver starts.
SDK_MODULES = (
    "stripe",
    "square.utils.webhooks_helper",
    "twilio.request_validator",
    "sendgrid.helpers.eventwebhook",
    "standardwebhooks.webhooks",
)


def preload() -> None:
    """Import every vendor SDK helper now. Imported by the first webhook instead, Stripe's SDK (about
    140 ms) and SendGrid's (70 ms) stall the event loop, and every request queued behind that one."""
    for name in SDK_MODULES:
        importlib.import_module(name)


def _missing(header: str, source: str) -> Rejected:
    return Rejected(_401, f"missing {header} header", source=source)


def _wrong(source: str, what: str = "signature") -> Rejected:
    return Rejected(_401, f"{what} does not match", source=source)


def woocommerce(body: bytes, signature: str | None, secret: str) -> None:
    """`X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body))."""
    if not signature:
        raise _missing("X-WC-Webhook-Signature", "woocommerce")
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature.strip().encode()):
        raise _wrong("woocommerce")


def stripe(body: bytes, header: str | None, secret: str, tolerance_s: int) -> None:
    """`Stripe-Signature: t=...,v1=...` through the SDK's `WebhookSignature.verify_header` (the check
    `stripe.Webhook.construct_event` makes), with the timestamp tolerance."""
    import stripe as sdk

    if not header:
        raise _missing("Stripe-Signature", "stripe")
    try:
        sdk.WebhookSignature.verify_header(body, header, secret, tolerance_s)
    except sdk.SignatureVerificationError as exc:
        message = str(exc.user_message or exc)
        if "tolerance" in message:
            raise Rejected(
                _401, "Stripe-Signature timestamp is outside the tolerance", source="stripe"
            ) from None
        if "extract timestamp" in message or "expected scheme" in message:
            raise Rejected(_401, "Stripe-Signature header is malformed", source="stripe") from None
        raise _wrong("stripe") from None
    except UnicodeDecodeError:
        raise Rejected(status.HTTP_400_BAD_REQUEST, "body is not UTF-8 text", source="stripe") from None


async def paypal(client: Any, headers: Mapping[str, str], body: bytes, webhook_id: str) -> None:
    """PayPal's verify-webhook-signature API, through the PayPal Gateway block's client:
    `await client.verify_webhook_signature(headers=, body=, webhook_id=) -> bool`."""
    if not headers.get("paypal-transmission-sig"):
        raise _missing("PAYPAL-TRANSMISSION-SIG", "paypal")
    if not await client.verify_webhook_signature(headers=headers, body=body, webhook_id=webhook_id):
        raise _wrong("paypal")


def square(body: bytes, header: str | None, signature_key: str, notification_url: str) -> None:
    """`x-square-hmacsha256-signature` over notification URL + body, through the SDK's `verify_signature`."""
    from square.utils.webhooks_helper import verify_signature

    if not header:
        raise _missing("x-square-hmacsha256-signature", "square")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise Rejected(status.HTTP_400_BAD_REQUEST, "body is not UTF-8 text", source="square") from None
    ok = verify_signature(
        request_body=text,
        signature_header=header.strip(),
        signature_key=signature_key,
        notification_url=notification_url,
    )
    if not ok:
        raise _wrong("square")


def authorizenet(body: bytes, header: str | None, signature_key: str) -> None:
    """`X-ANET-Signature: sha512=<HEX>`: HMAC-SHA512 of the body keyed by the Signature Key as text,
    compared case-insensitively (Authorize.Net sends uppercase hex)."""
    if not header:
        raise _missing("X-ANET-Signature", "authorizenet")
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha512" or not given:
        raise Rejected(_401, "X-ANET-Signature is not sha512=<hex>", source="authorizenet")
    expected = hmac.new(signature_key.encode(), body, hashlib.sha512).hexdigest().upper()
    if not hmac.compare_digest(expected.encode(), given.upper().encode()):
        raise _wrong("authorizenet")


class _Params:
    """Form parameters with repeated names, as twilio's `RequestValidator` reads them (`getlist`)."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __iter__(self) -> Any:
        return iter(dict.fromkeys(k for k, _ in self._pairs))

    def getlist(self, name: str) -> list[str]:
        return [v for k, v in self._pairs if k == name]


def twilio(
    url: str,
    params: Sequence[tuple[str, str]],
    header: str | None,
    auth_token: str,
    *,
    settings_header: str | None = None,
) -> None:
    """`X-Twilio-Signature` = base64(HMAC-SHA1(auth token, full URL + sorted params)), through the SDK's
    `RequestValidator` (which also tries the URL with and without its default port)."""
    from twilio.request_validator import RequestValidator, get_signature_algorithm

    if not header:
        raise _missing("X-Twilio-Signature", "twilio")
    algorithm = get_signature_algorithm(settings_header) if settings_header else None
    if not RequestValidator(auth_token).validate(url, _Params(params), header, algorithm):
        raise _wrong("twilio")


@functools.lru_cache(maxsize=8)
def _sendgrid_verifier(public_key: str) -> Any:
    from sendgrid.helpers.eventwebhook import EventWebhook

    return EventWebhook(public_key)


def sendgrid(
    body: bytes, signature: str | None, timestamp: str | None, public_key: str, tolerance_s: int
) -> None:
    """Signed Event Webhook: ECDSA P-256 over timestamp + body, through the SDK's `EventWebhook`, plus the
    timestamp tolerance the SDK does not check."""
    if not signature:
        raise _missing("X-Twilio-Email-Event-Webhook-Signature", "sendgrid")
    if not timestamp:
        raise _missing("X-Twilio-Email-Event-Webhook-Timestamp", "sendgrid")
    _fresh(timestamp, tolerance_s, "sendgrid", "X-Twilio-Email-Event-Webhook-Timestamp")
    try:
        verifier = _sendgrid_verifier(public_key)
    except ValueError:
        raise Rejected(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the SendGrid block's verification_key is not a valid public key",
            source="sendgrid",
        ) from None
    try:
        ok = verifier.verify_signature(body.decode(), signature, timestamp)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise _wrong("sendgrid")


def _fresh(timestamp: str, tolerance_s: int, source: str, header: str) -> None:
    try:
        sent = int(timestamp.strip())
    except ValueError:
        raise Rejected(_401, f"{header} is not a Unix timestamp", source=source) from None
    if abs(time.time() - sent) > tolerance_s:
        raise Rejected(_401, f"{header} is outside the tolerance of {tolerance_s}s", source=source)


def standard_webhooks(body: bytes, headers: Mapping[str, str], secret: str, source: str) -> None:
    """Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> ...`) through
    the `standardwebhooks` package (HMAC-SHA256 over `id.timestamp.body`, ±5 min)."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        if not headers.get(name):
            raise _missing(name, source)
    try:
        hook = Webhook(secret)
    except Exception:
        raise Rejected(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "this service's secret is not a Standard Webhooks secret (whsec_<base64>)",
            source=source,
        ) from None
    try:
        hook.verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        text = str(exc)
        if "too old" in text or "too new" in text:
            raise Rejected(
                _401, "webhook-timestamp is outside the tolerance of 300s", source=source
            ) from None
        raise _wrong(source) from None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Rejected(_401, "webhook-signature is malformed", source=source) from None


def legacy_hmac(body: bytes, header: str | None, secret: str, source: str) -> None:
    """The old service's `X-Webhook-Signature`: hex HMAC-SHA256 of the raw body keyed by the service's
    secret (an optional `sha256=` prefix is accepted; hex case does not matter)."""
    if not header:
        raise _missing("X-Webhook-Signature", source)
    given = header.strip()
    if given.lower().startswith("sha256="):
        given = given[7:]
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise _wrong(source)
