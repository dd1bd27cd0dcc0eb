"""Migrations up and down, first-use schema creation and revision checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from hub import migrate
from hub.db import SCHEMA_REVISION, create_hub_engine
from hub.errors import HubConfigError
from hub.models import SQLITE_ONLY, Base

EXPECTED = set(Base.metadata.tables)
OLD_SERVICE_TABLES = {"real_time_data", "dashboard_metrics", "dashboard_events"}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_first_use_creates_every_table(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    assert _tables(engine) == EXPECTED
    assert OLD_SERVICE_TABLES <= _tables(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_schema_revision_names_the_newest_migration() -> None:
    """`create_hub_engine` trusts a hub at SCHEMA_REVISION without loading Alembic: it must be the head."""
    assert SCHEMA_REVISION == migrate.head_revision()


def test_a_hub_at_the_newest_revision_is_opened_without_alembic(hub_url: str) -> None:
    """Every `nxt` command opens the hub: one that is up to date must not pay for loading Alembic."""
    create_hub_engine(hub_url).dispose()
    code = (
        "import sys; from hub.db import create_hub_engine; "
        f"create_hub_engine({hub_url!r}); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_downgrade_to_base_and_up_again(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    migrate.downgrade(engine, "base")
    assert _tables(engine) == set()
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert _tables(engine) == EXPECTED


def test_schema_matches_models(hub_url: str) -> None:
    """The migrations build exactly what the models describe (no drift between the two)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_hub_engine(hub_url)

    def include(obj: object, name: str | None, kind: str, reflected: bool, compare_to: object) -> bool:
        # Indexes the models create on SQLite only (`ddl_if`), which Alembic's comparison does not know.
        return not (kind == "index" and engine.dialect.name != "sqlite" and obj.info.get(SQLITE_ONLY))  # type: ignore[attr-defined]

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_old_service_queries_still_work(hub_url: str) -> None:
    """The seed's documented SQL runs unchanged against the hub."""
    engine = create_hub_engine(hub_url)
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT * FROM real_time_data WHERE data_type = 'payment_processed' "
                "ORDER BY timestamp DESC LIMIT 100"
            )
        ).all()
        conn.execute(
            sa.text("SELECT * FROM dashboard_metrics WHERE metric_name LIKE 'wc_%' ORDER BY timestamp DESC")
        ).all()
        conn.execute(
            sa.text(
                "SELECT * FROM dashboard_events WHERE event_source = 'api_integration' "
                "AND severity = 'error' ORDER BY timestamp DESC"
            )
        ).all()


def test_foreign_tables_without_history_are_refused(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    migrate.downgrade(engine, "base")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version_probe (x INTEGER)"))
    with pytest.raises(HubConfigError, match="no migration history"):
        create_hub_engine(hub_url)


def test_unknown_revision_is_refused(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(HubConfigError, match=r"revision 9999.*nxt db upgrade"):
        create_hub_engine(hub_url)


def test_downgrade_to_unknown_revision_says_so(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with pytest.raises(HubConfigError, match="zzz"):
        migrate.downgrade(engine, "zzz")
    assert _tables(engine) == EXPECTED


def _seed_at_0001(engine: sa.Engine) -> None:
    """An order with a line item and a refund, a product and a customer, written at revision 0001."""
    now = "2024-05-01 10:00:00"
    with engine.begin() as conn:
        for stmt in (
            "INSERT INTO products (store, remote_id, data, content_hash, synced_at, dirty, type, sku) "
            f"VALUES ('s', 1, '{{}}', 'h', '{now}', false, 'simple', 'SKU-1')",
            "INSERT INTO customers (store, remote_id, data, content_hash, synced_at, dirty, phone) "
            f"VALUES ('s', 2, '{{}}', 'h', '{now}', false, '555')",
            "INSERT INTO orders (store, remote_id, data, content_hash, synced_at, dirty, status, currency, "
            f"total) VALUES ('s', 3, '{{}}', 'h', '{now}', false, 'processing', 'USD', '10')",
            "INSERT INTO order_line_items (store, order_remote_id, remote_id, quantity) "
            "VALUES ('s', 3, 30, 1)",
            "INSERT INTO order_refunds (store, order_remote_id, remote_id, amount) VALUES ('s', 3, 31, '1')",
        ):
            conn.execute(sa.text(stmt))


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_upgrade_from_0001_keeps_every_row_and_widens_columns(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    migrate.downgrade(engine, "0001")
    assert "sync_locks" not in _tables(engine)
    _seed_at_0001(engine)

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
    # SQLite rebuilds `orders` to alter it: its line items and refunds must survive (no cascade).
    assert [_count(engine, t) for t in ("products", "customers", "orders")] == [1, 1, 1]
    assert _count(engine, "order_line_items") == 1 and _count(engine, "order_refunds") == 1
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE products SET type = :t, sku = :s"),
            {"t": "variable-subscription-bundle-with-a-long-slug", "s": "S" * 400},
        )
        conn.execute(sa.text("UPDATE customers SET phone = :p"), {"p": "+1 555 0100 " * 20})
        conn.execute(sa.text("UPDATE orders SET currency = 'USDT', status = :s"), {"s": "wc-" + "x" * 60})
        conn.execute(
            sa.text(
                "INSERT INTO products (store, remote_id, data, content_hash, synced_at, dirty, type) "
                "VALUES ('s', NULL, '{}', 'h', '2024-05-01 10:00:00', true, 'simple')"
            )
        )
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1, "foreign keys back on"


def test_downgrade_refuses_while_hub_created_records_wait(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO customers (store, remote_id, data, content_hash, synced_at, dirty) "
                "VALUES ('s', NULL, '{}', 'h', '2024-05-01 10:00:00', true)"
            )
        )
    with pytest.raises(HubConfigError, match=r"1 customers created in the hub .* push them"):
        migrate.downgrade(engine, "0001")
    assert migrate.current_revision(engine) == migrate.head_revision()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM customers"))
    migrate.downgrade(engine, "0001")
    assert migrate.current_revision(engine) == "0001"


def test_downgrade_cuts_long_values_to_the_old_sizes(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    _seed_at_0001(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE products SET type = :t"), {"t": "variable-subscription"})
    migrate.downgrade(engine, "0001")
    with engine.connect() as conn:
        kind = conn.execute(sa.text("SELECT type FROM products")).scalar_one()
    # PostgreSQL cuts to varchar(20); SQLite does not enforce lengths and keeps the value.
    cut = engine.dialect.name == "postgresql"
    assert kind == ("variable-subscriptio" if cut else "variable-subscription")
    assert _count(engine, "order_line_items") == 1
