"""The Square account's state: the world's ledger plus what Square keeps beside it.

`SquareState` holds the seller's credentials and locations (the ledger's `square_location_ids`), the
idempotency records of the write endpoints, what the stand-in received, the webhook subscriptions and the
deliveries in flight. Payments, refunds, payouts and disputes live in `world.ledger` only: the stand-in
never keeps a copy. Every other module takes a `SquareState` as its first argument; nothing here knows
about HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox._delivery import Courier
from sandbox.ledger import Ledger
from sandbox.world import World

from .settings import API_VERSION

__all__ = ["Delivery", "IdempotencyRecord", "Received", "SquareState", "Subscription"]

_ALNUM = string.ascii_letters + string.digits
_B64URL = _ALNUM + "-_"


@dataclass(slots=True)
class Subscription:
    """A webhook subscription (API-created, or registered through the admin with the account's key)."""

    id: str
    name: str
    enabled: bool
    event_types: list[str]
    notification_url: str
    api_version: str
    signature_key: str
    created: int
    updated: int
    source: str = "api"  # api | admin


@dataclass(slots=True)
class Delivery:
    """One event on its way to one subscription: the same body (and event_id) on every attempt."""

    event_id: str
    event_type: str
    subscription_id: str
    url: str
    signature_key: str
    api_version: str
    body: bytes
    created: float
    attempts: int = 0
    first_attempt: float | None = None
    last_status: int = 0
    last_reason: str = ""
    done: bool = False
    timer: asyncio.TimerHandle | None = None


@dataclass(slots=True)
class IdempotencyRecord:
    fingerprint: bytes  # the request's canonical JSON
    status: int
    body: bytes
    resource_id: str = ""


@dataclass(slots=True)
class Received:
    """A payment or refund the stand-in created, with the idempotency key it came with."""

    kind: str  # payment | refund
    id: str
    idempotency_key: str
    request: dict[str, Any]
    created: int
    replays: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "idempotency_key": self.idempotency_key,
            "request": self.request,
            "created": self.created,
            "replays": self.replays,
        }


class SquareState:
    """Everything the Square account remembers, over one `World`."""

    def __init__(
        self,
        world: World,
        *,
        courier: Courier,
        refund_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.ledger: Ledger = world.ledger
        self.courier = courier  # webhook deliveries: background tasks, the client, retry timers, the log
        self.clock = clock
        self.base_url = ""
        r = random.Random(f"square-{world.seed}")
        self.access_token = "EAAA" + "".join(r.choices(_ALNUM, k=60))
        self.application_id = "sandbox-sq0idb-" + "".join(r.choices(_B64URL, k=22))
        self.merchant_id = "".join(r.choices(string.ascii_uppercase + string.digits, k=13))
        self.webhook_signature_key = "".join(r.choices(_B64URL, k=22))
        self.cursor_key = hashlib.sha256(f"square-cursor-{world.seed}-{r.random()}".encode()).digest()
        self.location_ids: list[str] = list(self.ledger.square_location_ids)
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.received: dict[str, list[Received]] = {"payment": [], "refund": []}
        self.received_by_id: dict[str, Received] = {}
        self.conflicts = 0  # IDEMPOTENCY_KEY_REUSED answers
        self.subscriptions: dict[str, Subscription] = {}
        self.pending: dict[tuple[str, str], Delivery] = {}
        self.refund_delay = refund_delay
        self.default_version = API_VERSION
        self.rng = random.Random(f"square-ids-{world.seed}")
        # Payouts already announced: history's are not (Square sends events as things happen).
        payouts = self.ledger.payouts("square")
        self.payouts_seen: set[str] = {p.id for p in payouts}
        self.payouts_in_transit: set[str] = {p.id for p in payouts if p.status == "in_transit"}
        self.advanced_day = -1

    # --- clock ----------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    @property
    def main_location(self) -> str:
        return self.location_ids[0]

    def credentials(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "location_ids": list(self.location_ids),
            "webhook_signature_key": self.webhook_signature_key,
        }

    def token(self, n: int, alphabet: str = _ALNUM) -> str:
        return "".join(self.rng.choices(alphabet, k=n))
