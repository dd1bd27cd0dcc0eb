"""The gateways' ledger: consistent with the orders except exactly what was planted, and usable at runtime.

`inconsistencies(world)` below applies the definition of "consistent" from `sandbox.ledger`'s docstring
on its own (it shares no code with the generator): the set it finds must equal the answer key.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import pytest

from sandbox.ledger import (
    CATEGORIES,
    DAY,
    Charge,
    InvalidAmount,
    InvalidState,
    Ledger,
    LedgerError,
    NotFound,
    RefundExceedsRemaining,
)
from sandbox.world import World, build_world

GATEWAY_OF = {
    "stripe": "stripe",
    "ppcp-gateway": "paypal",
    "square_credit_card": "square",
    "authorize_net_cim_credit_card": "authorizenet",
}
NOW = 1_795_000_000  # 2026-11-18T11:06:40Z


def inconsistencies(world: World) -> set[tuple[str, str, int | None, str]]:
    """(category, gateway, order id, gateway id) for every break of the consistency definition.

    Breaks that are not one of the reconciliation categories come back as `unexpected:<what>` so a test
    comparing against the answer key fails on them too.
    """
    led = world.ledger
    found: set[tuple[str, str, int | None, str]] = set()
    charges = {g: led.charges(g) for g in GATEWAY_OF.values()}
    by_key: dict[str, dict[object, list]] = {}
    for g, cs in charges.items():
        index: dict[object, list] = {}
        for c in cs:
            index.setdefault(("order", c.order_id), []).append(c)
            index.setdefault(("id", c.id), []).append(c)
            if c.payment_intent_id:
                index.setdefault(("id", c.payment_intent_id), []).append(c)
        by_key[g] = index

    for o in world.orders.values():
        g = GATEWAY_OF.get(o.payment_method)
        if g is None:
            continue
        status = o.pre_trash_status or o.status
        txn = o.transaction_id
        mine = {id(c): c for c in by_key[g].get(("order", o.id), [])}
        if txn:
            mine |= {id(c): c for c in by_key[g].get(("id", txn), [])}
        ours = list(mine.values())
        succeeded = [c for c in ours if c.status == "succeeded"]
        if o.paid is not None and txn:
            assert status in ("processing", "completed", "on-hold", "refunded")
            named = [c for c in ours if c.id == txn or (g == "stripe" and c.payment_intent_id == txn)]
            if not named:
                found.add(("missing_payment", g, o.id, txn))
                continue
            p = next((c for c in named if c.status == "succeeded"), named[-1])
            if p.status != "succeeded":
                found.add(("status_mismatch", g, o.id, p.id))
                continue
            if p.order_id != o.id or not p.captured:
                found.add(("unexpected:primary", g, o.id, p.id))
            for c in succeeded:
                if c is not p:
                    found.add(("duplicate_charge", g, o.id, c.id))
            for c in ours:
                if c.status not in ("succeeded", "failed"):
                    found.add(("unexpected:status", g, o.id, c.id))
            if p.amount_minor != o.total_cents:
                found.add(("amount_mismatch", g, o.id, p.id))
            if p.currency != o.currency:
                found.add(("currency_mismatch", g, o.id, p.id))
            at_gateway = {r.id: r.amount_minor for r in p.refunds if r.status == "succeeded"}
            in_order = {r.gateway_refund_id: r.amount_cents for r in o.refunds}
            if status == "refunded" and not at_gateway:
                found.add(("status_mismatch", g, o.id, p.id))
            elif (
                status != "refunded"
                and not in_order
                and at_gateway
                and sum(at_gateway.values()) == p.amount_minor
            ):
                found.add(("status_mismatch", g, o.id, p.id))
            else:
                for rid, amount in at_gateway.items():
                    if in_order.get(rid) != amount:
                        found.add(("refund_not_mirrored", g, o.id, rid))
                for rid in in_order.keys() - at_gateway.keys():
                    found.add(("unexpected:refund_missing_at_gateway", g, o.id, rid))
            if p.dispute is not None and p.dispute.status != "won":
                found.add(("open_dispute", g, o.id, p.dispute.id))
        elif status == "failed" and txn:
            named = [c for c in ours if c.id == txn or c.payment_intent_id == txn]
            if g != "stripe" or len(named) != 1 or named[0].status != "failed" or not named[0].decline_code:
                found.add(("unexpected:failed_order", g, o.id, txn))
            elif (named[0].amount_minor, named[0].currency) != (o.total_cents, o.currency):
                found.add(("unexpected:failed_amount", g, o.id, txn))
            for c in succeeded:
                found.add(("unexpected:paid_failed_order", g, o.id, c.id))
        else:
            for c in succeeded:
                found.add(("unexpected:charge_for_unpaid_order", g, o.id, c.id))

    for g, cs in charges.items():
        for c in cs:
            order = world.orders.get(c.order_id) if c.order_id is not None else None
            if c.status == "succeeded" and (order is None or GATEWAY_OF.get(order.payment_method) != g):
                found.add(("missing_order", g, c.order_id, c.id))
    for g in ("stripe", "square"):
        for p in led.payouts(g):
            if p.amount_minor != sum(e.amount_minor - e.fee_minor for e in p.entries) - p.fee_minor:
                found.add(("payout_mismatch", g, None, p.id))
            if any(e.currency != p.currency or e.payout_id != p.id for e in p.entries):
                found.add(("unexpected:payout_entries", g, None, p.id))
    return found


def keyed(world: World) -> set[tuple[str, str, int | None, str]]:
    return {
        (k["category"], k["gateway"], k["order_id"], k["gateway_id"])
        for k in world.answer_key()
        if k["category"] != "contact"
    }


@pytest.mark.parametrize(
    ("seed", "orders", "rate"),
    [(1, 300, 0.03), (2, 300, 0.03), (7, 2000, 0.03), (8, 2000, 0.25), (9, 120, 0.5)],
    ids=["demo-1", "demo-2", "2k", "2k-quarter", "small-half"],
)
def test_exactly_the_planted_records_are_inconsistent(seed, orders, rate) -> None:
    w = build_world(seed=seed, products=80, customers=60, orders=orders, end=NOW, discrepancy_rate=rate)
    key = keyed(w)
    assert key, "something was planted"
    assert len(key) == len(w.ledger.answer_key()), "one key entry per planted problem"
    assert inconsistencies(w) == key


def test_no_planting_means_no_inconsistency() -> None:
    w = build_world(seed=3, products=80, customers=60, orders=3000, end=NOW, discrepancy_rate=0)
    assert w.ledger.answer_key() == []
    assert inconsistencies(w) == set()
    assert len(w.ledger.charges("stripe")) > 500  # a real ledger, not an empty one


def test_every_category_at_the_default_demo_size() -> None:
    for seed in range(1, 13):
        w = build_world(seed=seed, end=NOW)  # 300 orders, 3 %
        cats = Counter(k["category"] for k in w.ledger.answer_key())
        assert set(cats) == set(CATEGORIES), (seed, cats)
        assert {k["gateway"] for k in w.ledger.answer_key()} == set(GATEWAY_OF.values()), seed


def test_planted_problems_are_older_than_three_days_and_orders_one_each() -> None:
    w = build_world(seed=4, products=80, customers=60, orders=3000, end=NOW, discrepancy_rate=0.2)
    key = w.ledger.answer_key()
    order_ids = [k["order_id"] for k in key if k["category"] not in ("missing_order", "payout_mismatch")]
    assert len(order_ids) == len(set(order_ids)) > 300
    for k in key:
        g = k["gateway"]
        if k["category"] == "payout_mismatch":
            assert w.ledger.payout(g, k["gateway_id"]).created <= NOW - 3 * DAY
            continue
        if k["order_id"] in w.orders:
            o = w.orders[k["order_id"]]
            assert o.status != "trash" and o.paid is not None and o.paid <= NOW - 3 * DAY
        times = [c.created for c in w.ledger.charges(g) if c.id == k["gateway_id"]]
        times += [r.created for r in w.ledger.refunds(g) if r.id == k["gateway_id"]]
        times += [d.created for d in w.ledger.disputes(g) if d.id == k["gateway_id"]]
        assert all(t <= NOW - 3 * DAY for t in times), k


def test_missing_order_ids_point_nowhere_even_after_the_store_creates_orders() -> None:
    w = build_world(seed=5, products=20, customers=10, orders=600, end=NOW, discrepancy_rate=0.3)
    deleted = [
        k["order_id"] for k in w.ledger.answer_key() if k["category"] == "missing_order" and k["order_id"]
    ]
    assert deleted
    assert all(d not in w.orders and d not in w.products for d in deleted)
    assert all(w.new_post_id() not in deleted for _ in range(50))


def test_same_seed_and_now_same_ledger_byte_for_byte() -> None:
    def dump(w: World) -> str:
        return json.dumps([w.ledger.snapshot(), w.answer_key()], sort_keys=True)

    a = build_world(seed=21, products=50, customers=40, orders=700, end=NOW)
    b = build_world(seed=21, products=50, customers=40, orders=700, end=NOW)
    assert dump(a) == dump(b)
    assert a == b
    assert dump(a) != dump(build_world(seed=21, products=50, customers=40, orders=700, end=NOW + DAY))
    assert dump(a) != dump(build_world(seed=22, products=50, customers=40, orders=700, end=NOW))


def test_natural_ledger_looks_like_a_shop() -> None:
    w = build_world(seed=6, products=80, customers=200, orders=5000, end=NOW, discrepancy_rate=0)
    led = w.ledger
    paid = [o for o in w.orders.values() if o.paid is not None and o.transaction_id]
    succeeded = sum(len(led.charges(g, status="succeeded")) for g in GATEWAY_OF.values())
    assert succeeded == len(paid)
    failed = {g: len(led.charges(g, status="failed")) for g in GATEWAY_OF.values()}
    assert failed["stripe"] > 0 and failed["square"] > 0 and failed["authorizenet"] > 0
    assert failed["paypal"] == 0
    won = [d for g in ("stripe", "paypal", "square") for d in led.disputes(g)]
    assert won and all(d.status == "won" and d.closed is not None and d.closed <= NOW for d in won)
    assert led.disputes("authorizenet") == []
    # Stripe ids share the suffix of the payment intent the order may store.
    for c in led.charges("stripe", status="succeeded"):
        assert (
            c.payment_intent_id[3:] == c.id[3:] or c.payment_intent_id == w.orders[c.order_id].transaction_id
        )
        assert c.balance_transaction_id == "txn_" + c.id[3:]
    for c in led.charges("square"):
        assert c.location_id == led.square_location_ids[0] and len(c.square_order_id) == 27
        for r in c.refunds:
            assert r.id.startswith(c.id + "_")
    assert all(c.paypal_order_id and c.card_brand == "" for c in led.charges("paypal"))
    assert all(c.metadata == {"invoiceNumber": str(c.order_id)} for c in led.charges("authorizenet"))
    # History ends at NOW: recent activity for "last 30 days" windows, nothing in the future.
    for g in GATEWAY_OF.values():
        assert led.charges(g, created_gte=NOW - 30 * DAY)
        assert led.charges(g, created_gte=NOW + 1) == []
        assert all(r.created <= NOW for r in led.refunds(g))


@pytest.mark.parametrize(
    ("gateway", "amount", "fee"),
    [
        ("stripe", 1000, 59),  # 29 + 30
        ("stripe", 500, 45),  # 14.5 rounds half up
        ("square", 500, 44),  # 14.5 rounds half to even
        ("square", 1500, 74),  # 43.5 -> 44 (even)
        ("paypal", 1000, 84),  # 34.9 + 49
        ("authorizenet", 2599, 105),  # 75.371 + 30
        ("stripe", 10, 10),  # never more than the amount
    ],
)
def test_fee_rules(gateway, amount, fee) -> None:
    led = Ledger(seed=1, now=NOW)
    c = led.add_charge(gateway, amount_minor=amount, currency="USD", created=NOW)
    assert c.fee_minor == fee
    assert c.net_minor == amount - fee


def test_every_charge_nets_amount_minus_fee() -> None:
    rules = {
        "stripe": (Decimal("0.029"), 30, ROUND_HALF_UP),
        "paypal": (Decimal("0.0349"), 49, ROUND_HALF_UP),
        "square": (Decimal("0.029"), 30, ROUND_HALF_EVEN),
        "authorizenet": (Decimal("0.029"), 30, ROUND_HALF_UP),
    }
    w = build_world(seed=8, products=40, customers=40, orders=1500, end=NOW)
    for g, (pct, fixed, mode) in rules.items():
        for c in w.ledger.charges(g):
            if c.status != "succeeded":
                assert (c.fee_minor, c.net_minor) == (0, 0)
                continue
            expected = (
                int((Decimal(c.settlement_amount_minor) * pct).quantize(Decimal(1), rounding=mode)) + fixed
            )
            assert c.fee_minor == min(expected, c.settlement_amount_minor)
            assert c.net_minor == c.settlement_amount_minor - c.fee_minor
            if c.currency == w.currency:
                assert c.settlement_amount_minor == c.amount_minor


def test_payouts_pay_every_available_movement_once() -> None:
    w = build_world(seed=9, products=40, customers=40, orders=2000, end=NOW, discrepancy_rate=0)
    led = w.ledger
    for g in ("stripe", "square"):
        payouts = led.payouts(g)
        assert len(payouts) > 100
        paid_entries = [e.id for p in payouts for e in p.entries]
        assert len(paid_entries) == len(set(paid_entries))
        for p in payouts:
            assert p.amount_minor == p.entries_net_minor > 0
            assert p.status == ("paid" if p.arrival <= NOW else "in_transit")
            assert all(e.payout_id == p.id for e in p.entries)
        # What waits: Stripe, what is not available by the last midnight (or nets to zero or less);
        # Square, what came in since the last midnight.
        horizon = NOW - NOW % DAY
        unpaid = [e for e in led.balance_entries(g) if not e.payout_id]
        if g == "square":
            assert all(e.created >= horizon for e in unpaid)
        else:
            assert sum(e.net_minor for e in unpaid if e.available_on <= horizon) <= 0
    stripe_payout = led.payouts("stripe")[-1]
    own = led.balance_entry("stripe", stripe_payout.balance_transaction_id)
    assert own.type == "payout" and own.amount_minor == -stripe_payout.amount_minor
    assert stripe_payout in led.payouts("stripe", created_gte=stripe_payout.created)
    assert led.balance_entries("stripe", payout_id=stripe_payout.id) == stripe_payout.entries


def test_authorizenet_settles_daily_and_keeps_the_last_day_unsettled() -> None:
    w = build_world(seed=10, products=40, customers=40, orders=3000, end=NOW, discrepancy_rate=0)
    led = w.ledger
    batches = led.batches()
    assert len(batches) > 100
    assert all(b.settlement_time % DAY == 23 * 3600 and b.settlement_time <= NOW for b in batches)
    assert len({b.id for b in batches}) == len(batches) and all(len(b.id) == 8 for b in batches)
    last_cutoff = NOW - NOW % DAY + 23 * 3600 - DAY  # NOW is before 23:00 UTC
    assert batches[-1].settlement_time <= last_cutoff
    for b in batches:
        for t in b.transactions:
            when = (t.captured_at or t.updated) if isinstance(t, Charge) else t.created
            assert t.batch_id == b.id and b.settlement_time - DAY < when <= b.settlement_time
    assert all(t.created > last_cutoff and not t.batch_id for t in led.unsettled())
    stats = [s for b in batches for s in b.statistics()]
    assert sum(s["charge_count"] for s in stats) == sum(
        1 for c in led.charges("authorizenet", status="succeeded") if c.batch_id
    )
    assert sum(s["decline_count"] for s in stats) > 0
    assert sum(s["refund_count"] for s in stats) == sum(1 for r in led.refunds("authorizenet") if r.batch_id)
    # Refunds wait for the charge's settlement, as Authorize.Net requires (unless history ends first).
    for r in led.refunds("authorizenet"):
        if r.created == NOW:
            continue
        charge = led.charge("authorizenet", r.charge_id)
        assert charge.batch_id and led.batch(charge.batch_id).settlement_time < r.created


# --- the ledger at runtime: what the stand-ins call ---
def test_refunds_above_what_remains_are_refused() -> None:
    led = Ledger(seed=3, now=NOW)
    c = led.add_charge("stripe", amount_minor=5000, currency="usd", created=NOW, order_id=42)
    assert c.currency == "USD" and c.metadata == {"order_id": "42"}
    first = led.add_refund("stripe", c.id, 3000, created=NOW + 1)
    assert first.id.startswith("re_3") and c.remaining_minor == 2000
    with pytest.raises(RefundExceedsRemaining) as info:
        led.add_refund("stripe", c.id, 2001, created=NOW + 2)
    assert (info.value.requested_minor, info.value.remaining_minor, info.value.code) == (
        2001,
        2000,
        "refund_exceeds_remaining",
    )
    assert "2001" in str(info.value) and "2000" in str(info.value)
    assert len(c.refunds) == 1  # nothing half-written
    rest = led.add_refund("stripe", c.payment_intent_id, None, created=NOW + 3)  # by intent, the rest
    assert rest.amount_minor == 2000 and c.refunded
    with pytest.raises(RefundExceedsRemaining):
        led.add_refund("stripe", c.id, 1, created=NOW + 4)
    with pytest.raises(InvalidAmount):
        led.add_refund(
            "paypal",
            led.add_charge("paypal", amount_minor=100, currency="USD", created=NOW).id,
            0,
            created=NOW,
        )


def test_refund_of_a_charge_that_cannot_be_refunded() -> None:
    led = Ledger(seed=3, now=NOW)
    failed = led.add_charge("square", amount_minor=900, currency="USD", created=NOW, status="failed")
    assert failed.failure_code == "card_declined" and failed.decline_code == "generic_decline"
    with pytest.raises(InvalidState) as info:
        led.add_refund("square", failed.id, created=NOW)
    assert info.value.code == "charge_failed"
    auth = led.add_charge("authorizenet", amount_minor=900, currency="USD", created=NOW, captured=False)
    with pytest.raises(InvalidState, match="not captured"):
        led.add_refund("authorizenet", auth.id, created=NOW)
    disputed = led.add_charge("stripe", amount_minor=900, currency="USD", created=NOW)
    led.add_dispute("stripe", disputed.id, created=NOW + 5)
    with pytest.raises(InvalidState) as info:
        led.add_refund("stripe", disputed.id, created=NOW + 6)
    assert info.value.code == "charge_disputed"
    with pytest.raises(NotFound):
        led.add_refund("stripe", "ch_nope", created=NOW)
    with pytest.raises(LedgerError) as bad:
        led.add_charge("venmo", amount_minor=1, currency="USD", created=NOW)
    assert bad.value.code == "unknown_gateway"


def test_runtime_charges_join_queries_payouts_and_batches() -> None:
    w = build_world(seed=12, products=20, customers=20, orders=400, end=NOW)
    led = w.ledger
    before = len(led.charges("stripe"))
    at = NOW + 3600
    c = led.add_charge("stripe", amount_minor=2599, currency="USD", created=at, order_id=999_999)
    earlier = led.add_charge("stripe", amount_minor=100, currency="USD", created=at - 10)
    listed = led.charges("stripe", created_gte=at - 10, created_lt=at + 1)
    assert listed == [earlier, c]  # creation order, window half-open
    assert len(led.charges("stripe")) == before + 2
    assert led.find_charge("stripe", c.payment_intent_id) is c
    assert led.charges_for_order("stripe", 999_999) == [c]
    with pytest.raises(LedgerError) as dup:
        led.add_charge("stripe", amount_minor=1, currency="USD", created=at, charge_id=c.id)
    assert dup.value.code == "duplicate_id"
    # Two days later the charge is available; the next midnight pays it out.
    led.advance(at + 3 * DAY)
    assert c.payout_id and led.payout("stripe", c.payout_id).status == "in_transit"
    led.advance(at + 6 * DAY)
    assert led.payout("stripe", c.payout_id).status == "paid"
    # Authorize.Net: an authorisation waits for its capture, then settles at the next cutoff.
    auth = led.add_charge("authorizenet", amount_minor=1234, currency="USD", created=at, captured=False)
    led.advance(at + 2 * DAY)
    assert not auth.batch_id and auth in led.unsettled()
    led.capture("authorizenet", auth.id, at=at + 2 * DAY + 60)
    assert auth.captured and auth.fee_minor == 66
    led.advance(at + 4 * DAY)
    assert auth.batch_id and auth in led.batch(auth.batch_id).charges
    with pytest.raises(InvalidState):
        led.capture("authorizenet", auth.id, at=at + 5 * DAY)


def test_new_ids_are_unique_and_deterministic() -> None:
    a, b = Ledger(seed=5), Ledger(seed=5)
    ids_a = [
        a.new_id(g, "refund") for g in ("stripe", "paypal", "square", "authorizenet") for _ in range(200)
    ]
    ids_b = [
        b.new_id(g, "refund") for g in ("stripe", "paypal", "square", "authorizenet") for _ in range(200)
    ]
    assert ids_a == ids_b and len(set(ids_a)) == len(ids_a)
    assert a.square_location_ids == b.square_location_ids
    with pytest.raises(ValueError):
        a.new_id("authorizenet", "payout")


def test_disputes_move_the_balance_and_come_back_when_won() -> None:
    led = Ledger(seed=2, now=NOW)
    c = led.add_charge("stripe", amount_minor=10_000, currency="USD", created=NOW)
    d = led.add_dispute("stripe", c.id, created=NOW + DAY, reason="product_not_received")
    assert d.status == "open" and d.fee_minor == 1500
    withdrawal = led.balance_entry("stripe", d.balance_transaction_ids[0])
    assert (withdrawal.amount_minor, withdrawal.fee_minor, withdrawal.net_minor) == (-10_000, 1500, -11_500)
    with pytest.raises(InvalidState):
        led.add_dispute("stripe", c.id, created=NOW + DAY)
    led.resolve_dispute("stripe", d.id, "won", at=NOW + 20 * DAY)
    back = led.balance_entry("stripe", d.balance_transaction_ids[1])
    assert back.type == "dispute_reversal" and back.amount_minor == 10_000
    with pytest.raises(InvalidState):
        led.resolve_dispute("stripe", d.id, "lost", at=NOW + 21 * DAY)
    anet = led.add_charge("authorizenet", amount_minor=100, currency="USD", created=NOW)
    with pytest.raises(InvalidState) as info:
        led.add_dispute("authorizenet", anet.id, created=NOW)
    assert info.value.code == "unsupported"


def test_paypal_returns_the_percentage_part_of_its_fee_on_refunds() -> None:
    led = Ledger(seed=2, now=NOW)
    c = led.add_charge("paypal", amount_minor=10_000, currency="USD", created=NOW)
    assert c.fee_minor == 349 + 49
    part = led.add_refund("paypal", c.id, 4000, created=NOW + 1)
    rest = led.add_refund("paypal", c.id, None, created=NOW + 2)
    assert (part.fee_returned_minor, rest.fee_returned_minor) == (140, 209)  # the 49 fixed part is kept
    s = led.add_charge("stripe", amount_minor=10_000, currency="USD", created=NOW)
    assert led.add_refund("stripe", s.id, created=NOW + 1).fee_returned_minor == 0


def test_a_stripe_charge_in_another_currency_settles_converted() -> None:
    led = Ledger(seed=2, currency="USD", now=NOW)
    c = led.add_charge("stripe", amount_minor=10_000, currency="EUR", created=NOW)
    assert c.settlement_currency == "USD" and c.exchange_rate == Decimal("1.08")
    assert c.settlement_amount_minor == 10_800 and c.fee_minor == 313 + 30
    entry = led.balance_entry("stripe", c.balance_transaction_id)
    assert (entry.currency, entry.amount_minor) == ("USD", 10_800)


def test_metadata_given_by_a_stand_in_names_the_order() -> None:
    led = Ledger(seed=2, now=NOW)
    pp = led.add_charge(
        "paypal", amount_minor=100, currency="USD", created=NOW, metadata={"invoice_id": "WC-77"}
    )
    sq = led.add_charge(
        "square", amount_minor=100, currency="USD", created=NOW, metadata={"reference_id": "78"}
    )
    none = led.add_charge("stripe", amount_minor=100, currency="USD", created=NOW, metadata={"note": "x"})
    assert (pp.order_id, sq.order_id, none.order_id) == (77, 78, None)
    assert led.find_charge("paypal", pp.paypal_order_id) is pp
    assert led.find_charge("square", sq.square_order_id) is sq
