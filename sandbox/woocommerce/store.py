"""The store's state: the world's records plus what WooCommerce keeps beside them.

`Store` holds the records (the shared `World`), the indexes WooCommerce enforces (unique SKUs and emails),
API keys, webhooks and their delivery machinery, and the caches of rendered records and sorted listings,
with `touched()` invalidating both after a write. Every other module takes a `Store` as its first argument;
nothing here knows about HTTP.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sandbox._delivery import Courier
from sandbox.world import World

from .settings import API_PREFIX, KINDS

__all__ = ["ApiKey", "Store", "Webhook"]


@dataclass(slots=True)
class ApiKey:
    key_id: int
    consumer_key: str
    consumer_secret: str
    permissions: str  # read | write | read_write
    nonces: dict[int, str] = field(default_factory=dict)  # timestamp -> nonce, as WC stores them


@dataclass(slots=True)
class Webhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    created: int
    modified: int
    failure_count: int = 0
    pending: set[int] = field(default_factory=set)

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else ""


class Store:
    """Everything a WooCommerce store remembers, over one `World`."""

    def __init__(
        self,
        world: World,
        *,
        courier: Courier,
        webhook_delay_ms: float = 0.0,
        cache_records: int = 120_000,
    ) -> None:
        self.world = world
        self.seed = world.seed
        self.gmt_offset = world.gmt_offset_hours
        self.base_url = ""  # the site URL, set once the server knows its port
        self.courier = courier  # webhook deliveries: background tasks, the client, the log
        r = random.Random(f"keys-{self.seed}")
        self.keys: dict[str, ApiKey] = {}
        self.main_key = self.add_key("read_write", r)
        self.read_key = self.add_key("read", r)
        self.webhook_secret = "whsec_" + "".join(r.choices("abcdef0123456789", k=32))
        self.webhooks: dict[int, Webhook] = {}
        self.next_webhook_id = 0
        self.webhook_delay_ms = webhook_delay_ms
        self.cache_limit = cache_records  # serialized records kept per resource (~3.6 KB each)
        self.cache: dict[str, dict[int, bytes]] = {k: {} for k in KINDS}
        self.versions: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.lists: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.sku_index: dict[str, int] = {}
        for p in self.world.products.values():
            self.sku_index[p.sku] = p.id
        for v in self.world.variations.values():
            self.sku_index[v.sku] = v.id
        self.emails: dict[str, int] = {c.email.lower(): c.id for c in self.world.customers.values()}

    # --- keys ------------------------------------------------------------------------------------
    def add_key(self, permissions: str, r: random.Random | None = None) -> ApiKey:
        """Mint an API key (`read`, `write` or `read_write`)."""
        r = r or random.Random()
        hexd = "0123456789abcdef"
        key = ApiKey(
            key_id=len(self.keys) + 1,
            consumer_key="ck_" + "".join(r.choices(hexd, k=40)),
            consumer_secret="cs_" + "".join(r.choices(hexd, k=40)),
            permissions=permissions,
        )
        self.keys[key.consumer_key] = key
        return key

    def credentials(self) -> dict[str, Any]:
        return {
            "consumer_key": self.main_key.consumer_key,
            "consumer_secret": self.main_key.consumer_secret,
            "webhook_secret": self.webhook_secret,
            "read_only_consumer_key": self.read_key.consumer_key,
            "read_only_consumer_secret": self.read_key.consumer_secret,
        }

    # --- records ---------------------------------------------------------------------------------
    def table(self, kind: str) -> dict[int, Any]:
        """The world's records of `kind` by id (products, variations, customers or orders)."""
        w = self.world
        tables = {
            "product": w.products,
            "variation": w.variations,
            "customer": w.customers,
            "order": w.orders,
        }
        if kind not in tables:
            raise ValueError(f"kind must be one of {', '.join(tables)}, not {kind!r}")
        return tables[kind]  # type: ignore[return-value]  # each a dict[int, <its record type>]

    def touched(self, kind: str, rec_id: int) -> None:
        """Forget the rendered record and every cached listing of `kind` (after a write)."""
        self.cache[kind].pop(rec_id, None)
        self.versions[kind] += 1

    # --- clock and URLs --------------------------------------------------------------------------
    def now(self) -> int:
        return int(time.time())

    def api(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"
