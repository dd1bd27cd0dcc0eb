"""The PayPal stand-in's state: what PayPal keeps beside the world's ledger.

Payments (captures, refunds, disputes) live in the shared `World.ledger` (gateway `paypal`): a capture is a
ledger `Charge` whose id is the capture id and whose `paypal_order_id` is the order. What only PayPal's
API has lives here: the REST app's credentials and the access tokens it issued, orders before they are
captured, authorizations, remembered `PayPal-Request-Id`s, webhook subscriptions and the transmissions
sent to them (so `verify-webhook-signature` can tell a real delivery from a forged one), and a log of
what the stand-in received. Nothing here knows about HTTP.
"""

from __future__ import annotations

import hashlib
import random
import string
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox._delivery import Courier
from sandbox._framework import ReceivedLog
from sandbox.ledger import Ledger
from sandbox.world import World

from .settings import DEFAULT_TOKEN_TTL, REQUEST_ID_TTL, TOKEN_PREFIX

__all__ = ["Authorization", "Order", "PayPalState", "PurchaseUnit", "Transmission", "Webhook"]

_UPPER = string.ascii_uppercase + string.digits
_ACCOUNT = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # PayPal account ids: no 0, 1, I or O (the contract's pattern)
_TOKEN_CHARS = string.ascii_letters + string.digits + "-_"


@dataclass(slots=True)
class PurchaseUnit:
    reference_id: str
    amount_minor: int
    currency: str
    invoice_id: str = ""
    custom_id: str = ""
    description: str = ""
    soft_descriptor: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    breakdown: dict[str, Any] | None = None
    capture_ids: list[str] = field(default_factory=list)
    authorization_ids: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, str]:
        """Where PayPal carries the shop's order reference: what the ledger parses the order id from."""
        meta = {}
        if self.invoice_id:
            meta["invoice_id"] = self.invoice_id
        if self.custom_id:
            meta["custom_id"] = self.custom_id
        return meta


@dataclass(slots=True)
class Order:
    id: str
    intent: str  # CAPTURE | AUTHORIZE
    status: str  # CREATED | PAYER_ACTION_REQUIRED | APPROVED | COMPLETED | VOIDED
    purchase_units: list[PurchaseUnit]
    created: float
    updated: float
    source: str = ""  # "" | card | paypal
    card: dict[str, Any] = field(default_factory=dict)  # brand, last_digits, expiry, name, type
    payer: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Authorization:
    id: str
    order_id: str
    reference_id: str
    amount_minor: int
    currency: str
    created: float
    updated: float
    expires: float
    status: str = "CREATED"  # CREATED | CAPTURED | PARTIALLY_CAPTURED | VOIDED
    capture_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Webhook:
    id: str
    url: str | None
    event_types: list[str]


@dataclass(slots=True)
class Transmission:
    """One delivery PayPal sent: what `verify-webhook-signature` compares a claimed delivery against."""

    transmission_id: str
    webhook_id: str
    time: str
    sig: str
    cert_url: str
    auth_algo: str
    body: bytes


class PayPalState:
    """Everything the PayPal stand-in remembers, over one `World`."""

    def __init__(self, world: World, *, courier: Courier) -> None:
        self.world = world
        self.ledger: Ledger = world.ledger
        self.courier = courier  # webhook deliveries: background tasks, the client, the log
        self.base_url = ""
        r = random.Random(f"paypal-{world.seed}")
        tail = string.ascii_letters + string.digits + "-_"
        # REST app credentials look like PayPal's: 80 characters, the client id starting with "A".
        self.client_id = "A" + "".join(r.choices(tail, k=79))
        self.client_secret = "E" + "".join(r.choices(tail, k=79))
        self.webhook_id = "".join(r.choices(_UPPER, k=17))
        self.app_id = "APP-" + "".join(r.choices(_UPPER, k=17))
        self.account_number = "".join(r.choices(_ACCOUNT, k=13))
        self.merchant_email = "merchant@nxt-sandbox.example.com"
        self.token_ttl = DEFAULT_TOKEN_TTL
        self.reporting_lag_hours = 0.0
        # PayPal accounts block a second payment per invoice id unless the merchant turns it off.
        self.block_duplicate_invoice = True
        self.clock_offset = 0.0
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.orders: dict[str, Order] = {}
        self.authorizations: dict[str, Authorization] = {}
        self.request_ids: dict[tuple[str, str], tuple[str, float]] = {}  # (scope, id) -> (resource, time)
        self.webhooks: dict[str, Webhook] = {self.webhook_id: Webhook(self.webhook_id, None, ["*"])}
        self.transmissions: dict[str, Transmission] = {}
        self.received = ReceivedLog()
        self._signing: Any = None  # (private key, certificate PEM), made on first delivery
        self._rng = random.Random()

    # --- time and ids ---
    def now(self) -> float:
        """The stand-in's clock: real time plus what tests advanced it by (`/_sandbox/paypal/clock`)."""
        return time.time() + self.clock_offset

    def new_token(self) -> tuple[str, int]:
        token = TOKEN_PREFIX + "".join(self._rng.choices(_TOKEN_CHARS, k=92))
        self.tokens[token] = self.now() + self.token_ttl
        if len(self.tokens) > 10_000:  # forget expired ones so a long run does not grow without bound
            now = self.now()
            self.tokens = {t: e for t, e in self.tokens.items() if e > now}
        return token, self.token_ttl

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > self.now()

    def expire_tokens(self) -> int:
        n = len(self.tokens)
        self.tokens.clear()
        return n

    def new_id(self, kind: str) -> str:
        """A fresh 17-character id (orders, captures, refunds, authorizations share the ledger's pool)."""
        return self.ledger.new_id("paypal", "order" if kind in ("order", "authorization") else kind)

    def event_id(self) -> str:
        return (
            "WH-" + "".join(self._rng.choices(_UPPER, k=17)) + "-" + "".join(self._rng.choices(_UPPER, k=17))
        )

    # --- PayPal-Request-Id ---
    def remembered(self, scope: str, request_id: str | None) -> str | None:
        """The resource an earlier successful request with this id made, while PayPal still keeps it."""
        if not request_id:
            return None
        hit = self.request_ids.get((scope, request_id))
        if hit is None:
            return None
        resource, when = hit
        api = "orders" if scope.startswith("orders") else "payments"
        if self.now() - when > REQUEST_ID_TTL[api]:
            del self.request_ids[(scope, request_id)]
            return None
        return resource

    def remember(self, scope: str, request_id: str | None, resource: str) -> None:
        if request_id:
            self.request_ids[(scope, request_id)] = (resource, self.now())

    def log(
        self, kind: str, resource_id: str, request_id: str | None, *, replayed: bool, **more: Any
    ) -> None:
        """What the stand-in received, for tests and benchmarks counting duplicates from PayPal's side."""
        self.received.add(
            kind, id=resource_id, request_id=request_id, replayed=replayed, time=self.now(), **more
        )

    # --- webhook signing ---
    def signing(self) -> tuple[Any, bytes]:
        """The RSA key deliveries are signed with and its self-signed certificate (PEM), made once."""
        if self._signing is None:
            from datetime import UTC, datetime, timedelta

            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            from cryptography.x509.oid import NameOID

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayPal, Inc. (NXT sandbox)"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.paypal.com"),
                ]
            )
            now = datetime.now(UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=3650))
                .sign(key, hashes.SHA256())
            )
            self._signing = (key, cert.public_bytes(serialization.Encoding.PEM))
        signing: tuple[Any, bytes] = self._signing
        return signing

    def payer_id_for(self, email: str) -> str:
        """A stable 13-character payer id per buyer email, like PayPal's."""
        digest = hashlib.sha256(f"{self.world.seed}:{email.lower()}".encode()).digest()
        return "".join(_ACCOUNT[b % len(_ACCOUNT)] for b in digest[:13])
