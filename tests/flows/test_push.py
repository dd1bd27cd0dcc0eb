"""Push and conflicts: hub edits reach the store through batch endpoints; per-item errors stay per item;
each conflict strategy decides what wins when both sides changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from typer.testing import CliRunner

from deployments.cli import app
from hub.edits import stage_delete, stage_update
from hub.models import Product, SyncConflict

P = Product.__table__


def _simple_products(sandbox, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    wc = sandbox.woocommerce
    ids = sandbox.call(
        lambda: [p.id for p in wc.records("product") if p.type == "simple" and p.status == "publish"]
    )
    return sorted(ids)[:n]


def _remote(sandbox, pid: int) -> dict:  # type: ignore[no-untyped-def]
    wc = sandbox.woocommerce
    return sandbox.call(wc.record_json, "product", pid)


def _row(engine, pid: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(sa.select(P).where(P.c.remote_id == pid)).one()


def test_push_sends_edits_and_records_per_item_errors(sync, sandbox, engine, probe) -> None:  # type: ignore[no-untyped-def]
    sync()
    a, b, c, d = _simple_products(sandbox, 4)
    taken = _remote(sandbox, a)["sku"]
    with engine.begin() as conn:
        stage_update(conn, "products", "test", a, {"regular_price": "12.34"})
        stage_update(conn, "products", "test", b, {"stock_quantity": 7, "manage_stock": True})
        stage_update(conn, "products", "test", c, {"sku": taken})  # the store refuses a duplicate SKU
        stage_delete(conn, "products", "test", d)
    probe.reset_requests()

    summary = sync(sync_type="products", direction="push")

    assert summary["status"] == "completed"
    assert summary["counts"]["pushed"] == 3
    assert summary["counts"]["errors"] == 1
    assert _remote(sandbox, a)["regular_price"] == "12.34"
    assert _remote(sandbox, b)["stock_quantity"] == 7
    assert sandbox.call(sandbox.woocommerce.record, "product", d) is None
    assert probe.requests_by_path().get("/wp-json/wc/v3/products/batch") == 1, "one batch request"
    row_a, row_c, row_d = _row(engine, a), _row(engine, c), _row(engine, d)
    assert row_a.dirty is False and row_a.regular_price == Decimal("12.34")
    assert row_a.content_hash == probe.store()[("products", a)], "the store's answer is the new mirror"
    assert row_c.dirty is True and "product_invalid_sku" in row_c.push_error
    assert row_d.deleted_at is not None


def _both_sides_change(sync, sandbox, engine, strategy_block):  # type: ignore[no-untyped-def]
    sync(block=strategy_block)
    (pid,) = _simple_products(sandbox, 1)
    with engine.begin() as conn:
        stage_update(conn, "products", "test", pid, {"regular_price": "1.11"})
    wc = sandbox.woocommerce
    sandbox.call(wc.update, "product", pid, {"regular_price": "2.22"})
    return pid


def _with_strategy(block, strategy: str):  # type: ignore[no-untyped-def]
    return block.model_copy(update={"conflict_resolution": strategy})


def test_wc_priority_takes_the_store_version(sync, sandbox, engine, block) -> None:  # type: ignore[no-untyped-def]
    b = _with_strategy(block, "wc_priority")
    pid = _both_sides_change(sync, sandbox, engine, b)
    summary = sync(block=b, direction="bidirectional")
    assert summary["counts"]["conflicts"] == 1
    assert _remote(sandbox, pid)["regular_price"] == "2.22"
    row = _row(engine, pid)
    assert row.regular_price == Decimal("2.22") and row.dirty is False


def test_nxt_priority_pushes_the_hub_version(sync, sandbox, engine, block) -> None:  # type: ignore[no-untyped-def]
    b = _with_strategy(block, "nxt_priority")
    pid = _both_sides_change(sync, sandbox, engine, b)
    summary = sync(block=b, direction="bidirectional")
    assert summary["counts"]["conflicts"] >= 1
    assert _remote(sandbox, pid)["regular_price"] == "1.11"
    row = _row(engine, pid)
    assert row.regular_price == Decimal("1.11") and row.dirty is False


def test_timestamp_lets_the_newer_change_win(sync, sandbox, engine, block) -> None:  # type: ignore[no-untyped-def]
    b = _with_strategy(block, "timestamp")
    pid = _both_sides_change(sync, sandbox, engine, b)
    summary = sync(block=b, direction="bidirectional")
    assert summary["counts"]["conflicts"] == 1
    assert _remote(sandbox, pid)["regular_price"] == "2.22", "the store's edit came last, so it wins"

    with engine.begin() as conn:
        stage_update(conn, "products", "test", pid, {"regular_price": "3.33"})
    wc = sandbox.woocommerce
    sandbox.call(wc.update, "product", pid, {"regular_price": "4.44"})
    store_time = datetime.fromisoformat(_remote(sandbox, pid)["date_modified_gmt"]).replace(tzinfo=UTC)
    with engine.begin() as conn:  # now the hub's edit is the newer one
        conn.execute(
            sa.update(P).where(P.c.remote_id == pid).values(local_modified_at=store_time + timedelta(hours=1))
        )
    sync(block=b, direction="bidirectional")
    assert _remote(sandbox, pid)["regular_price"] == "3.33"


def test_manual_queues_a_conflict_and_touches_neither_side(sync, sandbox, engine, block, hub_url) -> None:  # type: ignore[no-untyped-def]
    b = _with_strategy(block, "manual")
    pid = _both_sides_change(sync, sandbox, engine, b)

    summary = sync(block=b, direction="bidirectional")
    sync(block=b, direction="bidirectional")  # a second run does not queue it twice

    assert summary["counts"]["conflicts"] == 1
    assert _remote(sandbox, pid)["regular_price"] == "2.22"
    row = _row(engine, pid)
    assert row.regular_price == Decimal("1.11") and row.dirty is True
    with engine.connect() as conn:
        conflicts = conn.execute(sa.select(SyncConflict.__table__)).all()
    assert len(conflicts) == 1
    assert conflicts[0].hub_version["regular_price"] == "1.11"
    assert conflicts[0].remote_version["regular_price"] == "2.22"

    runner = CliRunner()
    listed = runner.invoke(app, ["conflicts", "list", "--url", hub_url])
    assert listed.exit_code == 0 and f"products {pid}" in listed.output and "regular_price" in listed.output
    resolve = ["conflicts", "resolve", str(conflicts[0].id), "--keep", "nxt", "--url", hub_url]
    resolved = runner.invoke(app, resolve)
    assert resolved.exit_code == 0, resolved.output
    again = runner.invoke(app, resolve)
    assert again.exit_code == 2 and "already resolved" in again.output

    sync(block=b, direction="push")
    assert _remote(sandbox, pid)["regular_price"] == "1.11", "the kept hub edit went out with the next push"
    assert _row(engine, pid).dirty is False
