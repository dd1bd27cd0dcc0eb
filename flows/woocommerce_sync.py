"""The WooCommerce sync flows: the store's products, customers and orders kept in step with the hub.

`woocommerce-sync` pulls incrementally by default (see `tasks.pull`), pushes hub-side edits back (see
`tasks.push`), or both (`bidirectional`: pull first, so the push compares against the freshest store
versions). `woocommerce-sync-records` re-reads the records a webhook names.

Every run, however it was started (deployment, Python, `nxt`), is named `woocommerce-sync/<store>/<type>`,
tagged with its store and type, leaves a `sync_runs` row, `dashboard_metrics` and `dashboard_events` rows
(the old service's analytics tables), a progress artifact while it works and a summary table when done, and
emits `nxt.woocommerce.sync.completed|failed` about the resource `nxt.woocommerce.store.<store>`. A run
that crashes or is cancelled closes its `sync_runs` row from a state hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import acreate_progress_artifact, acreate_table_artifact, aupdate_progress_artifact
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from blocks import WooCommerceStore, aload_block
from flows._hub import open_hub
from flows._runs import RunFailed, capture_client_logs, emit_finished, label_run
from hub import locks
from hub.analytics import record_event, record_metrics
from hub.db import create_hub_engine
from hub.models import utcnow
from hub.notifications import mark_events_start
from hub.push import PUSH_RESOURCES, dirty_batches
from hub.sync_runs import (
    close_flow_run_runs,
    finish_run,
    history,
    mark_crashed,
    running_runs,
    start_run,
    status,
)
from tasks.context import SyncContext, forget, open_context
from tasks.policy import EXPECTED_FAILURES
from tasks.pull import (
    Listing,
    confirm_listing,
    first_page_of,
    listings,
    pending_variations,
    pull_page_batch,
    pull_variations,
    tombstone_unlisted,
)
from tasks.push import push_batch
from tasks.rate_budget import SharedRateBudget
from tasks.records import pull_records

SyncType = Literal["full", "products", "customers", "orders"]
Direction = Literal["pull", "push", "bidirectional"]
Resource = Literal["products", "customers", "orders"]
SYNC_TYPES: dict[str, tuple[str, ...]] = {
    "full": ("products", "customers", "orders"),
    "products": ("products",),
    "customers": ("customers",),
    "orders": ("orders",),
}
DIRECTIONS = ("pull", "push", "bidirectional")
BUSY_WAIT_S = 15 * 60  # how long a run waits for another sync of its store before giving up
LEASE_TTL_S = 120.0  # a dead run's lease frees the store after this long
LEASE_POLL_S = 2.0
PARALLEL_BATCHES = 2  # page batches of one listing in flight (pages stay within one batch of the commits)
PARALLEL_VARIATION_BATCHES = 2  # variation batches in flight, beside the pages
VARIATIONS_PER_TASK_ROUNDS = 2  # a variation task reads 2 x pages_per_batch parents' lists (fewer task runs)
FLOW_TIMEOUT_S = 6 * 3600  # a full pull of a very large store; a run hung past this is failed
COUNT_KEYS = (
    "fetched",
    "inserted",
    "updated",
    "unchanged",
    "tombstoned",
    "pushed",
    "conflicts",
    "errors",
    "quarantined",
)


class SyncError(RunFailed):
    """A sync run that could not complete; the message is the one line recorded in the sync-run row."""


class SyncBusy(SyncError):
    """Another run holds the store's sync lease and did not finish within the wait."""


_RUN_FAILURES: tuple[type[Exception], ...] = (*EXPECTED_FAILURES, SyncError)


async def _close_interrupted_run(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """State hook (crashed, cancelled): close this flow run's `sync_runs` rows instead of leaving them
    `running` until the next run notices."""
    engine = await open_hub((flow_run.parameters or {}).get("hub"))
    reason = (
        f"flow run {flow_run.id} {(state.name or state.type.value).lower()}: {state.message or 'no message'}"
    )
    with engine.begin() as conn:
        close_flow_run_runs(conn, str(flow_run.id), reason)


def _flow(name: str, run_name: str) -> Callable[[Callable[..., Any]], Any]:
    return flow(
        name=name,
        flow_run_name=run_name,
        timeout_seconds=FLOW_TIMEOUT_S,
        on_crashed=[_close_interrupted_run],
        on_cancellation=[_close_interrupted_run],
    )


@_flow("woocommerce-sync", "woocommerce-sync/{store}/{sync_type}")
async def woocommerce_sync(
    sync_type: SyncType = "full",
    direction: Direction = "pull",
    batch_size: int | None = None,
    force: bool = False,
    store: str = "default",
    hub: str | None = None,
    if_busy: Literal["wait", "skip"] = "wait",
) -> dict[str, Any]:
    """Sync a WooCommerce store with the hub.

    Args:
        sync_type: `full` (products, customers and orders) or one of them.
        direction: `pull` (store to hub), `push` (hub edits to store) or `bidirectional`.
        batch_size: Records per page and per push batch (1-100); defaults to the store block's.
        force: Ignore cursors and re-read everything (also tombstones records the store no longer has).
        store: Name of the WooCommerce Store block.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.
        if_busy: When another sync of this store is running: `wait` for it (up to 15 minutes, then fail
            with one line naming it) or `skip` this run (what a frequent schedule wants).

    Returns:
        The run's summary: id, status, counts and duration (status `skipped` when skipped).
    """
    if sync_type not in SYNC_TYPES:
        raise ValueError(f"sync_type must be one of {', '.join(SYNC_TYPES)}, not {sync_type!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if batch_size is not None and not 1 <= batch_size <= 100:
        raise ValueError(f"batch_size must be between 1 and 100, not {batch_size}")
    if if_busy not in ("wait", "skip"):
        raise ValueError(f"if_busy must be wait or skip, not {if_busy!r}")
    await label_run([f"store:{store}", f"sync:{sync_type}", f"direction:{direction}"])
    capture_client_logs()
    block = await load_store(store)
    engine = await open_hub(hub)
    await close_crashed_runs(engine, store)
    owner = str(flow_run.id) if flow_run.id else f"process {os.getpid()} {uuid.uuid4().hex[:8]}"
    async with store_lease(engine, store, owner, wait_s=0 if if_busy == "skip" else BUSY_WAIT_S) as held:
        if not held:
            get_run_logger().info("another sync of store %s is running; skipped (if_busy=skip)", store)
            return {"store": store, "sync_type": sync_type, "direction": direction, "status": "skipped"}
        return await run_sync(
            block,
            engine,
            store=store,
            sync_type=sync_type,
            direction=direction,
            batch_size=batch_size,
            force=force,
            flow_run_id=str(flow_run.id) if flow_run.id else None,
            use_prefect=True,
        )


@_flow("woocommerce-sync-records", "woocommerce-sync-records/{store}/{resource}")
async def woocommerce_sync_records(
    resource: Resource,
    ids: list[int],
    store: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Re-read specific records (named by webhooks) and upsert them into the hub.

    Args:
        resource: `products` (variations included), `customers` or `orders`.
        ids: The records' WooCommerce ids; ids the store no longer has are tombstoned.
        store: Name of the WooCommerce Store block.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        The run's summary: id, status, counts and duration.
    """
    if resource not in PUSH_RESOURCES:
        raise ValueError(f"resource must be one of {', '.join(PUSH_RESOURCES)}, not {resource!r}")
    if not ids or any(isinstance(i, bool) or not isinstance(i, int) or i <= 0 for i in ids):
        raise ValueError("ids must be a non-empty list of positive integers")
    await label_run([f"store:{store}", "sync:records", f"resource:{resource}"])
    capture_client_logs()
    block = await load_store(store)
    engine = await open_hub(hub)
    unique = list(dict.fromkeys(ids))
    async with _session(
        block,
        engine,
        store=store,
        sync_type=f"records:{resource}",
        direction="pull",
        per_page=100,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        use_prefect=True,
    ) as session:
        session.ctx.expect_pages(resource, 1)
        await pull_records(session.ctx.key, resource, unique)
        session.ctx.pages_committed(resource, 1)
    return session.summary


@contextlib.asynccontextmanager
async def store_lease(engine: Engine, store: str, owner: str, *, wait_s: float) -> AsyncIterator[bool]:
    """Hold the store's sync lease (`hub.locks`) for the block: yields True, or False when `wait_s` is 0
    and another run holds it. Waits up to `wait_s` otherwise, then raises `SyncBusy`. The lease is renewed
    while held, so only a process that died lets it expire (after `LEASE_TTL_S`)."""
    name = locks.store_sync_lock(store)
    deadline = time.monotonic() + wait_s
    while not await asyncio.to_thread(locks.acquire, engine, name, owner, LEASE_TTL_S):
        if wait_s <= 0:
            yield False
            return
        if time.monotonic() >= deadline:
            holder = await asyncio.to_thread(locks.holder, engine, name)
            who = holder.describe() if holder else "another run"
            raise SyncBusy(f"store {store!r} is being synced: {who}; run again when it has finished")
        await asyncio.sleep(LEASE_POLL_S)

    async def renew() -> None:
        while True:
            await asyncio.sleep(LEASE_TTL_S / 3)
            await asyncio.to_thread(locks.renew, engine, name, owner, LEASE_TTL_S)

    renewing = asyncio.ensure_future(renew())
    try:
        yield True
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await asyncio.to_thread(locks.release, engine, name, owner)


async def load_store(name: str) -> WooCommerceStore:
    """The WooCommerce Store block `name`, or one clear error."""
    return await aload_block(WooCommerceStore, name)


class _Session:
    """One sync run's bookkeeping: its `sync_runs` row, context, client, rate budget, progress and report."""

    def __init__(self, ctx: SyncContext, started: float, sync_type: str, direction: str) -> None:
        self.ctx = ctx
        self.started = started
        self.sync_type = sync_type
        self.direction = direction
        self.summary: dict[str, Any] = {}


@contextlib.asynccontextmanager
async def _session(
    block: WooCommerceStore,
    engine: Engine,
    *,
    store: str,
    sync_type: str,
    direction: str,
    per_page: int,
    flow_run_id: str | None,
    use_prefect: bool,
) -> AsyncIterator[_Session]:
    """Open a sync run; on exit close it everywhere (row, metrics, events, artifacts, Prefect event).

    Expected failures (the store, the hub, the configuration) end as `SyncError` with one line; anything
    else is recorded and re-raised as it is.
    """
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = start_run(
            conn, store=store, sync_type=sync_type, direction=direction, flow_run_id=flow_run_id
        )
    ctx: SyncContext | None = None
    status_, error = "completed", None
    unexpected: BaseException | None = None
    budget: SharedRateBudget | None = None
    try:
        if use_prefect:  # every request of the run takes a slot of the store's shared rate limit
            budget = await SharedRateBudget.open(block.site_url, block.rate_limit_rpm)
        ctx = open_context(block, engine, store=store, run_id=run_id, per_page=per_page, rate_budget=budget)
        session = _Session(ctx, started, sync_type, direction)
        progress = _Progress(ctx, enabled=use_prefect)
        async with ctx.client:
            await ctx.client.check()
            await progress.start()
            yield session
            await progress.finish()
    except* _RUN_FAILURES as group:
        status_, error = "failed", _one_line(_first(group))
    except* BaseException as group:  # a bug or a kill: record it, then let it propagate as it is
        status_, error = "failed", _one_line(_first(group))
        unexpected = _first(group)
    finally:
        if budget is not None:
            await budget.close()
        if ctx is not None:
            forget(ctx.key)
    counts = ctx.counts if ctx is not None else {}  # none when it failed before the run's context existed
    summary = _finish(engine, store, counts, run_id, status_, error, started, sync_type, direction)
    if ctx is not None:
        session.summary = summary
    if use_prefect:
        await _report(summary)
        await _notify_after(summary, engine)
    if unexpected is not None:
        raise unexpected
    if status_ != "completed":
        raise SyncError(error)


async def run_sync(
    block: WooCommerceStore,
    engine: Engine,
    *,
    store: str,
    sync_type: str = "full",
    direction: str = "pull",
    batch_size: int | None = None,
    force: bool = False,
    flow_run_id: str | None = None,
    use_prefect: bool = True,
) -> dict[str, Any]:
    """The sync itself. `use_prefect=False` runs the same work without Prefect tasks or artifacts, which
    is how bench/woocommerce_sync.py measures Prefect's own overhead."""
    resources = SYNC_TYPES[sync_type]
    per_page = batch_size or block.batch_size
    async with _session(
        block,
        engine,
        store=store,
        sync_type=sync_type,
        direction=direction,
        per_page=per_page,
        flow_run_id=flow_run_id,
        use_prefect=use_prefect,
    ) as session:
        ctx = session.ctx
        if direction in ("pull", "bidirectional"):
            async with asyncio.TaskGroup() as group:
                for resource in resources:
                    group.create_task(pull_resource(ctx, resource, force=force, use_prefect=use_prefect))
        if direction in ("push", "bidirectional"):
            for resource in resources:
                await push_resource(ctx, resource, per_page, use_prefect=use_prefect)
    return session.summary


async def pull_resource(ctx: SyncContext, resource: str, *, force: bool, use_prefect: bool = True) -> None:
    """Pull one resource: each listing's pages, then its confirmation; for products, variation lists
    alongside; tombstones when every listing was confirmed over its whole extent."""
    with ctx.engine.connect() as conn:
        wanted = listings(resource, conn, ctx.store, force=force)
    if resource == "products":
        ctx.variations_due.extend(await asyncio.to_thread(pending_variations, ctx))
        async with asyncio.TaskGroup() as group:
            group.create_task(_feed_variations(ctx, use_prefect))
            try:
                await _read_and_confirm(ctx, wanted, force=force, use_prefect=use_prefect)
            finally:
                await ctx.variations_due.close()
    else:
        await _read_and_confirm(ctx, wanted, force=force, use_prefect=use_prefect)
    if all(ls.unfiltered and ls.name in ctx.listed for ls in wanted):
        present = set().union(*(ctx.listed[ls.name] for ls in wanted))
        await asyncio.to_thread(tombstone_unlisted, ctx, resource, present)


async def _read_and_confirm(
    ctx: SyncContext, wanted: Sequence[Listing], *, force: bool, use_prefect: bool
) -> None:
    read, confirm = _caller(pull_page_batch, use_prefect), _caller(confirm_listing, use_prefect)
    for listing in wanted:
        if listing.read_pages:
            await _read_pages(ctx, listing, read, force=force)
        await confirm(ctx.key, listing)


async def _read_pages(ctx: SyncContext, listing: Listing, read: Any, *, force: bool) -> None:
    """Page 1 tells the page count; the rest follow in batches (commits stay in page order)."""
    start = first_page_of(ctx, listing, force=force)
    ctx.expect_pages(listing.resource, 1)
    first = await read(ctx.key, listing, [start])
    if first["total_pages"] < 0:
        # No (believable) page totals, e.g. a proxy stripped them: read on, one page at a time, until a
        # short page; the confirmation still checks completeness.
        page, items = start, first["last_page_items"]
        while items >= ctx.per_page:
            page += 1
            ctx.expect_pages(listing.resource, 1)
            items = (await read(ctx.key, listing, [page]))["last_page_items"]
        return
    remaining = list(range(start + 1, first["total_pages"] + 1))
    ctx.expect_pages(listing.resource, len(remaining))
    size = ctx.pages_per_batch
    groups = [remaining[i : i + size] for i in range(0, len(remaining), size)]
    await _bounded(PARALLEL_BATCHES, [functools.partial(read, ctx.key, listing, g) for g in groups])


async def _feed_variations(ctx: SyncContext, use_prefect: bool) -> None:
    """Read variation lists as product pages commit, a batch of parents per task, until pages are done."""
    pull = _caller(pull_variations, use_prefect)
    gate = asyncio.Semaphore(PARALLEL_VARIATION_BATCHES)

    async def run(ids: list[int]) -> None:
        try:
            await pull(ctx.key, ids)
        finally:
            gate.release()

    async with asyncio.TaskGroup() as group:
        while ids := await ctx.variations_due.take(VARIATIONS_PER_TASK_ROUNDS * ctx.pages_per_batch):
            await gate.acquire()
            ctx.expect_pages("variations", 1)
            group.create_task(run(ids))


async def push_resource(
    ctx: SyncContext, resource: str, batch_size: int, *, use_prefect: bool = True
) -> None:
    """Push the hub's edits of one resource, one batch task per endpoint batch."""
    batches = await asyncio.to_thread(dirty_batches, ctx.engine, ctx.store, resource, batch_size)
    push = _caller(push_batch, use_prefect)
    ctx.expect_pages(f"push {resource}", len(batches))
    for ids in batches:
        await push(ctx.key, resource, ids)
        ctx.pages_committed(f"push {resource}", 1)


async def close_crashed_runs(engine: Engine, store: str) -> int:
    """Mark `crashed` the store's sync runs left `running` by a flow run that has already ended (a killed
    process cannot close its own row, and its hooks may not have run), so the status endpoint does not
    report them as running forever."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with engine.connect() as conn:
        running = running_runs(conn, store)
    closed = 0
    async with get_client() as client:
        for run_id, flow_run_id in running:
            if not flow_run_id:
                continue
            try:
                state = (await client.read_flow_run(uuid.UUID(flow_run_id))).state
            except ObjectNotFound:
                state = None
            if state is None or state.is_final():
                ended = state.name if state else "unknown to this Prefect server"
                with engine.begin() as conn:
                    mark_crashed(
                        conn, run_id, f"flow run {flow_run_id} ended ({ended}) without closing this run"
                    )
                closed += 1
    return closed


def woocommerce_status(store: str = "default", engine: Engine | None = None) -> dict[str, Any]:
    """The old `GET /api/integrations/woocommerce/status` JSON (`success`, `data.stats/syncState/config`)."""
    engine = engine or create_hub_engine()
    data = status(engine, store)
    try:
        block = WooCommerceStore.load(store)
        data["config"] = {
            "realTimeEnabled": block.realtime_enabled,  # type: ignore[union-attr]
            "batchSize": block.batch_size,  # type: ignore[union-attr]
            "conflictResolution": block.conflict_resolution,  # type: ignore[union-attr]
        }
    except ValueError:
        data["config"] = None
    return {"success": True, "data": data}


def woocommerce_sync_history(
    store: str = "default", limit: int = 50, engine: Engine | None = None
) -> dict[str, Any]:
    """The old `GET /api/integrations/woocommerce/sync/history` JSON."""
    return {"success": True, "data": history(engine or create_hub_engine(), store, limit)}


# --------------------------------------------------------------------------------------------------


class _Progress:
    """A Prefect progress artifact that follows committed pages (throttled to one update per second)."""

    def __init__(self, ctx: SyncContext, *, enabled: bool) -> None:
        self.ctx, self.enabled = ctx, enabled
        self.artifact_id: Any = None
        self.last = 0.0
        self.pending: set[asyncio.Task[Any]] = set()
        ctx.on_progress = self.tick

    async def start(self) -> None:
        if self.enabled:
            self.artifact_id = await acreate_progress_artifact(
                0.0, description=f"Sync of store {self.ctx.store}"
            )

    def tick(self) -> None:
        from flows._progress import notify

        notify(self.ctx.store, self.ctx.progress)
        now = time.monotonic()
        if self.artifact_id is None or now - self.last < 1.0:
            return
        self.last = now
        job = asyncio.ensure_future(self._update())
        self.pending.add(job)
        job.add_done_callback(self.pending.discard)

    async def _update(self) -> None:
        done, total = self.ctx.pages_done, max(self.ctx.pages_total, 1)
        try:
            await aupdate_progress_artifact(self.artifact_id, min(99.0, 100.0 * done / total))
        except Exception as exc:  # a progress bar is not worth failing the sync for; say so and go on
            get_run_logger().warning("progress artifact not updated: %s", exc)

    async def finish(self) -> None:
        if self.pending:
            await asyncio.gather(*self.pending)
        if self.artifact_id is not None:
            await aupdate_progress_artifact(self.artifact_id, 100.0)


def _caller(task_obj: Any, use_prefect: bool) -> Callable[..., Awaitable[dict[str, int]]]:
    return task_obj if use_prefect else task_obj.fn  # type: ignore[no-any-return]


async def _bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[Any]]]) -> None:
    """Run `jobs` with at most `limit` in flight; the first failure cancels the rest."""
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[Any]]) -> None:
        async with gate:
            await job()

    async with asyncio.TaskGroup() as group:
        for job in jobs:
            group.create_task(run(job))


def _finish(
    engine: Engine,
    store: str,
    raw_counts: Mapping[str, int],
    run_id: int,
    status_: str,
    error: str | None,
    started: float,
    sync_type: str,
    direction: str,
) -> dict[str, Any]:
    counts = {k: int(raw_counts.get(k, 0)) for k in COUNT_KEYS} | {
        k: int(v) for k, v in raw_counts.items() if k not in COUNT_KEYS
    }
    elapsed = time.perf_counter() - started
    tags = {"store": store, "sync_type": sync_type, "direction": direction, "run_id": run_id}
    with engine.begin() as conn:
        duration_ms = finish_run(conn, run_id, status=status_, counts=counts, error=error)
        if status_ == "completed" and direction != "push" and "orders" in SYNC_TYPES.get(sync_type, ()):
            # The store's orders have been read in full once: from the start of this run on, their
            # changes raise customer notifications (the first sync never messages about past orders).
            mark_events_start(conn, store, utcnow() - timedelta(seconds=elapsed))
        record_metrics(
            conn,
            {
                "wc_sync_duration": (duration_ms, "ms"),
                "wc_records_fetched": (counts["fetched"], "records"),
                "wc_records_per_second": (counts["fetched"] / elapsed if elapsed > 0 else 0.0, "records/s"),
                "wc_records_written": (counts["inserted"] + counts["updated"], "records"),
                "wc_sync_errors": (counts["errors"] + counts["quarantined"], "records"),
            },
            tags,
        )
        record_event(
            conn,
            "wc_sync_completed" if status_ == "completed" else "wc_sync_failed",
            severity="info" if status_ == "completed" else "error",
            message=error or f"{sync_type} {direction} sync of {store}: {counts['fetched']} fetched",
            data={**tags, "counts": counts, "duration_ms": duration_ms},
        )
    return {
        "id": run_id,
        "store": store,
        "sync_type": sync_type,
        "direction": direction,
        "status": status_,
        "duration_ms": duration_ms,
        "counts": counts,
        "error": error,
    }


async def _report(summary: dict[str, Any]) -> None:
    """The run's summary artifact, one log line, and the Prefect event automations hang on."""
    ok = summary["status"] == "completed"
    rows = [{"measure": k, "value": v} for k, v in summary["counts"].items()]
    rows += [
        {"measure": "duration_ms", "value": summary["duration_ms"]},
        {"measure": "status", "value": summary["status"]},
    ]
    if summary["error"]:
        rows.append({"measure": "error", "value": summary["error"]})
    await acreate_table_artifact(
        rows,
        key=f"woocommerce-sync-{summary['store']}".lower().replace("_", "-"),
        description=f"WooCommerce sync {summary['sync_type']} / {summary['direction']} of {summary['store']}",
    )
    get_run_logger().info(
        "sync %s %s %s: %s", summary["sync_type"], summary["direction"], summary["status"], summary["counts"]
    )
    emit_finished(
        "nxt.woocommerce.sync",
        kind="woocommerce.store",
        name=summary["store"],
        ok=ok,
        payload=summary,
    )


async def _notify_after(summary: dict[str, Any], engine: Engine) -> None:
    """After a run: start a dispatch when order changes queued notifications; alert the operators when the
    run failed (at most once an hour per store). Never fails the run's report."""
    notifications = summary["counts"].get("notifications")
    failed = summary["status"] != "completed"
    if not (notifications or failed):
        return  # the usual case: nothing to import (the dispatch flows cost a command ~0.1 s to load)
    from flows.notification_dispatch import operator_alert, request_dispatch

    logger = get_run_logger()
    try:
        if notifications:
            await request_dispatch(f"{notifications} order notifications")
        if failed:
            hour = utcnow().strftime("%Y-%m-%dT%H")
            await operator_alert(
                f"WooCommerce sync of {summary['store']} failed",
                summary["error"] or "the sync failed",
                key=f"woocommerce-sync-failed:{summary['store']}:{hour}",
                severity="error",
                source="woocommerce-sync",
                engine=engine,
                details={
                    "run": summary["id"],
                    "sync_type": summary["sync_type"],
                    "direction": summary["direction"],
                },
            )
    except Exception as exc:  # notifying is best effort here: the sync's own outcome stands
        logger.warning("notifications after the sync were not sent: %s", _one_line(exc))


def _first(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]


__all__ = ["woocommerce_status", "woocommerce_sync", "woocommerce_sync_history", "woocommerce_sync_records"]
