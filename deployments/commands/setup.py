"""`nxt setup`: create the Prefect automations NXT ships (idempotent; see deployments/automations.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from deployments.errors import CommandError


def setup(
    breaks_threshold: Annotated[
        int,
        typer.Option(min=0, help="Alert when a reconciliation finds more breaks than this."),
    ] = 0,
) -> None:
    """Create (or update) the automations that alert the operators: a failed sync, a reconciliation with
    breaks over --breaks-threshold. Running it again changes nothing but what changed.

    Needs a lasting Prefect server (`nxt up`, or PREFECT_API_URL): automations on a temporary one vanish.
    """
    from prefect.settings import PREFECT_API_URL

    from deployments.prefect_api import ensure_api

    if not PREFECT_API_URL.value():
        raise CommandError(
            "nxt setup needs a lasting Prefect server (automations on a temporary one vanish with it): "
            "start `nxt up`, or `uv run prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    ensure_api(typer.echo)
    from deployments.automations import ALERT_DEPLOYMENT
    from deployments.definitions import DEPLOYMENTS
    from deployments.serving import runner_deployments

    # Built here, outside the event loop (Prefect's `to_deployment` is async inside one).
    alert = runner_deployments([s for s in DEPLOYMENTS if s.full_name == ALERT_DEPLOYMENT])[0]
    done, created_deployment = asyncio.run(_setup(alert, breaks_threshold))
    if created_deployment:
        typer.echo(f"created deployment {created_deployment} (served by `nxt serve` / `nxt up`)")
    for name, what in done.items():
        typer.echo(f"{what} automation {name!r}")


async def _setup(alert: Any, threshold: int) -> tuple[dict[str, str], str | None]:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from deployments.automations import ALERT_DEPLOYMENT, apply_automations

    created = None
    async with get_client() as client:
        try:
            deployment: Any = await client.read_deployment_by_name(ALERT_DEPLOYMENT)
            deployment_id = deployment.id
        except ObjectNotFound:
            # Not served or deployed yet: register it now (`nxt serve` or `prefect deploy` keeps its id).
            deployment_id = await alert.apply()
            created = ALERT_DEPLOYMENT
        return await apply_automations(client, deployment_id, threshold=threshold), created
