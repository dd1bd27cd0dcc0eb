"""The world's Stripe ledger as the API serves it: lists paged to the end in Stripe's order, time windows,
`expand[]`, balance transactions per payout, the seeded payment intents, and the answer key's Stripe items
visible where a reconciler would look."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stripe
from stripe_sandbox import stripe_http, stripe_sdk

from sandbox.ledger import DAY
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

# A read-only account: nothing here writes, so the ledger stays as generated.
SIZE = {"products": 30, "customers": 60, "orders": 900, "seed": 21, "now": DEFAULT_END}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("stripe",), **SIZE) as s:
        yield s


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> stripe.StripeClient:
    return stripe_sdk(sb)


def _key(sb: Sandbox, category: str) -> list[dict[str, object]]:
    doc = httpx.get(
        sb.admin_url("stripe") + "/answer-key", params={"gateway": "stripe", "category": category}
    )
    return doc.json()["items"]


def test_auto_paging_walks_a_window_of_charges_to_the_end(sb: Sandbox, client: stripe.StripeClient) -> None:
    gte, lt = DEFAULT_END - 200 * DAY, DEFAULT_END - 20 * DAY
    listed = client.v1.charges.list(params={"created": {"gte": gte, "lt": lt}, "limit": 7})
    seen = [c.id for c in listed.auto_paging_iter()]
    expected = sb.call(
        lambda: [c.id for c in sb.world.ledger.charges("stripe", created_gte=gte, created_lt=lt)]
    )
    assert len(expected) > 50 and seen == expected[::-1]  # all of them, newest first, none twice
    created = [
        c.created
        for c in client.v1.charges.list(params={"created": {"gte": gte, "lt": lt}, "limit": 100}).data
    ]
    assert created == sorted(created, reverse=True)
    assert all(gte <= t < lt for t in created)
    exact = client.v1.charges.list(params={"created": created[0]}).data
    assert exact and all(c.created == created[0] for c in exact)


def test_paging_backwards_with_ending_before(client: stripe.StripeClient) -> None:
    first = client.v1.charges.list(params={"limit": 30})
    middle = first.data[15].id
    newer = client.v1.charges.list(params={"ending_before": middle, "limit": 5})
    assert [c.id for c in newer.data] == [c.id for c in first.data[10:15]] and newer.has_more
    back = [
        c.id for c in client.v1.charges.list(params={"ending_before": middle, "limit": 4}).auto_paging_iter()
    ]
    assert back == [c.id for c in first.data[:15]][::-1]
    after = client.v1.charges.list(params={"starting_after": middle, "limit": 5})
    assert [c.id for c in after.data] == [c.id for c in first.data[16:21]]
    assert after.url == "/v1/charges" and after.object == "list"


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"limit": 0}, "limit", "This value must be greater than or equal to 1."),
        ({"limit": 101}, "limit", "This value must be less than or equal to 100 (it currently is '101')."),
        ({"limit": "ten"}, "limit", "Invalid integer: ten"),
        ({"starting_after": "ch_nope"}, "starting_after", "No such charge: 'ch_nope'"),
        ({"starting_after": "ch_a", "ending_before": "ch_b"}, "ending_before", "You may only specify one of"),
        ({"created": {"gte": "yesterday"}}, "created[gte]", "Invalid integer: yesterday"),
        ({"created": {"after": 1}}, "created[after]", "Received unknown parameter: created[after]"),
        (
            {"expand": ["balance_transaction"]},
            "expand",
            "This property cannot be expanded (balance_transaction)",
        ),
    ],
)
def test_bad_list_parameters(
    client: stripe.StripeClient, params: dict[str, object], param: str, message: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.charges.list(params=params)  # type: ignore[arg-type]
    assert exc.value.param == param and exc.value.user_message.startswith(message)


def test_expand_on_lists_and_objects(client: stripe.StripeClient) -> None:
    page = client.v1.charges.list(params={"limit": 5, "expand": ["data.balance_transaction"]})
    captured = [c for c in page.data if c.balance_transaction]
    assert captured and all(c.balance_transaction.object == "balance_transaction" for c in captured)
    assert all(c.balance_transaction.source == c.id for c in captured)
    pi_id = captured[0].payment_intent
    pi = client.v1.payment_intents.retrieve(pi_id, params={"expand": ["latest_charge.balance_transaction"]})
    assert (
        pi.latest_charge.object == "charge"
        and pi.latest_charge.balance_transaction.object == "balance_transaction"
    )
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.retrieve(pi_id, params={"expand": ["latest_charge.nope"]})
    assert exc.value.user_message == "This property cannot be expanded (latest_charge.nope)."


def test_seeded_payment_intents_read_as_stripe_serves_them(sb: Sandbox, client: stripe.StripeClient) -> None:
    orders = sb.call(
        lambda: [
            o
            for o in sb.world.orders.values()
            if o.payment_method == "stripe" and o.transaction_id.startswith("pi_")
        ]
    )
    paid = [o for o in orders if o.paid is not None and o.status in ("processing", "completed")]
    pi = client.v1.payment_intents.retrieve(paid[0].transaction_id)
    assert pi.status == "succeeded" and pi.latest_charge.startswith("ch_") and pi.amount_received == pi.amount
    assert pi.metadata.to_dict() == {"order_id": str(paid[0].id)}
    failed = [o for o in orders if o.status == "failed"]
    if failed:
        assert (
            client.v1.payment_intents.retrieve(failed[0].transaction_id).status == "requires_payment_method"
        )
    listed = [p.id for p in client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()]
    assert paid[0].transaction_id in listed and len(listed) == len(set(listed))


def test_payouts_and_their_balance_transactions(sb: Sandbox, client: stripe.StripeClient) -> None:
    payouts = list(client.v1.payouts.list(params={"limit": 100}).auto_paging_iter())
    assert len(payouts) == sb.call(lambda: len(sb.world.ledger.payouts("stripe")))
    mismatched = {k["gateway_id"] for k in _key(sb, "payout_mismatch")}
    checked = 0
    for p in payouts[:40] + [p for p in payouts if p.id in mismatched]:
        bts = list(
            client.v1.balance_transactions.list(params={"payout": p.id, "limit": 100}).auto_paging_iter()
        )
        own = [b for b in bts if b.type == "payout"]
        assert [b.id for b in own] == [p.balance_transaction] and own[0].amount == -p.amount
        paid_out = sum(b.net for b in bts if b.type != "payout")
        assert (paid_out != p.amount) == (p.id in mismatched), p.id
        checked += 1
    assert mismatched and checked > 10
    assert payouts[0].automatic is True and payouts[0].status in ("paid", "in_transit")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.balance_transactions.list(params={"payout": "po_1nope"})
    assert exc.value.param == "payout" and exc.value.http_status == 404


def test_balance_transactions_carry_fees_and_categories(client: stripe.StripeClient) -> None:
    charges = client.v1.balance_transactions.list(params={"type": "charge", "limit": 20}).data
    assert charges and all(b.reporting_category == "charge" and b.net == b.amount - b.fee for b in charges)
    fee = charges[0].fee_details[0]
    assert (fee.type, fee.amount, fee.description) == ("stripe_fee", charges[0].fee, "Stripe processing fees")
    refunds = client.v1.balance_transactions.list(params={"type": "refund", "limit": 5}).data
    assert refunds and all(b.amount < 0 and b.source.startswith("re_") for b in refunds)
    disputes = client.v1.balance_transactions.list(params={"type": "adjustment", "limit": 100}).data
    assert {b.reporting_category for b in disputes} <= {"dispute", "dispute_reversal"} and disputes
    one = client.v1.balance_transactions.retrieve(charges[0].id, params={"expand": ["source"]})
    assert one.source.object == "charge" and one.status in ("available", "pending")
    balance = client.v1.balance.retrieve()
    assert balance.available[0].currency == "usd" and balance.object == "balance"


def test_answer_key_items_are_visible_in_the_api(sb: Sandbox, client: stripe.StripeClient) -> None:
    (dispute,) = _key(sb, "open_dispute")[:1]
    d = client.v1.disputes.retrieve(dispute["gateway_id"])
    assert d.status == "needs_response" and d.balance_transactions[0].amount == -d.amount
    assert client.v1.charges.retrieve(d.charge).disputed is True
    assert d.id in [x.id for x in client.v1.disputes.list(params={"charge": d.charge}).data]
    for item in _key(sb, "missing_order"):
        ch = client.v1.charges.retrieve(item["gateway_id"])
        named = ch.metadata.to_dict().get("order_id")
        assert ch.status == "succeeded" and (named is None or int(named) not in sb.world.orders)
    for item in _key(sb, "duplicate_charge"):
        ch = client.v1.charges.retrieve(item["gateway_id"])
        twins = client.v1.charges.list(
            params={"limit": 100, "created": {"gte": ch.created - 3600, "lte": ch.created}}
        )
        assert sum(1 for c in twins.data if c.metadata.to_dict() == ch.metadata.to_dict() and c.paid) == 2
    for item in _key(sb, "refund_not_mirrored"):
        refund = client.v1.refunds.retrieve(item["gateway_id"])
        assert refund.status == "succeeded" and refund.charge
    for item in _key(sb, "amount_mismatch"):
        order = sb.world.orders[item["order_id"]]
        assert client.v1.charges.retrieve(item["gateway_id"]).amount != order.total_cents


def test_disputes_evidence_and_close(sb: Sandbox) -> None:
    with run_sandbox(services=("stripe",), **(SIZE | {"orders": 200})) as own:
        client = stripe_sdk(own)
        charge = own.call(
            lambda: next(
                c.id
                for c in own.world.ledger.charges("stripe", status="succeeded")
                if c.captured and c.dispute is None and not c.refunds
            )
        )
        opened = own.call(own.stripe.open_dispute, charge, reason="product_not_received")
        assert opened["status"] == "needs_response" and opened["reason"] == "product_not_received"
        d = client.v1.disputes.update(
            opened["id"],
            params={
                "evidence": {"product_description": "A lamp", "customer_name": "Ada"},
                "metadata": {"case": "1"},
            },
        )
        assert d.status == "under_review" and d.evidence.product_description == "A lamp"
        assert d.evidence_details.submission_count == 1 and d.evidence_details.has_evidence is True
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.disputes.update(d.id, params={"evidence": {"favourite_colour": "blue"}})
        assert exc.value.param == "evidence[favourite_colour]"
        closed = client.v1.disputes.close(d.id)
        assert closed.status == "lost"
        with pytest.raises(stripe.InvalidRequestError, match="already closed"):
            client.v1.disputes.close(d.id)
        events = [e.type for e in client.v1.events.list().data]
        assert events[:2] == ["charge.dispute.closed", "charge.dispute.updated"]


def test_api_payments_join_the_ledger_and_are_paid_out(sb: Sandbox) -> None:
    with run_sandbox(services=("stripe",), **(SIZE | {"orders": 100})) as own:
        client = stripe_sdk(own)
        pi = client.v1.payment_intents.create(
            params={
                "amount": 12_345,
                "currency": "usd",
                "payment_method": "pm_card_mastercard",
                "confirm": True,
                "metadata": {"order_id": "55555"},
            }
        )
        charge = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["balance_transaction"]})
        assert charge.balance_transaction.status == "pending"
        with stripe_http(own) as http:
            moved = http.post(
                own.admin_url("stripe")[len(own.urls["stripe"]) :] + "/stripe/advance", json={"days": 3}
            )
        assert moved.status_code == 200 and moved.json()["payouts_created"]
        payout = client.v1.payouts.retrieve(moved.json()["payouts_created"][-1])
        bts = client.v1.balance_transactions.list(params={"payout": payout.id, "limit": 100}).data
        assert charge.balance_transaction.id in [b.id for b in bts]
        assert client.v1.balance_transactions.retrieve(charge.balance_transaction.id).status == "available"
