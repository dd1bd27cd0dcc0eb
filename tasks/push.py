"""Pushing hub-side edits and creates back to the store through WooCommerce's batch endpoints.

The decisions live in `hub.push` (what each row does, what is committed before and after sending); this
task does the requests in between: it re-reads the batch's records from the store, looks for records an
interrupted create may have made, and sends one batch request. Per-item errors are recorded on their rows
and never fail the batch.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hub.push import (
    ADOPT_MAX_PAGES,
    adoption_lookups,
    apply_push_result,
    current_params,
    endpoint,
    load_rows,
    match_adoptions,
    plan_push,
    prepare_push,
)
from tasks.context import lookup
from tasks.log import run_logger
from tasks.policy import batch_task


@batch_task("push-batch")
async def push_batch(ctx_key: str, resource: str, row_ids: list[int]) -> dict[str, int]:
    """Send the edits and creates of hub rows `row_ids` (one endpoint, from `hub.push.dirty_batches`)."""
    ctx = lookup(ctx_key)
    rows = await asyncio.to_thread(load_rows, ctx.engine, ctx.store, resource, row_ids)
    if not rows:
        return {}
    path = endpoint(resource, rows[0].parent_remote_id)
    remote_now: dict[int, Any] = {}
    params = current_params(resource, rows)
    if params is not None:
        page = await ctx.client.list_page(path, per_page=100, params=params)
        remote_now = {o["id"]: o for o in page.items if isinstance(o, dict) and isinstance(o.get("id"), int)}
    # Rows an interrupted push may already have created: look for them before creating them again.
    adopted: dict[int, dict[str, Any]] = {}
    stamped = {r.id for r in rows if r.remote_id is None and r.create_attempted_at is not None}
    for query in adoption_lookups(resource, rows):
        number = 1
        while stamped - adopted.keys():
            page = await ctx.client.list_page(path, page=number, per_page=100, params=query)
            for row_id, obj in match_adoptions(ctx.store, rows, page.items).items():
                adopted.setdefault(row_id, obj)
            if page.is_last or number >= ADOPT_MAX_PAGES:
                break
            number += 1
    plan = plan_push(rows, remote_now, ctx.strategy, resource=resource, store=ctx.store, adopted=adopted)
    await asyncio.to_thread(prepare_push, ctx.engine, ctx.store, plan)
    result = None
    if plan.sends:
        result = await ctx.client.batch(plan.path, **plan.batch_arguments())
    counts = await asyncio.to_thread(apply_push_result, ctx.engine, ctx.store, plan, result)
    ctx.counts.update(counts)
    run_logger().info(
        "pushed %s %s: %s", len(rows), resource, ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
    )
    return dict(counts)
