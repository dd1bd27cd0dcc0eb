"""Alembic, driven from Python: upgrade, downgrade, current revision, and first-use schema creation."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine

from hub.db import safe_url
from hub.errors import HubConfigError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for our migrations; with `engine`, commands run on that engine."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration's revision (`hub.db.SCHEMA_REVISION` names the same one)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the hub up to `revision` (default: the newest)."""
    _run(command.upgrade, engine, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the hub down to `revision` (a revision id, `-1`, or `base` for an empty database)."""
    _run(command.downgrade, engine, revision)


def ensure_schema(engine: Engine) -> None:
    """Create the schema on an empty database; refuse to work on one at another revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        if _user_tables(engine):
            raise HubConfigError(
                f"the hub database {safe_url(engine.url)} has tables but no migration history; "
                "point NXT_DATABASE_URL at an empty database or one made by `nxt db upgrade`"
            )
        upgrade(engine)
        return
    raise HubConfigError(
        f"the hub database {safe_url(engine.url)} is at schema revision {current}, this version "
        f"needs {head}; run `nxt db upgrade`"
    )


def _user_tables(engine: Engine) -> list[str]:
    return [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]


def _run(fn, engine: Engine, revision: str) -> None:  # type: ignore[no-untyped-def]
    try:
        fn(alembic_config(engine), revision)
    except CommandError as exc:
        raise HubConfigError(f"cannot migrate to {revision!r}: {exc}") from None
