"""Scaling out on this machine, as docs/scaling.md describes it for several: a real `prefect server start`
on PostgreSQL, one process work pool, `prefect deploy --all`, TWO `prefect worker start` processes, the hub
on PostgreSQL, a WooCommerce webhook to the receiver that starts a run a worker picks up, and a global
concurrency limit the two workers share.

Runs when NXT_TEST_POSTGRES_URL is set (CI sets it when PostgreSQL answers)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from deployments.processes import Child, stop_all

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("NXT_TEST_POSTGRES_URL")
POOL = "nxt-process"
LIMIT = "nxt-scaling-probe"

pytestmark = [
    pytest.mark.slow,  # ~1-3 minutes: CI runs it in its `-m slow` step, on PostgreSQL
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL (NXT_TEST_POSTGRES_URL)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin() -> sa.Engine:
    assert POSTGRES_URL
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases: Prefect's (with pg_trgm) and the hub's; yields their URLs."""
    names = [f"nxt_scale_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("prefect", "hub")]
    admin = _admin()
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    prefect_db = _admin().url.set(database=names[0])
    trgm = sa.create_engine(prefect_db, isolation_level="AUTOCOMMIT")
    with trgm.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))  # Prefect's server needs it
    trgm.dispose()
    base = sa.make_url(POSTGRES_URL or "")
    prefect_url = base.set(drivername="postgresql+asyncpg", database=names[0])
    hub_url = base.set(drivername="postgresql+psycopg", database=names[1])
    try:
        yield (
            prefect_url.render_as_string(hide_password=False),
            hub_url.render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    return env


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


async def _wait_final(api_url: str, run_ids: list[Any], timeout_s: float = 180) -> list[Any]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        deadline = time.monotonic() + timeout_s
        while True:
            runs = [await client.read_flow_run(i) for i in run_ids]
            if all(r.state and r.state.is_final() for r in runs):
                return runs
            assert time.monotonic() < deadline, [(r.name, r.state) for r in runs]
            await asyncio.sleep(0.5)


def test_two_workers_on_postgres_share_a_limit_and_take_webhook_runs(
    databases: tuple[str, str], sandbox: Any, tmp_path: Path
) -> None:
    from prefect.client.orchestration import PrefectClient
    from prefect.deployments import arun_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    prefect_db, hub_url = databases
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    logs = tmp_path / "logs"
    children: list[Child] = []
    env = _base_env(tmp_path)
    try:
        server_env = {
            **env,
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db,
            "PREFECT_UI_ENABLED": "false",
        }
        server = Child(
            "prefect server",
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            server_env,
            logs / "server.log",
        )
        children.append(server)
        server.start()
        server.wait_until(lambda: _healthy(f"{api_url}/health"), 180, "answering")

        client_env = {**env, "PREFECT_API_URL": api_url, "NXT_DATABASE_URL": hub_url}
        _prefect(client_env, "work-pool", "create", POOL, "--type", "process")
        _prefect(client_env, "gcl", "create", LIMIT, "--limit", "1")
        _prefect(client_env, "--no-prompt", "deploy", "--all")
        _prefect(
            client_env,
            "--no-prompt",
            "deploy",
            "tests/support/scaling_probe.py:probe",
            "--name",
            "probe",
            "--pool",
            POOL,
        )

        # The store's block, pointing at the sandbox, with the webhook secret the receiver verifies.
        creds = sandbox.credentials["woocommerce"]
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            from blocks import WooCommerceStore

            WooCommerceStore(
                site_url=sandbox.urls["woocommerce"],
                consumer_key=creds["consumer_key"],
                consumer_secret=creds["consumer_secret"],
                webhook_secret=creds["webhook_secret"],
                retry_delay_ms=50,
                rate_limit_rpm=60_000,
            ).save("default", overwrite=True)

        worker_env = {
            **client_env,
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_WORKER_PREFETCH_SECONDS": "0",
        }
        workers = []
        for name in ("worker-a", "worker-b"):
            worker = Child(
                name,
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "worker",
                    "start",
                    "--pool",
                    POOL,
                    "--name",
                    name,
                    "--limit",
                    "1",
                ],
                worker_env,
                logs / f"{name}.log",
            )
            children.append(worker)
            worker.start()
            workers.append(worker)

        receiver_port = _free_port()
        receiver = Child(
            "receiver",
            [sys.executable, "-m", "deployments.cli", "receiver", "--port", str(receiver_port)],
            {**client_env, "NXT_RECEIVER_DISPATCH_POLL_S": "0.5"},
            logs / "receiver.log",
        )
        children.append(receiver)
        receiver.start()
        receiver.wait_until(lambda: _healthy(f"http://127.0.0.1:{receiver_port}/healthz"), 120, "answering")

        # 1. Two workers, one global concurrency limit: both probes run at once (one per worker), and
        #    their critical sections never overlap.
        markers = tmp_path / "markers"
        markers.mkdir()

        async def start_probes() -> list[Any]:
            async with PrefectClient(api_url) as client:
                return [
                    (
                        await arun_deployment(
                            "scaling-probe/probe",
                            parameters={"marker_dir": str(markers), "name": f"p{i}"},
                            timeout=0,
                            client=client,
                        )
                    ).id
                    for i in range(2)
                ]

        probes = asyncio.run(_wait_final(api_url, asyncio.run(start_probes())))
        assert [r.state.name for r in probes] == ["Completed", "Completed"], [r.state for r in probes]
        results = [json.loads((markers / f"p{i}.json").read_text()) for i in range(2)]
        assert {r["worker_pid"] for r in results} == {w.pid for w in workers}, "one run on each worker"
        first, second = sorted(results, key=lambda r: r["start"])
        assert first["end"] <= second["start"], "the limit's one slot was held by one run at a time"
        assert all(r.work_pool_name == POOL for r in probes)

        # 2. A webhook: the sandbox store sends order.updated to the receiver, which starts the
        #    woocommerce-sync-records/webhook deployment; a worker runs it into the hub on PostgreSQL.
        from woocommerce import API

        api = API(
            url=sandbox.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            version="wc/v3",
            timeout=30,
        )
        hook = {
            "topic": "order.updated",
            "delivery_url": f"http://127.0.0.1:{receiver_port}/api/webhooks/woocommerce",
        }
        assert api.post("webhooks", hook).status_code == 201
        order = sandbox.call(sandbox.woocommerce.ids, "order")[0]
        note = f"scaled {uuid.uuid4().hex[:6]}"
        sandbox.call(sandbox.woocommerce.update, "order", order, {"customer_note": note})
        sandbox.flush_webhooks()

        async def webhook_runs() -> list[Any]:
            async with PrefectClient(api_url) as client:
                deployment = await client.read_deployment_by_name("woocommerce-sync-records/webhook")
                from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

                deadline = time.monotonic() + 120
                while True:
                    runs = await client.read_flow_runs(
                        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
                    )
                    if runs:
                        return [r.id for r in runs]
                    assert time.monotonic() < deadline, receiver.log_text()[-2000:]
                    await asyncio.sleep(0.5)

        (run,) = asyncio.run(_wait_final(api_url, asyncio.run(webhook_runs())))
        assert run.state.name == "Completed", run.state
        assert run.work_pool_name == POOL, "a worker of the pool ran it"
        hub = sa.create_engine(hub_url)
        with hub.connect() as conn:
            data = conn.execute(
                sa.text("SELECT data FROM orders WHERE remote_id = :i"), {"i": order}
            ).scalar_one()
        hub.dispose()
        data = data if isinstance(data, dict) else json.loads(data)
        assert data["customer_note"] == note
    finally:
        stop_all(children)
