"""Writes: create/update/delete, batch limits and per-item errors, refunds, date_modified bumps."""

from __future__ import annotations

import httpx
import pytest

from sandbox.server import Sandbox
from sandbox.world import Order


def _stripe_refundable(sb: Sandbox) -> Order:
    """A completed Stripe order with no refunds whose charge the gateway can still refund (not planted)."""

    def find() -> Order:
        for o in sb.woocommerce.records("order"):
            if o.status == "completed" and not o.refunds and o.payment_method == "stripe":
                c = sb.world.ledger.find_charge("stripe", o.transaction_id)
                if c is not None and c.dispute is None and c.remaining_minor == o.total_cents:
                    return o
        raise LookupError("no refundable Stripe order")

    return sb.call(find)


def test_create_update_delete_product(fresh_sb, fresh_client) -> None:
    r = fresh_client.post("/products", json={"name": "Test Lamp", "regular_price": "19.99", "sku": "LAMP-1"})
    assert r.status_code == 201
    p = r.json()
    assert p["price"] == "19.99" and p["sku"] == "LAMP-1" and p["status"] == "publish"
    assert r.headers["Location"].endswith(f"/products/{p['id']}")
    before = p["date_modified_gmt"]
    wc = fresh_sb.woocommerce  # move it back 10 s, so the bump is visible within one second
    fresh_sb.call(
        wc.touch, "product", [p["id"]], at=wc.record("product", p["id"]).modified - 10, webhooks=False
    )
    u = fresh_client.put(f"/products/{p['id']}", json={"sale_price": "9.99", "description": "<p>New</p>"})
    assert u.status_code == 200
    assert u.json()["price"] == "9.99" and u.json()["on_sale"] is True
    assert u.json()["description"] == "<p>New</p>"
    assert u.json()["date_modified_gmt"] >= before
    assert fresh_sb.world.products[p["id"]].modified > fresh_sb.world.products[p["id"]].created - 10
    trashed = fresh_client.delete(f"/products/{p['id']}")
    assert trashed.json()["status"] == "trash"
    again = fresh_client.delete(f"/products/{p['id']}")
    assert again.status_code == 410 and again.json()["code"] == "woocommerce_rest_already_trashed"
    gone = fresh_client.delete(f"/products/{p['id']}", params={"force": "true"})
    assert gone.status_code == 200 and gone.json()["id"] == p["id"]
    assert fresh_client.get(f"/products/{p['id']}").status_code == 404


def test_update_bumps_date_modified_and_shows_in_incremental_query(fresh_sb, fresh_client) -> None:
    pid = sorted(fresh_sb.world.products)[0]
    old = fresh_sb.world.products[pid].modified
    fresh_client.put(f"/products/{pid}", json={"stock_quantity": 3})
    new = fresh_sb.world.products[pid].modified
    assert new > old
    stamp = fresh_client.get(f"/products/{pid}").json()["date_modified_gmt"]
    since = fresh_client.get(
        "/products", params={"modified_after": "2026-01-01T00:00:00", "dates_are_gmt": 1}
    )
    assert [p["id"] for p in since.json()] == [pid]
    assert since.json()[0]["date_modified_gmt"] == stamp


def test_duplicate_sku_and_bad_types(fresh_sb, fresh_client) -> None:
    sku = next(iter(fresh_sb.world.products.values())).sku
    r = fresh_client.post("/products", json={"name": "Dup", "sku": sku})
    assert r.status_code == 400 and r.json()["code"] == "product_invalid_sku"
    r = fresh_client.post("/products", json={"name": "Bad", "regular_price": 12.5})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    assert r.json()["data"]["params"] == {"regular_price": "regular_price is not of type string."}
    r = fresh_client.put(f"/products/{sorted(fresh_sb.world.products)[0]}", json={"status": "sold"})
    assert r.status_code == 400


def test_malformed_json(fresh_client) -> None:
    r = fresh_client.post("/products", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "rest_invalid_json"
    r = fresh_client.post("/products/batch", content=b"[1,2", headers={"content-type": "application/json"})
    assert r.status_code == 400


def test_customers(fresh_sb, fresh_client) -> None:
    r = fresh_client.post(
        "/customers", json={"email": "new@example.org", "first_name": "Ann", "billing": {"city": "Oslo"}}
    )
    assert r.status_code == 201
    c = r.json()
    assert c["billing"]["city"] == "Oslo"
    dup = fresh_client.post("/customers", json={"email": "NEW@example.org"})
    assert dup.status_code == 400 and dup.json()["code"] == "registration-error-email-exists"
    assert fresh_client.post("/customers", json={}).json()["code"] == "rest_missing_callback_param"
    assert (
        fresh_client.post("/customers", json={"email": "nope"}).json()["code"]
        == "registration-error-invalid-email"
    )
    upd = fresh_client.put(f"/customers/{c['id']}", json={"last_name": "Lee", "shipping": {"city": "Bergen"}})
    assert upd.json()["last_name"] == "Lee" and upd.json()["shipping"]["city"] == "Bergen"
    no_trash = fresh_client.delete(f"/customers/{c['id']}")
    assert no_trash.status_code == 501 and no_trash.json()["code"] == "woocommerce_rest_trash_not_supported"
    assert fresh_client.delete(f"/customers/{c['id']}", params={"force": "true"}).status_code == 200


def test_orders_create_set_paid_and_trash(fresh_sb, fresh_client) -> None:
    pid = next(p.id for p in fresh_sb.world.products.values() if p.type == "simple" and p.status == "publish")
    body = {
        "payment_method": "stripe",
        "transaction_id": "ch_3TESTTESTTESTTESTTESTTES",
        "set_paid": True,
        "billing": {"first_name": "Jo", "email": "jo@example.com"},
        "line_items": [{"product_id": pid, "quantity": 2}],
    }
    o = fresh_client.post("/orders", json=body).json()
    assert o["status"] == "processing" and o["date_paid_gmt"]
    assert o["line_items"][0]["quantity"] == 2
    assert o["created_via"] == "rest-api"
    bad = fresh_client.post("/orders", json={"line_items": [{"product_id": 999999, "quantity": 1}]})
    assert bad.status_code == 400
    assert fresh_client.put(f"/orders/{o['id']}", json={"status": "completed"}).json()["date_completed_gmt"]
    assert fresh_client.delete(f"/orders/{o['id']}").json()["status"] == "trash"
    trash = fresh_client.get("/orders", params={"status": "trash", "per_page": 100}).json()
    assert o["id"] in [x["id"] for x in trash]


def test_batch_limit_is_100_across_operations(fresh_client) -> None:
    body = {"create": [{"name": f"p{i}"} for i in range(60)], "update": [{"id": 1}] * 30, "delete": [1] * 11}
    r = fresh_client.post("/products/batch", json=body)
    assert r.status_code == 413
    assert r.json()["code"] == "woocommerce_rest_request_entity_too_large"
    ok = fresh_client.post("/products/batch", json={"create": [{"name": f"p{i}"} for i in range(100)]})
    assert ok.status_code == 200 and len(ok.json()["create"]) == 100


def test_batch_per_item_errors_inline(fresh_sb, fresh_client) -> None:
    ids = sorted(p.id for p in fresh_sb.world.products.values())
    sku = fresh_sb.world.products[ids[1]].sku
    body = {
        "create": [{"name": "ok", "sku": "NEW-1"}, {"name": "dup", "sku": sku}],
        "update": [{"id": ids[0], "regular_price": "5.00"}, {"id": 999999, "name": "x"}],
        "delete": [ids[2], 999998],
    }
    r = fresh_client.post("/products/batch", json=body)
    assert r.status_code == 200
    out = r.json()
    assert out["create"][0]["sku"] == "NEW-1"
    assert out["create"][1]["id"] == 0 and out["create"][1]["error"]["code"] == "product_invalid_sku"
    assert out["update"][0]["regular_price"] == "5.00"
    assert out["update"][1] == {
        "id": 999999,
        "error": {
            "code": "woocommerce_rest_product_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},  # update_item's code; a GET answers 404
        },
    }
    assert out["delete"][0]["id"] == ids[2]
    assert out["delete"][1]["error"]["data"]["status"] == 404
    assert ids[2] not in fresh_sb.world.products  # batch delete is permanent (force=true)


@pytest.mark.parametrize("resource", ["customers", "orders"])
def test_batch_other_resources_with_woocommerce_package(fresh_sb, make_api, resource) -> None:
    api = make_api(fresh_sb)
    some = sorted(getattr(fresh_sb.world, resource))[0]
    field = {"customers": {"first_name": "Batch"}, "orders": {"customer_note": "batch"}}[resource]
    r = api.post(f"{resource}/batch", {"update": [{"id": some, **field}]})
    assert r.status_code == 200, r.text
    (item,) = r.json()["update"]
    assert item["id"] == some and all(item[k] == v for k, v in field.items())


def test_variation_writes(fresh_sb, fresh_client) -> None:
    p = next(p for p in fresh_sb.world.products.values() if p.type == "variable")
    r = fresh_client.post(
        f"/products/{p.id}/variations",
        json={"regular_price": "30.00", "attributes": [{"name": "Size", "option": "XXXL"}]},
    )
    assert r.status_code == 201
    vid = r.json()["id"]
    assert vid in fresh_client.get(f"/products/{p.id}").json()["variations"]
    u = fresh_client.put(f"/products/{p.id}/variations/{vid}", json={"stock_quantity": 4})
    assert u.json()["stock_quantity"] == 4
    b = fresh_client.post(f"/products/{p.id}/variations/batch", json={"delete": [vid]})
    assert b.json()["delete"][0]["id"] == vid


def test_refunds(fresh_sb, fresh_client) -> None:
    o = _stripe_refundable(fresh_sb)
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00", "reason": "test"})
    assert r.status_code == 201 and r.json()["amount"] == "1.00" and r.json()["refunded_payment"] is True
    order = fresh_client.get(f"/orders/{o.id}").json()
    assert order["refunds"][0]["total"] == "-1.00"
    too_much = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "999999.00"})
    assert (
        too_much.status_code == 500
        and too_much.json()["code"] == "woocommerce_rest_cannot_create_order_refund"
    )
    rid = r.json()["id"]
    assert fresh_client.delete(f"/orders/{o.id}/refunds/{rid}").status_code == 501
    assert fresh_client.delete(f"/orders/{o.id}/refunds/{rid}", params={"force": "true"}).status_code == 200


def test_manual_refund_needed_for_bacs(fresh_sb, fresh_client) -> None:
    o = next(
        (
            o
            for o in fresh_sb.world.orders.values()
            if o.payment_method in ("bacs", "cod") and o.status in ("completed", "processing")
        ),
        None,
    )
    if o is None:
        pytest.skip("no bacs/cod order in this world")
    r = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00"})
    assert r.status_code == 500
    assert r.json()["message"] == "The payment gateway for this order does not support automatic refunds."
    ok = fresh_client.post(f"/orders/{o.id}/refunds", json={"amount": "1.00", "api_refund": False})
    assert ok.status_code == 201 and ok.json()["refunded_payment"] is False


def test_method_override(fresh_sb, fresh_client) -> None:
    pid = sorted(fresh_sb.world.products)[0]
    r = fresh_client.post(
        f"/products/{pid}", json={"name": "Renamed"}, headers={"X-HTTP-Method-Override": "PUT"}
    )
    assert r.json()["name"] == "Renamed"


def test_admin_mutations(fresh_sb) -> None:
    admin = fresh_sb.admin_url()
    pid = sorted(fresh_sb.world.products)[0]
    assert httpx.post(
        f"{admin}/woocommerce/products/touch", json={"ids": [pid], "at": "2031-01-01T00:00:00"}
    ).json() == {"touched": [pid]}
    assert (
        httpx.get(f"{admin}/woocommerce/products/{pid}").json()["date_modified_gmt"] == "2031-01-01T00:00:00"
    )
    assert httpx.post(f"{admin}/woocommerce/products/{pid}/trash", json={}).json()["status"] == "trash"
    assert httpx.post(f"{admin}/woocommerce/products/{pid}/restore", json={}).json()["status"] == "draft"
    assert (
        httpx.patch(f"{admin}/woocommerce/products/{pid}", json={"name": "Edited"}).json()["name"] == "Edited"
    )
    created = httpx.post(f"{admin}/woocommerce/customers", json={"email": "adm@example.com"}).json()
    assert created["email"] == "adm@example.com"
    assert httpx.delete(f"{admin}/woocommerce/customers/{created['id']}").status_code == 200
    touched = httpx.post(f"{admin}/woocommerce/orders/touch", json={"count": 5}).json()["touched"]
    assert len(touched) == 5
    assert httpx.post(f"{admin}/woocommerce/nope/touch", json={}).status_code == 404
    assert httpx.post(f"{admin}/woocommerce/products/touch", content=b"[").status_code == 400
    info = httpx.get(f"{admin}/woocommerce").json()
    assert info["counts"]["customers"] == len(fresh_sb.world.customers)


def test_woocommerce_package_writes(fresh_sb, make_api) -> None:
    api = make_api(fresh_sb)
    created = api.post("products", {"name": "Pkg", "type": "variable", "regular_price": "3.00"})
    assert created.status_code == 201
    pid = created.json()["id"]
    v = api.post(
        f"products/{pid}/variations",
        {"regular_price": "4.00", "attributes": [{"name": "Size", "option": "M"}]},
    )
    assert v.status_code == 201
    assert [x["id"] for x in api.get(f"products/{pid}/variations").json()] == [v.json()["id"]]
    assert api.put(f"products/{pid}", {"sale_price": "2.00"}).json()["price"] == "2.00"
    batch = api.post("products/batch", {"update": [{"id": pid, "name": "Pkg 2"}], "delete": [999999]})
    assert batch.json()["update"][0]["name"] == "Pkg 2"
    assert batch.json()["delete"][0]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert api.delete(f"products/{pid}", params={"force": True}).status_code == 200
    o = _stripe_refundable(fresh_sb)
    assert api.post(f"orders/{o.id}/refunds", {"amount": "0.50"}).status_code == 201
    c = api.post("customers", {"email": "pkg@example.com"}).json()
    assert api.delete(f"customers/{c['id']}", params={"force": True}).status_code == 200


def test_woocommerce_package_signs_slashes_like_no_store_accepts(shared_sb, make_api) -> None:
    """The PyPI client leaves `/` unescaped when signing; WooCommerce (and so the sandbox) escapes it."""
    api = make_api(shared_sb)
    assert api.get("products", params={"search": "a/b"}).status_code == 401
    assert api.get("products", params={"search": "a b"}).status_code == 200
