"""The seeded world: deterministic, sized by parameters, every status and gateway, realistic ids."""

from __future__ import annotations

import re

from sandbox.world import CARD_GATEWAYS, ORDER_STATUSES, build_world


def test_same_seed_same_world() -> None:
    a = build_world(seed=5, products=50, customers=20, orders=80)
    b = build_world(seed=5, products=50, customers=20, orders=80)
    c = build_world(seed=6, products=50, customers=20, orders=80)
    assert a == b
    assert a != c


def test_sizes_and_variations() -> None:
    w = build_world(seed=2, products=500, customers=40, orders=10)
    assert (len(w.products), len(w.customers), len(w.orders)) == (500, 40, 10)
    variable = [p for p in w.products.values() if p.type == "variable"]
    assert 0.05 < len(variable) / 500 < 0.16
    assert all(3 <= len(p.variation_ids) <= 6 for p in variable)
    assert all(w.variations[v].parent_id == p.id for p in variable for v in p.variation_ids)


def test_orders_cover_every_status_and_gateway() -> None:
    w = build_world(seed=3, products=100, customers=50, orders=2000)
    assert {o.status for o in w.orders.values()} == set(ORDER_STATUSES)
    assert {o.payment_method for o in w.orders.values()} >= set(CARD_GATEWAYS) | {"bacs", "cod"}
    assert any(o.refunds for o in w.orders.values())
    assert all(o.refunded_cents == o.total_cents for o in w.orders.values() if o.status == "refunded")


def test_gateway_fields_for_reconciliation() -> None:
    shapes = {
        "stripe": r"^(ch|pi)_3[A-Za-z0-9]{23}$",
        "ppcp-gateway": r"^[A-Z0-9]{17}$",
        "square_credit_card": r"^[A-Za-z0-9]{29}$",
        "authorize_net_cim_credit_card": r"^\d{11}$",
    }
    w = build_world(seed=4, products=50, customers=30, orders=600)
    paid = w.paid_orders()
    assert paid
    for o in paid:
        assert re.match(shapes[o.gateway], o.transaction_id), (o.gateway, o.transaction_id)
        assert o.amount_minor == o.total_cents > 0 and o.currency == "USD"
        assert o.paid is not None and o.paid >= o.created
    assert len({o.transaction_id for o in paid}) == len(paid)
    for o in w.orders.values():
        if o.payment_method in ("bacs", "cod"):
            assert o.transaction_id == ""


def test_empty_world() -> None:
    w = build_world(seed=1, products=0, customers=0, orders=0)
    assert not w.products and not w.orders
