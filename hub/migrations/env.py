"""Alembic environment: the engine comes from `hub.migrate` (never from a file), metadata from the models."""

from __future__ import annotations

from alembic import context

from hub.db import create_hub_engine
from hub.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_hub_engine(migrate=False)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds to alter
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - we only migrate live databases
    raise SystemExit("offline migrations are not supported; run `nxt db upgrade`")
run_migrations_online()
