"""`nxt payments reconcile`: runs the reconciliation flow and prints the break table; bad input is one
line and exit 2, before any Prefect server is started."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from recon_support import STORE, order_json, paid_pair, write_ledger, write_orders
from typer.testing import CliRunner

from deployments.cli import app
from hub.db import create_hub_engine

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(hub_url: str, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    engine = create_hub_engine(hub_url)
    o1, c1 = paid_pair(1)
    write_orders(engine, o1, order_json(2, txn="ch_2", total="12.50"))
    write_ledger(engine, [c1])
    return engine


@pytest.mark.usefixtures("prefect_harness")
def test_reconcile_prints_the_breaks_and_writes_the_csv(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A wide terminal, so the table's cells stay on one line. The console reads COLUMNS once, when the
    # module is first imported (maybe by an earlier test in this process): set its width directly.
    from deployments.console import console

    monkeypatch.setattr(console, "width", 200)
    out = tmp_path / "breaks.csv"
    args = ["payments", "reconcile", "--start", "2026-01-10", "--end", "2026-01-11", "-g", "stripe"]

    result = runner.invoke(app, [*args, "--store", STORE, "--csv", str(out)])

    assert result.exit_code == 0, result.output
    assert "missing_payment" in result.output and "12.50 USD" in result.output
    assert (
        "stripe for 2026-01-10..2026-01-11: 1 breaks, 0 pending, 0 resolved; 1 rows written" in result.output
    )
    with out.open() as f:
        assert [r["gateway_id"] for r in csv.DictReader(f)] == ["ch_2"]

    as_json = runner.invoke(app, [*args, "--store", STORE, "--json"])
    assert as_json.exit_code == 0, as_json.output
    summary = json.loads(as_json.output.strip().splitlines()[-1])
    assert summary["break_count"] == 1 and summary["results"]["stripe"]["changes"]["updated"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--start", "2026-01-11", "--end", "2026-01-10"],
            "error: end 2026-01-10T00:00:00+00:00 must be after start 2026-01-11T00:00:00+00:00",
        ),
        (
            ["--start", "2026-01-11"],
            "error: give both start and end, or neither (the previous day plus the lookback)",
        ),
        (
            ["--start", "2025-01-01", "--end", "2026-02-01"],
            "error: the window 2025-01-01..2026-02-01 is 396 days; reconcile at most 366 days at once",
        ),
        (
            ["--gateway", "venmo"],
            "error: unknown gateway 'venmo'; one of stripe, paypal, square, authorizenet",
        ),
        (
            ["--start", "last tuesday", "--end", "2026-01-10"],
            "error: start is not an ISO 8601 date or time: 'last tuesday'",
        ),
    ],
)
def test_bad_input_is_one_line_without_a_prefect_server(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line, exit 2, and no Prefect server asked for (one would be started or contacted for nothing)."""
    _refuse_prefect(monkeypatch)
    _assert_one_line(runner.invoke(app, ["payments", "reconcile", *args]), message)


def test_the_console_script_refuses_bad_input_before_prefect() -> None:
    """The real console script in a fresh process: PREFECT_API_URL points nowhere, so a server started or
    contacted for nothing would show."""
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    proc = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "payments", "reconcile", "--gateway", "venmo"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: unknown gateway 'venmo'; one of stripe, paypal, square, authorizenet"
    ]
    assert "Traceback" not in proc.stderr


def _refuse_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_prefect(*_: object, **__: object) -> str:
        raise AssertionError("bad input must be refused before a Prefect API is asked for")

    monkeypatch.setattr("deployments.prefect_api.ensure_api", no_prefect)


def _assert_one_line(result: object, message: str) -> None:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, output  # type: ignore[attr-defined]
    assert [line for line in output.splitlines() if line.strip()] == [message]
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["ingest", "--gateway", "venmo"],
            "error: unknown gateway venmo; one of stripe, paypal, square, authorizenet",
        ),
        (
            ["ingest", "--since", "yesterday"],
            "error: since='yesterday' is not an ISO date or time (e.g. 2026-01-31)",
        ),
        (
            ["process", "-g", "stripe", "--amount", "10.001", "--payment-method", "pm_card_visa"],
            "error: amount 10.001 has more decimals than USD allows (2)",
        ),
        (
            ["process", "-g", "stripe", "--amount", "-1", "--payment-method", "pm_card_visa"],
            "error: amount must be more than 0, not -1",
        ),
        (
            ["process", "-g", "stripe", "--amount", "1", "--currency", "ABC", "--payment-method", "x"],
            "error: unknown currency 'ABC'; give an ISO 4217 code (USD)",
        ),
        (
            ["process", "-g", "bitcoin", "--amount", "1", "--payment-method", "x"],
            "error: unknown gateway 'bitcoin'; one of stripe, paypal, square, authorizenet",
        ),
        (
            ["refund", "ch_1", "--metadata", "oops"],
            "error: --metadata 'oops': give key=value, e.g. --metadata orderId=123",
        ),
    ],
)
def test_bad_payment_commands_are_one_line_without_a_prefect_server(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_prefect(monkeypatch)
    _assert_one_line(runner.invoke(app, ["payments", *args]), message)


@pytest.mark.usefixtures("prefect_harness")
def test_process_refund_ingest_and_status_from_the_shell(
    hub_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uuid

    from blocks import StripeGateway
    from sandbox.server import run_sandbox

    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    monkeypatch.setenv("COLUMNS", "200")
    name = f"cli-{uuid.uuid4().hex[:8]}"
    with run_sandbox(services=("stripe",), products=2, customers=2, orders=4, seed=4) as sb:
        creds = sb.credentials["stripe"]
        StripeGateway(secret_key=creds["api_key"], base_url=sb.urls["stripe"]).save(name)
        paid = runner.invoke(
            app,
            [
                "payments",
                "process",
                "-g",
                "stripe",
                "--amount",
                "25.00",
                "--payment-method",
                "pm_card_visa",
                "-m",
                "orderId=4242",
                "--block",
                name,
                "--json",
            ],
        )
        assert paid.exit_code == 0, paid.output
        data = json.loads(paid.output.strip().splitlines()[-1])
        refunded = runner.invoke(
            app,
            ["payments", "refund", data["transactionId"], "--amount", "5", "--block", name, "--store", name],
        )
        assert refunded.exit_code == 0, refunded.output
        assert f"of {data['transactionId']} succeeded: 5.0 USD" in refunded.output
        again = runner.invoke(
            app, ["payments", "refund", data["transactionId"], "--amount", "21", "--block", name]
        )
        assert again.exit_code == 2
        assert (
            again.output.strip()
            .splitlines()[-1]
            .startswith("error: refund of 21.00 USD is more than the 20.00")
        )
        ingested = runner.invoke(app, ["payments", "ingest", "-g", "stripe", "--block", name])
        assert ingested.exit_code == 0, ingested.output
        assert ingested.output.startswith("stripe: ")
    status = runner.invoke(app, ["payments", "status"])
    assert status.exit_code == 0, status.output
    assert "succeeded" in status.output and "stripe: " in status.output
