"""`nxt demo`: the main job end to end on the built-in sandbox, with nothing to configure."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer


def demo(
    products: Annotated[int, typer.Option(min=1, help="Products in the sandbox store.")] = 200,
    customers: Annotated[int, typer.Option(min=1, help="Customers in the sandbox store.")] = 100,
    orders: Annotated[int, typer.Option(min=1, help="Orders in the sandbox store.")] = 300,
    hub_url: Annotated[
        str | None, typer.Option("--hub-url", help="Hub to fill (default: a fresh demo SQLite file).")
    ] = None,
) -> None:
    """Start the sandbox store, pull it into a demo hub with the woocommerce-sync flow, change a few
    records in the store, and sync again incrementally. Prints what each run did."""
    from blocks import WooCommerceStore
    from deployments.commands.sync import print_summary
    from deployments.console import progress
    from deployments.prefect_api import ensure_api
    from flows.woocommerce_sync import woocommerce_sync
    from hub.db import create_hub_engine, default_database_path, safe_url
    from sandbox.server import run_sandbox

    if hub_url is None:
        demo_db = default_database_path().with_name("demo-hub.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        hub_url = f"sqlite:///{demo_db}"
    engine = create_hub_engine(hub_url)
    os.environ["NXT_DATABASE_URL"] = hub_url  # the flow opens the same hub
    typer.echo(f"hub: {safe_url(engine.url)}")
    typer.echo(f"starting the sandbox store ({products} products, {customers} customers, {orders} orders)...")
    with run_sandbox(products=products, customers=customers, orders=orders, seed=1) as sb:
        creds = sb.credentials["woocommerce"]
        typer.echo(f"sandbox store: {sb.urls['woocommerce']}/wp-json/wc/v3")
        ensure_api(typer.echo)
        WooCommerceStore(
            site_url=sb.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            max_concurrency=8,
            rate_limit_rpm=6000,
        ).save("demo", overwrite=True)
        with progress("full pull"):
            print_summary(asyncio.run(woocommerce_sync(store="demo")))
        wc = sb.woocommerce
        ids = sb.call(wc.ids, "order")[:10]
        sb.call(wc.touch, "order", ids)
        typer.echo("changed 10 orders in the store")
        with progress("incremental pull"):
            print_summary(asyncio.run(woocommerce_sync(store="demo")))
    typer.echo(
        "done. Query the hub (tables products, customers, orders, sync_runs, dashboard_metrics). To watch "
        "the runs in the Prefect UI: `uv run prefect server start`, then "
        "`PREFECT_API_URL=http://127.0.0.1:4200/api uv run nxt demo` and open http://127.0.0.1:4200"
    )
