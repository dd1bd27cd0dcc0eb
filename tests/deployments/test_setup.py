"""`nxt setup` against a real `prefect server start`: the shipped automations exist once however often it
runs, and the events the flows emit really start the operator-alert deployment with rendered parameters."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.automations import ALERT_DEPLOYMENT, AUTOMATIONS

ROOT = Path(__file__).resolve().parents[2]


def _setup(api_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(PREFECT_API_URL=api_url, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return subprocess.run(
        [sys.executable, "-m", "deployments.cli", "setup", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _emit(api_url: str, event: str, resource: dict[str, str], payload: dict[str, Any]) -> None:
    body = [
        {
            "id": str(uuid.uuid4()),
            "occurred": datetime.now(UTC).isoformat(),
            "event": event,
            "resource": resource,
            "payload": payload,
        }
    ]
    assert httpx.post(f"{api_url}/events", json=body, timeout=10).status_code < 300


async def _runs_of(api_url: str, deployment_id: Any) -> list[Any]:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    async with PrefectClient(api_url) as client:
        return list(
            await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
        )


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_setup_creates_the_automations_once_and_they_start_alerts(prefect_server: str) -> None:
    from prefect.client.orchestration import PrefectClient

    first = _setup(prefect_server, "--breaks-threshold", "3")
    assert first.returncode == 0, first.stderr
    second = _setup(prefect_server, "--breaks-threshold", "3")
    assert second.returncode == 0, second.stderr
    for spec in AUTOMATIONS:
        assert f"automation {spec.name!r}" in first.stdout
        assert f"updated automation {spec.name!r}" in second.stdout

    async def read() -> tuple[Any, list[Any]]:
        async with PrefectClient(prefect_server) as client:
            deployment = await client.read_deployment_by_name(ALERT_DEPLOYMENT)
            found = [a for a in await client.read_automations() if a.name.startswith("nxt: ")]
            return deployment, found

    deployment, found = asyncio.run(read())
    assert sorted(a.name for a in found) == sorted(s.name for s in AUTOMATIONS), "no duplicates"
    for item in found:
        (action,) = item.actions
        assert action.type == "run-deployment" and action.deployment_id == deployment.id
    breaks = next(a for a in found if "reconciliation" in a.name)
    assert breaks.actions[0].parameters["threshold"] == 3

    store = f"shop-{uuid.uuid4().hex[:6]}"
    _emit(
        prefect_server,
        "nxt.woocommerce.sync.failed",
        {"prefect.resource.id": f"nxt.woocommerce.store.{store}", "prefect.resource.name": store},
        {"error": "could not connect to WooCommerce", "store": store},
    )
    gateways = f"stripe+{store}"
    _emit(
        prefect_server,
        "nxt.payments.reconciliation.completed",
        {"prefect.resource.id": f"nxt.payments.gateways.{gateways}", "prefect.resource.name": gateways},
        {"break_count": 5, "pending_count": 1, "window": "2026-11-29"},
    )
    deadline = time.monotonic() + 60
    while True:
        runs = [
            r
            for r in asyncio.run(_runs_of(prefect_server, deployment.id))
            if store in str(r.parameters.get("subject"))
        ]
        if len(runs) >= 2:
            break
        assert time.monotonic() < deadline, "the automations did not start the alert deployment"
        time.sleep(0.5)
    by_source = {r.parameters["source"]: r.parameters for r in runs}
    failed = by_source["woocommerce-sync"]
    assert failed["subject"] == f"WooCommerce sync of {store} failed"
    assert failed["message"] == "could not connect to WooCommerce"
    assert failed["key"].startswith(f"woocommerce-sync-failed:{store}:20")
    recon = by_source["payment-reconciliation"]
    assert recon["subject"] == f"Reconciliation of {gateways}: 5 breaks"
    assert recon["breaks"] == 5 and recon["threshold"] == 3, "a single expression keeps its type"


def test_setup_needs_a_lasting_server(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(XDG_STATE_HOME=str(tmp_path), PREFECT_HOME=str(tmp_path / "ph"))
    result = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: nxt setup needs a lasting Prefect server")


def test_the_alert_flow_skips_breaks_under_the_threshold() -> None:
    from flows.notification_dispatch import send_operator_alert

    result = asyncio.run(
        send_operator_alert.fn(subject="s", message="m", key="k", breaks=3, threshold=3, settings="nowhere")
    )
    assert result == {"skipped": "3 breaks, not over the threshold 3"}
