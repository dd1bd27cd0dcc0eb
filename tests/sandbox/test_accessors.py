"""The WooCommerce service's public accessors: what tests, benches and the demo use instead of its state."""

from __future__ import annotations

import pytest

from sandbox.woocommerce import WooCommerceService, WooError
from sandbox.world import build_world


@pytest.fixture
def wc() -> WooCommerceService:
    svc = WooCommerceService(build_world(seed=3, products=20, customers=8, orders=60))
    svc.on_started("http://127.0.0.1:1")
    return svc


def test_reading_accessors_agree_with_each_other(wc: WooCommerceService) -> None:
    ids = wc.ids("product")
    assert ids == sorted(ids) and len(ids) == 20
    assert [p.id for p in wc.records("product")] == ids
    pid = ids[3]
    rec = wc.record("product", pid)
    assert rec is not None and rec.id == pid
    doc = wc.record_json("product", pid)
    assert doc is not None and doc["id"] == pid and doc["sku"] == rec.sku
    assert wc.record("product", 10**9) is None
    assert wc.record_json("product", 10**9) is None and wc.record_bytes("product", 10**9) is None
    with pytest.raises(ValueError, match="kind must be one of"):
        wc.ids("products")


def test_record_bytes_are_what_the_api_serves(fresh_sb, fresh_client) -> None:  # type: ignore[no-untyped-def]
    pid = fresh_sb.call(fresh_sb.woocommerce.ids, "product")[0]
    served = fresh_client.get(f"/products/{pid}").content
    assert fresh_sb.call(fresh_sb.woocommerce.record_bytes, "product", pid) == served


def test_writes_take_ids(wc: WooCommerceService) -> None:
    pid = wc.create("product", {"name": "Kettle", "regular_price": "30.00", "sku": "KET-1"})
    assert wc.record_json("product", pid)["price"] == "30.00"  # type: ignore[index]
    wc.update("product", pid, {"name": "Kettle 2"})
    assert wc.record_json("product", pid)["name"] == "Kettle 2"  # type: ignore[index]
    wc.trash("product", pid)
    assert wc.record("product", pid).status == "trash"
    wc.restore("product", pid)
    assert wc.record("product", pid).status == "draft"
    gone = wc.delete("product", pid, force=True)
    assert gone["id"] == pid and pid not in wc.ids("product")


def test_writes_to_an_unknown_id_raise_the_stores_error(wc: WooCommerceService) -> None:
    for call in (
        lambda: wc.update("product", 10**9, {"name": "x"}),
        lambda: wc.delete("order", 10**9, force=True),
        lambda: wc.trash("order", 10**9),
        lambda: wc.create_refund(10**9, {"amount": "1.00"}),
    ):
        with pytest.raises(WooError, match="Invalid ID"):
            call()


def test_touch_sets_date_modified(wc: WooCommerceService) -> None:
    pid = wc.ids("product")[0]
    assert wc.touch("product", [pid, 10**9], at=1_900_000_000, webhooks=False) == [pid]
    assert wc.record_json("product", pid)["date_modified_gmt"] == "2030-03-17T17:46:40"  # type: ignore[index]


def test_invalidate_after_a_direct_edit(wc: WooCommerceService) -> None:
    pid = wc.ids("product")[0]
    before = wc.record_json("product", pid)["date_created_gmt"]  # type: ignore[index]
    wc.record("product", pid).created = 1_700_000_000
    assert wc.record_json("product", pid)["date_created_gmt"] == before, "served from the cache"
    wc.invalidate("product", [pid])
    assert wc.record_json("product", pid)["date_created_gmt"] == "2023-11-14T22:13:20"  # type: ignore[index]


def test_create_refund_takes_an_order_id(wc: WooCommerceService) -> None:
    planted = {item.get("order_id") for item in wc.world.answer_key()}  # e.g. a charged-back charge
    order = next(
        o
        for o in wc.records("order")
        if o.payment_method == "stripe"
        and o.transaction_id
        and o.paid is not None
        and o.total_cents - o.refunded_cents > 100
        and o.id not in planted
    )
    rid = wc.create_refund(order.id, {"amount": "1.00", "reason": "dent"})
    assert rid in [r.id for r in wc.record("order", order.id).refunds]
