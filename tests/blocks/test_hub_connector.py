"""The hub named by a prefect-sqlalchemy `SqlAlchemyConnector` block, wherever a Hub Database block name is
taken: its sync-driver URL (psycopg2, pysqlite, or connection components) reaches `hub.db` as a usable
engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from prefect_sqlalchemy import ConnectionComponents, SqlAlchemyConnector, SyncDriver
from sqlalchemy.engine import make_url

from blocks import BlockNotFound, HubBlockError, HubDatabase, ahub_engine_options, hub_engine_options
from hub.db import create_hub_engine


def _connector(hub_url: str, *, components: bool = False) -> SqlAlchemyConnector:
    url = make_url(hub_url)
    if url.get_backend_name() == "sqlite":
        if components:
            info = ConnectionComponents(driver=SyncDriver.SQLITE_PYSQLITE, database=url.database)
            return SqlAlchemyConnector(connection_info=info)
        return SqlAlchemyConnector(connection_info=f"sqlite+pysqlite:///{url.database}")
    if components:
        info = ConnectionComponents(
            driver=SyncDriver.POSTGRESQL_PSYCOPG2,
            database=url.database,
            username=url.username,
            password=url.password,
            host=url.host,
            port=url.port,
        )
        return SqlAlchemyConnector(connection_info=info)
    # What a Prefect user keeps: the psycopg2 driver, which NXT does not ship (hub.db uses psycopg 3).
    psycopg2 = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return SqlAlchemyConnector(connection_info=psycopg2)


def _tables(options: dict[str, object]) -> set[str]:
    engine = create_hub_engine(**options)  # type: ignore[arg-type]
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.parametrize("components", [False, True], ids=["url", "components"])
def test_a_connector_block_names_the_hub(hub_url: str, components: bool) -> None:
    name = f"conn-{uuid.uuid4().hex[:8]}"
    _connector(hub_url, components=components).save(name)
    options = hub_engine_options(name)
    assert make_url(str(options["url"])).database == make_url(hub_url).database
    assert {"sync_runs", "products", "alembic_version"} <= _tables(options), "migrated on first use"
    assert asyncio.run(ahub_engine_options(name)) == options


def test_the_flows_open_the_hub_from_a_connector(hub_url: str) -> None:
    from flows._hub import open_hub  # every flow's `hub` parameter goes through it

    name = f"conn-{uuid.uuid4().hex[:8]}"
    _connector(hub_url).save(name)
    engine = asyncio.run(open_hub(name))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from sync_runs")).scalar() == 0
    finally:
        engine.dispose()


def test_a_hub_database_block_of_the_same_name_wins(tmp_path) -> None:  # type: ignore[no-untyped-def]
    name = f"both-{uuid.uuid4().hex[:8]}"
    HubDatabase(url=f"sqlite:///{tmp_path / 'hub.db'}", pool_max_connections=3).save(name)
    SqlAlchemyConnector(connection_info=f"sqlite+pysqlite:///{tmp_path / 'other.db'}").save(name)
    options = hub_engine_options(name)
    assert options["url"].endswith("/hub.db") and options["pool_size"] == 3


def test_neither_block_is_one_clear_error() -> None:
    with pytest.raises(BlockNotFound, match="no Hub Database or SqlAlchemy Connector block named 'nope-x'"):
        hub_engine_options("nope-x")


def test_a_mysql_connector_is_refused() -> None:
    name = f"mysql-{uuid.uuid4().hex[:8]}"
    SqlAlchemyConnector(connection_info="mysql+pymysql://u:secret@h:3306/db").save(name)
    with pytest.raises(HubBlockError, match="names a 'mysql' database") as caught:
        hub_engine_options(name)
    assert "secret" not in str(caught.value)
