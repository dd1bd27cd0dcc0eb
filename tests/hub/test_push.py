"""Push decisions without a store: the planner's decision table, create payloads and adoption lookups, hub
creates, batches per endpoint, and how the store's answer is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from clients.woocommerce import BatchResult
from hub.db import create_hub_engine
from hub.edits import DELETE, EditError, discard_create, stage_create, stage_update
from hub.models import Customer, Order, Product, SyncConflict
from hub.push import (
    ADOPT_MARGIN,
    HUB_ID_META_KEY,
    PushRow,
    adoption_lookups,
    apply_push_result,
    create_payload,
    dirty_batches,
    load_rows,
    match_adoptions,
    plan_push,
    prepare_push,
)
from hub.records import product_row
from hub.upserts import upsert_mirror

P, C, ORDERS = Product.__table__, Customer.__table__, Order.__table__
T0 = datetime(2024, 5, 1, 10, tzinfo=UTC)


def _row(
    row_id: int,
    remote_id: int | None,
    changes: dict[str, Any],
    *,
    base: datetime | None = T0,
    edited: datetime | None = None,
    stamp: datetime | None = None,
    sku: str | None = None,
    email: str | None = None,
) -> PushRow:
    return PushRow(
        id=row_id,
        remote_id=remote_id,
        parent_remote_id=None,
        data={"id": remote_id} if remote_id else {},
        local_changes=changes,
        date_modified_gmt=base,
        local_modified_at=edited or T0 + timedelta(minutes=5),
        create_attempted_at=stamp,
        sku=sku,
        email=email,
    )


def _remote(rid: int, modified: datetime = T0, **fields: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "date_modified_gmt": modified.strftime("%Y-%m-%dT%H:%M:%S"),
        "type": "simple",
        **fields,
    }


def _plan(rows: list[PushRow], remote: dict[int, Any], strategy: str = "timestamp", **kw: Any):  # type: ignore[no-untyped-def]
    return plan_push(rows, remote, strategy, resource="products", store="s1", **kw)


def test_unchanged_in_the_store_means_update_or_delete() -> None:
    plan = _plan(
        [_row(1, 10, {"regular_price": "9.00"}), _row(2, 20, {DELETE: True})],
        {10: _remote(10), 20: _remote(20)},
    )
    assert plan.update == [{"id": 10, "regular_price": "9.00"}] and plan.delete == [20]
    assert plan.batch_arguments() == {"create": [], "update": plan.update, "delete": [20]}
    assert plan.path == "products" and plan.sends and not plan.errors


def test_missing_or_malformed_store_records_are_row_errors() -> None:
    plan = _plan(
        [_row(1, 10, {"name": "x"}), _row(2, 20, {"name": "y"})],
        {20: {"id": 20, "date_modified_gmt": "yesterday"}},
    )
    assert set(plan.errors) == {1, 2}
    assert "not found in the store" in plan.errors[1] and "malformed" in plan.errors[2]
    assert not plan.sends and plan.counts["errors"] == 2


@pytest.mark.parametrize(
    ("strategy", "edited", "outcome"),
    [
        ("wc_priority", T0 + timedelta(hours=2), "take_remote"),
        ("nxt_priority", T0, "update"),
        ("manual", T0, "conflict"),
        ("timestamp", T0 + timedelta(hours=2), "update"),  # the hub's edit is newer
        ("timestamp", T0 + timedelta(minutes=30), "take_remote"),  # the store's change is newer
        ("timestamp", T0 + timedelta(hours=1, microseconds=500), "take_remote"),  # a tie goes to the store
    ],
)
def test_both_sides_changed_follows_the_strategy(strategy: str, edited: datetime, outcome: str) -> None:
    store_version = _remote(10, T0 + timedelta(hours=1), regular_price="2.22")
    plan = _plan([_row(1, 10, {"regular_price": "1.11"}, edited=edited)], {10: store_version}, strategy)
    assert plan.counts["conflicts"] == 1
    got = {
        "take_remote": [r["remote_id"] for r in plan.take_remote],
        "update": [u["id"] for u in plan.update],
        "conflict": [c[0].id for c in plan.conflicts],
    }
    assert {k: v for k, v in got.items() if v} == {outcome: [10] if outcome != "conflict" else [1]}


def test_rows_without_a_remote_id_are_created_with_their_hub_reference() -> None:
    fields = {
        "name": "New",
        "meta_data": [{"key": "colour", "value": "red"}, {"key": HUB_ID_META_KEY, "value": "x"}],
    }
    plan = _plan([_row(7, None, fields)], {})
    assert plan.create == [
        (
            7,
            {
                "name": "New",
                "meta_data": [{"key": "colour", "value": "red"}, {"key": HUB_ID_META_KEY, "value": "s1:7"}],
            },
        )
    ]
    assert plan.batch_arguments()["create"] == [plan.create[0][1]]
    assert create_payload("s1", 7, {"name": "x"})["meta_data"] == [{"key": HUB_ID_META_KEY, "value": "s1:7"}]


def test_a_row_found_in_the_store_is_adopted_not_created_again() -> None:
    stamp = T0
    found = _remote(99, meta_data=[{"key": HUB_ID_META_KEY, "value": "s1:7"}])
    plan = _plan(
        [_row(7, None, {"name": "New"}, stamp=stamp), _row(8, None, {"name": "Other"}, stamp=stamp)],
        {},
        adopted={7: found},
    )
    assert plan.adopt == {7: found} and [row_id for row_id, _ in plan.create] == [8]
    assert plan.counts["adopted"] == 1


def test_adoption_lookups_use_sku_email_or_the_records_created_since_the_stamp() -> None:
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    rows = [
        _row(1, None, {}, stamp=stamp, sku="A-1"),
        _row(2, None, {}, stamp=stamp, sku="B-2"),
        _row(3, None, {}, stamp=stamp + timedelta(minutes=5)),  # no SKU
        _row(4, None, {}),  # never sent: nothing to look for
        _row(5, 50, {}, stamp=stamp),  # in the store already
    ]
    since = (stamp + timedelta(minutes=5) - ADOPT_MARGIN).strftime("%Y-%m-%dT%H:%M:%S")  # row 3's stamp
    assert adoption_lookups("products", rows) == [
        {"sku": "A-1,B-2"},
        {"after": since, "dates_are_gmt": "true", "orderby": "date", "order": "asc"},
    ]
    assert adoption_lookups("orders", rows[2:4]) == [
        {
            "after": (stamp + timedelta(minutes=5) - ADOPT_MARGIN).strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "date",
            "order": "asc",
        }
    ]
    assert adoption_lookups("customers", [_row(1, None, {}, stamp=stamp, email="a@example.com")]) == [
        {"email": "a@example.com", "role": "all"}
    ]
    assert adoption_lookups("products", rows[3:]) == []


def test_match_adoptions_needs_this_stores_reference() -> None:
    rows = [_row(7, None, {}, stamp=T0), _row(8, None, {}, stamp=T0)]
    found = [
        _remote(30, meta_data=[{"key": HUB_ID_META_KEY, "value": "s1:7"}]),
        _remote(20, meta_data=[{"key": HUB_ID_META_KEY, "value": "s1:7"}]),  # doubled earlier: lowest id
        _remote(40, meta_data=[{"key": HUB_ID_META_KEY, "value": "other-store:8"}]),
        _remote(41, meta_data="not a list"),
        "not an object",
    ]
    assert {k: v["id"] for k, v in match_adoptions("s1", rows, found).items()} == {7: 20}


# ---- with a hub database


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _seed(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upsert_mirror(
            conn,
            "products",
            "s1",
            [
                product_row(
                    {
                        "id": 10,
                        "type": "variable",
                        "name": "Shirt",
                        "date_modified_gmt": "2024-05-01T10:00:00",
                    }
                ),
                product_row(
                    {"id": 11, "type": "simple", "name": "Mug", "date_modified_gmt": "2024-05-01T10:00:00"}
                ),
            ],
        )
        upsert_mirror(
            conn,
            "orders",
            "s1",
            [
                {
                    "remote_id": 5,
                    "data": {},
                    "content_hash": "h",
                    "status": "completed",
                    "currency": "EUR",
                    "total": Decimal(1),
                }
            ],
        )


def test_stage_create_makes_a_row_without_a_remote_id(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        pid = stage_create(conn, "products", "s1", {"name": "Ne\x00w", "sku": 123, "regular_price": "4.50"})
        vid = stage_create(
            conn, "products", "s1", {"parent_id": 10, "regular_price": "5.00", "attributes": []}
        )
        cid = stage_create(conn, "customers", "s1", {"email": "new@example.com", "first_name": "Ada"})
        oid = stage_create(conn, "orders", "s1", {"line_items": [{"product_id": 11, "quantity": 2}]})
    with engine.connect() as conn:
        product = conn.execute(sa.select(P).where(P.c.id == pid)).one()
        variation = conn.execute(sa.select(P).where(P.c.id == vid)).one()
        customer = conn.execute(sa.select(C).where(C.c.id == cid)).one()
        order = conn.execute(sa.select(ORDERS).where(ORDERS.c.id == oid)).one()
    assert product.remote_id is None and product.dirty and product.name == "New" and product.sku == "123"
    assert product.regular_price == Decimal("4.50") and product.local_changes["name"] == "New"
    assert variation.parent_remote_id == 10 and variation.type == "variation"
    assert "parent_id" not in variation.local_changes, "the variations endpoint names the parent"
    assert customer.email == "new@example.com" and customer.remote_id is None
    assert order.currency == "EUR", "taken from the store's orders" and order.total == Decimal(0)
    assert "total" not in order.local_changes and "currency" not in order.local_changes


@pytest.mark.parametrize(
    ("resource", "fields", "message"),
    [
        ("products", {}, "non-empty"),
        ("products", {"id": 3, "name": "x"}, "without 'id'"),
        ("products", {"parent_id": 999, "regular_price": "1"}, "parent product 999 is not in store"),
        ("products", {"name": ["x"]}, "name is a JSON array"),
        ("customers", {"first_name": "Ada"}, "needs an email"),
        ("coupons", {"code": "x"}, "cannot create 'coupons'"),
    ],
)
def test_stage_create_refuses_what_cannot_be_created(
    engine: sa.Engine, resource: str, fields: dict[str, Any], message: str
) -> None:
    _seed(engine)
    with pytest.raises(EditError, match=message), engine.begin() as conn:
        stage_create(conn, resource, "s1", fields)


def test_an_order_needs_a_currency_when_the_hub_cannot_tell(engine: sa.Engine) -> None:
    with pytest.raises(EditError, match="currency"), engine.begin() as conn:
        stage_create(conn, "orders", "s1", {"status": "pending"})
    with engine.begin() as conn:
        stage_create(conn, "orders", "s1", {"status": "pending", "currency": "GBP"})


def test_discard_create_only_before_a_push_sent_it(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = stage_create(conn, "customers", "s1", {"email": "a@example.com"})
        second = stage_create(conn, "customers", "s1", {"email": "b@example.com"})
        discard_create(conn, "customers", "s1", first)
        conn.execute(sa.update(C).where(C.c.id == second).values(create_attempted_at=T0))
    with pytest.raises(EditError, match="already sent"), engine.begin() as conn:
        discard_create(conn, "customers", "s1", second)
    with pytest.raises(EditError, match="no customers created in the hub"), engine.begin() as conn:
        discard_create(conn, "customers", "s1", first)


def test_dirty_batches_group_by_endpoint_and_skip_open_conflicts(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        stage_update(conn, "products", "s1", 11, {"regular_price": "3.00"})
        stage_update(conn, "products", "s1", 10, {"name": "Shirt 2"})
        new = [stage_create(conn, "products", "s1", {"name": f"N{i}"}) for i in range(3)]
        var = stage_create(conn, "products", "s1", {"parent_id": 10, "regular_price": "1"})
        conn.execute(
            sa.insert(SyncConflict.__table__).values(
                store="s1",
                resource="products",
                remote_id=10,
                hub_version={},
                remote_version={},
                status="open",
            )
        )
        ids = dict(conn.execute(sa.select(P.c.remote_id, P.c.id).where(P.c.remote_id.is_not(None))).all())
    assert dirty_batches(engine, "s1", "products", 2) == [[ids[11], new[0]], [new[1], new[2]], [var]]
    assert dirty_batches(engine, "s1", "products", 500) == [[ids[11], *new], [var]]
    with pytest.raises(ValueError, match="resource"):
        dirty_batches(engine, "s1", "coupons", 10)


def test_the_stores_answer_is_written_in_one_transaction(engine: sa.Engine) -> None:
    """Creates bound to their rows by the hub reference (or input order), errors per item, stamps kept
    only where the store may have created the record."""
    _seed(engine)
    with engine.begin() as conn:
        stage_update(conn, "products", "s1", 11, {"regular_price": "3.00"})
        a, b, c = (stage_create(conn, "products", "s1", {"name": n, "sku": n}) for n in ("A", "B", "C"))
    rows = load_rows(engine, "s1", "products", [a, b, c])
    rows += load_rows(engine, "s1", "products", dirty_batches(engine, "s1", "products", 100)[0][:1])
    plan = plan_push(rows, {11: _remote(11)}, "timestamp", resource="products", store="s1")
    assert [row_id for row_id, _ in plan.create] == [a, b, c] and plan.update[0]["id"] == 11
    prepare_push(engine, "s1", plan)
    with engine.connect() as conn:
        assert all(conn.execute(sa.select(P.c.create_attempted_at).where(P.c.id.in_([a, b, c]))).scalars())

    answer = BatchResult(
        # A has no meta in the answer (matched by order); C carries its reference.
        created=[
            _remote(100, name="A", sku="A"),
            _remote(102, name="C", sku="C", meta_data=[{"key": HUB_ID_META_KEY, "value": f"s1:{c}"}]),
        ],
        updated=[_remote(11, T0 + timedelta(hours=1), regular_price="3.00")],
    )
    answer.add_error("create", 1, None, "product_invalid_sku", "Invalid or duplicated SKU.", 400)
    counts = apply_push_result(engine, "s1", plan, answer)

    assert counts["created"] == 2 and counts["pushed"] == 3 and counts["errors"] == 1
    with engine.connect() as conn:
        got = {r.id: r for r in conn.execute(sa.select(P).where(P.c.id.in_([a, b, c])))}
        mug = conn.execute(sa.select(P).where(P.c.remote_id == 11)).one()
    assert (got[a].remote_id, got[c].remote_id) == (100, 102)
    assert not got[a].dirty and got[a].create_attempted_at is None and got[a].data["name"] == "A"
    assert got[b].remote_id is None and got[b].dirty and "product_invalid_sku" in got[b].push_error
    assert got[b].create_attempted_at is None, "the store refused it: nothing to look for next time"
    assert mug.regular_price == Decimal("3.00") and not mug.dirty


def test_an_unanswered_create_keeps_its_stamp(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        a = stage_create(conn, "customers", "s1", {"email": "a@example.com"})
    rows = load_rows(engine, "s1", "customers", [a])
    plan = plan_push(rows, {}, "timestamp", resource="customers", store="s1")
    prepare_push(engine, "s1", plan)
    answer = BatchResult()
    answer.add_error("create", 0, None, "nxt_no_answer", "WooCommerce did not answer this item", None)
    apply_push_result(engine, "s1", plan, answer)
    with engine.connect() as conn:
        row = conn.execute(sa.select(C)).one()
    assert row.create_attempted_at is not None and row.remote_id is None and row.dirty


def test_an_adopted_create_replaces_a_copy_a_pull_made(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        a = stage_create(conn, "customers", "s1", {"email": "a@example.com"})
        conn.execute(sa.update(C).values(create_attempted_at=T0))
    store_copy = {
        "id": 77,
        "email": "a@example.com",
        "meta_data": [{"key": HUB_ID_META_KEY, "value": f"s1:{a}"}],
    }
    with engine.begin() as conn:  # a pull mirrored the created record before the hub learned its id
        from hub.records import customer_row

        upsert_mirror(conn, "customers", "s1", [customer_row(store_copy)])
    rows = load_rows(engine, "s1", "customers", [a])
    plan = plan_push(rows, {}, "timestamp", resource="customers", store="s1", adopted={a: store_copy})
    prepare_push(engine, "s1", plan)
    with engine.connect() as conn:
        left = conn.execute(sa.select(C.c.id, C.c.remote_id, C.c.dirty)).all()
    assert [(r.id, r.remote_id, r.dirty) for r in left] == [(a, 77, False)]
