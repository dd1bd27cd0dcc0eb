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
from typing import Any

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

POSTGRES_URL = os.environ.get("NXT_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
# Where every hub test also runs on PostgreSQL: the hub's own tests (SQL, locks, claims, migrations) and
# the blocks that open it. Elsewhere (flows, receiver, CLI) the PostgreSQL run of a test is kept when the
# test is marked `postgres` (database behaviour through a whole flow), or for every test with
# NXT_TEST_ALL_POSTGRES=1: a flow's SQL is the hub's, already covered on both.
PG_EVERYWHERE = ("tests/hub/", "tests/blocks/")
ALL_POSTGRES = os.environ.get("NXT_TEST_ALL_POSTGRES") == "1"


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`), every test of the real `prefect_server` runs in one worker,
    so the session starts that server once, not once per worker. PostgreSQL runs outside PG_EVERYWHERE are
    kept only for tests marked `postgres` (see PG_EVERYWHERE)."""
    kept, dropped = [], []
    for item in items:
        if "prefect_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("prefect_server"))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("hub_url") == "postgresql"
        wanted = ALL_POSTGRES or item.nodeid.startswith(PG_EVERYWHERE) or item.get_closest_marker("postgres")
        (dropped if on_postgres and not wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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


SANDBOX_SIZES = {"products": 40, "customers": 25, "orders": 60}


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A small sandbox store (seed 11) for one test."""
    from sandbox.server import run_sandbox

    with run_sandbox(seed=11, **SANDBOX_SIZES) as sb:
        yield sb


@pytest.fixture
def block(sandbox: Any) -> Any:
    """A `WooCommerce Store` block aimed at `sandbox` (not saved)."""
    from blocks import WooCommerceStore

    creds = sandbox.credentials["woocommerce"]
    return WooCommerceStore(
        site_url=sandbox.urls["woocommerce"],
        consumer_key=creds["consumer_key"],
        consumer_secret=creds["consumer_secret"],
        batch_size=10,  # several pages per resource even in a small store
        max_concurrency=3,
        retry_delay_ms=50,
        rate_limit_rpm=60_000,
    )


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


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` (its own PREFECT_HOME and SQLite database) for the whole session.

    Yields its API URL. For what the test harness cannot show: schedules, deployments, served runs.
    """
    import socket
    import subprocess
    import sys
    import time

    import httpx

    home = tmp_path_factory.mktemp("prefect-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    log = open(home / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                tail = (home / "server.log").read_text()[-2000:]
                raise RuntimeError(f"prefect server did not start: {tail}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
