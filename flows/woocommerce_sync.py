"""The WooCommerce sync flow: the store's products, customers and orders kept in step with the hub.

Pull is incremental by default (see `tasks.pull`), push sends hub-side edits back (see `tasks.push`), and
`bidirectional` does both, pull first so the push compares against the freshest store versions.
Every run leaves a `sync_runs` row, `dashboard_metrics` and `dashboard_events` rows (the old service's
analytics tables), a progress artifact that moves while it runs, and a summary table artifact.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import acreate_progress_artifact, acreate_table_artifact, aupdate_progress_artifact
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from blocks import HubDatabase, WooCommerceStore, aload_block
from clients.errors import ClientError
from hub.analytics import record_event, record_metrics
from hub.db import create_hub_engine
from hub.errors import HubConfigError
from hub.push import PUSH_RESOURCES, dirty_batches
from hub.sync_runs import finish_run, history, mark_crashed, running_runs, start_run, status
from tasks.context import SyncContext, forget, open_context
from tasks.pull import Listing, catch_up, first_page_of, listings, pull_page_batch, tombstone_unlisted
from tasks.push import push_batch
from tasks.rate_budget import SharedRateBudget

SyncType = Literal["full", "products", "customers", "orders"]
Direction = Literal["pull", "push", "bidirectional"]
SYNC_TYPES: dict[str, tuple[str, ...]] = {
    "full": ("products", "customers", "orders"),
    "products": ("products",),
    "customers": ("customers",),
    "orders": ("orders",),
}
DIRECTIONS = ("pull", "push", "bidirectional")
PARALLEL_BATCHES = 3  # batches of one listing in flight: fetching while the ones before commit


class SyncError(RuntimeError):
    """A sync run that could not complete; the message is the one line recorded in the sync-run row."""


@flow(name="woocommerce-sync")
async def woocommerce_sync(
    sync_type: SyncType = "full",
    direction: Direction = "pull",
    batch_size: int | None = None,
    force: bool = False,
    store: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Sync a WooCommerce store with the hub.

    Args:
        sync_type: `full` (products, customers and orders) or one of them.
        direction: `pull` (store to hub), `push` (hub edits to store) or `bidirectional`.
        batch_size: Records per page and per push batch (1-100); defaults to the store block's.
        force: Ignore cursors and re-read everything (also tombstones records the store no longer has).
        store: Name of the WooCommerce Store block.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        The run's summary: id, status, counts and duration.
    """
    if sync_type not in SYNC_TYPES:
        raise ValueError(f"sync_type must be one of {', '.join(SYNC_TYPES)}, not {sync_type!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if batch_size is not None and not 1 <= batch_size <= 100:
        raise ValueError(f"batch_size must be between 1 and 100, not {batch_size}")
    block = await load_store(store)
    engine = await open_hub(hub)
    await close_crashed_runs(engine, store)
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


@flow(name="woocommerce-sync-records")
async def woocommerce_sync_records(
    resource: Literal["products", "customers", "orders"],
    ids: list[int],
    store: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Re-read specific records (e.g. named by webhooks) and upsert them into the hub.

    Ids the store no longer has are tombstoned.
    """
    if resource not in PUSH_RESOURCES:
        raise ValueError(f"resource must be one of {', '.join(PUSH_RESOURCES)}, not {resource!r}")
    if not ids or any(not isinstance(i, int) or i <= 0 for i in ids):
        raise ValueError("ids must be a non-empty list of positive integers")
    block = await load_store(store)
    engine = await open_hub(hub)
    from tasks.records import sync_records

    return await sync_records(block, engine, store=store, resource=resource, ids=list(dict.fromkeys(ids)))


async def load_store(name: str) -> WooCommerceStore:
    """The WooCommerce Store block `name`, or one clear error."""
    return await aload_block(WooCommerceStore, name)


async def open_hub(name: str | None) -> Engine:
    """The hub engine: from a Hub Database block when named, else NXT_DATABASE_URL / embedded SQLite."""
    if name is None:
        return await asyncio.to_thread(create_hub_engine)
    block = await aload_block(HubDatabase, name)
    return await asyncio.to_thread(create_hub_engine, **block.engine_options())


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
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = start_run(
            conn, store=store, sync_type=sync_type, direction=direction, flow_run_id=flow_run_id
        )
    resources = SYNC_TYPES[sync_type]
    per_page = batch_size or block.batch_size
    ctx = open_context(block, engine, store=store, run_id=run_id, per_page=per_page)
    client = ctx.client
    status_ = "completed"
    error: str | None = None
    progress = _Progress(ctx, enabled=use_prefect)
    try:
        async with client:
            await client.check()
            if use_prefect:
                limit_name, capacity = await ensure_rate_limit(store, block.rate_limit_rpm)
                ctx.rate_budget = SharedRateBudget(limit_name, capacity)
                await ctx.rate_budget.ready()
                await progress.start()
            if direction in ("pull", "bidirectional"):
                async with asyncio.TaskGroup() as group:
                    for resource in resources:
                        group.create_task(pull_resource(ctx, resource, force=force, use_prefect=use_prefect))
            if direction in ("push", "bidirectional"):
                for resource in resources:
                    await push_resource(ctx, resource, per_page, use_prefect=use_prefect)
            await progress.finish()
            if ctx.rate_budget is not None:
                await ctx.rate_budget.close()
    except* (ClientError, HubConfigError, SyncError) as group_error:
        status_, error = "failed", _one_line(_first(group_error))
    except* BaseException as group_error:  # a bug or a kill: record it, then let it propagate as it is
        status_, error = "failed", _one_line(_first(group_error))
        _finish(engine, ctx, run_id, status_, error, started, sync_type, direction)
        forget(ctx.key)
        raise _first(group_error) from None
    summary = _finish(engine, ctx, run_id, status_, error, started, sync_type, direction)
    forget(ctx.key)
    if use_prefect:
        await _summary_artifact(summary)
        log = get_run_logger()
        log.info("sync %s %s: %s", sync_type, status_, summary["counts"])
    if status_ != "completed":
        raise SyncError(error)
    return summary


async def pull_resource(ctx: SyncContext, resource: str, *, force: bool, use_prefect: bool = True) -> None:
    """Pull one resource: each of its listings in page batches, then catch-up and tombstones."""
    with ctx.engine.connect() as conn:
        wanted = listings(resource, conn, ctx.store, force=force)
    complete: list[Listing] = []
    for listing in wanted:
        start = first_page_of(ctx, listing, force=force)
        batch = _caller(pull_page_batch, use_prefect)
        ctx.pages_total += 1
        first = await batch(ctx.key, listing, [start])
        if first["total_pages"] < 0:
            # No X-WP-TotalPages (a proxy stripped it): read on, one page at a time, until a short page.
            page, items = start, first["last_page_items"]
            while items >= ctx.per_page:
                page += 1
                ctx.pages_total += 1
                items = (await batch(ctx.key, listing, [page]))["last_page_items"]
            continue  # without a total, completeness cannot be checked: no catch-up, no tombstones
        remaining = list(range(start + 1, first["total_pages"] + 1))
        ctx.pages_total += len(remaining)
        groups = [
            remaining[i : i + ctx.pages_per_batch] for i in range(0, len(remaining), ctx.pages_per_batch)
        ]
        await _bounded(PARALLEL_BATCHES, [functools.partial(batch, ctx.key, listing, g) for g in groups])
        if start == 1:
            await catch_up(ctx, listing, first["total"])
            complete.append(listing)
    # Tombstones need a complete, unfiltered listing of this run (a resumed or windowed one is partial).
    if len(complete) == len(wanted) and all("modified_after" not in ls.params for ls in wanted):
        await asyncio.to_thread(tombstone_unlisted, ctx, resource, [ls.name for ls in wanted])


async def push_resource(
    ctx: SyncContext, resource: str, batch_size: int, *, use_prefect: bool = True
) -> None:
    """Push the hub's edits of one resource, one batch task per endpoint batch."""
    batches = await asyncio.to_thread(dirty_batches, ctx.engine, ctx.store, resource, batch_size)
    push = _caller(push_batch, use_prefect)
    for ids in batches:
        await push(ctx.key, resource, ids)


async def close_crashed_runs(engine: Engine, store: str) -> int:
    """Mark `crashed` the store's sync runs left `running` by a flow run that has already ended (a killed
    process cannot close its own row), so the status endpoint does not report them as running forever."""
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
                state = (await client.read_flow_run(flow_run_id)).state
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


async def ensure_rate_limit(store: str, rpm: int) -> tuple[str, int]:
    """Create (or update) the Prefect global concurrency limit `woocommerce-<store>` used as the store's
    shared rate limit: it decays at rpm/60 slots per second and holds three seconds of requests (see
    tasks/rate_budget.py for why)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    name = f"woocommerce-{store}".lower()
    per_second = rpm / 60
    capacity = max(1, math.ceil(per_second * 3))
    async with get_client() as client:
        try:
            existing = await client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=capacity, slot_decay_per_second=per_second)
            )
            return name, capacity
        if existing.limit != capacity or existing.slot_decay_per_second != per_second:
            await client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(limit=capacity, slot_decay_per_second=per_second)
            )
    return name, capacity


def woocommerce_status(store: str = "default", engine: Engine | None = None) -> dict[str, Any]:
    """The old `GET /api/integrations/woocommerce/status` JSON (`success`, `data.stats/syncState/config`)."""
    engine = engine or create_hub_engine()
    data = status(engine, store)
    try:
        block = WooCommerceStore.load(store)
        data["config"] = {
            "realTimeEnabled": block.realtime_enabled,
            "batchSize": block.batch_size,
            "conflictResolution": block.conflict_resolution,
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
        if enabled:
            ctx.on_progress = self.tick

    async def start(self) -> None:
        self.artifact_id = await acreate_progress_artifact(0.0, description=f"Sync of store {self.ctx.store}")

    def tick(self) -> None:
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
    return task_obj if use_prefect else task_obj.fn


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
    ctx: SyncContext,
    run_id: int,
    status_: str,
    error: str | None,
    started: float,
    sync_type: str,
    direction: str,
) -> dict[str, Any]:
    keys = (
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
    counts = {k: int(ctx.counts.get(k, 0)) for k in keys} | {
        k: int(v) for k, v in ctx.counts.items() if k not in keys
    }
    elapsed = time.perf_counter() - started
    tags = {"store": ctx.store, "sync_type": sync_type, "direction": direction, "run_id": run_id}
    with engine.begin() as conn:
        duration_ms = finish_run(conn, run_id, status=status_, counts=counts, error=error)
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
            message=error or f"{sync_type} {direction} sync of {ctx.store}: {counts['fetched']} fetched",
            data={**tags, "counts": counts, "duration_ms": duration_ms},
        )
    return {
        "id": run_id,
        "store": ctx.store,
        "sync_type": sync_type,
        "direction": direction,
        "status": status_,
        "duration_ms": duration_ms,
        "counts": counts,
        "error": error,
    }


async def _summary_artifact(summary: dict[str, Any]) -> None:
    rows = [{"measure": k, "value": v} for k, v in summary["counts"].items()]
    rows += [
        {"measure": "duration_ms", "value": summary["duration_ms"]},
        {"measure": "status", "value": summary["status"]},
    ]
    await acreate_table_artifact(
        rows,
        key=f"woocommerce-sync-{summary['store']}".lower().replace("_", "-"),
        description=f"WooCommerce sync {summary['sync_type']} / {summary['direction']} of {summary['store']}",
    )


def _first(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]


__all__ = ["woocommerce_status", "woocommerce_sync", "woocommerce_sync_history", "woocommerce_sync_records"]
