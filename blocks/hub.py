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
