"""Reconciliation, category by category, and across runs: on SQLite and PostgreSQL, through the hub.

Orders are written as the sync writes them and ledger rows through `hub.ledger`; each test reconciles a
window and reads `reconciliation_items` back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from recon_support import (
    DAY,
    STORE,
    T0,
    charge,
    child,
    items,
    keys,
    order_json,
    paid_pair,
    write_ledger,
    write_orders,
)

from hub import locks
from hub.db import create_hub_engine
from hub.reconciliation import (
    ReconciliationBusy,
    ReconciliationSettings,
    Window,
    WindowError,
    lock_name,
    reconcile_window,
    reconcile_windows,
    resolve_items,
)

WINDOW = Window.of(datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC))
LATER = T0 + 10 * DAY  # every record is past every grace window


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def run(engine: sa.Engine, gateways: tuple[str, ...] = ("stripe",), **kw: Any) -> list[Any]:
    kw.setdefault("window", WINDOW)
    kw.setdefault("now", LATER)
    return reconcile_windows(engine, gateways=list(gateways), store=STORE, **kw)


def breaks(engine: sa.Engine) -> set[tuple[str, str, int | None, str]]:
    return keys(items(engine, statuses=("open",)))


# --- the consistent cases (the traps of docs/sandbox.md) ---------------------------------------------------
def test_a_consistent_store_has_no_items(engine: sa.Engine) -> None:
    o1, c1 = paid_pair(101)
    # A Stripe order holding the payment intent, declined once before it paid (same intent).
    o2 = order_json(102, txn="pi_102")
    c2 = charge("ch_102", order_id=102, alt_id="pi_102")
    declined = charge("ch_102a", order_id=102, alt_id="pi_102", status="failed", decline_code="do_not_honor")
    # A won dispute; a trashed (paid) order that keeps its charge; an order refunded in full, mirrored.
    o3, c3 = paid_pair(103)
    won = child("dispute", "du_103", "ch_103", status="won", updated=T0 + 5 * DAY)
    o4, c4 = paid_pair(104, status="trash")
    o5 = order_json(105, status="refunded", txn="ch_105", refunds=["25.00"])
    c5 = charge("ch_105", order_id=105, refunded=2500)
    r5 = child("refund", "re_105", "ch_105")
    # Pending and cancelled orders with no charge; a bank transfer; a failed Stripe order with its decline.
    o6 = order_json(106, status="pending", paid=None, txn="")
    o7 = order_json(107, status="cancelled", paid=None, txn="")
    o8 = order_json(108, gateway=None, paid=True, txn="")
    o9 = order_json(109, status="failed", paid=None, txn="ch_109")
    c9 = charge("ch_109", order_id=109, status="failed", decline_code="insufficient_funds")
    write_orders(engine, o1, o2, o3, o4, o5, o6, o7, o8, o9)
    write_ledger(engine, [c1, c2, declined, c3, won, c4, c5, r5, c9])

    (result,) = run(engine)

    assert items(engine) == []
    assert result.break_count == 0 and sum(result.pending.values()) == 0
    assert result.read["matched"] == 5  # 101-105


def test_a_charge_naming_no_order_matches_by_amount_and_time(engine: sa.Engine) -> None:
    # PayPal records taken outside the checkout may carry no order; the order names another id.
    order = order_json(201, gateway="paypal", txn="8XY00000000000001", total="49.90")
    record = charge("9AB00000000000002", gateway="paypal", amount=4990, created=T0 + timedelta(minutes=3))
    write_orders(engine, order)
    write_ledger(engine, [record])

    run(engine, ("paypal",))

    assert items(engine) == []


# --- one category each -------------------------------------------------------------------------------------
def test_missing_order(engine: sa.Engine) -> None:
    o1, c1 = paid_pair(301)
    write_orders(engine, o1, order_json(350, gateway="paypal", txn="PP350"))
    write_ledger(
        engine,
        [
            c1,
            charge("ch_gone", order_id=399, amount=1234),  # names an order that does not exist
            charge("ch_none", amount=777),  # names none
            charge("ch_other", order_id=350, amount=2500),  # names an order paid through PayPal
            charge("ch_gone_refunded", order_id=398, amount=500, refunded=500),  # returned in full: nothing
        ],
    )

    run(engine)

    found = items(engine)
    assert keys(found) == {
        ("missing_order", "stripe", 399, "ch_gone"),
        ("missing_order", "stripe", None, "ch_none"),
        ("missing_order", "stripe", 350, "ch_other"),
    }
    messages = {i["gateway_id"]: i["message"] for i in found}
    assert "which does not exist" in messages["ch_gone"]
    assert "names no order" in messages["ch_none"]
    assert "paid through ppcp-gateway" in messages["ch_other"]


def test_missing_payment(engine: sa.Engine) -> None:
    # No charge at all; and only a declined attempt the transaction id does not name.
    o2 = order_json(402, txn="ch_402")
    declined = charge("ch_402x", order_id=402, status="failed", decline_code="generic_decline")
    write_orders(engine, order_json(401, txn="ch_401"), o2)
    write_ledger(engine, [declined])

    run(engine)

    assert breaks(engine) == {
        ("missing_payment", "stripe", 401, "ch_401"),
        ("missing_payment", "stripe", 402, "ch_402"),
    }


def test_amount_and_currency_mismatches(engine: sa.Engine) -> None:
    write_orders(
        engine,
        order_json(501, total="25.00"),
        order_json(502, total="25.00"),
        order_json(503, total="25.00", currency="EUR", gateway="square", txn="sq503"),
    )
    write_ledger(
        engine,
        [
            charge("ch_501", order_id=501, amount=2600),
            charge("ch_502", order_id=502, amount=2500, currency="GBP"),
            charge("sq503", gateway="square", order_id=503, amount=2500),  # the order's currency is wrong
        ],
    )

    run(engine, ("stripe", "square"))

    found = {i["gateway_id"]: i for i in items(engine)}
    assert keys(found.values()) == {
        ("amount_mismatch", "stripe", 501, "ch_501"),
        ("currency_mismatch", "stripe", 502, "ch_502"),
        ("currency_mismatch", "square", 503, "sq503"),
    }
    assert (found["ch_501"]["expected_minor"], found["ch_501"]["actual_minor"]) == (2500, 2600)
    assert "order 501 total 25.00 USD, charged 26.00 USD" in found["ch_501"]["message"]


def test_status_mismatches(engine: sa.Engine) -> None:
    write_orders(
        engine,
        order_json(601, status="processing", txn="ch_601"),  # its charge failed
        order_json(602, status="completed", txn="ch_602"),  # refunded in full at the gateway
        order_json(603, status="refunded", txn="ch_603", refunds=["25.00"]),  # no refund at the gateway
        order_json(604, status="cancelled", txn="ch_604"),  # cancelled, the money kept
        order_json(605, status="on-hold", txn="ch_605"),  # paid, but only authorised
    )
    write_ledger(
        engine,
        [
            charge("ch_601", order_id=601, status="failed", decline_code="insufficient_funds"),
            charge("ch_602", order_id=602, refunded=2500),
            child("refund", "re_602", "ch_602"),
            charge("ch_603", order_id=603),
            charge("ch_604", order_id=604),
            charge("ch_605", order_id=605, captured=False),
        ],
    )

    run(engine)

    found = {i["order_id"]: i for i in items(engine)}
    assert keys(found.values()) == {("status_mismatch", "stripe", o, f"ch_{o}") for o in range(601, 606)}
    assert "failed (insufficient_funds)" in found[601]["message"]
    assert "returned in full" in found[602]["message"]
    assert "returned 0.00 USD" in found[603]["message"]
    assert "(not paid), but charge ch_604 succeeded" in found[604]["message"]
    assert "authorised and not captured" in found[605]["message"]


def test_refunds_not_mirrored_either_way(engine: sa.Engine) -> None:
    write_orders(
        engine,
        order_json(701, txn="ch_701"),  # a partial refund at the gateway, none on the order
        order_json(702, txn="ch_702", refunds=["5.00"]),  # a refund on the order, none at the gateway
        order_json(703, txn="ch_703", refunds=["5.00", "5.00"]),  # two equal refunds, both mirrored
    )
    write_ledger(
        engine,
        [
            charge("ch_701", order_id=701, refunded=1000),
            child("refund", "re_701", "ch_701", amount=1000),
            charge("ch_702", order_id=702),
            charge("ch_703", order_id=703, refunded=1000),
            child("refund", "re_703a", "ch_703", amount=500),
            child("refund", "re_703b", "ch_703", amount=500, created=T0 + 3 * DAY),
        ],
    )

    run(engine)

    found = items(engine)
    assert keys(found) == {
        ("refund_not_mirrored", "stripe", 701, "re_701"),
        ("refund_not_mirrored", "stripe", 702, "ch_702"),
    }
    order_side = next(i for i in found if i["order_id"] == 702)
    assert "|wc-refund:" in order_side["item_key"] and order_side["expected_minor"] == 500


def test_duplicate_charge_and_disputes(engine: sa.Engine) -> None:
    o1, c1 = paid_pair(801)
    o2, c2 = paid_pair(802, gateway="paypal")
    write_orders(engine, o1, o2)
    write_ledger(
        engine,
        [
            c1,
            charge("ch_801dup", order_id=801, created=T0 + timedelta(minutes=4)),
            c2,
            child("dispute", "PP-D-1", "ch_802", gateway="paypal"),
            child("dispute", "PP-D-2", "ch_802", gateway="paypal", status="won"),
        ],
    )

    run(engine, ("stripe", "paypal"))

    found = {i["gateway_id"]: i for i in items(engine)}
    assert keys(found.values()) == {
        ("duplicate_charge", "stripe", 801, "ch_801dup"),
        ("open_dispute", "paypal", 802, "PP-D-1"),
    }
    assert found["ch_801dup"]["related_id"] == "ch_801"


def test_payout_mismatch(engine: sa.Engine) -> None:
    day = T0 + DAY

    def payout(pid: str, amount: int) -> dict[str, Any]:
        return {
            "gateway": "square",
            "gateway_id": pid,
            "amount_minor": amount,
            "currency": "USD",
            "status": "paid",
            "created_at": day,
        }

    def entry(eid: str, pid: str, amount: int, fee: int = 0, currency: str = "USD") -> dict[str, Any]:
        return {
            "gateway": "square",
            "gateway_id": eid,
            "payout_id": pid,
            "type": "charge",
            "amount_minor": amount,
            "fee_minor": fee,
            "currency": currency,
            "created_at": T0,
        }

    write_ledger(
        engine,
        payouts=[payout("po_ok", 1900), payout("po_off", 1901), payout("po_eur", 1000)],
        entries=[
            entry("poe_1", "po_ok", 1000, 50),
            entry("poe_2", "po_ok", 1000, 50),
            entry("poe_3", "po_off", 1000, 50),
            entry("poe_4", "po_off", 1000, 50),
            entry("poe_5", "po_eur", 1000, 0, currency="EUR"),
        ],
    )

    run(engine, ("square",), window=Window.of(T0, T0 + 2 * DAY))

    found = {i["gateway_id"]: i for i in items(engine)}
    assert keys(found.values()) == {
        ("payout_mismatch", "square", None, "po_off"),
        ("payout_mismatch", "square", None, "po_eur"),
    }
    assert (found["po_off"]["expected_minor"], found["po_off"]["actual_minor"]) == (1900, 1901)


def test_money_is_converted_exactly(engine: sa.Engine) -> None:
    write_orders(
        engine,
        order_json(901, total="10.005", txn="ch_901"),  # more decimals than USD has: the plugin sends 1001
        order_json(902, total="1500", currency="JPY", txn="ch_902"),  # no minor unit
        order_json(903, total="12.345", currency="KWD", txn="ch_903"),  # three decimals
        order_json(904, total="99999999999.123456", txn="ch_904"),  # longer than 64-bit digits hold
    )
    write_ledger(
        engine,
        [
            charge("ch_901", order_id=901, amount=1001),
            charge("ch_902", order_id=902, amount=1500, currency="JPY"),
            charge("ch_903", order_id=903, amount=12345, currency="KWD"),
            charge("ch_904", order_id=904, amount=9999999999912),
        ],
    )

    run(engine)

    assert items(engine) == []


# --- grace, scope and re-runs ------------------------------------------------------------------------------
def test_a_young_discrepancy_is_pending_then_a_break(engine: sa.Engine) -> None:
    write_orders(engine, order_json(1001, txn="ch_1001"))  # paid at T0 + 1 min, no charge yet

    run(engine, now=T0 + timedelta(hours=1))  # Stripe's grace is 2 hours
    (pending,) = items(engine)
    assert (pending["category"], pending["status"]) == ("missing_payment", "pending")

    run(engine, now=T0 + timedelta(hours=3))
    (item,) = items(engine)
    assert (item["id"], item["status"]) == (pending["id"], "open")

    settings = ReconciliationSettings.with_overrides(grace_hours={"stripe": 24})
    run(engine, now=T0 + timedelta(hours=3), settings=settings)
    assert [i["status"] for i in items(engine)] == ["pending"]


def test_re_runs_update_resolve_and_respect_people(engine: sa.Engine) -> None:
    o1, c1 = paid_pair(1101)
    write_orders(engine, o1, order_json(1102, txn="ch_1102"), order_json(1103, txn="ch_1103"))
    write_ledger(engine, [c1, charge("ch_1103", order_id=1103, amount=9999)])

    first = run(engine)[0]
    assert first.changes["new"] == 2
    again = run(engine)[0]
    assert again.changes["new"] == 0 and again.changes["updated"] == 2
    assert len(items(engine)) == 2, "a re-run updates items, it does not add them again"

    # A person resolves the amount mismatch; the missing payment arrives.
    mismatch = next(i for i in items(engine) if i["category"] == "amount_mismatch")
    with engine.begin() as conn:
        assert resolve_items(conn, [mismatch["id"]], by="ops@example.com", note="agreed with the buyer") == 1
    write_ledger(engine, [charge("ch_1102", order_id=1102)])

    third = run(engine)[0]

    found = {i["gateway_id"]: i for i in items(engine)}
    assert (found["ch_1102"]["status"], found["ch_1102"]["resolution"]) == ("resolved", "auto")
    assert (found["ch_1103"]["status"], found["ch_1103"]["resolution"]) == ("resolved", "manual")
    assert third.changes["auto_resolved"] == 1 and third.changes["kept_resolved"] == 1
    assert third.break_count == 1, "found again (the person's decision stands, the finding is counted)"

    # The charge disappears again (read wrongly, or a reversal): the item is reopened.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM gateway_transactions WHERE gateway_id = 'ch_1102'"))
    fourth = run(engine)[0]
    found = {i["gateway_id"]: i for i in items(engine)}
    assert (found["ch_1102"]["status"], found["ch_1102"]["resolution"]) == ("open", None)
    assert fourth.changes["reopened"] == 1
    assert found["ch_1103"]["resolution"] == "manual"


def test_items_outside_the_window_are_left_alone(engine: sa.Engine) -> None:
    write_orders(
        engine, order_json(1201, txn="ch_1201"), order_json(1202, txn="ch_1202", created=T0 + 3 * DAY)
    )
    run(engine, window=Window.of(T0 - DAY, T0 + 5 * DAY))
    assert {i["order_id"] for i in items(engine, statuses=("open",))} == {1201, 1202}

    write_ledger(engine, [charge("ch_1202", order_id=1202, created=T0 + 3 * DAY)])
    run(engine)  # the window of 1201 only: 1202's item is not this window's to resolve
    assert {i["order_id"] for i in items(engine, statuses=("open",))} == {1201, 1202}


def test_a_refund_today_on_an_old_charge_is_this_windows(engine: sa.Engine) -> None:
    o1, c1 = paid_pair(1301)  # paid in the window of T0
    write_orders(engine, o1)
    later = Window.of(T0 + 30 * DAY, T0 + 31 * DAY)
    write_ledger(
        engine, [c1, child("refund", "re_1301", "ch_1301", created=T0 + 30 * DAY + timedelta(hours=1))]
    )

    run(engine, window=later, now=later.end + DAY)

    (item,) = items(engine)
    assert (item["category"], item["gateway_id"], item["status"]) == ("status_mismatch", "ch_1301", "open")

    # The store marks the order refunded; reconciling the day of that change resolves the item.
    write_orders(
        engine,
        order_json(
            1301, status="refunded", txn="ch_1301", refunds=["25.00"], modified=T0 + 31 * DAY + DAY / 2
        ),
    )
    run(engine, window=Window.of(T0 + 31 * DAY, T0 + 32 * DAY), now=T0 + 40 * DAY)
    (item,) = items(engine)
    assert (item["status"], item["resolution"]) == ("resolved", "auto")


def test_matches_across_the_window_edge(engine: sa.Engine) -> None:
    # The charge is created 10 minutes before midnight, the order is paid just after it.
    edge = datetime(2026, 1, 11, tzinfo=UTC)
    write_orders(
        engine,
        order_json(
            1401, txn="ch_1401", created=edge - timedelta(minutes=20), paid=edge + timedelta(minutes=1)
        ),
    )
    write_ledger(engine, [charge("ch_1401", order_id=1401, created=edge - timedelta(minutes=10))])

    run(engine, window=Window.of(edge - DAY, edge))
    run(engine, window=Window.of(edge, edge + DAY))

    assert items(engine) == []


def test_several_gateways_each_get_a_run(engine: sa.Engine) -> None:
    results = run(engine, ("stripe", "paypal", "square", "authorizenet"))
    assert [r.gateway for r in results] == ["stripe", "paypal", "square", "authorizenet"]
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT gateway, status FROM reconciliation_runs ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [
        (g, "completed") for g in ("stripe", "paypal", "square", "authorizenet")
    ]


# --- bad input and contention ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-01-02", "2026-01-01", "must be after start"),
        ("2026-01-01", "2026-01-01", "must be after start"),
        ("2025-01-01", "2026-01-03", "is 367 days; reconcile at most 366"),
        ("yesterday", "2026-01-01", "not an ISO 8601 date"),
        (20260101, "2026-01-02", "must be a date or time"),
    ],
)
def test_bad_windows_are_refused_clearly(start: Any, end: Any, message: str) -> None:
    with pytest.raises(WindowError, match=message):
        Window.of(start, end)


def test_unknown_gateways_and_settings_are_refused(engine: sa.Engine) -> None:
    with pytest.raises(WindowError, match="unknown gateway 'braintree'; one of stripe, paypal"):
        reconcile_window(engine, gateway="braintree", store=STORE, window=WINDOW)
    with pytest.raises(WindowError, match="maps to unknown gateway 'adyen'"):
        ReconciliationSettings.with_overrides(payment_methods={"adyen_cc": "adyen"})
    with pytest.raises(WindowError, match="grace_hours for stripe must be a number"):
        ReconciliationSettings.with_overrides(grace_hours={"stripe": "two"})  # type: ignore[dict-item]
    with pytest.raises(WindowError, match="must be a Window"):
        reconcile_window(engine, gateway="stripe", store=STORE, window=("2026-01-01", "2026-01-02"))  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM reconciliation_runs")).scalar_one() == 0


def test_one_reconciliation_of_a_gateway_at_a_time(engine: sa.Engine) -> None:
    assert locks.acquire(engine, lock_name("paypal", STORE), "another run", 60)

    with pytest.raises(
        ReconciliationBusy, match="reconciliation of paypal for store shop is running: another run"
    ):
        run(engine, ("stripe", "paypal"))

    assert locks.holder(engine, lock_name("stripe", STORE)) is None, "the leases it took are given back"
    run(engine, ("stripe",))  # other gateways are free


def test_payment_methods_are_configuration(engine: sa.Engine) -> None:
    write_orders(
        engine,
        order_json(1501, method="stripe_sepa", txn="ch_1501"),  # a default prefix rule
        order_json(1502, method="woocommerce_payments", txn="ch_1502"),
        order_json(1503, method="my_stripe_fork", txn="ch_1503"),  # unknown until configured
    )
    run(engine)
    assert {i["order_id"] for i in items(engine)} == {1501, 1502}

    settings = ReconciliationSettings.with_overrides(payment_methods={"my_stripe_fork": "stripe"})
    run(engine, settings=settings)
    assert {i["order_id"] for i in items(engine, statuses=("open",))} == {1501, 1502, 1503}


def test_downgrade_below_0004_keeps_peoples_decisions(engine: sa.Engine) -> None:
    from hub import migrate
    from hub.errors import HubConfigError

    write_orders(engine, order_json(1601, txn="ch_1601"))
    run(engine)
    (item,) = items(engine)
    with engine.begin() as conn:
        resolve_items(conn, [item["id"]], by="ops")

    with pytest.raises(HubConfigError, match="1 reconciliation items were resolved by a person"):
        migrate.downgrade(engine, "0003")
    assert migrate.current_revision(engine) == migrate.head_revision()

    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM reconciliation_items"))
    migrate.downgrade(engine, "0003")
    assert "payout_entries" not in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "payout_entries" in sa.inspect(engine).get_table_names()
