"""Migrations up and down, first-use schema creation and revision checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub import migrate
from hub.db import create_hub_engine
from hub.errors import HubConfigError
from hub.models import Base

EXPECTED = set(Base.metadata.tables)
OLD_SERVICE_TABLES = {"real_time_data", "dashboard_metrics", "dashboard_events"}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_first_use_creates_every_table(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    assert _tables(engine) == EXPECTED
    assert OLD_SERVICE_TABLES <= _tables(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


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
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
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
