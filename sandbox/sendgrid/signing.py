"""The signed Event Webhook's key pair and signature.

SendGrid signs `timestamp + body` (plain concatenation, the exact bytes posted) with ECDSA P-256 /
SHA-256, sends the DER signature in base64 as `X-Twilio-Email-Event-Webhook-Signature` and the
timestamp as `X-Twilio-Email-Event-Webhook-Timestamp`, and publishes the public key as base64 SPKI
(the "verification key"). The key is derived from the world's seed, so the same seed gives the same key.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "SigningKey"]

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# The order of the P-256 group: a private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class SigningKey:
    """The account's Event Webhook signing key, deterministic from `seed`."""

    __slots__ = ("_private", "public_key")

    def __init__(self, seed: int) -> None:
        digest = hashlib.sha256(f"sendgrid-event-webhook-{seed}".encode()).digest()
        scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
        self._private = ec.derive_private_key(scalar, ec.SECP256R1())
        spki = self._private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(spki).decode()

    def sign(self, timestamp: str, body: bytes) -> str:
        der = self._private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode()
