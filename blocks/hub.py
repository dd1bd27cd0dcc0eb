"""The Hub Database block: where the hub lives and how big its connection pool is.

Blocks build clients and import only `clients/`; the hub's engine is built by `hub.db`, so this block
describes the database and hands `hub.db.create_hub_engine` its arguments (`engine_options()`).
"""

from __future__ import annotations

from typing import Any

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from blocks._load import BlockNotFound, aload_block, load_block
from blocks._meta import LOGOS, FieldValueError, docs_url

_URL_HELP = "use e.g. postgresql+psycopg://user:password@host:5432/nxt or sqlite:////path/to/hub.db"


class HubDatabase(Block):
    """The hub: our own SQL database (PostgreSQL in production, SQLite for development).

    `engine_options()` returns the arguments of `hub.db.create_hub_engine`, which checks that the
    database answers and creates the schema when it is empty.

    Example:
        ```python
        from blocks import HubDatabase
        from hub.db import create_hub_engine

        hub = HubDatabase.load("BLOCK_NAME")
        engine = create_hub_engine(**hub.engine_options())
        ```
    """

    _block_type_name = "Hub Database"
    _block_type_slug = "nxt-hub-database"
    _logo_url = LOGOS["database"]
    _documentation_url = docs_url("hub-database")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    url: SecretStr = Field(
        title="URL",
        description=(
            "SQLAlchemy URL of the hub, e.g. postgresql+psycopg://user:password@host:5432/nxt; "
            "secret because it may carry a password."
        ),
    )
    pool_max_connections: int = Field(
        default=10,
        ge=1,
        description=(
            "Most connections the pool opens to PostgreSQL; a task waits for a free one beyond that "
            "(SQLite ignores it)."
        ),
    )
    pool_min_connections: int = Field(
        default=1,
        ge=0,
        description="Connections opened to PostgreSQL at start and kept open (SQLite ignores it).",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _check_url(cls, value: object) -> object:
        if not isinstance(value, str):  # already a SecretStr: checked when it was made
            return value
        raw = value.strip()
        try:
            backend = make_url(raw).get_backend_name()
        except (ArgumentError, ValueError):
            raise FieldValueError(None, f"is not a database URL; {_URL_HELP}", secret=True) from None
        if backend not in ("postgresql", "postgres", "sqlite"):
            raise FieldValueError(
                None, f"names an unsupported database {backend!r}; {_URL_HELP}", secret=True
            )
        return raw

    @model_validator(mode="after")
    def _check_pool(self) -> HubDatabase:
        if self.pool_min_connections > self.pool_max_connections:
            raise ValueError(
                f"pool_min_connections={self.pool_min_connections} is more than "
                f"pool_max_connections={self.pool_max_connections}; lower the minimum"
            )
        return self

    def engine_options(self) -> dict[str, Any]:
        """The keyword arguments of `hub.db.create_hub_engine`, with the URL unwrapped.

        The result holds the secret URL: pass it straight on, never log it.
        """
        return {
            "url": self.url.get_secret_value(),
            "pool_size": self.pool_max_connections,
            "pool_min": self.pool_min_connections,
        }


# --------------------------------------------------------------------------------------------------
# Naming the hub by a block: a Hub Database block, or prefect-sqlalchemy's SqlAlchemyConnector


_SUPPORTED = ("postgresql", "postgres", "sqlite")


class HubBlockError(ValueError):
    """A block names the hub in a way NXT cannot use (e.g. a MySQL connector); the message is one line."""


def connector_engine_options(connector: Any, name: str = "?") -> dict[str, Any]:
    """`create_hub_engine` arguments from a prefect-sqlalchemy `SqlAlchemyConnector`.

    Its sync driver URL (`postgresql+psycopg2://...`, `sqlite+pysqlite:///...`, or connection components)
    is handed on as is: `hub.db` swaps any PostgreSQL driver for psycopg 3, the one NXT ships. The
    connector's `connect_args` and `fetch_size` do not apply to the hub's engine; its pool keeps the
    Hub Database block's defaults.

    Raises:
        HubBlockError: the connector names a database other than PostgreSQL or SQLite.
    """
    info = connector.connection_info
    url = make_url(info.create_url() if hasattr(info, "create_url") else str(info))
    if url.get_backend_name() not in _SUPPORTED:
        raise HubBlockError(
            f"the SqlAlchemy Connector block {name!r} names a {url.get_backend_name()!r} database; the hub "
            "runs on PostgreSQL or SQLite"
        )
    defaults = HubDatabase.model_fields
    return {
        "url": url.render_as_string(hide_password=False),
        "pool_size": defaults["pool_max_connections"].default,
        "pool_min": defaults["pool_min_connections"].default,
    }


def _not_found(name: str) -> BlockNotFound:
    missing = BlockNotFound(HubDatabase, name)
    missing.args = (
        f"no Hub Database or SqlAlchemy Connector block named {name!r}; create one with "
        "`nxt blocks from-env` or in the Prefect UI",
    )
    return missing


async def ahub_engine_options(name: str) -> dict[str, Any]:
    """`create_hub_engine` arguments from the block `name`: a Hub Database block, else a prefect-sqlalchemy
    `SqlAlchemyConnector` block of that name.

    Raises:
        BlockNotFound: neither type has a block of that name.
        HubBlockError: the connector names an unsupported database.
    """
    try:
        return (await aload_block(HubDatabase, name)).engine_options()
    except BlockNotFound:
        pass
    from prefect_sqlalchemy import SqlAlchemyConnector

    try:
        connector = await aload_block(SqlAlchemyConnector, name)
    except BlockNotFound:
        raise _not_found(name) from None
    return connector_engine_options(connector, name)


def hub_engine_options(name: str) -> dict[str, Any]:
    """`ahub_engine_options` for sync code (commands, the receiver's start-up)."""
    try:
        return load_block(HubDatabase, name).engine_options()
    except BlockNotFound:
        pass
    from prefect_sqlalchemy import SqlAlchemyConnector

    try:
        connector = load_block(SqlAlchemyConnector, name)
    except BlockNotFound:
        raise _not_found(name) from None
    return connector_engine_options(connector, name)
