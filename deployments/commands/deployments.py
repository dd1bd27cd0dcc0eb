"""`nxt deployments`: list the deployments NXT ships, and print them as prefect.yaml."""

from __future__ import annotations

import typer

from deployments.errors import CommandError, NxtTyper

app = NxtTyper(help="The deployments NXT ships (schedules, parameters, concurrency).", no_args_is_help=True)


def _specs() -> list:  # type: ignore[type-arg]
    from deployments.definitions import DeploymentConfigError, deployments

    try:
        return deployments()
    except DeploymentConfigError as exc:
        raise CommandError(str(exc)) from None


@app.command("list")
def list_() -> None:
    """List each deployment with its schedule, parameters and concurrency (overrides applied)."""
    from deployments.console import table

    rows = []
    for spec in _specs():
        schedule = spec.cron or (f"every {int(spec.every.total_seconds())}s" if spec.every else "-")
        rows.append(
            (
                spec.full_name,
                schedule,
                f"{spec.concurrency} ({spec.collision.lower()})",
                ", ".join(f"{k}={v}" for k, v in spec.parameters.items()),
            )
        )
    table("deployments", ["deployment", "schedule", "at once", "parameters"], rows)


@app.command()
def yaml() -> None:
    """Print prefect.yaml for `prefect deploy --all` (the file at the project root is this output)."""
    from deployments.serving import prefect_yaml

    typer.echo(prefect_yaml(_specs()), nl=False)
