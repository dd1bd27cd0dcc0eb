"""The `reconcile-payments` flow as Prefect users meet it: its run name and tags, a `reconciliation_runs`
row per gateway, the break table and totals artifacts, the CSV file, `dashboard_metrics` and
`dashboard_events` rows, the operators' alert, the finishing event, failures and the crash hook."""

from __future__ import annotations

import asyncio
import csv
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from recon_support import STORE, T0, charge, order_json, paid_pair, write_ledger, write_orders

from flows._runs import RunFailed
from flows.payment_reconciliation import ReconciliationFailed, reconcile_payments
from hub import locks
from hub.db import create_hub_engine
from hub.models import utcnow
from hub.reconciliation import Window, lock_name, start_run

pytestmark = pytest.mark.usefixtures("prefect_harness")

START, END = "2026-01-10", "2026-01-11"


@pytest.fixture
def engine(hub_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    engine = create_hub_engine(hub_url)
    o1, c1 = paid_pair(1)
    o2, c2 = paid_pair(2, gateway="paypal")
    write_orders(engine, o1, o2, order_json(3, txn="ch_3"), order_json(4, gateway="paypal", txn="PP4"))
    write_ledger(engine, [c1, c2, charge("ch_1b", order_id=1, created=T0 + timedelta(minutes=9))])
    return engine


def rows(engine: sa.Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


async def _prefect_side(
    flow_run_id: str, prefix: str, resource: str
) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        run = await client.read_flow_run(uuid.UUID(flow_run_id))
        artifacts = await client.request("POST", "/artifacts/filter", json={})
        events: list[dict[str, Any]] = []
        for _ in range(50):  # the event persister writes in the background
            response = await client.request(
                "POST",
                "/events/filter",
                json={"filter": {"event": {"prefix": [prefix]}, "any_resource": {"id": [resource]}}},
            )
            events = [  # this run's: other tests' runs announce the same resource
                e
                for e in response.json()["events"]
                if f"prefect.flow-run.{flow_run_id}" in {r["prefect.resource.id"] for r in e["related"]}
            ]
            if events:
                break
            await asyncio.sleep(0.1)
        mine = [a for a in artifacts.json() if a.get("flow_run_id") == flow_run_id]
        return run, mine, events


def test_a_run_reports_everywhere(engine: sa.Engine, tmp_path: Path) -> None:
    from blocks import NotificationSettings

    out = tmp_path / "reports" / "breaks.csv"
    settings = f"ops-{uuid.uuid4().hex[:8]}"
    NotificationSettings(operator_emails=["ops@example.com"], operator_phones=["+14155550100"]).save(settings)

    def run() -> dict[str, Any]:
        return asyncio.run(
            reconcile_payments(
                start=START,
                end=END,
                gateways=["stripe", "paypal"],
                store=STORE,
                csv_path=str(out),
                alert_threshold=1,
                notification_settings=settings,
            )
        )

    summary = run()

    assert summary["status"] == "completed"
    assert summary["break_count"] == 3
    assert summary["breaks"]["missing_payment"] == 2 and summary["breaks"]["duplicate_charge"] == 1
    assert {r["gateway_id"] for r in summary["break_rows"]} == {"ch_3", "PP4", "ch_1b"}
    assert summary["alerted"] is True

    runs = rows(
        engine, "SELECT gateway, status, flow_run_id, window_start FROM reconciliation_runs ORDER BY id"
    )
    assert [(r["gateway"], r["status"]) for r in runs] == [("stripe", "completed"), ("paypal", "completed")]
    flow_run_id = runs[0]["flow_run_id"]
    assert flow_run_id and runs[1]["flow_run_id"] == flow_run_id

    with out.open() as f:
        exported = list(csv.DictReader(f))
    assert {r["gateway_id"] for r in exported} == {"ch_3", "PP4", "ch_1b"} and summary["csv_rows"] == 3

    metrics = rows(engine, "SELECT metric_name, metric_value, tags FROM dashboard_metrics")
    names = {m["metric_name"] for m in metrics}
    assert {
        "payment_reconciliation_breaks",
        "payment_reconciliation_duration",
        "payment_reconciliation_matched",
    } <= names
    stripe_breaks = [
        m
        for m in metrics
        if m["metric_name"] == "payment_reconciliation_breaks" and "stripe" in str(m["tags"])
    ]
    assert [m["metric_value"] for m in stripe_breaks] == [2.0]
    events = {
        e["event_type"]: e for e in rows(engine, "SELECT event_type, severity, message FROM dashboard_events")
    }
    assert events["payment_reconciliation_completed"]["severity"] == "info"
    alert = events["payment_reconciliation_breaks"]
    assert alert["severity"] == "warning" and "3 breaks (threshold 1)" in alert["message"]
    # The operators are told through the notifications outbox: one email and one text, once per window.
    key = "payment-reconciliation-breaks:paypal+stripe:2026-01-10..2026-01-11"
    queued = rows(engine, "SELECT channel, recipient, template, idempotency_key FROM outbox ORDER BY id")
    assert [(q["channel"], q["recipient"], q["template"]) for q in queued] == [
        ("email", "ops@example.com", "operator-alert"),
        ("sms", "+14155550100", "operator-alert"),
    ]
    assert all(q["idempotency_key"].startswith(f"operator-alert:{key}:") for q in queued)
    assert summary["alert"]["queued"] == 2
    assert run()["alert"]["queued"] == 0, "a re-run of the window does not alert again"
    assert len(rows(engine, "SELECT id FROM outbox")) == 2

    run, artifacts, fired = asyncio.run(
        _prefect_side(flow_run_id, "nxt.payments.reconciliation.", "nxt.payments.gateways.paypal+stripe")
    )
    assert run.name == "reconcile-payments/paypal+stripe/2026-01-10..2026-01-11"
    assert {"payments", "reconciliation", "gateways:paypal+stripe", f"store:{STORE}"} <= set(run.tags)
    kinds = {a["key"]: a["type"] for a in artifacts}
    assert kinds == {
        "reconcile-payments-paypal-stripe-breaks": "table",
        "reconcile-payments-paypal-stripe-totals": "markdown",
    }
    totals = next(a for a in artifacts if a["type"] == "markdown")["data"]
    assert "| stripe | USD | 2 | 50.00 USD |" in totals
    assert [e["event"] for e in fired] == ["nxt.payments.reconciliation.completed"]
    payload = fired[0]["payload"]
    assert payload["break_count"] == 3 and payload["by_gateway"]["paypal"]["missing_payment"] == 1
    related = {r["prefect.resource.id"] for r in fired[0]["related"]}
    assert {"nxt.payments.gateway.stripe", f"prefect.flow-run.{flow_run_id}"} <= related


def test_no_alert_below_the_threshold_and_the_default_window(engine: sa.Engine) -> None:
    summary = asyncio.run(reconcile_payments(gateways=["stripe"], store=STORE, alert_threshold=10))

    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    assert summary["window_end"] == today.isoformat()
    assert summary["window_start"] == (today - timedelta(days=3)).isoformat()
    assert summary["alerted"] is False
    assert (
        rows(engine, "SELECT * FROM dashboard_events WHERE event_type = 'payment_reconciliation_breaks'")
        == []
    )


def test_a_gateway_that_cannot_run_fails_the_run_and_the_others_complete(engine: sa.Engine) -> None:
    assert locks.acquire(engine, lock_name("paypal", STORE), "someone else", 60)

    with pytest.raises(
        ReconciliationFailed, match="reconciliation of paypal failed: .* is running: someone else"
    ):
        asyncio.run(reconcile_payments(start=START, end=END, gateways=["stripe", "paypal"], store=STORE))

    runs = rows(engine, "SELECT gateway, status, error FROM reconciliation_runs ORDER BY id")
    assert [(r["gateway"], r["status"]) for r in runs] == [("stripe", "completed"), ("paypal", "failed")]
    assert "someone else" in runs[1]["error"]
    failed = rows(
        engine, "SELECT severity FROM dashboard_events WHERE event_type = 'payment_reconciliation_failed'"
    )
    assert failed == [{"severity": "error"}]
    assert issubclass(ReconciliationFailed, RunFailed)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": END, "end": START}, "must be after start"),
        ({"start": START}, "give both start and end, or neither"),
        ({"start": "2025-01-01", "end": "2026-06-01"}, "reconcile at most 366 days"),
        ({"gateways": ["stripe", "venmo"]}, "unknown gateway 'venmo'"),
        ({"alert_threshold": -1}, "alert_threshold must be a number of breaks"),
        ({"grace_hours": {"adyen": 1}}, "grace for unknown gateway 'adyen'"),
    ],
)
def test_bad_parameters_are_refused_before_anything_is_written(
    engine: sa.Engine, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        asyncio.run(reconcile_payments(store=STORE, **kwargs))
    assert rows(engine, "SELECT * FROM reconciliation_runs") == []


def test_crash_and_cancel_hooks_close_the_runs(engine: sa.Engine) -> None:
    from flows.payment_reconciliation import _close_interrupted_run

    hooks = reconcile_payments.on_crashed_hooks + reconcile_payments.on_cancellation_hooks
    assert hooks == [_close_interrupted_run, _close_interrupted_run]
    flow_run_id = str(uuid.uuid4())
    window = Window.of(START, END)
    with engine.begin() as conn:
        mine = start_run(conn, gateway="stripe", store=STORE, window=window, flow_run_id=flow_run_id)
        other = start_run(conn, gateway="paypal", store=STORE, window=window, flow_run_id=str(uuid.uuid4()))

    run = SimpleNamespace(id=flow_run_id, parameters={"hub": None})
    state = SimpleNamespace(
        name="Cancelled", message="cancelled from the UI", type=SimpleNamespace(value="CANCELLED")
    )
    asyncio.run(_close_interrupted_run(reconcile_payments, run, state))

    found = {r["id"]: r for r in rows(engine, "SELECT id, status, error FROM reconciliation_runs")}
    assert found[mine]["status"] == "crashed" and "cancelled from the UI" in found[mine]["error"]
    assert found[other]["status"] == "running"


def test_the_run_name_names_gateways_and_window() -> None:
    from flows.payment_reconciliation import gateway_set, reconciliation_window

    assert gateway_set(None) == "all" and gateway_set(["stripe", "paypal", "stripe"]) == "paypal+stripe"
    now = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
    assert reconciliation_window(None, None, 2, now).label == "2026-03-02..2026-03-05"
    assert (
        reconciliation_window("2026-03-01T06:00:00Z", "2026-03-02", 2).label
        == "2026-03-01T06:00:00+00:00..2026-03-02"
    )
