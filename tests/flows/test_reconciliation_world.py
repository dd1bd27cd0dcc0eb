"""Reconciliation against the sandbox's world: the breaks found are exactly the answer key's planted
discrepancies, and nothing else is even pending, on SQLite and PostgreSQL, for two seeds and rates.

The store is pulled into the hub by the real sync; the gateways' records by the real ledger ingestion
(`flows.ledger_ingestion.run_ingestion`) over the stand-ins' APIs, through the official SDKs (Stripe, Square)
and the project's clients (PayPal Transaction Search, Authorize.Net reporting).

One difference from the answer key is a fact of PayPal, not of the matching: Transaction Search does not
carry PayPal's dispute case id (`PP-D-...`), so a PayPal `open_dispute` is keyed by the transaction that
opened it (the hold or chargeback row on the capture); the test compares those by order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from recon_support import keys

from blocks import WooCommerceStore
from deployments.sandbox_blocks import blocks_for
from flows.ledger_ingestion import run_ingestion
from flows.woocommerce_sync import run_sync
from hub.db import create_hub_engine
from hub.reconciliation import Window, reconcile_windows, run_items
from sandbox.server import run_sandbox
from sandbox.world import DEFAULT_END

GATEWAYS = ["stripe", "paypal", "square", "authorizenet"]


@pytest.mark.parametrize(("seed", "orders", "rate"), [(3, 300, 0.05), (8, 400, 0.3)])
@pytest.mark.postgres
def test_breaks_are_exactly_the_planted_discrepancies(
    hub_url: str, seed: int, orders: int, rate: float
) -> None:
    engine = create_hub_engine(hub_url)
    with run_sandbox(
        services=("woocommerce", *GATEWAYS),
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
        planted = sb.call(lambda: sb.world.ledger.answer_key())
        end = datetime.fromtimestamp(DEFAULT_END, UTC)
        blocks = {g: b for g, b in blocks_for(sb).items() if g in GATEWAYS}
        # Windows are half-open: read up to a minute past the history's end, which holds records too.
        ingested = asyncio.run(
            run_ingestion(
                blocks,
                engine,
                since=end - timedelta(days=740),
                now=end + timedelta(minutes=1),
                use_prefect=False,
            )
        )
    assert ingested["status"] == "completed", ingested["failures"]
    for gateway in GATEWAYS:
        assert ingested["gateways"][gateway]["unreadable"] == []
        assert ingested["gateways"][gateway]["read"]["charges"] > 0

    # The two years of history, in windows of at most 366 days; `now` is where the history ends.
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

    expected = {_key(p["category"], p["gateway"], p["order_id"], p["gateway_id"]) for p in planted}
    assert {i["status"] for i in found} <= {"open"}, "nothing consistent is even pending"
    assert {_key(*k) for k in keys(found)} == expected
    assert total == len(expected), "no duplicates across the windows"
    assert len({p["category"] for p in planted}) == 9, "every category was planted"


def _key(category: str, gateway: str, order_id: int | None, gateway_id: str | None) -> tuple[object, ...]:
    if (category, gateway) == ("open_dispute", "paypal"):
        return (category, gateway, order_id, "<paypal dispute>")
    return (category, gateway, order_id, gateway_id)
