"""The seeded world: deterministic, sized by parameters, every status and gateway, realistic ids."""

from __future__ import annotations

import re

import pytest

from sandbox.contacts import _EMAIL_CODES, EMAIL_FLAGS, SMS_FLAGS, is_valid_email, is_valid_phone
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
    # No planted discrepancies: a planted currency mismatch at Square or Authorize.Net changes the order.
    w = build_world(seed=4, products=50, customers=30, orders=600, discrepancy_rate=0)
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


def test_history_ends_at_end() -> None:
    end = 1_795_000_000
    w = build_world(seed=6, products=30, customers=30, orders=3000, end=end)
    assert w.now == end
    for o in w.orders.values():
        assert o.created < end and o.modified <= end
        assert all(t is None or t <= end for t in (o.paid, o.completed))
        assert all(r.created <= end for r in o.refunds)
    assert max(o.created for o in w.orders.values()) > end - 3 * 86400  # recent activity
    assert min(o.created for o in w.orders.values()) >= end - 2 * 365 * 86400
    assert build_world(seed=6, products=5, customers=5, orders=5, end=end) != build_world(
        seed=6, products=5, customers=5, orders=5, end=end + 60
    )


def test_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="discrepancy_rate"):
        build_world(discrepancy_rate=1.5)
    with pytest.raises(ValueError, match="contact_flag_rate"):
        build_world(contact_flag_rate=-0.1)


@pytest.mark.parametrize(
    ("products", "share", "variable"),
    [(5000, 0.1962, 981), (500, 0.10, 50), (7, 0.5, 4), (40, 0.0, 0), (40, 1.0, 40), (0, 0.3, 0)],
)
def test_variable_share_is_an_exact_count(products, share, variable) -> None:
    w = build_world(seed=9, products=products, customers=1, orders=1, variable_share=share)
    kinds = [p.type for p in w.products.values()]
    assert (kinds.count("variable"), len(kinds)) == (variable, products)
    assert len(w.variations) == sum(len(p.variation_ids) for p in w.products.values())
    assert all(3 <= len(p.variation_ids) <= 6 for p in w.products.values() if p.type == "variable")


def test_same_seed_and_share_same_world() -> None:
    def world(seed: int, share: float) -> object:
        return build_world(seed=seed, products=300, customers=20, orders=60, variable_share=share)

    assert world(3, 0.25) == world(3, 0.25)
    assert world(3, 0.25) != world(3, 0.26) and world(3, 0.25) != world(4, 0.25)
    assert build_world(seed=3) == build_world(seed=3, variable_share=0.10)  # 0.10 is the default


def test_variable_share_is_checked() -> None:
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match="variable_share must be between 0 and 1"):
            build_world(variable_share=bad)


# --- contacts ---
def test_every_contact_has_a_phone_and_registered_orders_share_it() -> None:
    w = build_world(seed=7, products=20, customers=300, orders=1500, contact_flag_rate=0)
    phones = [c.phone for c in w.customers.values()]
    phones += [o.billing_phone for o in w.orders.values() if o.customer_id == 0]
    assert all(is_valid_phone(p) and re.fullmatch(r"\+1[2-9]\d\d55501\d\d", p) for p in phones)
    assert len(set(phones)) == len(phones)
    for o in w.orders.values():
        if o.customer_id:
            c = w.customers[o.customer_id]
            assert (o.billing_phone, o.billing_email) == (c.phone, c.email)
    assert [k for k in w.answer_key() if k["category"] == "contact"] == []
    assert all(w.contact_flags(p) is None for p in phones)


def test_contact_flags_are_on_the_records_and_in_the_key() -> None:
    w = build_world(seed=8, products=20, customers=300, orders=1500)
    key = [k for k in w.answer_key() if k["category"] == "contact"]
    assert {(k["channel"], k["flag"]) for k in key} == {("sms", f) for f in SMS_FLAGS} | {
        ("email", f) for f in EMAIL_FLAGS
    }
    on_records = []
    for c in w.customers.values():
        if c.phone_flag:
            on_records.append(("sms", c.phone, c.phone_flag, c.phone_error_code))
        if c.email_flag:
            on_records.append(("email", c.email, c.email_flag, _EMAIL_CODES[c.email_flag]))
    for o in w.orders.values():
        if o.billing_phone_flag:
            assert o.customer_id == 0
            on_records.append(("sms", o.billing_phone, o.billing_phone_flag, o.billing_phone_error_code))
        if o.billing_email_flag:
            assert o.customer_id == 0
            on_records.append(
                ("email", o.billing_email, o.billing_email_flag, _EMAIL_CODES[o.billing_email_flag])
            )
    assert sorted(on_records) == sorted(
        (k["channel"], k["recipient"], k["flag"], k["error_code"]) for k in key
    )
    for k in key:
        flag = w.contact_flags(k["recipient"])
        assert flag is not None and (flag.channel, flag.flag, flag.error_code) == (
            k["channel"],
            k["flag"],
            k["error_code"],
        )
        assert w.contact_flags(k["recipient"].upper()) == flag
        if k["flag"] == "invalid":
            assert not (is_valid_phone if k["channel"] == "sms" else is_valid_email)(k["recipient"])
        elif k["channel"] == "sms":
            assert is_valid_phone(k["recipient"])
        if k["flag"] == "unreachable":
            assert k["error_code"] in range(30003, 30009)
    assert 0.03 < len(key) / (len(w.customers) + sum(o.customer_id == 0 for o in w.orders.values())) < 0.07


def test_every_flag_at_the_default_demo_size() -> None:
    for seed in range(1, 6):
        w = build_world(seed=seed)
        flags = {(k["channel"], k["flag"]) for k in w.answer_key() if k["category"] == "contact"}
        assert len(flags) == len(SMS_FLAGS) + len(EMAIL_FLAGS), seed


@pytest.mark.parametrize(
    ("recipient", "channel", "expected"),
    [
        ("+447911123456", None, None),  # any well-formed number the world does not flag is deliverable
        ("+14155552671", "sms", None),
        ("12345", None, ("sms", "invalid", 21211)),
        ("+1555", None, ("sms", "invalid", 21211)),
        ("+11235550100", None, ("sms", "invalid", 21211)),  # NANP area codes do not start with 1
        ("someone@example.org", None, None),
        ("someone@example", None, ("email", "invalid", 400)),
        ("no-at-sign.example.org", "email", ("email", "invalid", 400)),
        ("a b@example.org", None, ("email", "invalid", 400)),
    ],
)
def test_contact_flags_for_any_recipient(recipient, channel, expected) -> None:
    w = build_world(seed=1, products=1, customers=1, orders=1)
    flag = w.contact_flags(recipient, channel)
    assert (flag and (flag.channel, flag.flag, flag.error_code)) == expected
