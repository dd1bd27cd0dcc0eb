"""Alembic environment: the engine comes from `hub.migrate` (never from a file), metadata from the models."""

from __future__ import annotations

from alembic import context

from hub.db import create_hub_engine
from hub.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_hub_engine(migrate=False)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by rebuilding it (copy, DROP, rename). With foreign keys on, dropping
            # `orders` would cascade to its line items and refunds. The pragma only takes effect outside
            # a transaction, so it is set before the migration's transaction and restored after it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if sqlite:
                    # pysqlite runs DDL outside any transaction unless one is open: open it, so a migration
                    # that fails half-way (a refused downgrade) leaves nothing behind.
                    connection.exec_driver_sql("BEGIN")
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,  # SQLite needs table rebuilds to alter
                    compare_type=True,
                )
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():  # pragma: no cover - we only migrate live databases
    raise SystemExit("offline migrations are not supported; run `nxt db upgrade`")
run_migrations_online()
