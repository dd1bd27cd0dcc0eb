"""The Stripe stand-in as a sandbox service: registration, what `describe()` prints, the saved block, and the
admin endpoints (answer key, received requests, clock, objects)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from stripe_sandbox import stripe_sdk

from deployments.commands import sandbox as cmd
from sandbox.server import SERVICES, Sandbox, run_sandbox
from sandbox.world import DEFAULT_END


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("woocommerce", "stripe"), products=10, customers=10, orders=150, seed=6,
                     now=DEFAULT_END) as s:  # fmt: skip
        yield s


def test_registered_after_woocommerce() -> None:
    assert list(SERVICES)[:2] == ["woocommerce", "stripe"]


def test_describe_prints_the_base_url_admin_url_and_exactly_the_keys(sb: Sandbox) -> None:
    entry = sb.describe()["stripe"]
    assert set(entry) == {"base_url", "admin_url", "api_key", "webhook_secret"}
    assert entry["api_key"].startswith("sk_test_") and entry["webhook_secret"].startswith("whsec_")
    assert entry["admin_url"] == entry["base_url"] + "/_sandbox"
    with run_sandbox(
        services=("stripe",), products=10, customers=10, orders=150, seed=6, now=DEFAULT_END
    ) as again:
        assert again.credentials["stripe"] == sb.credentials["stripe"]  # deterministic from the seed


def test_both_services_render_one_world(sb: Sandbox) -> None:
    order = next(
        o for o in sb.world.orders.values()
        if o.payment_method == "stripe" and o.status == "completed" and o.transaction_id.startswith("ch_")
        and not o.refunds
    )  # fmt: skip
    ch = stripe_sdk(sb).v1.charges.retrieve(order.transaction_id)
    assert ch.metadata.to_dict() == {"order_id": str(order.id)} and ch.amount == order.total_cents


def test_admin_endpoints(sb: Sandbox) -> None:
    admin = sb.admin_url("stripe")
    key = httpx.get(admin + "/answer-key", params={"gateway": "stripe"}).json()
    assert key["items"] and all(k["gateway"] == "stripe" for k in key["items"])
    info = httpx.get(admin + "/stripe").json()
    assert info["account_id"].startswith("acct_") and info["counts"]["charges"] > 10
    client = stripe_sdk(sb)
    pi = client.v1.payment_intents.create(
        params={"amount": 1234, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True},
        options={"idempotency_key": "admin-check"},
    )
    client.v1.refunds.create(params={"payment_intent": pi.id}, options={"idempotency_key": "admin-refund"})
    got = httpx.get(admin + "/stripe/received", params={"kind": "payment_intent,refund"}).json()
    assert [(r["kind"], r["idempotency_key"]) for r in got[-2:]] == [
        ("payment_intent", "admin-check"),
        ("refund", "admin-refund"),
    ]
    assert got[-1]["payment_intent"] == pi.id and got[-1]["amount"] == 1234
    obj = httpx.get(admin + f"/stripe/objects/{pi.latest_charge}").json()
    assert obj["object"] == "charge" and obj["refunded"] is True
    assert httpx.get(admin + "/stripe/objects/ch_nope").status_code == 404
    before = httpx.get(admin + "/stripe").json()["now"]
    moved = httpx.post(admin + "/stripe/advance", json={"seconds": 7200}).json()
    assert moved["now"] >= before + 7200
    assert httpx.post(admin + "/stripe/advance", json={"seconds": -5}).status_code == 400
    assert httpx.post(admin + "/stripe/disputes", json={"charge": "ch_nope"}).status_code == 404


def test_save_blocks_saves_a_stripe_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    from blocks.stripe import StripeGateway
    from blocks.woocommerce import WooCommerceStore

    saved: dict[str, object] = {}
    monkeypatch.setattr(
        StripeGateway, "save", lambda self, name, overwrite=False: saved.update(block=self, name=name)
    )
    monkeypatch.setattr(WooCommerceStore, "save", lambda self, name, overwrite=False: None)
    with run_sandbox(services=("woocommerce", "stripe"), products=3, customers=2, orders=2, tls=True) as tls:
        lines = cmd._save_blocks(tls, "sandbox")
        block = saved["block"]
        assert isinstance(block, StripeGateway)
        assert lines[-1] == "stripe: StripeGateway/sandbox" and saved["name"] == "sandbox"
        assert block.secret_key.get_secret_value() == tls.credentials["stripe"]["api_key"]
        assert block.ca_bundle == tls.ca_file and str(block.base_url).rstrip("/") == tls.urls["stripe"]
        assert block.client().v1.balance.retrieve().object == "balance"
