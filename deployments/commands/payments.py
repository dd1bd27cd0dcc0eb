"""`nxt payments`: the payment gateways from the shell. `reconcile` runs the reconciliation flow now and
prints its breaks (ledger ingestion, payments and refunds join this group with issue 10's part B)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from deployments.errors import NxtTyper

app = NxtTyper(
    help="Payment gateways: reconcile the ledger against the store's orders.", no_args_is_help=True
)


@app.command()
def reconcile(
    start: Annotated[
        str | None,
        typer.Option(
            help="Window start, UTC (2026-01-01 or an ISO time). With --end; both omitted: yesterday."
        ),
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Window end, exclusive (at most 366 days after --start).")
    ] = None,
    gateway: Annotated[
        list[str] | None,
        typer.Option(
            "--gateway", "-g", help="stripe, paypal, square or authorizenet; repeat it; default: all."
        ),
    ] = None,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write the breaks and pending items here.")
    ] = None,
    store: Annotated[
        str, typer.Option(help="WooCommerce Store block whose orders are the other side.")
    ] = "default",
    hub: Annotated[
        str | None,
        typer.Option(help="Hub Database or SqlAlchemy Connector block name (default: NXT_DATABASE_URL)."),
    ] = None,
    lookback_days: Annotated[
        int, typer.Option(min=0, max=365, help="Without --start/--end: days before yesterday also covered.")
    ] = 2,
    alert_threshold: Annotated[
        int, typer.Option(min=0, help="Alert operators when the breaks exceed this many.")
    ] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run's summary as one JSON line.")
    ] = False,
) -> None:
    """Reconcile the gateways' ledger against the store's orders and print the breaks."""
    from deployments.prefect_api import ensure_api
    from flows.payment_reconciliation import reconciliation_window
    from hub.reconciliation import check_gateways

    # Bad input is refused before a Prefect server is started for nothing.
    window = reconciliation_window(start, end, lookback_days)
    check_gateways(gateway or None)
    ensure_api(lambda line: typer.echo(line, err=True))

    from flows.payment_reconciliation import reconcile_payments

    summary = asyncio.run(
        reconcile_payments(
            start=window.start,
            end=window.end,
            gateways=gateway or None,
            store=store,
            hub=hub,
            lookback_days=lookback_days,
            alert_threshold=alert_threshold,
            csv_path=str(csv) if csv else None,
        )
    )
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    print_breaks(summary)


def print_breaks(summary: dict[str, Any]) -> None:
    """The break table, then one line of totals (and the CSV file, when written)."""
    from deployments.console import table

    rows = summary["break_rows"]
    if rows:
        table(
            f"breaks of {summary['gateways']}, {summary['window']}",
            ["category", "gateway", "order", "gateway id", "expected", "actual", "since"],
            [
                (
                    r["category"],
                    r["gateway"],
                    r["order"],
                    r["gateway_id"],
                    r["expected"],
                    r["actual"],
                    r["since"],
                )
                for r in rows
            ],
        )
    more = summary["break_count"] - len(rows)
    typer.echo(
        f"reconciliation of {summary['gateways']} for {summary['window']}: {summary['break_count']} breaks"
        + (f" ({more} more in the CSV or the hub)" if more > 0 else "")
        + f", {summary['pending_count']} pending, {summary['auto_resolved']} resolved"
        + (
            f"; {summary['csv_rows']} rows written to {summary['csv_path']}"
            if summary.get("csv_path")
            else ""
        )
        + ("; operators alerted" if summary.get("alerted") else "")
    )
