"""`nxt payments`: the payment gateways from the shell.

`ingest` reads the gateways' ledgers into the hub, `reconcile` runs the reconciliation flow and prints its
breaks, `status` prints the payment statistics, `process` and `refund` take a payment and refund one
through the payment flows. Bad input is one `error:` line (exit 2) before any Prefect server is started.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from deployments.errors import NxtTyper

app = NxtTyper(
    help="Payment gateways: ingest the ledger, reconcile it against the store's orders, take payments.",
    no_args_is_help=True,
)

GatewayOption = Annotated[
    list[str] | None,
    typer.Option("--gateway", "-g", help="stripe, paypal, square or authorizenet; repeat it; default: all."),
]
HubOption = Annotated[str | None, typer.Option(help="Hub Database block name (default: NXT_DATABASE_URL).")]
BlockOption = Annotated[str, typer.Option("--block", help="Name of the gateway blocks.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON line.")]


def _metadata(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            from deployments.errors import fail

            fail(f"--metadata {pair!r}: give key=value, e.g. --metadata orderId=123")
        out[key.strip()] = value.strip()
    return out


@app.command()
def ingest(
    gateway: GatewayOption = None,
    since: Annotated[
        str | None,
        typer.Option(help="Re-read from this UTC date or ISO time instead of from the cursors."),
    ] = None,
    block: BlockOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read the gateways' charges, refunds, disputes and payouts into the hub's ledger."""
    from deployments.prefect_api import ensure_api
    from flows.ledger_ingestion import check_gateways, parse_since

    wanted = check_gateways(gateway or None)
    start = parse_since(since)
    ensure_api(lambda line: typer.echo(line, err=True))

    from flows.ledger_ingestion import ingest_ledger

    summary = asyncio.run(
        ingest_ledger(gateways=wanted if gateway else None, since=start, hub=hub, block=block)
    )
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    for name, result in summary["gateways"].items():
        read = result["read"]
        typer.echo(
            f"{name}: {result['windows']} windows from {result['start'][:19]}: "
            f"{read.get('charges', 0)} charges, "
            f"{read.get('refunds', 0)} refunds, {read.get('disputes', 0)} disputes, {read.get('payouts', 0)} "
            f"payouts, {read.get('entries', 0)} entries"
            + (f"; {len(result['unreadable'])} unreadable" if result["unreadable"] else "")
        )
        for item in result["unreadable"]:
            typer.echo(f"  unreadable: {item['resource']} ({item['status']}): {item['message']}")


@app.command()
def status(hub: HubOption = None, as_json: JsonOption = False) -> None:
    """Payment statistics from the hub's ledger (what GET /api/integrations/payments/status answers)."""
    from hub.db import create_hub_engine
    from hub.payments import payment_status

    if hub:
        from blocks import HubDatabase, load_block

        engine = create_hub_engine(**load_block(HubDatabase, hub).engine_options())
    else:
        engine = create_hub_engine()
    with engine.connect() as conn:
        data = payment_status(conn)
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    cur = data["currency"] or ""
    typer.echo(
        f"{data['totalPayments']} payments: {data['successfulPayments']} succeeded, {data['failedPayments']} "
        f"failed; volume {data['totalVolume']:.2f} {cur}, average {data['averageAmount']:.2f} {cur}"
    )
    for name, entry in data["byGateway"].items():
        typer.echo(f"  {name}: {entry['count']} payments, {entry['volume']:.2f} {cur}")


@app.command()
def process(
    gateway: Annotated[str, typer.Option("--gateway", "-g", help="stripe or square.")],
    amount: Annotated[str, typer.Option(help="Major units of the currency, e.g. 99.99.")],
    payment_method: Annotated[
        str, typer.Option("--payment-method", help="Stripe pm_… or a Square source id.")
    ],
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    customer: Annotated[str | None, typer.Option(help="The gateway's customer id.")] = None,
    description: Annotated[str | None, typer.Option(help="Shown at the gateway.")] = None,
    metadata: Annotated[
        list[str] | None, typer.Option("--metadata", "-m", help="key=value; repeat it (orderId=123).")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Default: derived from metadata orderId, else the request.")
    ] = None,
    block: BlockOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take a payment (the process-payment flow); a repeat with the same order or key pays once."""
    from deployments.prefect_api import ensure_api
    from hub.payments import check_payment

    meta = _metadata(metadata)
    check_payment(gateway, amount, currency)  # refused before a Prefect server is started for nothing
    ensure_api(lambda line: typer.echo(line, err=True))

    from flows.payments import process_payment

    data = asyncio.run(
        process_payment(
            gateway=gateway,
            amount=amount,
            currency=currency,
            customer_id=customer,
            payment_method_id=payment_method,
            description=description,
            metadata=meta,
            idempotency_key=idempotency_key,
            hub=hub,
            block=block,
        )
    )
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    typer.echo(
        f"{data['gateway']} payment {data['transactionId']} {data['status']}: "
        f"{data['amount']} {data['currency']}"
    )


@app.command()
def refund(
    transaction_id: Annotated[
        str, typer.Argument(help="The payment: Stripe ch_/pi_, PayPal capture, Square.")
    ],
    amount: Annotated[str | None, typer.Option(help="Major units; default: what remains.")] = None,
    reason: Annotated[str | None, typer.Option(help="The refund's reason.")] = None,
    metadata: Annotated[
        list[str] | None, typer.Option("--metadata", "-m", help="key=value; repeat it (refundRequestId=r1).")
    ] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Default: derived from the order and the amount.")
    ] = None,
    store: Annotated[
        str, typer.Option(help="WooCommerce Store block whose order also records the refund.")
    ] = "default",
    block: BlockOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refund a payment (the refund-payment flow); a repeat with the same key refunds once."""
    from deployments.prefect_api import ensure_api

    meta = _metadata(metadata)
    ensure_api(lambda line: typer.echo(line, err=True))

    from flows.payments import refund_payment

    data = asyncio.run(
        refund_payment(
            transaction_id,
            amount=amount,
            reason=reason,
            metadata=meta,
            idempotency_key=idempotency_key,
            hub=hub,
            block=block,
            store=store,
        )
    )
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    typer.echo(
        f"{data['gateway']} refund {data['refundId']} of {data['transactionId']} {data['status']}: "
        f"{data['amount']} {data['currency']}"
        + (f"; recorded on order {data['orderId']}" if data.get("wooCommerceRefundId") else "")
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
