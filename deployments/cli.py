"""The `nxt` command. Each group lives in `deployments/commands/<group>.py` with its own `app`."""

from __future__ import annotations

import importlib
from importlib.metadata import version as _dist_version
from typing import Annotated

import typer

from deployments.prefect_api import configure_process

configure_process()  # before anything imports Prefect

from deployments.errors import NxtTyper, set_verbose  # noqa: E402

app = NxtTyper(
    name="nxt",
    help="NXT Integrations: keep a WooCommerce store, gateways and messaging in step with your hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's logs, retries and full tracebacks.")
    ] = False,
) -> None:
    """NXT Integrations: keep a WooCommerce store, gateways and messaging in step with your hub."""
    set_verbose(verbose)
    if verbose:
        from deployments.console import show_verbose_logs

        show_verbose_logs()


# Groups: module under deployments.commands, also the group's name.
for _name in (
    "db",
    "blocks",
    "sandbox",
    "sync",
    "conflicts",
    "payments",
    "notify",
    "deployments",
    "webhooks",
):
    app.add_typer(importlib.import_module(f"deployments.commands.{_name}").app, name=_name)

# Top-level commands that are not groups.
for _name in ("demo", "serve", "receiver", "up", "setup"):
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
