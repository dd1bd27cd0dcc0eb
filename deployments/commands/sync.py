"""`nxt sync`: run a sync flow from the shell and print its summary."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from deployments.errors import NxtTyper

app = NxtTyper(help="Run sync flows now (as Prefect flow runs) and print their summaries.")


class SyncType(StrEnum):
    full = "full"
    products = "products"
    customers = "customers"
    orders = "orders"


class Direction(StrEnum):
    pull = "pull"
    push = "push"
    bidirectional = "bidirectional"


@app.command()
def woocommerce(
    sync_type: Annotated[SyncType, typer.Option("--type", help="What to sync.")] = SyncType.full,
    direction: Annotated[Direction, typer.Option(help="Which way data moves.")] = Direction.pull,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, max=100, help="Records per page and push batch (default: the block's)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore cursors and re-read everything.")] = False,
    store: Annotated[str, typer.Option(help="WooCommerce Store block name.")] = "default",
    hub: Annotated[
        str | None,
        typer.Option(help="Hub Database or SqlAlchemy Connector block name (default: NXT_DATABASE_URL)."),
    ] = None,
    skip_if_busy: Annotated[
        bool,
        typer.Option("--skip-if-busy", help="Do nothing if another sync of the store runs (else wait)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON line.")] = False,
) -> None:
    """Sync a WooCommerce store with the hub and print the run's summary."""
    from deployments.console import progress
    from deployments.prefect_api import ensure_api
    from flows.woocommerce_sync import woocommerce_sync

    ensure_api(lambda line: typer.echo(line, err=True))
    with progress("sync"):
        summary = asyncio.run(
            woocommerce_sync(
                sync_type=sync_type.value,
                direction=direction.value,
                batch_size=batch_size,
                force=force,
                store=store,
                hub=hub,
                if_busy="skip" if skip_if_busy else "wait",
            )
        )
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    print_summary(summary)


def print_summary(summary: dict[str, Any]) -> None:
    """`sync #12 full/pull of default: completed in 3.2s` and the non-zero counts."""
    if summary["status"] == "skipped":
        typer.echo(f"sync of {summary['store']}: skipped, another sync of this store is running")
        return
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items() if v) or "nothing to do"
    typer.echo(
        f"sync #{summary['id']} {summary['sync_type']}/{summary['direction']} of {summary['store']}: "
        f"{summary['status']} in {summary['duration_ms'] / 1000:.1f}s ({counts})"
    )
