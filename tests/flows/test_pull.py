"""Pull: full, incremental, boundary seconds, tombstones, kill-and-resume, faults. Run without Prefect's
wrapper (`run_sync(use_prefect=False)`); tests/flows/test_flow.py covers the flow itself."""

from __future__ import annotations

import time
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
    assert probe.pages_read("/wp-json/wc/v3/products") == 2, "one page of changed products, one of trashed"
    assert probe.pages_read("/wp-json/wc/v3/orders") == 2, "one page of changed orders, one of trashed ones"
    assert probe.pages_read("/wp-json/wc/v3/customers") == 0, "customers are compared, not read in full"
    assert probe.id_pages("/wp-json/wc/v3/customers") == 1, "their ids and times: 25 on one page of 100"
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


@pytest.mark.postgres
def test_killed_run_resumes_and_refetches_at_most_one_batch(sync, probe, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # 40 products at 5 a page are 8 pages; max_concurrency 3 makes batches (and the fetch window) of 6 pages.
    real = tasks.pull._commit
    commits = {"products": 0}

    class Killed(Exception):
        pass

    def dying(ctx, listing, page):  # type: ignore[no-untyped-def]
        if listing.name == "products":
            commits["products"] += 1
            if commits["products"] >= 4:  # from the 4th product page on, nothing commits any more
                raise Killed("process killed between fetch and commit")
        return real(ctx, listing, page)

    monkeypatch.setattr(tasks.pull, "_commit", dying)
    probe.reset_requests()
    with pytest.raises(Killed):
        sync(batch_size=5)
    fetched_before_kill = probe.pages_read("/wp-json/wc/v3/products", status=None)
    monkeypatch.setattr(tasks.pull, "_commit", real)
    with probe.engine.connect() as conn:
        kept = conn.execute(
            sa.select(sa.func.count()).where(
                Product.__table__.c.parent_remote_id.is_(None), Product.__table__.c.status != "trash"
            )
        ).scalar()
        run = conn.execute(sa.select(SyncRun.__table__).order_by(SyncRun.__table__.c.id)).first()
    assert kept == 15, "pages 1-3 (5 products each) were committed before the kill"
    assert run.status == "failed" and "killed" in run.error
    assert fetched_before_kill - 3 <= 6, "no page is fetched more than one batch ahead of the commits"

    probe.reset_requests()
    summary = sync(batch_size=5)

    assert summary["status"] == OK
    probe.assert_hub_equals_store()
    # The resumed run reads the 25 products not committed (5 pages), plus at most one more page because
    # the window overlaps the cursor by a second.
    assert probe.pages_read("/wp-json/wc/v3/products", status=None) <= 6


@pytest.mark.postgres
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


@pytest.mark.postgres
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
            sa.select(sa.func.count()).where(
                Product.__table__.c.parent_remote_id.is_(None), Product.__table__.c.status != "trash"
            )
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


def _shift_the_listing_after_its_first_page(sandbox, monkeypatch, listing: str = "orders") -> dict:  # type: ignore[no-untyped-def]
    """While the sync reads `listing`, right after page 1 commits: delete a record of page 1 and create a new
    one. Page 2 then starts one record later (its first record slid onto page 1: never read), and the total
    is unchanged, so no count can tell."""
    real = tasks.pull._commit
    wc = sandbox.woocommerce
    happened: dict = {}

    def commit(ctx, lst, page):  # type: ignore[no-untyped-def]
        counts = real(ctx, lst, page)
        if lst.name == listing and page.page == 1 and not happened:
            happened["deleted"] = page.items[0]["id"]
            sandbox.call(lambda: wc.delete("order", happened["deleted"], force=True))
            happened["created"] = sandbox.call(
                lambda: wc.create("order", {"status": "processing", "line_items": [], "currency": "USD"})
            )
        return counts

    monkeypatch.setattr(tasks.pull, "_commit", commit)
    return happened


def test_a_record_skipped_while_the_listing_shifted_is_caught(sync, probe, sandbox, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    happened = _shift_the_listing_after_its_first_page(sandbox, monkeypatch)

    summary = sync(batch_size=5)

    assert happened, "the listing was shifted during the read"
    assert summary["status"] == OK
    assert summary["counts"]["missed"] >= 1, "the confirmation found what the pages skipped"
    probe.assert_hub_equals_store()


def test_the_cursor_does_not_pass_what_no_confirmation_covered(
    sync, probe, sandbox, monkeypatch, engine
) -> None:  # type: ignore[no-untyped-def]
    sync(batch_size=5)  # a first run: everything confirmed
    wc = sandbox.woocommerce
    # An incremental window of 3 pages, one second apart: a skipped record is older than the cursor's second.
    now = int(time.time())
    for i, order_id in enumerate(sandbox.call(wc.ids, "order")[:12]):
        sandbox.call(wc.touch, "order", [order_id], at=now - 60 + i)
    happened = _shift_the_listing_after_its_first_page(sandbox, monkeypatch)
    real_confirm = tasks.pull.confirm_listing.fn

    async def killed_before_confirming(ctx_key, listing):  # type: ignore[no-untyped-def]
        if listing.name != "orders":
            return await real_confirm(ctx_key, listing)
        raise RuntimeError("process killed before the confirmation")

    monkeypatch.setattr(tasks.pull.confirm_listing, "fn", killed_before_confirming)
    with pytest.raises(RuntimeError, match="killed"):
        sync(batch_size=5)
    with engine.connect() as conn:
        cursor = cursors.read(conn, "test", "orders")
    assert cursor.state.get("unconfirmed_from"), "the window of the killed run is still to be confirmed"

    monkeypatch.setattr(tasks.pull.confirm_listing, "fn", real_confirm)
    summary = sync(batch_size=5)

    assert happened and summary["counts"]["missed"] >= 1
    probe.assert_hub_has_store()  # the deleted order waits for the nightly full run (or its webhook)
    with engine.connect() as conn:
        assert cursors.read(conn, "test", "orders").state == {}


def test_variations_left_by_a_killed_run_are_read_by_the_next(sync, probe, monkeypatch, engine) -> None:  # type: ignore[no-untyped-def]
    from hub import pending

    real = tasks.pull.commit_variations

    def killed(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("process killed while reading variations")

    monkeypatch.setattr(tasks.pull, "commit_variations", killed)
    with pytest.raises(RuntimeError, match="killed"):
        sync()
    with engine.connect() as conn:
        left = pending.pending(conn, "test", pending.VARIATIONS)
        variations = conn.execute(
            sa.select(sa.func.count()).where(Product.__table__.c.parent_remote_id.is_not(None))
        ).scalar()
    assert left and variations == 0, "the product pages committed; their variations are pending"

    monkeypatch.setattr(tasks.pull, "commit_variations", real)
    summary = sync()

    assert summary["status"] == OK
    with engine.connect() as conn:
        assert pending.pending(conn, "test", pending.VARIATIONS) == []
    probe.assert_hub_equals_store()
