"""Ledger ingestion against the gateway stand-ins: incremental cursors moved only with committed rows,
re-reads that change nothing, records the vendor refuses to show reported (never dropped), a failing
gateway that keeps its cursor while the others complete, the windows each vendor allows, and the
`ingest-ledger` flow as Prefect users meet it (run name, tags, finishing event)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from deployments.sandbox_blocks import blocks_for
from flows.ledger_ingestion import (
    LOOKBACK,
    MAX_SPAN,
    IngestionFailed,
    check_gateways,
    ingest_ledger,
    parse_since,
    run_ingestion,
    windows,
)
from hub.db import create_hub_engine
from hub.ledger import read_cursor
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

END = datetime.fromtimestamp(DEFAULT_END, UTC)
SINCE = END - timedelta(days=740)
NOW = END + timedelta(minutes=1)


@pytest.fixture(scope="module")
def gateways_sandbox() -> Iterator[Sandbox]:
    with run_sandbox(
        services=("stripe", "paypal", "square", "authorizenet"),
        products=8,
        customers=15,
        orders=120,
        seed=5,
        now=DEFAULT_END,
    ) as sb:
        yield sb


@pytest.fixture
def sb(gateways_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield gateways_sandbox
    for service in ("stripe", "paypal", "square", "authorizenet"):
        gateways_sandbox.set_faults(service)  # clear what a test set


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def ingest(sb: Sandbox, engine: sa.Engine, **kwargs: Any) -> dict[str, Any]:
    blocks = {g: b for g, b in blocks_for(sb).items() if g != "woocommerce"}
    kwargs.setdefault("now", NOW)
    return asyncio.run(run_ingestion(blocks, engine, use_prefect=False, **kwargs))


def test_every_gateway_is_read_into_the_ledger_and_rereads_change_nothing(sb: Sandbox, hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    first = ingest(sb, engine, since=SINCE)
    assert first["status"] == "completed", first["failures"]

    ledger = sb.world.ledger
    for g in ("stripe", "paypal", "square", "authorizenet"):
        charges = sb.call(lambda g=g: {c.id for c in ledger.charges(g)})
        with engine.connect() as conn:
            stored = set(
                conn.execute(
                    sa.text(
                        "SELECT gateway_id FROM gateway_transactions WHERE gateway = :g AND kind = 'charge'"
                    ),
                    {"g": g},
                ).scalars()
            )
            assert read_cursor(conn, g, "ledger") == NOW, "the cursor ends where the committed windows end"
        assert stored == charges, g
        assert first["gateways"][g]["windows"] == 24  # 740 days in windows of at most 31
    for g in ("stripe", "square"):
        payouts = sb.call(lambda g=g: {p.id for p in ledger.payouts(g) if p.created < NOW.timestamp()})
        with engine.connect() as conn:
            stored = set(
                conn.execute(sa.text("SELECT gateway_id FROM payouts WHERE gateway = :g"), {"g": g}).scalars()
            )
        assert stored == payouts, g
    batches = sb.call(lambda: len(ledger.batches()))
    assert count(engine, "SELECT count(*) FROM payouts WHERE gateway = 'authorizenet'") == batches
    refunds = sb.call(lambda: sum(1 for g in ("stripe", "paypal", "square") for _ in ledger.refunds(g)))
    assert (
        count(
            engine,
            "SELECT count(*) FROM gateway_transactions WHERE kind = 'refund' AND gateway <> 'authorizenet'",
        )
        == refunds
    )
    assert (
        count(engine, "SELECT count(*) FROM payout_entries WHERE payout_id IS NULL AND gateway = 'square'")
        == 0
    )
    totals = [
        count(engine, f"SELECT count(*) FROM {t}")
        for t in ("gateway_transactions", "payouts", "payout_entries")
    ]

    again = ingest(sb, engine)  # from the cursors, minus each gateway's lookback
    assert again["status"] == "completed"
    for g in ("stripe", "paypal", "square", "authorizenet"):
        summary = again["gateways"][g]
        assert datetime.fromisoformat(summary["start"]) == NOW - LOOKBACK[g]
        assert summary["written"].get("transactions_written", 0) == 0
        assert summary["written"].get("entries_written", 0) == 0
    assert [
        count(engine, f"SELECT count(*) FROM {t}")
        for t in ("gateway_transactions", "payouts", "payout_entries")
    ] == totals


@pytest.mark.postgres
def test_a_new_payment_is_read_by_the_next_incremental_run(sb: Sandbox, hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    assert ingest(sb, engine, gateways=["stripe"], since=END - timedelta(days=3))["status"] == "completed"
    client = blocks_for(sb)["stripe"].client()
    intent = client.v1.payment_intents.create(
        params={
            "amount": 4200,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": {"order_id": "99999"},
        }
    )
    later = datetime.fromtimestamp(intent.created, UTC) + timedelta(minutes=1)
    result = ingest(sb, engine, gateways=["stripe"], now=later)
    assert result["status"] == "completed"
    with engine.connect() as conn:
        row = (
            conn.execute(
                sa.text("SELECT * FROM gateway_transactions WHERE alt_id = :pi AND kind = 'charge'"),
                {"pi": intent.id},
            )
            .mappings()
            .one()
        )
        assert read_cursor(conn, "stripe", "ledger") == later
    assert (row["order_id"], row["amount_minor"], row["status"], row["currency"]) == (
        99999,
        4200,
        "succeeded",
        "USD",
    )
    assert row["fee_minor"] > 0 and row["net_minor"] == 4200 - row["fee_minor"]


def test_records_the_vendor_refuses_to_show_are_reported(sb: Sandbox, hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    sb.set_faults("stripe", script=[403], paths=["/v1/disputes"])
    result = ingest(sb, engine, gateways=["stripe"], since=END - timedelta(days=20))
    assert result["status"] == "completed"
    unreadable = result["gateways"]["stripe"]["unreadable"]
    assert [(u["resource"], u["status"]) for u in unreadable] == [("disputes", 403)]


def test_a_failing_gateway_keeps_its_cursor_and_the_others_complete(sb: Sandbox, hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    sb.set_faults("paypal", error_rate=1.0, error_statuses=[500], paths=["/v1/reporting"])
    result = ingest(sb, engine, gateways=["paypal", "square"], since=END - timedelta(days=40))
    assert result["status"] == "failed"
    assert set(result["failures"]) == {"paypal"} and "500" in result["failures"]["paypal"]
    assert "\n" not in result["failures"]["paypal"]
    with engine.connect() as conn:
        assert read_cursor(conn, "paypal", "ledger") is None
        assert read_cursor(conn, "square", "ledger") == NOW
    assert count(engine, "SELECT count(*) FROM gateway_transactions WHERE gateway = 'paypal'") == 0


def test_windows_lookbacks_and_bad_parameters() -> None:
    assert LOOKBACK["paypal"] >= timedelta(hours=3)
    assert MAX_SPAN <= timedelta(days=31)
    spans = windows(SINCE, NOW)
    assert spans[0][0] == SINCE and spans[-1][1] == NOW
    assert all(b - a <= MAX_SPAN for a, b in spans)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    assert parse_since("2026-01-02") == datetime(2026, 1, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_since("yesterday")
    with pytest.raises(ValueError, match="in the future"):
        parse_since(datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(ValueError, match="unknown gateway bitcoin"):
        check_gateways(["stripe", "bitcoin"])


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_names_tags_and_announces_its_run(
    sb: Sandbox, hub_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.client.orchestration import get_client

    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    name = f"ingest-{uuid.uuid4().hex[:8]}"
    blocks_for(sb)["square"].save(name)
    since = datetime.now(UTC) - timedelta(days=2)
    state = asyncio.run(ingest_ledger(gateways=["square"], since=since, block=name, return_state=True))
    summary = state.result()
    assert summary["status"] == "completed"

    async def prefect_side() -> tuple[Any, list[dict[str, Any]]]:
        async with get_client() as client:
            run = await client.read_flow_run(state.state_details.flow_run_id)
            for _ in range(50):
                response = await client.request(
                    "POST",
                    "/events/filter",
                    json={"filter": {"event": {"prefix": ["nxt.payments.ingest"]}}},
                )
                events = [
                    e
                    for e in response.json()["events"]
                    if f"prefect.flow-run.{run.id}" in {r["prefect.resource.id"] for r in e["related"]}
                ]
                if events:
                    return run, events
                await asyncio.sleep(0.1)
            return run, []

    run, events = asyncio.run(prefect_side())
    assert run.name == f"payments-ingest/square/{since.date().isoformat()}..now"
    assert {"payments", "ingest", "gateways:square", "gateway:square"} <= set(run.tags)
    assert [e["event"] for e in events] == ["nxt.payments.ingest.completed"]
    assert events[0]["resource"]["prefect.resource.id"] == "nxt.payments.gateways.square"

    with pytest.raises(IngestionFailed, match="square"):
        sb.set_faults("square", error_rate=1.0, error_statuses=[401], paths=["/v2/payments"])
        asyncio.run(ingest_ledger(gateways=["square"], since=since, block=name))


def test_open_disputes_of_earlier_windows_are_reread(sb: Sandbox, hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    client = blocks_for(sb)["stripe"].client()
    intent = client.v1.payment_intents.create(
        params={"amount": 3100, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    dispute = sb.call(sb.stripe.open_dispute, intent.latest_charge)
    created = datetime.fromtimestamp(intent.created, UTC)
    first = created + timedelta(hours=2)
    assert (
        ingest(sb, engine, gateways=["stripe"], since=created - timedelta(minutes=1), now=first)["status"]
        == "completed"
    )

    def status() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    sa.text("SELECT status FROM gateway_transactions WHERE gateway_id = :d"),
                    {"d": dispute["id"]},
                ).scalar_one()
            )

    assert status() == "open"
    sb.call(sb.stripe.resolve_dispute, dispute["id"], "won")
    later = ingest(
        sb, engine, gateways=["stripe"], now=first + timedelta(hours=1)
    )  # window: first-1h..first+1h
    assert datetime.fromisoformat(later["gateways"]["stripe"]["start"]) > created, "the window misses it"
    assert status() == "won"
