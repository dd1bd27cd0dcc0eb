"""The ledger's row contract (`hub.ledger`): merged transactions and payouts, append-only entries, row
checks, the vendors' vocabulary, money and ingestion cursors. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hub import ledger
from hub.db import create_hub_engine
from hub.ledger import LedgerRowError

T = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def tx(**over: Any) -> dict[str, Any]:
    row = {
        "gateway": "stripe",
        "kind": "charge",
        "gateway_id": "ch_1",
        "alt_id": "pi_1",
        "order_ref": "42",
        "order_id": 42,
        "status": "succeeded",
        "amount_minor": 2500,
        "currency": "usd",
        "created_at": T,
    }
    return row | over


def stored(engine: sa.Engine, table: str = "gateway_transactions") -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).mappings()]


def test_transactions_merge_on_their_id(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        first = ledger.upsert_transactions(conn, [tx(), tx(gateway_id="ch_2", alt_id=None, order_id=None)])
    assert first == ledger.LedgerWrite(written=2, unchanged=0)
    (row, _) = stored(engine)
    assert (row["currency"], row["captured"], row["amount_refunded_minor"], row["fee_minor"]) == (
        "USD",
        True,
        0,
        0,
    )

    with engine.begin() as conn:
        same = ledger.upsert_transactions(conn, [tx()])
        refunded = ledger.upsert_transactions(
            conn, [tx(amount_refunded_minor=1000, alt_id=None, order_ref=None, order_id=None)]
        )
    assert same == ledger.LedgerWrite(written=0, unchanged=1), "an identical read writes nothing"
    assert refunded.written == 1
    (row, _) = stored(engine)
    assert row["amount_refunded_minor"] == 1000
    assert (row["alt_id"], row["order_ref"], row["order_id"]) == ("pi_1", "42", 42), (
        "a read without them keeps them"
    )


def test_an_older_read_never_goes_back_in_time(engine: sa.Engine) -> None:
    dispute = tx(
        kind="dispute", gateway_id="du_1", alt_id=None, parent_id="ch_1", status="open", updated_at=T
    )
    with engine.begin() as conn:
        ledger.upsert_transactions(conn, [dispute | {"status": "won", "updated_at": T + timedelta(days=9)}])
        stale = ledger.upsert_transactions(conn, [dispute])
    assert stale.written == 0
    assert stored(engine)[0]["status"] == "won"


def test_a_batch_may_repeat_a_record_the_last_wins(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        result = ledger.upsert_transactions(conn, [tx(status="pending"), tx(status="succeeded")])
    assert result.written == 1
    assert stored(engine)[0]["status"] == "succeeded"


def test_entries_are_appended_once_and_get_their_payout_once(engine: sa.Engine) -> None:
    entry = {
        "gateway": "stripe",
        "gateway_id": "txn_1",
        "type": "charge",
        "source_id": "ch_1",
        "amount_minor": 2500,
        "fee_minor": 103,
        "currency": "USD",
        "created_at": T,
    }
    with engine.begin() as conn:
        assert ledger.append_payout_entries(conn, [entry]).written == 1
        assert ledger.append_payout_entries(conn, [entry | {"amount_minor": 9}]).written == 0
        assert ledger.append_payout_entries(conn, [entry | {"payout_id": "po_1"}]).written == 1
        assert ledger.append_payout_entries(conn, [entry | {"payout_id": "po_2"}]).written == 0
    (row,) = stored(engine, "payout_entries")
    assert (row["amount_minor"], row["net_minor"], row["payout_id"]) == (2500, 2397, "po_1")


def test_payouts_merge_their_status(engine: sa.Engine) -> None:
    payout = {
        "gateway": "square",
        "gateway_id": "po_9",
        "amount_minor": 1900,
        "currency": "USD",
        "status": "in_transit",
        "created_at": T,
    }
    with engine.begin() as conn:
        ledger.upsert_payouts(conn, [payout])
        ledger.upsert_payouts(conn, [payout | {"status": "paid", "arrival_at": T + timedelta(days=1)}])
    (row,) = stored(engine, "payouts")
    assert (row["status"], row["fee_minor"]) == ("paid", 0)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (tx(gateway="braintree"), "unknown gateway 'braintree'"),
        (tx(amount_minor=25.0), "amount_minor must be an integer in minor units, not float"),
        (tx(amount_minor=-1), "amount_minor -1 is out of range"),
        (tx(created_at=datetime(2026, 1, 1)), "created_at must be a timezone-aware datetime"),
        (tx(currency="dollars"), "3-letter ISO 4217 code"),
        (tx(status="COMPLETED"), "a charge's status is one of succeeded, pending, failed, canceled"),
        (tx(kind="refund", alt_id=None), "a refund needs parent_id"),
        (tx(kind="refund", alt_id=None, parent_id="ch_1", captured=False), "only a charge can be uncaptured"),
        (
            tx(kind="dispute", gateway="authorizenet", alt_id=None, parent_id="1", status="open"),
            "has no disputes",
        ),
        (tx(amount=5), "unknown columns amount"),
        (tx(gateway_id="x" * 256), "gateway_id is longer than 255 characters"),
        (tx(gateway_id=None), "gateway_id is required"),
    ],
)
def test_rows_breaking_the_contract_are_refused_before_anything_is_written(
    engine: sa.Engine, row: dict[str, Any], message: str
) -> None:
    with pytest.raises(LedgerRowError, match=message), engine.begin() as conn:
        ledger.upsert_transactions(conn, [tx(gateway_id="ch_ok"), row])
    assert stored(engine) == []


def test_entries_must_add_up() -> None:
    bad = {
        "gateway": "square",
        "gateway_id": "poe_1",
        "type": "charge",
        "amount_minor": 100,
        "fee_minor": 3,
        "net_minor": 99,
        "currency": "USD",
        "created_at": T,
    }
    with pytest.raises(LedgerRowError, match="net_minor 99 is not amount - fee"):
        ledger.append_payout_entries(None, [bad])  # type: ignore[arg-type]  # refused before any SQL


def test_money_in_minor_units() -> None:
    assert ledger.to_minor("12.34", "USD") == 1234
    assert ledger.to_minor(Decimal("12.340"), "eur") == 1234
    assert ledger.to_minor("1500", "JPY") == 1500
    assert ledger.to_minor("1.005", "KWD") == 1005
    with pytest.raises(LedgerRowError, match="more decimals than JPY allows"):
        ledger.to_minor("10.5", "JPY")
    with pytest.raises(LedgerRowError, match="never float"):
        ledger.to_minor(12.34, "USD")  # type: ignore[arg-type]
    with pytest.raises(LedgerRowError, match="not a number"):
        ledger.to_minor("12,34", "USD")


@pytest.mark.parametrize(
    ("gateway", "metadata", "expected"),
    [
        ("stripe", {"order_id": "123", "site_url": "https://shop"}, ("123", 123)),
        ("paypal", {"invoice_id": "WC-456", "custom_id": ""}, ("WC-456", 456)),
        ("paypal", {"custom_id": "789", "invoice_id": "WC-789"}, ("789", 789)),
        ("square", {"reference_id": "#1001"}, ("#1001", 1001)),
        ("authorizenet", {"invoiceNumber": "55"}, ("55", 55)),
        ("stripe", {"order_id": "gift card 2024-12"}, ("gift card 2024-12", None)),
        ("stripe", {}, (None, None)),
        ("stripe", None, (None, None)),
    ],
)
def test_order_references(gateway: str, metadata: dict[str, str] | None, expected: tuple[Any, Any]) -> None:
    assert ledger.order_reference(gateway, metadata) == expected


def test_vendor_vocabulary() -> None:
    assert ledger.charge_status("paypal", "PARTIALLY_REFUNDED") == ("succeeded", True)
    assert ledger.charge_status("square", "APPROVED") == ("succeeded", False)
    assert ledger.charge_status("authorizenet", "authorizedPendingCapture") == ("succeeded", False)
    assert ledger.refund_status("square", "REJECTED") == "failed"
    assert ledger.dispute_status("stripe", "warning_closed") == "won"
    assert ledger.dispute_status("paypal", "RESOLVED_BUYER_FAVOUR") == "lost"
    assert ledger.payout_status("square", "SENT") == "in_transit"
    assert ledger.entry_type("stripe", "adjustment") == "dispute"
    assert ledger.entry_type("stripe", "dispute_reversal") == "dispute_reversal"
    assert ledger.entry_type("square", "CHARGE") == "charge"
    with pytest.raises(LedgerRowError, match="stripe charge status 'mystery' is not one the hub knows"):
        ledger.charge_status("stripe", "mystery")


def test_ingestion_cursors_and_windows(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert ledger.read_cursor(conn, "paypal", "transactions") is None
        ledger.advance_cursor(conn, "paypal", "transactions", T)
        ledger.advance_cursor(conn, "paypal", "transactions", T - timedelta(days=1))  # never back
        assert ledger.read_cursor(conn, "paypal", "transactions") == T
        assert ledger.read_cursor(conn, "stripe", "transactions") is None

    now = T + timedelta(days=40)
    first = ledger.ingestion_window(
        None,
        now=now,
        lookback=timedelta(hours=3),
        max_span=timedelta(days=31),
        first_start=T - timedelta(days=90),
    )
    assert first == (T - timedelta(days=90), T - timedelta(days=59))
    nxt = ledger.ingestion_window(
        T, now=now, lookback=timedelta(hours=3), max_span=timedelta(days=31), first_start=T
    )
    assert nxt == (T - timedelta(hours=3), T - timedelta(hours=3) + timedelta(days=31))
    last = ledger.ingestion_window(
        now - timedelta(hours=1),
        now=now,
        lookback=timedelta(hours=3),
        max_span=timedelta(days=31),
        first_start=T,
    )
    assert last == (now - timedelta(hours=4), now)
    with pytest.raises(LedgerRowError, match="unknown gateway"):
        ledger.cursor_store("venmo")


def test_write_batch_moves_the_cursor_with_its_rows_or_not_at_all(engine: sa.Engine) -> None:
    until = T + timedelta(days=1)
    with engine.begin() as conn:
        written = ledger.write_batch(conn, gateway="stripe", transactions=[tx()], cursor=("ledger", until))
    assert written["transactions_written"] == 1
    with engine.connect() as conn:
        assert ledger.read_cursor(conn, "stripe", "ledger") == until
    with pytest.raises(LedgerRowError, match="a stripe batch holds rows of 'square'"):
        with engine.begin() as conn:
            ledger.write_batch(
                conn,
                gateway="stripe",
                transactions=[tx(gateway_id="ch_2"), tx(gateway="square", gateway_id="sq_1")],
                cursor=("ledger", until + timedelta(days=1)),
            )
    with engine.connect() as conn:
        assert ledger.read_cursor(conn, "stripe", "ledger") == until, "nothing of a refused batch"
    assert [r["gateway_id"] for r in stored(engine)] == ["ch_1"]


def test_close_disputes_settles_the_open_disputes_of_a_charge(engine: sa.Engine) -> None:
    dispute = tx(
        gateway="paypal", kind="dispute", gateway_id="HOLD1", parent_id="CAP1", alt_id=None, status="open"
    )
    other = tx(
        gateway="paypal", kind="dispute", gateway_id="HOLD2", parent_id="CAP2", alt_id=None, status="open"
    )
    with engine.begin() as conn:
        ledger.upsert_transactions(conn, [dispute, other])
        assert ledger.close_disputes(conn, "paypal", [("CAP1", "won", T + timedelta(days=3))]) == 1
    assert {r["gateway_id"]: r["status"] for r in stored(engine)} == {"HOLD1": "won", "HOLD2": "open"}
    with engine.begin() as conn:  # a won hold later reversed (T1111 then T1106) ends lost
        assert ledger.close_disputes(conn, "paypal", [("CAP1", "lost", T + timedelta(days=4))]) == 1
        with pytest.raises(LedgerRowError, match="closed as 'open'"):
            ledger.close_disputes(conn, "paypal", [("CAP2", "open", T)])
    assert {r["gateway_id"]: r["status"] for r in stored(engine)} == {"HOLD1": "lost", "HOLD2": "open"}


def test_paypal_transaction_search_statuses_of_captures() -> None:
    for status in ("S", "F", "V"):
        assert ledger.charge_status("paypal", status) == ("succeeded", True)
    assert ledger.charge_status("paypal", "D") == ("failed", True)
    assert ledger.charge_status("paypal", "P") == ("pending", True)
