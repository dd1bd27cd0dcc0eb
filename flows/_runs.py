"""What every NXT flow does around its work, the same way: tags, client logs, a finishing event.

- `label_run(tags)` adds tags (e.g. `store:default`, `sync:full`) to the running flow run, so the UI filters
  runs by store, gateway or kind however the run was started (deployment, Python, CLI).
- `capture_client_logs()` sends the `nxt.*` loggers (clients' retries, rate-limit waits, the circuit breaker)
  to the run's logs in the Prefect UI while a run is active, and nowhere else.
- `emit_finished(...)` emits one Prefect event per finished run (`nxt.<area>.<what>.completed|failed`)
  about the resource it concerns, so users can hang automations on it.

No business logic here: flows call these around the tasks they orchestrate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext, get_run_context
from prefect.events import emit_event
from prefect.exceptions import MissingContextError
from prefect.logging.handlers import APILogHandler

__all__ = ["RunFailed", "capture_client_logs", "emit_finished", "label_run", "resource_id"]

CLIENT_LOGGER = "nxt"


class RunFailed(RuntimeError):
    """A flow run that failed for a known reason (store down, bad keys, ...): the message is one line."""


async def label_run(tags: Iterable[str]) -> None:
    """Add `tags` to the current flow run (no-op outside a flow run)."""
    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return
    wanted = list(dict.fromkeys([*(ctx.flow_run.tags or []), *tags]))
    if wanted == list(ctx.flow_run.tags or []):
        return
    async with get_client() as client:
        await client.update_flow_run(ctx.flow_run.id, tags=wanted)
    ctx.flow_run.tags = wanted


class _RunLogHandler(APILogHandler):
    """Prefect's API log handler that quietly ignores records logged outside any flow or task run."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            get_run_context()
        except MissingContextError:
            return
        super().emit(record)


def capture_client_logs(level: int = logging.INFO) -> None:
    """Send `nxt.*` log records to the active run's logs (idempotent)."""
    logger = logging.getLogger(CLIENT_LOGGER)
    if not any(isinstance(h, _RunLogHandler) for h in logger.handlers):
        logger.addHandler(_RunLogHandler())
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)


def resource_id(kind: str, name: str) -> str:
    """The Prefect resource id NXT uses for a store, gateway or provider: `nxt.<kind>.<name>`."""
    return f"nxt.{kind}.{name}"


def emit_finished(
    event: str,
    *,
    kind: str,
    name: str,
    ok: bool,
    payload: Mapping[str, Any],
    related: Iterable[tuple[str, str]] = (),
) -> None:
    """Emit `<event>.completed` or `<event>.failed` about resource `nxt.<kind>.<name>`.

    `related` pairs (role, resource id) name other resources (e.g. the hub). The flow run itself is added
    by Prefect as a related resource.
    """
    emit_event(
        f"{event}.{'completed' if ok else 'failed'}",
        resource={"prefect.resource.id": resource_id(kind, name), "prefect.resource.name": name},
        related=[{"prefect.resource.id": rid, "prefect.resource.role": role} for role, rid in related],
        payload=dict(payload),
    )
