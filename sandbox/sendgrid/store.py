"""The SendGrid account's state: API key, verified senders, what Mail Send accepted, events, the webhook.

`Store` holds the API key and the verified sender (deterministic from the world's seed), the Event
Webhook settings and signing key, every email accepted (one record per personalization), every event
generated, the events still to post, the suppression list the events build, and per-endpoint rate
windows. Nothing here knows about HTTP.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sandbox._delivery import Courier, Worker
from sandbox.world import World

from .settings import DEFAULT_EVENT_SETTINGS
from .signing import SigningKey

__all__ = ["Email", "Store"]

_ID_CHARS = string.ascii_letters + string.digits + "-_"


@dataclass(slots=True)
class Email:
    """One personalization of an accepted Mail Send request: one message to its recipients."""

    x_message_id: str
    index: int
    from_email: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str | None
    custom_args: dict[str, str]
    categories: list[str]
    send_at: int | None
    template_id: str | None
    content_types: list[str]
    received_at: float
    asm_group_id: int | None = None
    sg_message_ids: dict[str, str] = field(default_factory=dict)  # recipient -> sg_message_id

    def recipients(self) -> list[str]:
        return self.to + self.cc + self.bcc


class Store:
    """Everything the SendGrid account remembers, over one `World`."""

    def __init__(self, world: World, *, courier: Courier) -> None:
        self.world = world
        self.courier = courier  # Event Webhook posts: the client, the log
        self.base_url = ""
        r = random.Random(f"sendgrid-{world.seed}")
        alnum = string.ascii_letters + string.digits
        self.api_key = "SG." + "".join(r.choices(alnum, k=22)) + "." + "".join(r.choices(alnum + "-_", k=43))
        self.from_email = "orders@nxt-sandbox-store.example"
        self.verified_senders: set[str] = {self.from_email}
        self.signing_key = SigningKey(world.seed)
        self.signed = True  # the signed Event Webhook is on (the credentials carry its verification key)
        self.event_settings: dict[str, Any] = dict(DEFAULT_EVENT_SETTINGS)
        self._ids = random.Random(f"sendgrid-ids-{world.seed}")

        self.calls: list[dict[str, Any]] = []  # every POST /v3/mail/send, accepted or not
        self.emails: list[Email] = []
        self.events: list[dict[str, Any]] = []  # every event generated, in generation order
        self.pending: list[tuple[float, int, dict[str, Any]]] = []  # events still to post (heap by time)
        self.pending_seq = 0
        self.retry: list[tuple[float, int, list[dict[str, Any]], int]] = []  # (due, seq, batch, attempt)
        self.suppressions: dict[str, tuple[str, float]] = {}  # email -> (drop reason, since)
        self.discarded = 0  # events not posted: webhook off, or their type switched off
        self.windows: dict[str, deque[float]] = {}

        # knobs (admin `settings`)
        self.open_rate = 0.2
        self.click_rate = 0.05
        self.deferred_rate = 0.02
        self.duplicate_rate = 0.0  # share of webhook posts sent twice (SendGrid delivers at least once)
        self.batch_size = 1000
        self.flush_interval_s = 1.0
        self.max_attempts = 5
        self.retry_base_s = 1.0
        self.webhook_timeout_s = 30.0

        self.rng = random.Random(f"sendgrid-webhook-{world.seed}")
        self.worker = Worker()  # posts batches as their time comes
        self.post_lock: asyncio.Lock | None = None

    def credentials(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key,
            "from_email": self.from_email,
            "verification_key": self.signing_key.public_key,
        }

    def new_id(self, n: int = 22) -> str:
        return "".join(self._ids.choices(_ID_CHARS, k=n))

    def now(self) -> float:
        return time.time()
