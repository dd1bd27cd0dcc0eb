"""Targeted re-reads of specific records (what webhooks name), upserted into the hub.

The client reads the ids 100 per request (trashed records included) and asks for the rest one by one;
ids WooCommerce answers with its `*_invalid_id` error are gone from the store and get a tombstone. Any other
404 (a plugin or proxy in the way) fails the task instead of tombstoning records that still exist.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from hub.batches import BatchTarget, write_records
from hub.records import is_variable_product
from hub.upserts import tombstone
from tasks.context import lookup
from tasks.log import run_logger
from tasks.policy import batch_task


@batch_task("pull-records", task_run_name="re-read {resource}")
async def pull_records(ctx_key: str, resource: str, ids: list[int]) -> dict[str, int]:
    """Fetch `ids` of `resource` and upsert them; tombstone the ones the store no longer has.

    Returns:
        Counts: fetched, inserted, updated, unchanged, tombstoned, quarantined, ...
    """
    ctx = lookup(ctx_key)
    result = await ctx.client.fetch_by_ids(resource, ids)
    variable = [rid for rid, obj in result.found.items() if is_variable_product(obj)]
    lists = await asyncio.gather(*(ctx.client.variations(rid) for rid in variable))
    variations: dict[int, list[Any]] = dict(zip(variable, lists, strict=True))

    def write() -> Counter[str]:
        with ctx.write_lock, ctx.engine.begin() as conn:
            target = BatchTarget(ctx.store, resource, resource, True, ctx.strategy, ctx.run_id)
            counts = write_records(conn, target, list(result.found.values()), variations)
            counts["tombstoned"] += tombstone(conn, resource, ctx.store, result.gone)
            counts["fetched"] += len(result.found) + sum(len(v) for v in variations.values())
            return counts

    counts = await asyncio.to_thread(write)
    ctx.counts.update(counts)
    run_logger().info("re-read %s %s: %s", len(ids), resource, dict(counts))
    return dict(counts)
