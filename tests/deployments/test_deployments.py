"""The shipped deployments against a real `prefect server start`: `prefect deploy --all` from prefect.yaml,
`nxt serve`, their schedules and concurrency limits, and served runs that really run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from deployments.definitions import DEPLOYMENTS, DeploymentConfigError, deployments, env_key
from deployments.serving import prefect_yaml

ROOT = Path(__file__).resolve().parents[2]
STORE_NAMES = {
    "woocommerce-sync/incremental",
    "woocommerce-sync/nightly-full",
    "woocommerce-sync-records/webhook",
    "reconcile-payments/daily",
}
INGEST_NAMES = {f"ingest-ledger/hourly-{g}" for g in ("stripe", "paypal", "square", "authorizenet")}
OTHER_NAMES = {
    "notification-dispatch/every-minute",
    "notification-status/callbacks",
    "operator-alert/automation",
} | INGEST_NAMES
NAMES = STORE_NAMES | OTHER_NAMES


def _env(api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(PREFECT_API_URL=api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def _prefect(api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=ROOT,
        env=_env(api_url),
        capture_output=True,
        text=True,
        timeout=180,
    )


async def _read_deployments(api_url: str) -> dict[str, Any]:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(api_url) as client:
        found = await client.read_deployments()
        flows = {f.id: f.name for f in await client.read_flows()}
        return {f"{flows[d.flow_id]}/{d.name}": d for d in found}


def test_prefect_yaml_is_generated_from_the_definitions() -> None:
    assert (ROOT / "prefect.yaml").read_text() == prefect_yaml(deployments({}))


def test_ledger_ingestion_is_hourly_one_run_per_gateway() -> None:
    specs = {s.full_name: s for s in deployments({})}
    for gateway in ("stripe", "paypal", "square", "authorizenet"):
        spec = specs[f"ingest-ledger/hourly-{gateway}"]
        assert spec.parameters["gateways"] == [gateway]
        assert spec.cron is not None and spec.cron.split()[1:] == ["*", "*", "*", "*"]
        assert (spec.concurrency, spec.collision) == (1, "CANCEL_NEW")
    override = deployments({"NXT_SCHEDULE_INGEST_LEDGER_HOURLY_PAYPAL": "every:30m"})
    assert {s.full_name: s for s in override}["ingest-ledger/hourly-paypal"].every == timedelta(minutes=30)


def test_overrides_from_the_environment() -> None:
    env = {
        "NXT_SCHEDULE_WOOCOMMERCE_SYNC_INCREMENTAL": "every:10m",
        "NXT_SCHEDULE_WOOCOMMERCE_SYNC_NIGHTLY_FULL": "cron:30 1 * * *",
        "NXT_PARAMETERS_WOOCOMMERCE_SYNC_INCREMENTAL": '{"batch_size": 100}',
        "NXT_STORES": "eu,us",
    }
    specs = {s.full_name: s for s in deployments(env)}
    assert set(specs) == {f"{n}-{store}" for n in STORE_NAMES for store in ("eu", "us")} | OTHER_NAMES
    incremental = specs["woocommerce-sync/incremental-eu"]
    assert incremental.every == timedelta(minutes=10) and incremental.cron is None
    assert incremental.parameters == {
        "sync_type": "full",
        "direction": "pull",
        "store": "eu",
        "if_busy": "skip",
        "batch_size": 100,
    }
    assert specs["woocommerce-sync/nightly-full-us"].cron == "30 1 * * *"
    assert env_key("woocommerce-sync/nightly-full") == "WOOCOMMERCE_SYNC_NIGHTLY_FULL"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("NXT_SCHEDULE_WOOCOMMERCE_SYNC_INCREMENTAL", "sometimes", "use 'cron:<5 fields>'"),
        ("NXT_SCHEDULE_WOOCOMMERCE_SYNC_INCREMENTAL", "cron:* *", "not a 5-field cron"),
        ("NXT_SCHEDULE_WOOCOMMERCE_SYNC_INCREMENTAL", "every:2s", "shorter than 10 seconds"),
        ("NXT_PARAMETERS_WOOCOMMERCE_SYNC_INCREMENTAL", "[1]", "must be a JSON object"),
        ("NXT_STORES", " , ", "NXT_STORES is empty"),
    ],
)
def test_bad_overrides_are_refused_clearly(variable: str, value: str, message: str) -> None:
    with pytest.raises(DeploymentConfigError, match=message):
        deployments({variable: value})


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_prefect_deploy_all(prefect_server: str) -> None:
    created = _prefect(prefect_server, "work-pool", "create", "nxt-process", "--type", "process")
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = _prefect(prefect_server, "--no-prompt", "deploy", "--all")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    found = asyncio.run(_read_deployments(prefect_server))

    assert NAMES <= set(found)
    incremental = found["woocommerce-sync/incremental"]
    assert [s.schedule.interval for s in incremental.schedules] == [timedelta(minutes=5)]
    assert incremental.global_concurrency_limit is not None
    assert incremental.global_concurrency_limit.limit == 1
    assert incremental.concurrency_options.collision_strategy == "CANCEL_NEW"
    assert incremental.work_pool_name == "nxt-process"
    nightly = found["woocommerce-sync/nightly-full"]
    assert [s.schedule.cron for s in nightly.schedules] == ["0 3 * * *"]
    assert nightly.parameters["force"] is True
    assert found["woocommerce-sync-records/webhook"].schedules == []
    daily = found["reconcile-payments/daily"]
    assert [s.schedule.cron for s in daily.schedules] == ["30 4 * * *"]
    assert daily.global_concurrency_limit is not None and daily.global_concurrency_limit.limit == 1
    assert "start" not in daily.parameters, "each run takes the previous day plus the lookback"
    dispatch = found["notification-dispatch/every-minute"]
    assert [s.schedule.interval for s in dispatch.schedules] == [timedelta(minutes=1)]
    assert dispatch.global_concurrency_limit is not None and dispatch.global_concurrency_limit.limit == 1
    assert dispatch.concurrency_options.collision_strategy == "CANCEL_NEW"
    assert str(ROOT) in str(incremental.pull_steps), "workers load the flows from the project folder"


@pytest.fixture
def served(prefect_server: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`nxt serve` in a subprocess (runs start within a second of being scheduled); yields (api, hub url)."""
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.cli", "serve", "--limit", "2"],
        cwd=ROOT,
        # Its own store name, so its deployments are not the ones `prefect deploy --all` made on this server.
        env=_env(
            prefect_server, NXT_DATABASE_URL=hub_url, NXT_STORES="served", PREFECT_RUNNER_POLL_FREQUENCY="1"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:  # the command says what it serves, then serves
            lines.append(line)
            if "Ctrl-C to stop" in line:
                break
        assert process.poll() is None, "".join(lines)
        yield prefect_server, hub_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_nxt_serve_runs_deployments_one_at_a_time(served, sandbox, block) -> None:  # type: ignore[no-untyped-def]
    from prefect.client.orchestration import PrefectClient
    from prefect.deployments import arun_deployment

    api_url, _hub_url = served
    slow = sandbox.set_faults(latency_ms=100)  # a run that lasts long enough to overlap the next one
    assert slow.latency_ms == 100

    async def run_two() -> list[Any]:
        async with PrefectClient(api_url) as client:
            await block.model_copy(update={"batch_size": 5}).asave("served", overwrite=True, client=client)
            served = {f"{name}-served" for name in STORE_NAMES} | OTHER_NAMES
            found = {}
            for _ in range(100):  # serve registers its deployments right after it starts
                found = await _read_deployments(api_url)
                if served <= set(found):
                    break
                await asyncio.sleep(0.1)
            incremental = found["woocommerce-sync/incremental-served"]
            assert [s.schedule.interval for s in incremental.schedules] == [timedelta(minutes=5)]
            assert incremental.parameters["store"] == "served"
            runs = [
                await arun_deployment("woocommerce-sync/incremental-served", timeout=0, client=client)
                for _ in range(2)
            ]
            deadline = time.monotonic() + 120
            while True:
                states = [(await client.read_flow_run(r.id)) for r in runs]
                if all(s.state and s.state.is_final() for s in states):
                    return states
                assert time.monotonic() < deadline, [s.state for s in states]
                await asyncio.sleep(0.5)

    first, second = asyncio.run(run_two())
    names = sorted(s.state.name for s in (first, second))
    assert names == ["Cancelled", "Completed"], "a second incremental run is cancelled while one runs"
    done = first if first.state.name == "Completed" else second
    assert done.name == "woocommerce-sync/served/full"
    assert {"store:served", "sync:full", "woocommerce", "sync"} <= set(done.tags)


def test_definitions_are_what_prefect_yaml_deploys() -> None:
    assert {d.full_name for d in DEPLOYMENTS} == NAMES
