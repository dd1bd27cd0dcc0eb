"""Connecting to the hub database.

The embedded default is a SQLite file in the per-user data directory (WAL mode, foreign keys on), so the
project works with no server at all. `NXT_DATABASE_URL` (or the `HubDatabase` block) selects PostgreSQL,
always through psycopg 3. An empty database is migrated to the current schema on first use; a database at
an older revision is left alone with a message to run `nxt db upgrade` (upgrading production is a decision).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import platformdirs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, OperationalError

from hub.errors import HubConfigError

DATABASE_URL_ENV = "NXT_DATABASE_URL"
# The newest migration in hub/migrations/versions (a test keeps it so). A hub already at it skips loading
# Alembic, which costs every `nxt` command about 0.3 s of imports.
SCHEMA_REVISION = "0006"
URL_HELP = "use sqlite:///path/to/hub.db or postgresql://user:password@host:5432/dbname"


def default_database_path() -> Path:
    """Where the embedded SQLite hub lives: the per-user data directory of nxt-integrations."""
    return platformdirs.user_data_path("nxt-integrations") / "hub.db"


def resolve_database_url(url: str | None = None) -> sa.URL:
    """The hub URL to use: `url`, else `NXT_DATABASE_URL`, else the embedded SQLite file.

    Raises:
        HubConfigError: the URL is malformed or names a database we do not support.
    """
    source = "the database URL" if url else DATABASE_URL_ENV
    raw = url or os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{default_database_path()}"
    try:
        parsed = make_url(raw.strip())
    except ArgumentError:
        raise HubConfigError(f"{source} is not a database URL ({_redact(raw)!r}); {URL_HELP}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite")
    if backend in ("postgresql", "postgres"):
        # psycopg 3 is the one PostgreSQL driver we ship; any other driver named in the URL is replaced.
        return parsed.set(drivername="postgresql+psycopg")
    raise HubConfigError(f"{source} names an unsupported database {backend!r} ({_redact(raw)!r}); {URL_HELP}")


def create_hub_engine(
    url: str | sa.URL | None = None,
    *,
    pool_size: int | None = None,
    pool_min: int = 0,
    pool_timeout_s: float = 30.0,
    migrate: bool = True,
) -> Engine:
    """Create an engine for the hub, check that it answers, and migrate it if it is empty.

    Args:
        url: the database URL; defaults to `NXT_DATABASE_URL`, then the embedded SQLite file.
        pool_size: PostgreSQL: the most connections the pool opens (a hard cap; a caller waits up to
            `pool_timeout_s` for a free one). None keeps SQLAlchemy's default (5, plus 10 overflow).
            SQLite ignores the pool settings.
        pool_min: PostgreSQL: connections opened at start and kept open (at most `pool_size`).
        pool_timeout_s: how long a checkout waits for a free connection when all are in use.
        migrate: create the schema when the database is empty (the default).

    Raises:
        HubConfigError: with one line naming the problem and the fix.
    """
    if pool_size is not None and pool_size < 1:
        raise HubConfigError(f"pool_size must be at least 1, not {pool_size}")
    if pool_min < 0 or (pool_size is not None and pool_min > pool_size):
        raise HubConfigError(
            f"pool_min={pool_min} must be between 0 and the pool size {pool_size}; lower the minimum"
        )
    parsed = url if isinstance(url, sa.URL) else resolve_database_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HubConfigError(
                    f"cannot create the folder for the hub database {database}: {exc.strerror}; "
                    f"set {DATABASE_URL_ENV} to a writable path"
                ) from None
        kwargs["connect_args"] = {"timeout": 30}
        pool_min = 0
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_timeout"] = pool_timeout_s
        if pool_size:
            # QueuePool keeps `pool_size` connections once opened; no overflow makes the size a cap.
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = 0
    # orjson: the JSON columns carry whole remote objects, and it is several times faster than json.
    engine = sa.create_engine(parsed, json_serializer=_json_dumps, json_deserializer=orjson.loads, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        _prewarm(engine, pool_min)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise HubConfigError(
            f"cannot reach the hub database {safe_url(parsed)} ({reason}); check {DATABASE_URL_ENV} "
            "and that the server is running"
        ) from None
    if migrate and _stored_revision(engine) != SCHEMA_REVISION:
        from hub.migrate import ensure_schema

        ensure_schema(engine)
    return engine


def _stored_revision(engine: Engine) -> str | None:
    """The revision in Alembic's `alembic_version` table; None when there is none (or no table)."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def _prewarm(engine: Engine, count: int) -> None:
    """Open `count` connections now (all at once, so they are distinct) and return them to the pool."""
    if count <= 1:
        return  # the check above left one open connection in the pool
    opened = [engine.connect() for _ in range(count)]
    for conn in opened:
        conn.close()


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


# Query parameters whose value may be a secret or point at one: password, sslpassword, passfile, sslkey,
# api_key, token, client_secret, ... Masking a harmless one costs nothing; printing a secret does.
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|auth|cred|sig", re.IGNORECASE)
_SECRET_IN_TEXT = re.compile(r"(?i)([?&][^=&#]*(?:pass|pwd|secret|token|key|auth|cred|sig)[^=&#]*=)[^&#]*")


def safe_url(url: sa.URL | str) -> str:
    """The URL with its password and every secret-looking query parameter hidden, for messages and logs."""
    parsed = url if isinstance(url, sa.URL) else make_url(url)
    if parsed.query:
        parsed = parsed.set(
            query={k: ("***" if _SECRET_PARAM.search(k) else v) for k, v in parsed.query.items()}
        )
    # The renderer percent-encodes the mask; show it as written.
    return parsed.render_as_string(hide_password=True).replace("=%2A%2A%2A", "=***")


def _redact(raw: str) -> str:
    try:
        return safe_url(raw)
    except ArgumentError:
        masked = _SECRET_IN_TEXT.sub(r"\1***", raw)
        return masked if "@" not in masked else "***@" + masked.rsplit("@", 1)[1]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@contextmanager
def transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection for a hub function: an engine gets its own transaction, committed on exit; a
    connection is used as it is, inside the caller's transaction (the caller commits)."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
    else:
        yield bind


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A SAVEPOINT inside the caller's transaction: an error rolls back to it, and the caller's
    transaction stays usable (on PostgreSQL a failed statement otherwise aborts the whole transaction).

    SQLite's Python driver opens its transaction lazily, before the first data-changing statement; a
    SAVEPOINT sent first would open one of its own, and releasing it would COMMIT the caller's work
    early. So on SQLite the transaction is opened first, IMMEDIATE (taking the write lock, waiting for
    it under busy_timeout): a deferred one that has read first fails at once with "database is locked"
    when another connection committed in between.
    """
    if conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    with conn.begin_nested():
        yield


# SQLSTATE classes that mean "this row", not "this database": data exceptions (value too long, out of
# range, bad encoding, NUL) and integrity violations (CHECK, NOT NULL, UNIQUE, FOREIGN KEY); 54000 is
# "program limit exceeded", e.g. an index entry too large for a b-tree page.
_ROW_FAULTS = ("22", "23")


def refusal_reason(exc: DBAPIError) -> str | None:
    """Why the database refused a row, as its first line (values and DETAIL lines left out), or None
    when the error is not the row's fault (connection lost, deadlock, schema problem): retry those."""
    if exc.connection_invalidated:
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg; sqlite3 errors have none
    if isinstance(sqlstate, str):
        if not (sqlstate[:2] in _ROW_FAULTS or sqlstate == "54000"):
            return None
    elif not isinstance(exc, DataError | IntegrityError):
        return None
    lines = str(exc.orig).strip().splitlines()
    return (lines[0] if lines else type(exc.orig).__name__)[:500]
