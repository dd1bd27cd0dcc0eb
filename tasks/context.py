"""What every WooCommerce sync task of one run shares: the store's block and client, the hub engine, the
sync-run id and the ordering of commits. Tasks receive only the context's key (a string), so Prefect shows
plain parameters in the UI and never tries to hash or serialise a client or an engine."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from blocks.woocommerce import WooCommerceStore
    from clients.woocommerce import WooCommerceClient
    from tasks.rate_budget import SharedRateBudget


@dataclass
class SyncContext:
    """One sync run's shared state (lives only in the flow's process)."""

    store: str
    block: WooCommerceStore
    client: WooCommerceClient
    engine: Engine
    run_id: int
    strategy: str
    per_page: int
    pages_per_batch: int = 4
    rate_budget: SharedRateBudget | None = None  # the store's Prefect rate limit, when a server runs
    counts: Counter[str] = field(default_factory=Counter)
    seen: dict[str, set[int]] = field(default_factory=dict)  # remote ids listed this run, per listing
    # SQLite has one writer: concurrent commits would wait in SQLite's busy handler, which sleeps in
    # steps of up to 100 ms; taking turns in-process is faster. PostgreSQL writes concurrently.
    write_lock: threading.Lock | contextlib.nullcontext[None] = field(default_factory=threading.Lock)
    # Pages committed and pages known, per resource (what progress bars and the progress artifact show).
    progress: dict[str, list[int]] = field(default_factory=dict)
    on_progress: Callable[[], Any] | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Commits of one listing happen in page order: a batch waits for its turn (see tasks.pull).
    _turns: dict[str, int] = field(default_factory=dict)
    _turn_changed: dict[str, asyncio.Condition] = field(default_factory=dict)

    @property
    def pages_done(self) -> int:
        return sum(done for done, _ in self.progress.values())

    @property
    def pages_total(self) -> int:
        return sum(total for _, total in self.progress.values())

    def expect_pages(self, resource: str, pages: int) -> None:
        """`pages` more pages of `resource` are known to be read in this run."""
        self.progress.setdefault(resource, [0, 0])[1] += pages

    def pages_committed(self, resource: str, pages: int) -> None:
        self.progress.setdefault(resource, [0, 0])[0] += pages
        if self.on_progress:
            self.on_progress()

    def condition(self, listing: str) -> asyncio.Condition:
        if listing not in self._turn_changed:
            self._turn_changed[listing] = asyncio.Condition()
        return self._turn_changed[listing]


_CONTEXTS: dict[str, SyncContext] = {}


def open_context(
    block: WooCommerceStore,
    engine: Engine,
    *,
    store: str,
    run_id: int,
    per_page: int,
    rate_budget: SharedRateBudget | None = None,
) -> SyncContext:
    """A registered context for one run, with a new client for the store (the caller enters it).

    With a `rate_budget`, every request of the client takes one of its slots first.
    """
    ctx = SyncContext(
        store=store,
        block=block,
        client=block.client(before_request=rate_budget.take_one if rate_budget else None),
        rate_budget=rate_budget,
        engine=engine,
        run_id=run_id,
        strategy=block.conflict_resolution,
        per_page=per_page,
        # Two rounds of requests per task: half the task runs of one round, for the same pipelining.
        pages_per_batch=2 * max(1, block.max_concurrency),
    )
    if engine.dialect.name != "sqlite":
        ctx.write_lock = contextlib.nullcontext()
    _CONTEXTS[ctx.key] = ctx
    return ctx


def lookup(key: str) -> SyncContext:
    return _CONTEXTS[key]


def forget(key: str) -> None:
    """Drop a run's context."""
    _CONTEXTS.pop(key, None)
