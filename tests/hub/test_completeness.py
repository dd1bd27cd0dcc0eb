"""What a confirmation fetches (`hub.completeness`) and what a page leaves pending (`hub.pending`)."""

from __future__ import annotations

import sqlalchemy as sa

from hub import pending
from hub.batches import BatchTarget, commit_page
from hub.completeness import stale_ids
from hub.db import create_hub_engine
from hub.sync_runs import quarantine


def _product(rid: int, modified: str, **extra: object) -> dict[str, object]:
    return {"id": rid, "type": "simple", "name": f"P{rid}", "date_modified_gmt": modified, **extra}


def test_missing_older_tombstoned_and_quarantined_records(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    target = BatchTarget("s", "products", "products", True, "timestamp", None)
    commit_page(
        engine,
        target,
        [_product(1, "2024-05-01T10:00:00"), _product(2, "2024-05-01T10:00:00")],
        page=1,
        total_pages=1,
    )
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE products SET deleted_at = synced_at WHERE remote_id = 2"))
        quarantine(
            conn,
            store="s",
            resource="products",
            run_id=None,
            items=[(7, "bad price", {"id": 7, "date_modified_gmt": "2024-05-03T00:00:00"})],
        )
    listed = {
        1: "2024-05-02T00:00:00",  # newer in the store
        2: "2024-05-01T10:00:00",  # tombstoned in the hub, listed again
        3: "2024-05-01T10:00:00",  # missing
        7: "2024-05-03T00:00:00",  # quarantined in this very version: asking again changes nothing
        8: "2024-05-03T00:00:00",  # quarantined in an older version: fetched again
        9: None,
    }
    with engine.begin() as conn:
        quarantine(
            conn,
            store="s",
            resource="products",
            run_id=None,
            items=[(8, "bad price", {"id": 8, "date_modified_gmt": "2024-04-01T00:00:00"})],
        )
        assert stale_ids(conn, "s", "products", listed) == [1, 2, 3, 8, 9]
        assert stale_ids(conn, "s", "products", {1: "2024-05-01T10:00:00"}) == []


def test_a_product_page_leaves_its_variable_products_pending(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    target = BatchTarget("s", "products", "products", True, "timestamp", None)
    page = [_product(1, "2024-05-01T10:00:00", type="variable"), _product(2, "2024-05-01T10:00:00")]
    commit_page(engine, target, page, page=1, total_pages=1)
    commit_page(engine, target, page, page=1, total_pages=1)  # listed twice: pending once
    with engine.begin() as conn:
        assert pending.pending(conn, "s", pending.VARIATIONS) == [1]
        pending.done(conn, "s", pending.VARIATIONS, [1])
        assert pending.pending(conn, "s", pending.VARIATIONS) == []
