"""Single-record routes answer unknown ids, taken emails and creates with an id as WooCommerce's source does.

Sources: `WC_REST_CRUD_Controller::{get,update,delete,create}_item` (404 / 400 / 404 / `_exists`),
`WC_REST_Customers_V1_Controller` (`permissions_check` looks the user up first: `wc_user_invalid_id` 404;
`update_item`: `woocommerce_rest_customer_invalid_email`), the variations controller's
`update_item_permissions_check` (another product's variation), and WordPress validating a dispatched
request's body before any of them.
"""

from __future__ import annotations

import pytest


def _error(code: str, message: str, status: int) -> dict:
    return {"code": code, "message": message, "data": {"status": status}}


@pytest.fixture
def variable(fresh_sb):
    return next(p for p in fresh_sb.world.products.values() if p.type == "variable")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/products/999999", "woocommerce_rest_product_invalid_id"),
        ("/orders/999999", "woocommerce_rest_shop_order_invalid_id"),
        ("/products/{pid}/variations/999999", "woocommerce_rest_product_variation_invalid_id"),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "POST"])
def test_update_of_an_unknown_id_is_400(fresh_client, variable, path, code, method) -> None:
    r = fresh_client.request(method, path.format(pid=variable.id), json={"name": "x"})
    assert r.status_code == 400
    assert r.json() == _error(code, "Invalid ID.", 400)


def test_unknown_customer_is_wc_user_invalid_id_on_every_method(fresh_sb, fresh_client, make_api) -> None:
    gone = _error("wc_user_invalid_id", "Invalid user ID.", 404)
    for method, params in (("GET", {}), ("PUT", {}), ("DELETE", {"force": "true"}), ("DELETE", {})):
        r = fresh_client.request(
            method, "/customers/999999", params=params, json={} if method == "PUT" else None
        )
        assert (r.status_code, r.json()) == (404, gone), (method, params)  # not 501: the lookup comes first
    assert make_api(fresh_sb).get("customers/999999").json()["code"] == "wc_user_invalid_id"


def test_body_is_validated_before_the_id_is_looked_up(fresh_client) -> None:
    r = fresh_client.put("/products/999999", json={"regular_price": 12.5})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"
    r = fresh_client.put("/customers/999999", json={"first_name": ["not", "a", "string"]})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"


def test_variation_of_another_product_cannot_be_updated(fresh_sb, fresh_client, variable) -> None:
    other = next(p for p in fresh_sb.world.products.values() if p.id != variable.id and p.type == "simple")
    vid = variable.variation_ids[0]
    r = fresh_client.put(f"/products/{other.id}/variations/{vid}", json={"regular_price": "1.00"})
    assert r.status_code == 403
    assert r.json() == _error(
        "woocommerce_rest_cannot_edit", "Parent product does not match current variation.", 403
    )
    assert fresh_sb.world.variations[vid].regular_cents != 100


def test_customer_update_with_a_taken_email(fresh_sb, fresh_client, make_api) -> None:
    a, b = sorted(fresh_sb.world.customers)[:2]
    email_a, email_b = fresh_sb.world.customers[a].email, fresh_sb.world.customers[b].email
    taken = _error("woocommerce_rest_customer_invalid_email", "Email address is invalid.", 400)
    r = fresh_client.put(f"/customers/{b}", json={"email": email_a})
    assert (r.status_code, r.json()) == (400, taken)
    # email_exists() ignores case, the comparison with the customer's own email does not.
    r = fresh_client.put(f"/customers/{b}", json={"email": email_b.upper()})
    assert (r.status_code, r.json()) == (400, taken)
    assert fresh_client.put(f"/customers/{b}", json={"email": email_b}).status_code == 200
    assert make_api(fresh_sb).put(f"customers/{b}", {"email": email_a}).json()["code"] == taken["code"]
    r = fresh_client.put(f"/customers/{b}", json={"username": "someone-else"})
    assert r.json() == _error("woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400)
    assert fresh_sb.world.customers[b].email == email_b
    fresh = fresh_client.put(f"/customers/{b}", json={"email": "brand.new@example.org"})
    assert fresh.status_code == 200 and fresh.json()["email"] == "brand.new@example.org"
    # The old address is free again.
    assert fresh_client.put(f"/customers/{a}", json={"email": email_b}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        ("/products", {"name": "x"}, "woocommerce_rest_product_exists", "Cannot create existing product."),
        ("/orders", {}, "woocommerce_rest_shop_order_exists", "Cannot create existing shop_order."),
        (
            "/customers",
            {"email": "exists@example.org"},
            "woocommerce_rest_customer_exists",
            "Cannot create existing resource.",
        ),
        (
            "/products/{pid}/variations",
            {"regular_price": "1.00"},
            "woocommerce_rest_product_variation_exists",
            "Cannot create existing product_variation.",
        ),
    ],
)
def test_create_with_an_id_is_refused(fresh_sb, fresh_client, variable, path, body, code, message) -> None:
    url = path.format(pid=variable.id)
    counts = {k: len(v) for k, v in (("p", fresh_sb.world.products), ("o", fresh_sb.world.orders))}
    r = fresh_client.post(url, json={**body, "id": 12})
    assert (r.status_code, r.json()) == (400, _error(code, message, 400))
    assert counts == {k: len(v) for k, v in (("p", fresh_sb.world.products), ("o", fresh_sb.world.orders))}
    assert fresh_client.post(url, json={**body, "id": "0"}).status_code == 201  # PHP empty(): created


def test_create_checks_required_fields_before_the_id(fresh_client, make_api, fresh_sb) -> None:
    r = fresh_client.post("/customers", json={"id": 5})
    assert r.status_code == 400 and r.json()["code"] == "rest_missing_callback_param"
    r = make_api(fresh_sb).post("products", {"id": 5, "name": "x"})
    assert r.json()["code"] == "woocommerce_rest_product_exists"
