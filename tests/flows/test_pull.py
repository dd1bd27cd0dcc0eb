"""Pull: full, incremental, boundary seconds, tombstones, kill-and-resume, faults. Run without Prefect's
wrapper (`run_sync(use_prefect=False)`); tests/flows/test_flow.py covers the flow itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

import tasks.pull
from hub import cursors
from hub.models import Customer, Order, Product, SyncRun
from sandbox.woocommerce import rendering

OK = "completed"


def test_full_pull_mirrors_the_store(sync, probe) -> None:  # type: ignore[no-untyped-def]
    summary = sync()
    assert summary["status"] == OK
    store = probe.store()
    probe.assert_hub_equals_store()
    assert summary["counts"]["inserted"] == len(store)
    assert summary["counts"]["fetched"] == len(store)
    with probe.engine.connect() as conn:
        trashed = conn.execute(sa.select(sa.func.count()).where(Order.__table__.c.status == "trash")).scalar()
        variations = conn.execute(
            sa.select(sa.func.count()).where(Product.__table__.c.parent_remote_id.is_not(None))
        ).scalar()
    assert trashed > 0, "trashed orders are pulled too (status=any leaves them out)"
    assert variations > 0


def test_second_run_reads_only_what_changed(sync, probe, sandbox) -> None:  # type: ignore[no-untyped-def]
    sync()
    wc = sandbox.woocommerce
    product_ids = sandbox.call(wc.ids, "product")[:3]
    order_ids = sandbox.call(wc.ids, "order")[:2]
    sandbox.call(wc.touch, "product", product_ids)
    sandbox.call(wc.touch, "order", order_ids)
    probe.reset_requests()

    summary = sync()

    assert summary["counts"]["updated"] >= 5
    assert probe.pages_read("/wp-json/wc/v3/products") == 1, "changed products fit on one page"
    assert probe.pages_read("/wp-json/wc/v3/orders") == 2, "one page of changed orders, one of trashed ones"
    assert probe.pages_read("/wp-json/wc/v3/customers") == 3, "customers are read in full (25, 10 a page)"
    probe.assert_hub_equals_store()


def test_record_modified_at_the_cursor_second_is_not_lost(sync, probe, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    sync()
    with engine.connect() as conn:
        cursor = cursors.read(conn, "test", "products").modified_after
    assert cursor is not None
    wc = sandbox.woocommerce
    oldest = sandbox.call(lambda: min(wc.records("product"), key=lambda p: p.modified).id)
    # WooCommerce's modified_after is exclusive: a record stamped with the cursor's own second is only
    # found because the window overlaps by one second.
    sandbox.call(wc.touch, "product", [oldest], at=int(cursor.timestamp()))

    sync()

    probe.assert_hub_equals_store()


def test_deleted_records_get_tombstones(sync, probe, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    sync()
    wc = sandbox.woocommerce

    def remove() -> tuple[int, int, int, int]:
        product = next(p for p in wc.records("product") if p.type == "simple")
        customer = next(wc.records("customer"))
        orders = [o for o in wc.records("order") if o.status not in ("trash",)]
        wc.delete("product", product.id, force=True)
        wc.delete("customer", customer.id, force=True)
        wc.delete("order", orders[0].id, force=True)
        wc.trash("order", orders[1].id)
        return product.id, customer.id, orders[0].id, orders[1].id

    product_id, customer_id, deleted_order, trashed_order = sandbox.call(remove)

    summary = sync(force=True)

    assert summary["counts"]["tombstoned"] == 3
    with engine.connect() as conn:

        def deleted_at(model, rid):  # type: ignore[no-untyped-def]
            t = model.__table__
            return conn.execute(sa.select(t.c.deleted_at).where(t.c.remote_id == rid)).scalar_one()

        assert deleted_at(Product, product_id) is not None
        assert deleted_at(Customer, customer_id) is not None
        assert deleted_at(Order, deleted_order) is not None
        assert deleted_at(Order, trashed_order) is None
        status = conn.execute(
            sa.select(Order.__table__.c.status).where(Order.__table__.c.remote_id == trashed_order)
        ).scalar_one()
    assert status == "trash"
    probe.assert_hub_equals_store()


def test_incremental_run_tombstones_deleted_customers(sync, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    """Customers are listed in full every run, so a deleted one is noticed without --force."""
    sync()
    wc = sandbox.woocommerce
    gone = sandbox.call(lambda: wc.delete("customer", wc.ids("customer")[0], force=True))
    summary = sync()
    assert summary["counts"]["tombstoned"] == 1, gone


def test_killed_run_resumes_and_refetches_at_most_one_batch(sync, probe, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # 40 products at 5 a page are 8 pages; max_concurrency 3 makes batches of 6 pages: [1], [2-7], [8].
    real = tasks.pull.store_pages
    commits = {"products": 0}

    class Killed(Exception):
        pass

    def dying(ctx, listing, fetched):  # type: ignore[no-untyped-def]
        if listing.name == "products":
            commits["products"] += 1
            if commits["products"] == 3:
                raise Killed("process killed between fetch and commit")
        return real(ctx, listing, fetched)

    monkeypatch.setattr(tasks.pull, "store_pages", dying)
    with pytest.raises(Killed):
        sync(batch_size=5)
    monkeypatch.setattr(tasks.pull, "store_pages", real)
    with probe.engine.connect() as conn:
        kept = conn.execute(
            sa.select(sa.func.count()).where(Product.__table__.c.parent_remote_id.is_(None))
        ).scalar()
        run = conn.execute(sa.select(SyncRun.__table__).order_by(SyncRun.__table__.c.id)).first()
    assert kept == 35, "pages 1-7 (5 products each) were committed before the kill"
    assert run.status == "failed" and "killed" in run.error

    probe.reset_requests()
    summary = sync(batch_size=5)

    assert summary["status"] == OK
    probe.assert_hub_equals_store()
    product_pages = probe.pages_read("/wp-json/wc/v3/products")
    # The resumed run reads the one page that was in flight, plus at most one more because the window
    # overlaps the cursor by a second.
    assert product_pages <= 2


def test_faults_and_429s_still_end_with_an_exact_mirror(sync, probe, sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.set_faults(error_rate=0.1, script=[429, 500, 429, "ok", 502, 503, 429], seed=3)
    summary = sync()
    assert summary["status"] == OK
    sandbox.set_faults()
    stats = sandbox.call(lambda: dict(sandbox.woocommerce.stats.by_status))
    assert stats.get(429, 0) >= 3 and sum(v for k, v in stats.items() if k >= 500) >= 3
    probe.assert_hub_equals_store()


@pytest.mark.slow
def test_rolling_rate_limit_is_honoured(sync, probe, sandbox) -> None:  # type: ignore[no-untyped-def]
    """The store's host allows 30 requests a minute: the sync waits out the 429s and still finishes."""
    sandbox.set_faults(rate_limit_rpm=30, error_rate=0.1, seed=5)
    summary = sync()
    assert summary["status"] == OK
    sandbox.set_faults()
    probe.assert_hub_equals_store()


def test_malformed_records_are_quarantined(sync, probe, sandbox, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wc = sandbox.woocommerce
    real_render = rendering.render_product
    ids = sorted(sandbox.call(lambda: [p.id for p in wc.records("product") if p.status != "trash"]))
    bad = {
        ids[0]: {"id": None},
        ids[1]: {"date_modified_gmt": "last tuesday"},
        ids[2]: {"regular_price": "ten"},
    }

    def render(st, p):  # type: ignore[no-untyped-def]
        obj = real_render(st, p)
        return {**obj, **bad.get(p.id, {})}

    monkeypatch.setattr(rendering, "render_product", render)
    sandbox.call(lambda: wc.touch("product", list(bad)))  # drop cached JSON so the bad render is served

    summary = sync()

    assert summary["status"] == OK
    assert summary["counts"]["quarantined"] == 3
    with engine.connect() as conn:
        reasons = conn.execute(sa.text("SELECT reason FROM sync_quarantine ORDER BY reason")).scalars().all()
        stored = conn.execute(
            sa.select(sa.func.count()).where(Product.__table__.c.parent_remote_id.is_(None))
        ).scalar()
    assert any("invalid id" in r for r in reasons)
    assert any("date_modified_gmt" in r for r in reasons)
    assert any("regular_price is not a number" in r for r in reasons)
    assert stored == len(ids) - 3, "the rest of each batch was stored"


def test_cursor_is_aware_utc(sync, engine) -> None:  # type: ignore[no-untyped-def]
    sync()
    with engine.connect() as conn:
        cursor = cursors.read(conn, "test", "orders").modified_after
    assert cursor is not None and cursor.tzinfo is not None and cursor <= datetime.now(UTC)


def test_pages_are_read_to_the_end_when_a_proxy_strips_the_totals(sync, probe, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import clients.woocommerce._client as woo_client

    monkeypatch.setattr(woo_client, "read_totals", lambda headers: (-1, -1))
    summary = sync()
    assert summary["status"] == OK
    probe.assert_hub_equals_store()
