"""Targeted re-reads of specific records (what webhooks name), upserted into the hub.

The store is asked for the ids (100 per request with `include`); ids it does not list are asked for one
by one, since variations and trashed orders are not in the default listings; an id answered with 404 is
gone from the store and gets a tombstone.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from clients.errors import NotFound
from hub.batches import BatchTarget, write_records
from hub.sync_runs import finish_run, start_run
from hub.upserts import tombstone
from tasks.context import forget, lookup, open_context
from tasks.log import run_logger
from tasks.pull import acquire_rate, all_variations, is_variable, retry_transient


@task(
    name="pull-records",
    retries=2,
    retry_delay_seconds=[1, 5],
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
)
async def pull_records(ctx_key: str, resource: str, ids: list[int]) -> dict[str, int]:
    """Fetch `ids` of `resource` and upsert them; tombstone the ones the store no longer has."""
    ctx = lookup(ctx_key)
    found: dict[int, Any] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        await acquire_rate(ctx, 1)
        params: dict[str, Any] = {"include": ",".join(map(str, chunk))}
        if resource == "orders":
            params["status"] = "any"
        page = await ctx.client.list_page(resource, page=1, per_page=100, params=params)
        found.update({o["id"]: o for o in page.items if isinstance(o, dict) and isinstance(o.get("id"), int)})
    gone: list[int] = []
    for rid in [i for i in ids if i not in found]:
        try:
            found[rid] = await ctx.client.get(f"{resource}/{rid}")
        except NotFound:
            gone.append(rid)
    variations: dict[int, list[Any]] = {}
    if resource == "products":
        for obj in found.values():
            if is_variable(obj):
                variations[obj["id"]] = await all_variations(ctx, obj["id"])

    def write() -> Counter[str]:
        with ctx.engine.begin() as conn:
            target = BatchTarget(ctx.store, resource, resource, True, ctx.strategy, ctx.run_id)
            counts = write_records(conn, target, list(found.values()), variations)
            counts["tombstoned"] += tombstone(conn, resource, ctx.store, gone)
            counts["fetched"] += len(found) + sum(len(v) for v in variations.values())
            return counts

    counts = await asyncio.to_thread(write)
    ctx.counts.update(counts)
    run_logger().info("re-read %s %s: %s", len(ids), resource, dict(counts))
    return dict(counts)


async def sync_records(
    block: Any, engine: Any, *, store: str, resource: str, ids: list[int]
) -> dict[str, Any]:
    """Run `pull_records` with its own sync-run row; returns the summary."""
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = start_run(
            conn, store=store, sync_type=f"records:{resource}", direction="pull", flow_run_id=None
        )
    ctx = open_context(block, engine, store=store, run_id=run_id, per_page=100)
    client = ctx.client
    status, error = "completed", None
    try:
        async with client:
            await pull_records(ctx.key, resource, ids)
    except Exception as exc:
        status, error = "failed", str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise
    finally:
        with engine.begin() as conn:
            duration = finish_run(conn, run_id, status=status, counts=dict(ctx.counts), error=error)
        forget(ctx.key)
    return {
        "id": run_id,
        "status": status,
        "counts": dict(ctx.counts),
        "duration_ms": duration,
        "elapsed_s": round(time.perf_counter() - started, 3),
    }
