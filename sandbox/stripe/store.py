"""The Stripe account's state: what Stripe keeps beside the shared ledger.

Charges, refunds, disputes, balance transactions and payouts live in `world.ledger` (gateway `stripe`), the
one record every gateway stand-in renders; `State` adds what only Stripe has: customers, payment methods,
payment intents created through the API, the Stripe-only fields of ledger records (payment method, customer,
refund and dispute metadata, dispute evidence), events, webhook endpoints and their deliveries, saved
idempotent responses, what was received, the keys, and the account's clock. Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox._delivery import Courier
from sandbox._framework import ReceivedLog
from sandbox.ledger import Ledger
from sandbox.world import World

from .encoding import random_id
from .settings import WEBHOOK_RETRY_DELAYS, TestCard

__all__ = [
    "Customer",
    "Delivery",
    "Endpoint",
    "Event",
    "Intent",
    "PaymentMethod",
    "Saved",
    "State",
]


@dataclass(slots=True)
class Customer:
    id: str
    created: int
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    description: str | None = None
    address: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    default_payment_method: str | None = None
    balance: int = 0
    preferred_locales: list[str] = field(default_factory=list)
    tax_exempt: str = "none"
    invoice_prefix: str = ""
    deleted: bool = False


@dataclass(slots=True)
class PaymentMethod:
    id: str
    created: int
    card: TestCard
    exp_month: int
    exp_year: int
    fingerprint: str
    customer: str | None = None
    billing_details: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    detached: bool = False  # once detached, a PaymentMethod can never be attached again


@dataclass(slots=True)
class Intent:
    """A PaymentIntent created through the API. Its charges are the ledger's (aliased by this id)."""

    id: str
    created: int
    amount: int
    currency: str  # lower case
    client_secret: str
    status: str = "requires_payment_method"
    capture_method: str = "automatic_async"
    confirmation_method: str = "automatic"
    customer: str | None = None
    payment_method: str | None = None
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    receipt_email: str | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    setup_future_usage: str | None = None
    shipping: dict[str, Any] | None = None
    payment_method_types: list[str] = field(default_factory=lambda: ["card"])
    automatic_payment_methods: dict[str, Any] | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    last_payment_error: dict[str, Any] | None = None


@dataclass(slots=True)
class Endpoint:
    id: str
    url: str
    secret: str
    enabled_events: list[str]
    created: int
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    status: str = "enabled"
    api_version: str | None = None
    via_admin: bool = False  # registered with /_sandbox: signs with the credentials' webhook_secret

    def wants(self, event_type: str) -> bool:
        return self.status == "enabled" and ("*" in self.enabled_events or event_type in self.enabled_events)


@dataclass(slots=True)
class Event:
    id: str
    type: str
    created: int
    data: dict[str, Any]  # {"object": ..., "previous_attributes"?: ...} as it was when it happened
    request_id: str | None
    idempotency_key: str | None
    pending: set[str] = field(default_factory=set)  # endpoints not yet delivered to successfully


@dataclass(slots=True)
class Delivery:
    """One event on its way to one endpoint: attempts so far, and the timer of the next one."""

    event_id: str
    endpoint_id: str
    attempts: int = 0
    in_flight: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclass(slots=True)
class Saved:
    """The response saved under an idempotency key."""

    key: str
    method: str
    path: str
    fingerprint: bytes
    status: int
    body: bytes
    headers: dict[str, str]
    created: int
    request_id: str


class State:
    """The account: keys, clock, Stripe-only objects, events, endpoints, idempotency, deliveries."""

    def __init__(
        self,
        world: World,
        *,
        courier: Courier,
        webhook_retry_delays: tuple[float, ...] = WEBHOOK_RETRY_DELAYS,
    ) -> None:
        self.world = world
        self.ledger: Ledger = world.ledger
        self.base_url = ""
        r = random.Random(f"stripe-keys-{world.seed}")
        self.account_id = random_id(r, "acct_1", 15)
        self.api_key = random_id(r, "sk_test_51", 97)
        self.publishable_key = random_id(r, "pk_test_51", 97)
        self.webhook_secret = random_id(r, "whsec_", 32)
        self.bank_account_id = random_id(r, "ba_1", 23)
        self.rng = random.Random(f"stripe-ids-{world.seed}")
        self.clock_offset = 0  # seconds the account's clock runs ahead of real time (admin `advance`)
        self.customers: dict[str, Customer] = {}
        self.payment_methods: dict[str, PaymentMethod] = {}
        self.intents: dict[str, Intent] = {}
        self.charge_extra: dict[str, dict[str, Any]] = {}  # ch_ -> payment_method, customer, receipt_email
        self.refund_extra: dict[str, dict[str, Any]] = {}  # re_ -> metadata, reason
        self.dispute_extra: dict[str, dict[str, Any]] = {}  # du_ -> evidence, metadata, submission_count
        self.events: dict[str, Event] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.saved: dict[tuple[str, str], Saved] = {}  # (account, key) -> response
        self.received = ReceivedLog()
        self.courier = courier  # webhook deliveries: background tasks, the client, retry timers, the log
        self.pending: dict[tuple[str, str], Delivery] = {}  # (event, endpoint) -> delivery
        self.retry_delays = tuple(float(d) for d in webhook_retry_delays)
        # payouts the account has announced (payout.created) and those still in transit (payout.paid later)
        payouts = self.ledger.payouts("stripe")
        self.announced: set[str] = {p.id for p in payouts}
        self.in_transit: set[str] = {p.id for p in payouts if p.status == "in_transit"}
        self.payout_watermark = max((p.created for p in payouts), default=0)

    # --- clock and ids ---------------------------------------------------------------------------------
    def now(self) -> int:
        """The account's clock: real time, plus whatever `advance` added."""
        return int(time.time()) + self.clock_offset

    def new_id(self, prefix: str, n: int = 24) -> str:
        return random_id(self.rng, prefix, n)

    def request_id(self) -> str:
        return random_id(self.rng, "req_", 14)

    def credentials(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "webhook_secret": self.webhook_secret}

    def record(self, kind: str, **fields: Any) -> None:
        """What the account received (a payment intent, refund, customer ... was created)."""
        self.received.add(kind, **fields)
