"""`nxt serve`: serve every NXT deployment (schedules, webhook-triggered runs) from this process."""

from __future__ import annotations

from typing import Annotated

import typer

from deployments.definitions import DEFAULT_LIMIT
from deployments.errors import CommandError


def serve(
    limit: Annotated[
        int,
        typer.Option(min=1, help="Flow runs at once (each in its own process); Prefect's default has none."),
    ] = DEFAULT_LIMIT,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Serve only deployments whose full name starts with this (repeatable)."),
    ] = None,
) -> None:
    """Serve the deployments of deployments/definitions.py until Ctrl-C.

    Needs a lasting Prefect server (schedules do not run on a temporary one): `nxt up`, or
    `prefect server start` with PREFECT_API_URL set.
    """
    from prefect.settings import PREFECT_API_URL

    from deployments.definitions import DeploymentConfigError, deployments
    from deployments.prefect_api import ensure_api
    from deployments.serving import serve_all

    if not PREFECT_API_URL.value():
        raise CommandError(
            "nxt serve needs a lasting Prefect server, since a temporary one runs no schedules: start one "
            "with `nxt up` (which also serves), or `uv run prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    ensure_api(typer.echo)
    try:
        specs = deployments()
    except DeploymentConfigError as exc:
        raise CommandError(str(exc)) from None
    if only:
        specs = [s for s in specs if any(s.full_name.startswith(prefix) for prefix in only)]
        if not specs:
            raise CommandError(f"--only {' '.join(only)} matches no deployment; see `nxt deployments list`")
    for spec in specs:
        typer.echo(f"serving {spec.full_name}")
    typer.echo(f"at most {limit} flow runs at once; Ctrl-C to stop")
    serve_all(specs, limit=limit)
