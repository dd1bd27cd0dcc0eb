"""Push and conflicts: hub edits and creates reach the store through batch endpoints; per-item errors stay
per item; each conflict strategy decides what wins when both sides changed; a create interrupted after the
store made the record is adopted, never doubled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from deployments.cli import app
from hub.edits import stage_create, stage_delete, stage_update
from hub.models import MIRROR_TABLES, Customer, Order, OrderLineItem, Product, SyncConflict
from hub.push import HUB_ID_META_KEY

P = Product.__table__
MIRRORS = {name: model.__table__ for name, model in MIRROR_TABLES.items()}


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


@pytest.mark.postgres
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


# ---- records created in the hub


def _store_records(sandbox, kind: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every record of `kind` the store holds, as the store renders it (`variation` too)."""
    wc = sandbox.woocommerce
    return sandbox.call(lambda: [wc.record_json(kind, rid) for rid in wc.ids(kind)])


def _tagged(sandbox, kind: str, ref: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        r
        for r in _store_records(sandbox, kind)
        if any(m.get("key") == HUB_ID_META_KEY and m.get("value") == ref for m in r.get("meta_data") or [])
    ]


def _hub_row(engine, table, row_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(sa.select(table).where(table.c.id == row_id)).one()


def _variable_product(sandbox) -> int:  # type: ignore[no-untyped-def]
    wc = sandbox.woocommerce
    return sandbox.call(lambda: min(p.id for p in wc.records("product") if p.type == "variable"))


@pytest.mark.postgres
def test_records_created_in_the_hub_are_created_in_the_store(sync, sandbox, engine, probe) -> None:  # type: ignore[no-untyped-def]
    sync()
    a, d = _simple_products(sandbox, 2)
    parent = _variable_product(sandbox)
    with engine.begin() as conn:
        made = {
            "product": stage_create(
                conn, "products", "test", {"name": "Hub Mug", "sku": "HUB-MUG", "regular_price": "7.50"}
            ),
            "variation": stage_create(
                conn, "products", "test", {"parent_id": parent, "sku": "HUB-VAR", "regular_price": "3.00"}
            ),
            "customer": stage_create(
                conn, "customers", "test", {"email": "hub@example.com", "first_name": "Hub"}
            ),
            "order": stage_create(
                conn,
                "orders",
                "test",
                {"status": "pending", "line_items": [{"product_id": a, "quantity": 2}]},
            ),
        }
        stage_update(conn, "products", "test", a, {"regular_price": "12.34"})
        stage_delete(conn, "products", "test", d)
    probe.reset_requests()

    summary = sync(direction="push")

    assert summary["status"] == "completed"
    assert summary["counts"]["created"] == 4 and summary["counts"]["errors"] == 0
    by_path = probe.requests_by_path()
    assert by_path["/wp-json/wc/v3/products/batch"] == 1, "create, update and delete in one request"
    assert by_path[f"/wp-json/wc/v3/products/{parent}/variations/batch"] == 1
    store = probe.store()
    tables = {"product": P, "variation": P, "customer": Customer.__table__, "order": Order.__table__}
    for kind, row_id in made.items():
        (record,) = _tagged(sandbox, kind, f"test:{row_id}")
        row = _hub_row(engine, tables[kind], row_id)
        assert row.remote_id == record["id"] and row.dirty is False and row.create_attempted_at is None
        resource = "products" if kind in ("product", "variation") else f"{kind}s"
        assert row.content_hash == store[(resource, record["id"])], f"{kind}: the store's answer is mirrored"
    assert _hub_row(engine, P, made["variation"]).parent_remote_id == parent
    assert _remote(sandbox, a)["regular_price"] == "12.34"
    with engine.connect() as conn:
        items = conn.execute(
            sa.select(OrderLineItem.__table__).where(
                OrderLineItem.__table__.c.order_remote_id
                == _hub_row(engine, Order.__table__, made["order"]).remote_id
            )
        ).all()
    assert [(i.product_remote_id, i.quantity) for i in items] == [(a, 2)]

    again = sync(direction="push")
    assert again["counts"].get("created", 0) == 0, "nothing is created twice"


def test_a_create_the_store_refuses_stays_in_the_hub_with_the_reason(sync, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    sync()
    taken = _remote(sandbox, _simple_products(sandbox, 1)[0])["sku"]
    with engine.begin() as conn:
        row_id = stage_create(conn, "products", "test", {"name": "Clash", "sku": taken})
    summary = sync(direction="push")
    assert summary["counts"]["errors"] == 1
    row = _hub_row(engine, P, row_id)
    assert row.remote_id is None and row.dirty and "product_invalid_sku" in row.push_error
    assert row.create_attempted_at is None
    assert len([p for p in _store_records(sandbox, "product") if p["sku"] == taken]) == 1


CRASH_CASES = {
    "product-by-sku": (
        "products",
        "product",
        {"name": "Crash Mug", "sku": "CRASH-1", "regular_price": "5.00"},
    ),
    "product-without-sku": ("products", "product", {"name": "Crash Mug, no SKU", "regular_price": "5.00"}),
    "customer-by-email": ("customers", "customer", {"email": "crash@example.com"}),
    "order-since-stamp": ("orders", "order", {"status": "pending", "currency": "USD"}),
}


@pytest.mark.parametrize("case", list(CRASH_CASES))
def test_a_crash_after_the_store_created_the_record_does_not_double_it(  # type: ignore[no-untyped-def]
    sync, sandbox, engine, monkeypatch, case
) -> None:
    import tasks.push

    resource, kind, fields = CRASH_CASES[case]
    with engine.begin() as conn:
        row_id = stage_create(conn, resource, "test", fields)
    real = tasks.push.apply_push_result

    def crash_before_commit(bind, *args):  # type: ignore[no-untyped-def]
        with bind.begin() as conn:
            real(conn, *args)
            raise RuntimeError("the hub died before committing the store's answer")

    monkeypatch.setattr(tasks.push, "apply_push_result", crash_before_commit)
    with pytest.raises(RuntimeError, match="hub died"):
        sync(direction="push")
    assert len(_tagged(sandbox, kind, f"test:{row_id}")) == 1, "the store did create it"
    row = _hub_row(engine, MIRRORS[resource], row_id)
    assert row.remote_id is None and row.create_attempted_at is not None, "the hub does not know its id"

    monkeypatch.setattr(tasks.push, "apply_push_result", real)
    summary = sync(direction="push")

    assert summary["counts"]["adopted"] == 1 and summary["counts"].get("created", 0) == 0
    (record,) = _tagged(sandbox, kind, f"test:{row_id}")
    row = _hub_row(engine, MIRRORS[resource], row_id)
    assert row.remote_id == record["id"] and row.dirty is False and row.create_attempted_at is None


def test_a_pull_between_the_crash_and_the_next_push_leaves_one_row(
    sync, sandbox, engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import tasks.push

    sync()
    with engine.begin() as conn:
        row_id = stage_create(conn, "customers", "test", {"email": "twice@example.com"})
    real = tasks.push.apply_push_result

    def crash_before_commit(bind, *args):  # type: ignore[no-untyped-def]
        raise RuntimeError("the hub died before committing the store's answer")

    monkeypatch.setattr(tasks.push, "apply_push_result", crash_before_commit)
    with pytest.raises(RuntimeError):
        sync(direction="push")
    monkeypatch.setattr(tasks.push, "apply_push_result", real)

    summary = sync(direction="bidirectional")  # the pull mirrors the new customer before the push runs

    assert summary["counts"]["adopted"] == 1
    C = Customer.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(C.c.id, C.c.remote_id).where(C.c.email == "twice@example.com")).all()
    (record,) = _tagged(sandbox, "customer", f"test:{row_id}")
    assert [(r.id, r.remote_id) for r in rows] == [(row_id, record["id"])]
