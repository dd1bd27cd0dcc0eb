"""Turning `deployments.definitions` into Prefect deployments: served from one process (`nxt serve`), or
written out as `prefect.yaml` for `prefect deploy --all` to a process work pool."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import yaml

from deployments.definitions import DEFAULT_LIMIT, Deployment

__all__ = ["WORK_POOL", "prefect_yaml", "runner_deployments", "serve_all"]

WORK_POOL = "nxt-process"
YAML_HEADER = """\
# Prefect deployments of NXT Integrations, for `prefect deploy --all` (to the process work pool below).
# Generated from deployments/definitions.py by `nxt deployments yaml > prefect.yaml`; a test keeps the two
# equal. `nxt serve` serves the same deployments from one process without a work pool.
"""


def _schedules(spec: Deployment) -> list[dict[str, Any]]:
    if spec.cron:
        return [{"cron": spec.cron, "timezone": "UTC"}]
    if spec.every:
        return [{"interval": int(spec.every.total_seconds())}]
    return []


def _load_flow(entrypoint: str) -> Any:
    path, _, name = entrypoint.partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def runner_deployments(specs: Sequence[Deployment]) -> list[Any]:
    """`RunnerDeployment`s for `prefect.serve`, one per spec."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    out = []
    for spec in specs:
        flow = _load_flow(spec.entrypoint)
        schedule: dict[str, Any] = {}
        if spec.cron:
            schedule["cron"] = spec.cron
        elif spec.every:
            schedule["interval"] = spec.every
        out.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description,
                parameters=dict(spec.parameters),
                tags=list(spec.tags),
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=spec.concurrency, collision_strategy=ConcurrencyLimitStrategy(spec.collision)
                ),
                **schedule,
            )
        )
    return out


def serve_all(specs: Sequence[Deployment], *, limit: int = DEFAULT_LIMIT) -> None:
    """Serve `specs` from this process until interrupted (each run in its own subprocess, at most
    `limit` at once). Deployments stay active on shutdown, so a restarted `nxt serve` picks them up."""
    from prefect import serve

    serve(*runner_deployments(specs), limit=limit, pause_on_shutdown=False, print_starting_message=False)


def prefect_yaml(specs: Sequence[Deployment]) -> str:
    """The text of `prefect.yaml` for `specs`."""
    from importlib.metadata import version

    deployments = []
    for spec in specs:
        deployments.append(
            {
                "name": spec.name,
                "entrypoint": spec.entrypoint,
                "description": spec.description,
                "parameters": dict(spec.parameters),
                "schedules": _schedules(spec),
                "concurrency_limit": {"limit": spec.concurrency, "collision_strategy": spec.collision},
                "tags": list(spec.tags),
                "work_pool": {"name": WORK_POOL, "work_queue_name": None, "job_variables": {}},
            }
        )
    document = {
        "name": "nxt-integrations",
        "prefect-version": version("prefect"),
        "deployments": deployments,
    }
    return YAML_HEADER + str(yaml.safe_dump(document, sort_keys=False, width=110))
