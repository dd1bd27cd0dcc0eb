"""Targeted re-reads of specific records (what webhooks name), upserted into the hub.

The store is asked for the ids (100 per request with `include`); ids it does not list are asked for one
by one, since variations and trashed orders are not in the default listings; an id answered with 404 is
gone from the store and gets a tombstone.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from clients.errors import NotFound
from hub.batches import BatchTarget, write_records
from hub.upserts import tombstone
from tasks.context import lookup
from tasks.log import run_logger
from tasks.policy import batch_task
from tasks.pull import acquire_rate, all_variations, is_variable


@batch_task("pull-records")
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
