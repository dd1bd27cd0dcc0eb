"""The Authorize.Net stand-in's state: what the gateway keeps beside the world's ledger.

Transactions, settled batches and unsettled transactions live in the shared `World.ledger` (gateway
`authorizenet`): a transaction is a ledger `Charge` (its transId is the charge id) or `Refund` (a refund
transaction with its own transId). What only the gateway has lives here: the merchant's credentials, the
recent transactions it compares new ones against (duplicate detection), the card expiry dates it saw,
webhook subscriptions, and a log of what it received. Nothing here knows about HTTP.
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass
from typing import Any

from sandbox._delivery import Courier
from sandbox._framework import ReceivedLog
from sandbox.ledger import Ledger
from sandbox.world import World

__all__ = ["AnetState", "Webhook"]


@dataclass(slots=True)
class Webhook:
    webhook_id: str
    name: str
    url: str
    event_types: list[str]
    status: str = "active"  # active | inactive


@dataclass(slots=True)
class Recent:
    """A transaction the duplicate check compares new requests with."""

    key: tuple[str, ...]
    at: float
    trans_id: str


class AnetState:
    """Everything the Authorize.Net stand-in remembers, over one `World`."""

    def __init__(self, world: World, *, courier: Courier) -> None:
        self.world = world
        self.ledger: Ledger = world.ledger
        self.courier = courier  # webhook deliveries: background tasks, the client, the log
        self.base_url = ""
        r = random.Random(f"authorizenet-{world.seed}")
        alnum = string.ascii_letters + string.digits
        self.api_login_id = "".join(r.choices(alnum, k=11))
        self.transaction_key = "".join(r.choices(alnum, k=16))
        self.signature_key = "".join(r.choices("0123456789ABCDEF", k=128))
        self.clock_offset = 0.0
        self.recent: list[Recent] = []
        self.expiry: dict[str, str] = {}  # transId -> the card's expiration date as sent
        self.webhooks: dict[str, Webhook] = {}
        self.received = ReceivedLog()
        self._rng = random.Random()

    def now(self) -> float:
        """The stand-in's clock: real time plus what tests advanced it by (`/_sandbox/authorizenet/clock`)."""
        return time.time() + self.clock_offset

    def settle(self) -> None:
        """Run the gateway's daily cutoffs up to now (before anything reads batches or statuses)."""
        self.ledger.advance(int(self.now()))

    def network_trans_id(self) -> str:
        return "".join(self._rng.choices(string.ascii_uppercase + string.digits, k=23))

    def duplicate(self, key: tuple[str, ...], window: int) -> Recent | None:
        now = self.now()
        self.recent = [r for r in self.recent if now - r.at < 28_800]  # the longest window allowed
        return next((r for r in reversed(self.recent) if r.key == key and now - r.at < window), None)

    def log(self, kind: str, trans_id: str, *, ref_id: str | None, **more: Any) -> None:
        """What the gateway received (transactions by type), for tests counting duplicates and losses."""
        self.received.add(kind, trans_id=trans_id, ref_id=ref_id, time=self.now(), **more)

    def new_webhook_id(self) -> str:
        h = "".join(self._rng.choices("0123456789abcdef", k=32))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
