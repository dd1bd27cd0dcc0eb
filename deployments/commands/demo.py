"""`nxt demo`: the main job end to end on the built-in sandbox, with nothing to configure."""

from __future__ import annotations

from typing import Annotated

import typer

from deployments.errors import EXIT_FAILED


def demo(
    products: Annotated[int, typer.Option(min=1, max=20_000, help="Products in the sandbox store.")] = 200,
    customers: Annotated[int, typer.Option(min=1, max=20_000, help="Customers in the sandbox store.")] = 100,
    orders: Annotated[int, typer.Option(min=1, max=50_000, help="Orders in the sandbox store.")] = 300,
    hub_url: Annotated[
        str | None, typer.Option("--hub-url", help="Hub to fill (default: a fresh demo SQLite file).")
    ] = None,
) -> None:
    """Run the whole product once on the built-in sandbox (a store, four gateways, SMS and email):
    full sync; a hub price change pushed back with one conflict; an order created and paid, arriving as
    webhooks at the receiver, synced and confirmed by SMS and email; the gateways' ledgers read and
    reconciled against the orders (finding the sandbox's planted discrepancies); notifications sent.
    Ends with a report of each step."""
    from deployments.prefect_api import begin_api

    def echo(line: str) -> None:
        typer.echo(line, err=True)

    # The temporary Prefect server's first start (creating its database) is the demo's longest wait: it
    # starts before anything else, and runs while this process imports the flows and builds the sandbox.
    wait_for_api, lasting = begin_api(echo)

    from deployments.demo import run_demo
    from deployments.demo.report import print_report

    results = run_demo(
        products=products, customers=customers, orders=orders, hub_url=hub_url, echo=echo, api=wait_for_api
    )
    print_report(results, lasting)
    failed = [r.step for r in results if not r.ok]
    if failed:
        typer.echo(f"error: the demo's {', '.join(failed)} step(s) failed (see above)", err=True)
        raise typer.Exit(EXIT_FAILED)
