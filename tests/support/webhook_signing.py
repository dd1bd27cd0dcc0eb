"""Webhooks signed the way each vendor signs them, with the vendor SDKs' own helpers where they have one
(Stripe, Twilio, Standard Webhooks; Square and WooCommerce through their sandbox stand-ins' signers)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import stripe
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from sandbox.square.webhooks import sign as square_sign
from sandbox.woocommerce.webhooks import sign_webhook


def stripe_event(event_type: str = "charge.refunded", obj_id: str | None = None, **extra: Any) -> bytes:
    obj_id = obj_id or f"ch_{uuid.uuid4().hex[:24]}"
    event = {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": obj_id, "object": event_type.split(".")[0], "amount": 1500, **extra}},
    }
    return json.dumps(event).encode()


def stripe_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}


def woo_headers(body: bytes, secret: str, topic: str = "order.updated") -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": sign_webhook(body, secret),
    }


def square_headers(body: bytes, key: str, url: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "x-square-hmacsha256-signature": square_sign(key, url, body)}


def anet_headers(body: bytes, key: str, *, lower: bool = False) -> dict[str, str]:
    digest = hmac.new(key.encode(), body, hashlib.sha512).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-ANET-Signature": "sha512=" + (digest if lower else digest.upper()),
    }


def twilio_headers(url: str, params: dict[str, str], token: str) -> dict[str, str]:
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params),
    }


class SendGridKey:
    """A P-256 key pair like the one SendGrid signs its Event Webhook with."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._key.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        }


def standard_headers(
    body: bytes, secret: str, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


def legacy_headers(body: bytes, secret: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Webhook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }
