"""The `nxt` command. Each group lives in `deployments/commands/<group>.py` with its own `app`."""

from __future__ import annotations

import importlib
import os
from importlib.metadata import version as _dist_version

import typer

# The temporary Prefect server that commands start when no PREFECT_API_URL is set would otherwise log a
# "Failed to send telemetry" error on every start on machines without internet. An explicit setting wins.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    name="nxt",
    help="NXT Integrations: keep a WooCommerce store, gateways and messaging in step with your hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """NXT Integrations: keep a WooCommerce store, gateways and messaging in step with your hub."""


# (module under deployments.commands, group name); a module that is not written yet is skipped.
_GROUPS = ["db", "blocks", "sandbox", "sync", "conflicts"]
for _name in _GROUPS:
    try:
        _module = importlib.import_module(f"deployments.commands.{_name}")
    except ModuleNotFoundError as exc:  # only a group that does not exist yet is skipped
        if exc.name != f"deployments.commands.{_name}":
            raise
        continue
    app.add_typer(_module.app, name=_name)


# Top-level commands that are not groups.
for _name in ("demo",):
    _module = importlib.import_module(f"deployments.commands.{_name}")
    app.command(name=_name)(getattr(_module, _name))


@app.command()
def version() -> None:
    """Print the installed version of NXT Integrations and of Prefect."""
    typer.echo(f"nxt-integrations {_dist_version('nxt-integrations')} (prefect {_dist_version('prefect')})")


def main() -> None:  # pragma: no cover - console entry for `python -m deployments.cli`
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
