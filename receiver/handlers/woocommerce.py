"""WooCommerce webhooks -> the `woocommerce-sync-records` flow, which re-reads the records they name.

Rows are grouped per store and resource (`orders`, `products`, `customers`) and debounced for
`DEBOUNCE_S`, so a burst of updates (an order edited five times, a bulk edit of products) becomes one run
that reads each record once, in its current state. `*.deleted` goes through the same flow: a record the
store no longer has is tombstoned, a trashed one is mirrored as trashed. Coupon and custom `action.*`
topics have no mirror table: they get their Prefect event only. A store whose block has
`realtime_enabled` off gets its rows closed `ignored`.
"""

from __future__ import annotations

from flows.woocommerce_sync import woocommerce_sync_records
from hub.inbox import InboxRow
from receiver.dispatch import Batch, Handler, Ignore

__all__ = [
    "DEBOUNCE_S",
    "HANDLERS",
    "MAX_ROWS",
    "MAX_WAIT_S",
    "RESOURCES",
    "deployment_names",
    "sync_records",
]

RESOURCES = {"order": "orders", "product": "products", "customer": "customers"}
DEBOUNCE_S = 1.0
MAX_WAIT_S = 10.0  # under a steady stream a group never goes quiet: run it at least this often
MAX_ROWS = 1000  # rows per run; their distinct ids are read 100 per request


def deployment_names(store: str) -> list[str]:
    """The `woocommerce-sync-records` deployments that may serve `store`: its own copy (`NXT_STORES`),
    then the single-store one (the store goes in the parameters either way)."""
    return [f"woocommerce-sync-records/webhook-{store}", "woocommerce-sync-records/webhook"]


def _group(row: InboxRow) -> str:
    return f"{row.account}:{RESOURCES[row.topic.split('.', 1)[0]]}"


async def sync_records(batch: Batch) -> str | None:
    """Start one `woocommerce-sync-records` run for the ids of `batch.rows` (one store, one resource)."""
    first = batch.rows[0]
    store = first.account or "default"
    block = batch.blocks.stores.get(store)
    if block is not None and not block.realtime_enabled:
        raise Ignore(f"real-time sync is off for store {store!r} (realtime_enabled)")
    resource = RESOURCES[first.topic.split(".", 1)[0]]
    ids = sorted({int(r.resource.split(".", 1)[1]) for r in batch.rows if r.resource})
    if not ids:
        raise Ignore("no record ids in these webhooks")
    return await batch.run_flow(
        woocommerce_sync_records,
        deployment=deployment_names(store),
        parameters={"resource": resource, "ids": ids, "store": store, "hub": batch.settings.hub},
        tags=[f"store:{store}"],
    )


HANDLERS = (
    Handler(
        name="woocommerce-records",
        source="woocommerce",
        topics=tuple(f"{kind}.*" for kind in RESOURCES),
        run=sync_records,
        group_by=_group,
        debounce_s=DEBOUNCE_S,
        max_wait_s=MAX_WAIT_S,
        max_batch=MAX_ROWS,
    ),
)
