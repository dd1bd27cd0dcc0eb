"""`nxt demo`: the whole product once, on the built-in sandbox, with nothing to configure.

The sandbox serves a seeded store, the four gateways and both messaging providers; blocks named `demo`
point at it; the receiver runs in this process. See `steps.py` for what each step does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from deployments.demo.steps import BLOCKS, HISTORY_DAYS, DemoContext, StepResult

__all__ = ["BLOCKS", "StepResult", "run_demo"]


def run_demo(
    *,
    products: int,
    customers: int,
    orders: int,
    hub_url: str | None,
    echo: Callable[[str], None],
    api: Callable[[], str],
) -> list[StepResult]:
    """Run every step against a fresh sandbox and return what each did (a failed step does not stop the
    others that can still run). `api()` waits for the Prefect API (see `prefect_api.begin_api`)."""
    from deployments.demo.receiver import serve_receiver
    from hub.db import create_hub_engine, default_database_path, safe_url
    from receiver.settings import ReceiverSettings
    from sandbox.server import SERVICES, run_sandbox

    if hub_url is None:  # a fresh demo hub each time, so the demo can run again and again
        demo_db = default_database_path().with_name("demo-hub.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        hub_url = f"sqlite:///{demo_db}"
    os.environ["NXT_DATABASE_URL"] = hub_url  # flows (also those the receiver runs) open the same hub
    engine = create_hub_engine(hub_url)
    echo(f"hub: {safe_url(engine.url)}")
    echo(
        f"starting the sandbox: a store ({products} products, {customers} customers, {orders} orders), "
        "Stripe, PayPal, Square, Authorize.Net, Twilio and SendGrid"
    )
    try:
        with run_sandbox(
            services=tuple(SERVICES),
            products=products,
            customers=customers,
            orders=orders,
            seed=1,
            history_days=HISTORY_DAYS,
        ) as sb:
            import flows.ledger_ingestion  # noqa: F401
            import flows.notification_dispatch  # noqa: F401
            import flows.payment_reconciliation  # noqa: F401
            import flows.woocommerce_sync  # noqa: F401

            api()
            ctx = DemoContext(sb, engine)
            ctx.save_blocks()
            echo(f"blocks saved as `{BLOCKS}`, pointing at the sandbox")
            ctx.full_sync()
            ctx.push_prices()
            # The dispatcher on the receiver's loop: the demo drains it step by step.
            settings = ReceiverSettings(
                blocks=BLOCKS,
                stores=[BLOCKS],
                block_refresh_s=0,
                metrics_interval_s=3600,
                instance="demo",
                dispatch_process=False,
            )
            with serve_receiver(settings, engine) as receiver:
                echo(f"receiver on {receiver.url}")
                dispatcher = receiver.app.state.nxt.dispatcher
                ctx.order_via_webhooks(receiver.url, lambda: receiver.call(dispatcher.drain()))
            ctx.reconcile()
            ctx.dispatch()
            return ctx.results
    finally:
        engine.dispose()
