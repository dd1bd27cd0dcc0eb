"""Connecting to the hub: URL resolution, clear errors, and the column types' rules."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub.db import create_hub_engine, default_database_path, resolve_database_url, safe_url
from hub.errors import HubConfigError
from hub.models import DashboardMetric, Product

POSTGRES_URL = os.environ.get("NXT_TEST_POSTGRES_URL")


def test_default_is_embedded_sqlite_in_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NXT_DATABASE_URL", raising=False)
    url = resolve_database_url()
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(default_database_path())


def test_env_selects_postgres_through_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXT_DATABASE_URL", "postgres://u:pw@db:5432/hub")
    assert resolve_database_url().drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/x", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls_name_the_setting_and_fix(monkeypatch: pytest.MonkeyPatch, url: str, message: str) -> None:
    monkeypatch.setenv("NXT_DATABASE_URL", url)
    with pytest.raises(HubConfigError, match=message) as err:
        resolve_database_url()
    assert "NXT_DATABASE_URL" in str(err.value) and "sqlite:///" in str(err.value)


def test_unreachable_database_hides_password() -> None:
    with pytest.raises(HubConfigError) as err:
        create_hub_engine("postgresql://postgres:hunter2@127.0.0.1:1/x")
    assert "cannot reach the hub database" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = create_hub_engine(f"sqlite:///{tmp_path / 'nested' / 'hub.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_times_are_aware_utc_and_money_exact(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    plus2 = timezone(timedelta(hours=2))
    t = Product.__table__
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t).values(
                store="s",
                remote_id=1,
                data={},
                content_hash="h",
                type="simple",
                date_modified_gmt=datetime(2024, 5, 1, 12, 0, tzinfo=plus2),
                synced_at=datetime.now(UTC),
                regular_price=Decimal("0.1") + Decimal("0.2"),
            )
        )
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.date_modified_gmt, t.c.regular_price)).one()
    assert row.date_modified_gmt == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert row.date_modified_gmt.tzinfo is not None
    assert row.regular_price == Decimal("0.3")


def test_naive_times_and_float_money_are_refused(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(DashboardMetric.__table__).values(
                    metric_name="x", metric_value=1.0, timestamp=datetime(2024, 1, 1)
                )
            )
    with pytest.raises(sa.exc.StatementError, match="never float"):
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Product.__table__).values(
                    store="s",
                    remote_id=1,
                    data={},
                    content_hash="h",
                    type="simple",
                    synced_at=datetime.now(UTC),
                    regular_price=0.1,
                )
            )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:hunter2@db:5432/hub",
        "postgresql://u@db/hub?password=hunter2",
        "postgresql://u@db/hub?sslmode=require&sslpassword=hunter2",
        "postgresql://u@db/hub?sslkey=/keys/hunter2.key&sslcert=/keys/c.crt",
        "postgresql://u@db/hub?PASSWORD=hunter2&application_name=nxt",
        "postgresql://u@db/hub?api_token=hunter2",
        "postgresql://u@db/hub?client_secret=hunter2",
        "postgresql://u@db/hub?passfile=/home/u/hunter2",
        "postgresql://u@db/hub?password=a&password=hunter2",
    ],
)
def test_safe_url_masks_every_secret(url: str) -> None:
    shown = safe_url(url)
    assert "hunter2" not in shown
    assert "db" in shown and "hub" in shown


def test_safe_url_keeps_harmless_parameters() -> None:
    shown = safe_url("postgresql://u:pw@db/hub?sslmode=require&application_name=nxt&sslpassword=x")
    assert "sslmode=require" in shown and "application_name=nxt" in shown
    assert "sslpassword=***" in shown and ":***@" in shown


def test_unparseable_url_in_an_error_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXT_DATABASE_URL", "mysql://root:hunter2@db/x?sslpassword=hunter3")
    with pytest.raises(HubConfigError) as err:
        resolve_database_url()
    assert "hunter2" not in str(err.value) and "hunter3" not in str(err.value)


def test_the_hub_block_gives_what_create_hub_engine_needs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from blocks import HubDatabase

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    block = HubDatabase(url=url, pool_max_connections=4, pool_min_connections=2)
    options = block.engine_options()
    assert options == {"url": url, "pool_size": 4, "pool_min": 2}
    engine = create_hub_engine(**options)
    try:
        assert (tmp_path / "hub.db").exists()
    finally:
        engine.dispose()
    assert "hub_pw" not in repr(HubDatabase(url="postgresql://u:hub_pw@db/x"))


@pytest.mark.skipif(not POSTGRES_URL, reason="needs NXT_TEST_POSTGRES_URL")
def test_postgres_pool_opens_the_minimum_at_start_and_never_more_than_the_maximum(hub_url: str) -> None:
    if not hub_url.startswith("postgresql"):
        pytest.skip("PostgreSQL pool sizing")
    engine = create_hub_engine(hub_url, pool_size=3, pool_min=2, pool_timeout_s=0.2)
    try:
        assert engine.pool.checkedin() == 2, "two connections opened at start"
        with engine.connect() as conn:
            opened = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND backend_type = 'client backend'"
                )
            ).scalar_one()
        assert opened == 2
        held = [engine.connect() for _ in range(3)]
        with pytest.raises(sa.exc.TimeoutError):
            engine.connect()
        for conn in held:
            conn.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize(("size", "minimum"), [(2, 3), (0, 0), (2, -1)])
def test_bad_pool_sizes_are_refused(tmp_path, size: int, minimum: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(HubConfigError, match="pool"):
        create_hub_engine(f"sqlite:///{tmp_path / 'hub.db'}", pool_size=size, pool_min=minimum)
