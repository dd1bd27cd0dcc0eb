"""Writing a fetched batch: what real stores send is stored, and one record that cannot be stored never stops
the batch or its cursor (quarantine with the reason, including records the database itself refuses)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from hub import cursors
from hub.batches import BatchTarget, commit_page, commit_variations, write_records
from hub.db import create_hub_engine
from hub.models import Customer, Order, OrderLineItem, Product, SyncQuarantine

P, C, Q = Product.__table__, Customer.__table__, SyncQuarantine.__table__


def _commit(
    engine: sa.Engine, target: BatchTarget, objects: list[Any], variations: dict[int, Any]
) -> Counter[str]:
    """A page as the pull commits it, then its variations in their own transaction (as `pull-variations`)."""
    counts: Counter[str] = Counter(commit_page(engine, target, objects, page=1, total_pages=1))
    if variations:
        counts.update(commit_variations(engine, target, variations))
    return counts


ORDERS = Order.__table__


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _target(resource: str, listing: str | None = None) -> BatchTarget:
    return BatchTarget(
        store="s1",
        resource=resource,
        listing=listing or resource,
        incremental=True,
        strategy="wc_priority",
        run_id=None,
    )


def _product(pid: int, **change: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"Product {pid}",
        "type": "simple",
        "sku": f"SKU-{pid}",
        "status": "publish",
        "regular_price": "10.00",
        "date_modified_gmt": f"2024-05-0{pid % 9 + 1}T10:00:00",
        **change,
    }


def _order(oid: int, **change: Any) -> dict[str, Any]:
    return {
        "id": oid,
        "status": "processing",
        "currency": "USD",
        "total": "10.00",
        "date_modified_gmt": "2024-05-01T10:00:00",
        "line_items": [{"id": oid * 10, "product_id": 1, "quantity": 1, "name": f"Item {oid}"}],
        "refunds": [],
        **change,
    }


def _refuse(engine: sa.Engine, table: str, column: str, value: str) -> None:
    """Make the database itself refuse rows whose `column` is `value` (a CHECK; a trigger on SQLite)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    f"ALTER TABLE {table} ADD CONSTRAINT test_refuse_{column} "
                    f"CHECK ({column} IS DISTINCT FROM '{value}')"
                )
            )
        else:
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER test_refuse_{column} BEFORE INSERT ON {table} "
                    f"WHEN NEW.{column} = '{value}' "
                    f"BEGIN SELECT RAISE(ABORT, 'test_refuse_{column}: {value} is refused'); END"
                )
            )


def _quarantined(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(sa.select(Q).order_by(Q.c.id)).all()


def _ids(engine: sa.Engine, table: sa.Table) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(table.c.remote_id)).scalars())


def test_what_real_stores_send_is_stored(engine: sa.Engine) -> None:
    products = [
        _product(1, type="variable-subscription", sku=12345, name="Mu\x00g"),
        _product(2, meta_data=[{"key": "note\x00", "value": "a\x00b"}]),
    ]
    variations = {1: [_product(3, type="subscription_variation", parent_id=1)]}
    counts = _commit(engine, _target("products"), products, variations)
    assert counts["inserted"] == 3 and counts["quarantined"] == 0

    phone = "+44 (0)20 7946 0000 ext 1234 - reception, ask for deliveries please"
    _commit(
        engine, _target("customers"), [{"id": 5, "email": "a@example.com", "billing": {"phone": phone}}], {}
    )
    with engine.connect() as conn:
        rows = {r.remote_id: r for r in conn.execute(sa.select(P))}
        assert conn.execute(sa.select(C.c.phone)).scalar_one() == phone
    assert rows[1].type == "variable-subscription" and rows[1].sku == "12345" and rows[1].name == "Mug"
    assert rows[2].data["meta_data"] == [{"key": "note", "value": "ab"}]
    assert rows[3].type == "subscription_variation" and rows[3].parent_remote_id == 1


def test_malformed_children_are_quarantined_and_the_rest_stored(engine: sa.Engine) -> None:
    orders = [_order(1), _order(2, refunds=["not an object"], customer_note="a\x00b"), _order(3)]
    counts = _commit(engine, _target("orders"), orders, {})
    assert counts["quarantined"] == 1
    assert _ids(engine, ORDERS) == [1, 3]
    (bad,) = _quarantined(engine)
    assert bad.remote_id == "2" and "refunds[0] is not a JSON object" in bad.reason
    assert bad.payload["customer_note"] == "ab", "a quarantined payload is stored without NULs too"


def test_a_record_the_database_refuses_is_quarantined_and_the_batch_commits(engine: sa.Engine) -> None:
    _refuse(engine, "products", "sku", "REFUSED")
    products = [_product(1), _product(2, sku="REFUSED", date_modified_gmt="2024-06-01T00:00:00"), _product(4)]
    variations = {4: [_product(5, parent_id=4), _product(6, parent_id=4, sku="REFUSED")]}

    counts = _commit(engine, _target("products"), products, variations)

    assert counts["inserted"] == 3 and counts["quarantined"] == 2
    assert _ids(engine, P) == [1, 4, 5]
    reasons = {q.remote_id: q.reason for q in _quarantined(engine)}
    assert set(reasons) == {"2", "6"}
    assert all(r.startswith("the database refused it: ") and "test_refuse_sku" in r for r in reasons.values())
    assert all("\n" not in r and "Failing row" not in r for r in reasons.values()), "first line only"
    assert _quarantined(engine)[0].payload["sku"] == "REFUSED"
    with engine.connect() as conn:
        cursor = cursors.read(conn, "s1", "products").modified_after
    assert cursor == datetime(2024, 6, 1, tzinfo=UTC), "the cursor passes the refused record"

    # The next batch writes set-based again and the refused record stays where it is.
    counts = _commit(engine, _target("products"), [_product(7)], {})
    assert counts["inserted"] == 1 and counts["quarantined"] == 0


def test_an_order_whose_line_item_is_refused_is_quarantined_whole(engine: sa.Engine) -> None:
    _refuse(engine, "order_line_items", "name", "REFUSED")
    orders = [_order(1), _order(2, line_items=[{"id": 20, "quantity": 1, "name": "REFUSED"}]), _order(3)]
    counts = _commit(engine, _target("orders"), orders, {})
    assert counts["quarantined"] == 1
    assert _ids(engine, ORDERS) == [1, 3]
    with engine.connect() as conn:
        items = sorted(conn.execute(sa.select(OrderLineItem.__table__.c.remote_id)).scalars())
    assert items == [10, 30]


@pytest.mark.parametrize("refused", [False, True], ids=["set-based", "fallback"])
def test_writes_stay_inside_the_callers_transaction(engine: sa.Engine, refused: bool) -> None:
    """Savepoints must not commit on their own (SQLite's driver starts no transaction before SAVEPOINT)."""
    _refuse(engine, "products", "sku", "REFUSED")
    with pytest.raises(RuntimeError, match="crash"):
        with engine.begin() as conn:
            second = _product(2, sku="REFUSED" if refused else "SKU-2")
            write_records(conn, _target("products"), [_product(1), second])
            cursors.advance(conn, "s1", "products", modified_after=datetime(2024, 6, 1, tzinfo=UTC))
            raise RuntimeError("crash before commit")
    assert _ids(engine, P) == []
    assert _quarantined(engine) == []
    with engine.connect() as conn:
        assert cursors.read(conn, "s1", "products").modified_after is None


def test_errors_that_are_not_the_records_fault_are_raised(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE products RENAME COLUMN stock_status TO stock_status_old"))
    with pytest.raises(sa.exc.DBAPIError):
        _commit(engine, _target("products"), [_product(1)], {})
    assert _quarantined(engine) == []
    with engine.connect() as conn:
        assert cursors.read(conn, "s1", "products").modified_after is None
