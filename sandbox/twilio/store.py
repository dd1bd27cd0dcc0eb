"""The Twilio account's state: credentials, senders and their queues, messages, the clock and the schedule.

`Store` holds everything Twilio would remember for one account: the auth token and an API key, the
phone numbers (a long code, a toll-free number, a short code) and a messaging service with their
throughput, every message received, the schedule of status changes still to come, and the machinery that
posts status callbacks. Credentials are deterministic from the world's seed. Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import random
import string
from dataclasses import dataclass, field
from typing import Any

from sandbox._delivery import Courier, Worker
from sandbox.world import World

from .clock import Clock
from .settings import (
    CALLBACK_TIMEOUT_S,
    DEFAULT_DELIVERY_DELAY_S,
    DEFAULT_MPS,
    DEFAULT_SENDING_DELAY_S,
    TOLL_FREE_NPAS,
)

__all__ = ["Message", "MessagingService", "Sender", "Store", "sender_kind"]

_HEX = "0123456789abcdef"


def sender_kind(address: str) -> str:
    """`short_code` (5-6 digits), `toll_free` (+1 8XX) or `long_code` (any other number)."""
    if address.isdigit() and 5 <= len(address) <= 6:
        return "short_code"
    if address.startswith("+1") and address[2:5] in TOLL_FREE_NPAS:
        return "toll_free"
    return "long_code"


@dataclass(slots=True)
class Sender:
    """A queue with a rate: a phone number of the account, or a messaging service (`MG...`)."""

    key: str
    kind: str  # long_code | toll_free | short_code | messaging_service
    mps: float
    next_free_us: int = 0  # clock time (integer microseconds) at which the queue is next free


@dataclass(slots=True)
class MessagingService:
    sid: str
    friendly_name: str
    numbers: list[str]
    next_number: int = 0  # round-robin over the sender pool


@dataclass(slots=True)
class Message:
    """One outbound message, with everything the admin record shows."""

    seq: int
    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    media_urls: list[str]
    messaging_service_sid: str | None
    sender: str  # the queue it waits in: its From number or its messaging service
    status: str
    segments: int
    status_callback: str | None
    validity_period: int
    created: float
    updated: float
    credential: str  # the account SID or the API key SID that sent it
    params: list[tuple[str, str]]
    sent: float | None = None  # `date_sent`: when it left the queue
    error_code: int | None = None
    error_message: str | None = None
    price: str | None = None
    history: list[tuple[str, float]] = field(default_factory=list)
    scheduled: list[tuple[float, str]] = field(default_factory=list)  # status changes still to come
    callbacks: int = 0


class Store:
    """Everything the Twilio account remembers, over one `World`."""

    def __init__(self, world: World, *, courier: Courier) -> None:
        self.world = world
        self.courier = courier  # status callbacks: background tasks, the client, the log
        self.base_url = ""
        r = random.Random(f"twilio-{world.seed}")
        self.account_sid = "AC" + "".join(r.choices(_HEX, k=32))
        self.auth_token = "".join(r.choices(_HEX, k=32))
        self.api_key_sid = "SK" + "".join(r.choices(_HEX, k=32))
        self.api_key_secret = "".join(r.choices(string.ascii_letters + string.digits, k=32))
        npa = r.choice(("415", "512", "646", "720", "312"))
        self.from_number = f"+1{npa}555{r.randint(200, 299):04d}"
        self.toll_free_number = f"+1{r.choice(('833', '844', '855'))}555{r.randint(200, 299):04d}"
        self.short_code = str(r.randint(20000, 99999))
        self.senders: dict[str, Sender] = {}
        for number in (self.from_number, self.toll_free_number, self.short_code):
            self.add_number(number)
        service = MessagingService(
            sid="MG" + "".join(r.choices(_HEX, k=32)),
            friendly_name="Sandbox notifications",
            numbers=[self.from_number, self.toll_free_number],
        )
        self.services: dict[str, MessagingService] = {service.sid: service}
        self.messaging_service_sid = service.sid
        self.mps_overrides: dict[str, float] = {}  # messaging services with an explicit rate
        self.service_sender(service.sid)
        self._sid_rng = random.Random(f"twilio-sids-{world.seed}")

        self.messages: dict[str, Message] = {}
        self.ordered: list[Message] = []  # creation order
        self.clock = Clock()
        self.sending_delay_s = DEFAULT_SENDING_DELAY_S
        self.delivery_delay_s = DEFAULT_DELIVERY_DELAY_S
        self.concurrency_limit = 0  # 0 = off; else requests in flight past it get 20429
        self.in_flight = 0
        # the schedule: (due in clock microseconds, seq, sid, status, error code), in time order
        self.schedule: list[tuple[int, int, str, str, int | None]] = []
        self.schedule_seq = 0
        self.worker = Worker()  # applies the schedule as the clock reaches it
        self.callback_chains: dict[str, asyncio.Task[Any]] = {}  # per message, so callbacks keep order
        self.callback_timeout_s = CALLBACK_TIMEOUT_S
        self.callback_limit: asyncio.Semaphore | None = None

    # --- senders ---------------------------------------------------------------------------------
    def add_number(self, number: str, mps: float | None = None) -> Sender:
        kind = sender_kind(number)
        sender = self.senders.get(number)
        if sender is None:
            sender = Sender(number, kind, DEFAULT_MPS[kind])
            self.senders[number] = sender
        if mps is not None:
            sender.mps = mps
        return sender

    def service_sender(self, sid: str) -> Sender:
        """The queue of a messaging service: its numbers' total rate unless set explicitly."""
        service = self.services[sid]
        mps = self.mps_overrides.get(sid)
        if mps is None:
            mps = sum(self.senders[n].mps for n in service.numbers if n in self.senders) or 1.0
        sender = self.senders.get(sid)
        if sender is None:
            sender = Sender(sid, "messaging_service", mps)
            self.senders[sid] = sender
        sender.mps = mps
        return sender

    def credentials(self) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "from_number": self.from_number,
            "messaging_service_sid": self.messaging_service_sid,
        }

    def new_sid(self, prefix: str = "SM") -> str:
        while True:
            sid = prefix + "".join(self._sid_rng.choices(_HEX, k=32))
            if sid not in self.messages:
                return sid

    def path(self, suffix: str = "") -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}{suffix}"
