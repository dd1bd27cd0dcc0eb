"""The batch endpoints item by item, as WooCommerce's `WC_REST_Controller::batch_items` answers them.

Each case is checked against WooCommerce's source (the controllers' `create_item`, `update_item` and
`delete_item`, and the setters they call); see the docstring of sandbox/woocommerce/batch.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.server import Sandbox
from sandbox.woocommerce.batch import php_int


def _batch(client: httpx.Client, path: str, **body: Any) -> Any:
    r = client.post(f"{path}/batch", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _error(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status, **data}}


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/products", "woocommerce_rest_product_invalid_id", "Invalid ID."),
        ("/orders", "woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
        ("/customers", "woocommerce_rest_invalid_id", "Invalid resource ID."),
    ],
    ids=["products", "orders", "customers"],
)
def test_update_of_an_unknown_id_is_a_400_inside_the_200(fresh_client, path, code, message) -> None:  # type: ignore[no-untyped-def]
    out = _batch(fresh_client, path, update=[{"id": 999_999, "name": "x"}])
    assert out == {"update": [{"id": 999_999, "error": _error(code, message, 400)}]}


def test_update_echoes_the_id_as_sent(fresh_client) -> None:  # type: ignore[no-untyped-def]
    out = _batch(fresh_client, "/products", update=[{"id": "999999"}, {"name": "no id"}, 7])
    invalid = _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)
    assert out["update"] == [
        {"id": "999999", "error": invalid},
        {"id": None, "error": invalid},
        {"id": None, "error": invalid},
    ]


def test_update_of_a_numeric_string_id_updates(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    pid = fresh_sb.call(fresh_sb.woocommerce.ids, "product")[0]
    (item,) = _batch(fresh_client, "/products", update=[{"id": str(pid), "name": "By string"}])["update"]
    assert item["id"] == pid and item["name"] == "By string"


def test_variation_ids_and_parents(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    wc = fresh_sb.woocommerce
    parent = fresh_sb.call(lambda: next(p for p in wc.records("product") if p.type == "variable"))
    vid = parent.variation_ids[0]
    via_products = _error(
        "woocommerce_rest_invalid_product_id",
        "To manipulate product variations you should use the "
        "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.",
        404,
    )
    out = _batch(fresh_client, "/products", update=[{"id": vid, "name": "x"}], delete=[vid])
    assert out == {
        "update": [{"id": vid, "error": via_products}],
        "delete": [{"id": vid, "error": via_products}],
    }
    out = _batch(
        fresh_client, f"/products/{parent.id}/variations", update=[{"id": 999_999}], delete=[999_998]
    )
    assert out["update"][0]["error"] == _error(
        "woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 400
    )
    assert out["delete"][0]["error"] == _error(
        "woocommerce_rest_product_variation_invalid_id", "Invalid ID.", 404
    )
    (ok,) = _batch(fresh_client, f"/products/{parent.id}/variations", update=[{"id": vid, "sku": "V-NEW"}])[
        "update"
    ]
    assert ok["id"] == vid and ok["sku"] == "V-NEW"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/products", _error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)),
        ("/orders", _error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)),
        ("/customers", _error("wc_user_invalid_id", "Invalid user ID.", 404)),
    ],
    ids=["products", "orders", "customers"],
)
def test_delete_of_an_unknown_id_is_a_404_inside_the_200(fresh_client, path, error) -> None:  # type: ignore[no-untyped-def]
    assert _batch(fresh_client, path, delete=[999_999]) == {"delete": [{"id": 999_999, "error": error}]}


def test_delete_ids_are_cast_like_php_and_zero_is_skipped(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    pid = fresh_sb.call(fresh_sb.woocommerce.ids, "product")[0]
    out = _batch(fresh_client, "/products", delete=[0, "abc", f"{pid}abc", None, {"id": 999_999}])
    # "abc", 0 and null cast to 0 and are skipped; "<pid>abc" is pid; an object casts to 1 (no record 1).
    assert [d["id"] for d in out["delete"]] == [pid, 1]
    assert "error" not in out["delete"][0] and out["delete"][1]["error"]["data"] == {"status": 404}
    assert fresh_sb.call(fresh_sb.woocommerce.record, "product", pid) is None
    r = fresh_client.post("/products/batch", json={"delete": [0, "0"]})
    assert r.status_code == 200 and r.content == b"[]", "nothing answered: PHP's empty array"


def test_php_int() -> None:
    cases = {"12": 12, " 12abc": 12, "abc": 0, "1e3": 1000, "-7.9": -7, "": 0, 3.9: 3, True: 1, None: 0}
    for value, want in cases.items():
        assert php_int(value) == want, value
    assert (php_int([]), php_int([5]), php_int({"id": 5})) == (0, 1, 1)


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/products", "woocommerce_rest_product_exists", "Cannot create existing product."),
        ("/orders", "woocommerce_rest_shop_order_exists", "Cannot create existing shop_order."),
        ("/customers", "woocommerce_rest_customer_exists", "Cannot create existing resource."),
    ],
    ids=["products", "orders", "customers"],
)
def test_create_with_an_id_is_refused(fresh_client, path, code, message) -> None:  # type: ignore[no-untyped-def]
    out = _batch(fresh_client, path, create=[{"id": 5, "name": "x", "email": "x@example.com"}])
    assert out == {"create": [{"id": 0, "error": _error(code, message, 400)}]}


def test_duplicate_sku_in_create_and_update(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    wc = fresh_sb.woocommerce
    a, b = fresh_sb.call(wc.ids, "product")[:2]
    sku = fresh_sb.call(wc.record, "product", a).sku
    out = _batch(
        fresh_client, "/products", create=[{"name": "dup", "sku": sku}], update=[{"id": b, "sku": sku}]
    )
    dup = _error("product_invalid_sku", "Invalid or duplicated SKU.", 400, resource_id=a, unique_sku=sku)
    assert out == {"create": [{"id": 0, "error": dup}], "update": [{"id": b, "error": dup}]}


def test_fields_are_coerced_not_validated(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    """No `rest_invalid_param` in a batch: the controller's setters coerce what WordPress would refuse."""
    wc = fresh_sb.woocommerce
    pid = fresh_sb.call(lambda: next(p.id for p in wc.records("product") if p.stock_quantity is not None))
    stock = fresh_sb.call(wc.record, "product", pid).stock_quantity
    body = {
        "status": "not-a-status",
        "name": 5,
        "regular_price": 12.5,
        "featured": "yes",
        "stock_quantity": None,
    }
    (item,) = _batch(fresh_client, "/products", update=[{"id": pid, **body}])["update"]
    assert (item["status"], item["name"], item["regular_price"], item["featured"]) == (
        "draft",
        "5",
        "12.50",
        True,
    )
    assert item["stock_quantity"] == stock, "null is unset: the field is left alone"
    (made,) = _batch(fresh_client, "/products", create=[{"name": "T", "type": "bogus", "tags": "x"}])[
        "create"
    ]
    assert made["type"] == "simple" and made["tags"] != "x"
    # The same body through a dispatched PUT is refused by WordPress's validation.
    single = fresh_client.put(f"/products/{pid}", json={"status": "not-a-status"})
    assert single.status_code == 400 and single.json()["code"] == "rest_invalid_param"


def test_setters_that_refuse_a_value(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    pid = fresh_sb.call(fresh_sb.woocommerce.ids, "product")[0]
    out = _batch(
        fresh_client,
        "/products",
        update=[
            {"id": pid, "tax_status": "bogus"},
            {"id": pid, "catalog_visibility": "nowhere"},
            {"id": pid, "type": "variation"},
        ],
    )
    assert [u["error"]["code"] for u in out["update"]] == [
        "product_invalid_tax_status",
        "product_invalid_catalog_visibility",
        "woocommerce_rest_invalid_product_id",
    ]
    assert out["update"][0]["error"] == _error(
        "product_invalid_tax_status", "Invalid product tax status.", 400
    )


def test_order_status_falls_back_to_pending(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    oid = fresh_sb.call(fresh_sb.woocommerce.ids, "order")[0]
    (item,) = _batch(fresh_client, "/orders", update=[{"id": oid, "status": "shipped"}])["update"]
    assert item["status"] == "pending"


def test_customer_items(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    wc = fresh_sb.woocommerce
    first, second = fresh_sb.call(lambda: list(wc.records("customer"))[:2])
    out = _batch(
        fresh_client,
        "/customers",
        create=[
            {"first_name": "No email"},
            {"email": "not-an-email"},
            {"email": first.email},
            {"email": "ok@example.org"},
        ],
        update=[{"id": second.id, "email": first.email}, {"id": second.id, "username": "someone-else"}],
    )
    codes = [c.get("error", {}).get("code") for c in out["create"]]
    assert codes == [
        "registration-error-invalid-email",
        "customer_invalid_email",
        "registration-error-email-exists",
        None,
    ]
    assert out["create"][1]["error"]["message"] == "Invalid email address"
    assert out["update"] == [
        {
            "id": second.id,
            "error": _error("woocommerce_rest_customer_invalid_email", "Email address is invalid.", 400),
        },
        {
            "id": second.id,
            "error": _error("woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400),
        },
    ]


def test_items_answer_in_request_order_with_successes_and_failures(fresh_sb: Sandbox, fresh_client) -> None:  # type: ignore[no-untyped-def]
    pid = fresh_sb.call(fresh_sb.woocommerce.ids, "product")[0]
    out = _batch(
        fresh_client, "/products", update=[{"id": 999_999}, {"id": pid, "name": "fine"}, {"id": 999_998}]
    )
    assert [u["id"] for u in out["update"]] == [999_999, pid, 999_998]
    assert "error" not in out["update"][1] and out["update"][1]["name"] == "fine"
