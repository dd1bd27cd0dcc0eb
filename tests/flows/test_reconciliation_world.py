"""Reconciliation against the sandbox's world: the breaks found are exactly the answer key's planted
discrepancies, and nothing else is even pending, on SQLite and PostgreSQL, for two seeds and rates.

The store is pulled into the hub by the real sync; the gateways' records come from `World.ledger`, mapped
to ledger rows exactly as each vendor's API presents them (`world_ledger`; part B of issue 10 replaces that
with ingestion over the stand-ins' APIs, and this assertion must keep holding)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from recon_support import keys
from world_ledger import ledger_rows

from blocks import WooCommerceStore
from flows.woocommerce_sync import run_sync
from hub.db import create_hub_engine
from hub.ledger import append_payout_entries, upsert_payouts, upsert_transactions
from hub.reconciliation import Window, reconcile_windows, run_items
from sandbox.server import run_sandbox
from sandbox.world import DEFAULT_END

GATEWAYS = ["stripe", "paypal", "square", "authorizenet"]


@pytest.mark.parametrize(("seed", "orders", "rate"), [(3, 300, 0.05), (8, 400, 0.3)])
def test_breaks_are_exactly_the_planted_discrepancies(
    hub_url: str, seed: int, orders: int, rate: float
) -> None:
    engine = create_hub_engine(hub_url)
    with run_sandbox(
        services=("woocommerce",),
        products=12,
        customers=30,
        orders=orders,
        seed=seed,
        now=DEFAULT_END,
        discrepancy_rate=rate,
    ) as sb:
        creds = sb.credentials["woocommerce"]
        block = WooCommerceStore(
            site_url=sb.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            batch_size=100,
            rate_limit_rpm=60_000,
        )
        summary = asyncio.run(run_sync(block, engine, store="shop", sync_type="orders", use_prefect=False))
        assert summary["status"] == "completed" and summary["counts"]["fetched"] == orders
        rows = sb.call(lambda: ledger_rows(sb.world.ledger))
        planted = sb.call(lambda: sb.world.ledger.answer_key())
    with engine.begin() as conn:
        upsert_transactions(conn, rows.transactions)
        upsert_payouts(conn, rows.payouts)
        append_payout_entries(conn, rows.entries)

    # The two years of history, in windows of at most 366 days; `now` is where the history ends.
    end = datetime.fromtimestamp(DEFAULT_END, UTC)
    run_ids = []
    for start, stop in (
        (end - timedelta(days=732), end - timedelta(days=366)),
        (end - timedelta(days=366), end),
    ):
        results = reconcile_windows(
            engine, gateways=GATEWAYS, store="shop", window=Window.of(start, stop), now=end
        )
        run_ids += [r.run_id for r in results]
    with engine.connect() as conn:
        found = run_items(conn, run_ids, statuses=("open", "pending", "resolved"))
        total = conn.execute(sa.text("SELECT count(*) FROM reconciliation_items")).scalar_one()

    expected = {(p["category"], p["gateway"], p["order_id"], p["gateway_id"]) for p in planted}
    assert {i["status"] for i in found} <= {"open"}, "nothing consistent is even pending"
    assert keys(found) == expected
    assert total == len(expected), "no duplicates across the windows"
    assert len({p["category"] for p in planted}) == 9, "every category was planted"
