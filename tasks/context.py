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
    listed: dict[str, set[int]] = field(default_factory=dict)  # ids each listing's confirmation listed
    # SQLite has one writer: concurrent commits would wait in SQLite's busy handler, which sleeps in
    # steps of up to 100 ms; taking turns in-process is faster. PostgreSQL writes concurrently.
    write_lock: threading.Lock | contextlib.nullcontext[None] = field(default_factory=threading.Lock)
    # Pages committed and pages known, per resource (what progress bars and the progress artifact show).
    progress: dict[str, list[int]] = field(default_factory=dict)
    on_progress: Callable[[], Any] | None = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Variable products whose variation lists are due (fed by committed product pages).
    variations_due: ParentQueue = field(default_factory=lambda: ParentQueue())
    _frontiers: dict[str, Frontier] = field(default_factory=dict)

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

    def frontier(self, listing: str, *, start: int) -> Frontier:
        """The commit order of one listing's pages (created at its first page)."""
        if listing not in self._frontiers:
            self._frontiers[listing] = Frontier(start, window=self.pages_per_batch)
        return self._frontiers[listing]


@dataclass(frozen=True)
class PageMeta:
    """What a page batch reports about a committed page."""

    total: int
    total_pages: int
    items: int


class Frontier:
    """One listing's pages, committed strictly in page order, none fetched more than `window` ahead.

    Page batches fetch concurrently and hand each page in with `deliver`; whoever holds the commit turn
    commits every consecutive page that is ready (in a worker thread), so the cursor only ever moves over
    a gap-free prefix, and a killed run re-reads at most `window` pages. A page that is delivered again
    (a retried task) after it was committed is ignored.
    """

    def __init__(self, start: int, *, window: int) -> None:
        self.next = start
        self.window = max(1, window)
        self.counts: dict[int, dict[str, int]] = {}
        self.meta: dict[int, PageMeta] = {}
        self._ready: dict[int, Any] = {}
        self._changed = asyncio.Condition()
        self._turn = asyncio.Lock()
        self._error: BaseException | None = None

    def committed(self, number: int) -> bool:
        return number < self.next

    async def room_for(self, number: int) -> None:
        """Wait until page `number` is within the window ahead of the last committed page."""
        async with self._changed:
            await self._changed.wait_for(lambda: number < self.next + self.window)

    async def deliver(
        self,
        number: int,
        page: Any,
        commit: Callable[[Any], dict[str, int]],
        after: Callable[[Any, dict[str, int]], None],
    ) -> None:
        """Hand in fetched page `number`; return once it is committed.

        `commit(page)` runs in a worker thread (one at a time, in page order) and returns the page's counts;
        `after(page, counts)` runs on the event loop right after. If a commit fails, every page waiting
        behind it fails with the same error (their tasks are retried, delivering again).
        """
        async with self._changed:
            if self.committed(number):
                return
            self._ready[number] = page
            self._error = None
        async with self._turn:
            while True:
                async with self._changed:
                    ready = self._ready.get(self.next)
                if ready is None:
                    break
                try:
                    counts = await asyncio.to_thread(commit, ready)
                except BaseException as exc:
                    async with self._changed:
                        self._error = exc
                        self._changed.notify_all()
                    raise
                after(ready, counts)
                async with self._changed:
                    done = self.next
                    self.counts[done] = counts
                    del self._ready[done]
                    self.next = done + 1
                    self._changed.notify_all()
        async with self._changed:
            await self._changed.wait_for(lambda: self.committed(number) or self._error is not None)
            if not self.committed(number) and self._error is not None:
                raise self._error


class ParentQueue:
    """Ids of variable products whose variations are due, handed out in chunks; each id once per run."""

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._seen: set[int] = set()
        self._closed = False
        self._changed = asyncio.Condition()

    def extend(self, ids: Any) -> None:
        """Add ids (called on the event loop); an id already handed out this run is not added again."""
        new = [i for i in ids if i not in self._seen]
        self._seen.update(new)
        self._ids.extend(new)
        if new:
            asyncio.ensure_future(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        """No more ids will come: `take` returns [] once the queue is empty."""
        async with self._changed:
            self._closed = True
            self._changed.notify_all()

    async def take(self, most: int) -> list[int]:
        """Up to `most` ids, waiting for at least one; [] when closed and empty."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._ids) or self._closed)
            chunk, self._ids = self._ids[:most], self._ids[most:]
            return chunk


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


# Hub engines shared with tasks by key (reconciliation): tasks take a plain string, never an engine.
_ENGINES: dict[str, Engine] = {}


def share_engine(engine: Engine) -> str:
    """Register `engine` for the tasks of one flow run; returns the key they take."""
    key = uuid.uuid4().hex
    _ENGINES[key] = engine
    return key


def shared_engine(key: str) -> Engine:
    """The engine `share_engine` registered under `key`."""
    try:
        return _ENGINES[key]
    except KeyError:
        raise LookupError(f"no hub engine is shared under {key!r} in this process") from None


def unshare_engine(key: str) -> None:
    _ENGINES.pop(key, None)
