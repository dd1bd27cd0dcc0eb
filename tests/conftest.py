"""Shared fixtures.

- `prefect_harness`: ONE session-scoped Prefect test server for the whole run (harnesses must never nest).
  Test folders that need Prefect (blocks, flows) request it from an autouse fixture in their conftest.
- `hub_url`: a fresh, empty hub database per test, on SQLite and (when NXT_TEST_POSTGRES_URL is set)
  on PostgreSQL: tests that take it run once per backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

POSTGRES_URL = os.environ.get("NXT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


def _fresh_postgres_database(base_url: str) -> tuple[str, str]:
    """Create an empty database on the server of `base_url`; return (url, name)."""
    import sqlalchemy as sa

    name = f"nxt_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def hub_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of a fresh, empty hub database (one per test and backend)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    assert POSTGRES_URL
    url, name = _fresh_postgres_database(POSTGRES_URL)
    try:
        yield url
    finally:
        _drop_postgres_database(POSTGRES_URL, name)
