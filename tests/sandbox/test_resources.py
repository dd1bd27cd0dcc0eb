"""Reads of every resource: shapes as WooCommerce 9 returns them, checked against OPTIONS schemas."""

from __future__ import annotations

import re

import httpx
import jsonschema
import pytest

from sandbox.world import ORDER_STATUSES

NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")


@pytest.fixture(scope="module")
def schemas(shared_sb) -> dict[str, dict]:
    base = shared_sb.urls["woocommerce"] + "/wp-json/wc/v3"
    out = {}
    for name, path in {
        "product": "/products",
        "variation": "/products/1/variations",
        "customer": "/customers",
        "order": "/orders",
        "refund": "/orders/1/refunds",
        "webhook": "/webhooks",
    }.items():
        r = httpx.options(base + path)
        assert r.status_code == 200
        out[name] = r.json()["schema"]
    return out


def _validate(schema: dict, obj: dict) -> None:
    jsonschema.validate(obj, schema, cls=jsonschema.Draft4Validator)
    extra = set(obj) - set(schema["properties"])
    assert not extra, f"fields missing from the schema: {extra}"


def test_options_lists_methods_args_and_schema(shared_sb) -> None:
    r = httpx.options(shared_sb.urls["woocommerce"] + "/wp-json/wc/v3/products")
    body = r.json()
    assert body["namespace"] == "wc/v3"
    assert body["methods"] == ["GET", "POST"]
    get_args = body["endpoints"][0]["args"]
    assert get_args["per_page"]["maximum"] == 100
    assert body["schema"]["$schema"].startswith("http://json-schema.org/draft-04")
    assert r.headers["Allow"] == "GET, POST"


def test_products_match_schema(client, schemas) -> None:
    for p in client.get("/products", params={"per_page": 100}).json():
        _validate(schemas["product"], p)
        assert MONEY.match(p["price"]) and MONEY.match(p["regular_price"])
        assert p["sale_price"] == "" or MONEY.match(p["sale_price"])
        assert NAIVE.match(p["date_modified_gmt"]) and NAIVE.match(p["date_created"])
        assert p["_links"]["self"][0]["href"].endswith(f"/wp-json/wc/v3/products/{p['id']}")


def test_product_json_is_realistic_size(client) -> None:
    r = client.get("/products", params={"per_page": 50})
    avg = len(r.content) / len(r.json())
    assert 2500 < avg < 5000
    assert "\\/" in r.text  # PHP escapes slashes


def test_variations_match_schema(shared_sb, client, schemas) -> None:
    p = next(p for p in shared_sb.world.products.values() if p.type == "variable")
    prod = client.get(f"/products/{p.id}").json()
    assert prod["variations"] == p.variation_ids
    for v in client.get(f"/products/{p.id}/variations").json():
        _validate(schemas["variation"], v)
        one = client.get(f"/products/{p.id}/variations/{v['id']}")
        assert one.json() == v
    wrong_parent = client.get(f"/products/{p.id + 100000}/variations/{p.variation_ids[0]}")
    assert wrong_parent.status_code == 404


def test_customers_match_schema(client, schemas) -> None:
    for c in client.get("/customers", params={"per_page": 100}).json():
        _validate(schemas["customer"], c)
        assert c["role"] == "customer" and "@" in c["email"]


def test_orders_match_schema_and_money_rules(client, schemas) -> None:
    seen_refund = False
    every_status = ",".join(ORDER_STATUSES)  # `any,trash` would leave trash out, as on a real store
    for o in client.get("/orders", params={"per_page": 100, "status": every_status}).json():
        _validate(schemas["order"], o)
        for f in ("total", "total_tax", "shipping_total", "cart_tax", "discount_total"):
            assert MONEY.match(o[f]), (f, o[f])
        for li in o["line_items"]:
            assert isinstance(li["price"], int | float) and not isinstance(li["price"], bool)
            assert isinstance(li["total"], str) and isinstance(li["quantity"], int)
            assert abs(li["price"] * li["quantity"] - float(li["total"])) < 0.01
        items = sum(float(li["total"]) + float(li["total_tax"]) for li in o["line_items"])
        assert abs(items + float(o["shipping_total"]) + float(o["shipping_tax"]) - float(o["total"])) < 0.01
        for rf in o["refunds"]:
            seen_refund = True
            assert rf["total"].startswith("-") and MONEY.match(rf["total"])
        assert o["date_paid_gmt"] is None or NAIVE.match(o["date_paid_gmt"])
    assert seen_refund


def test_refund_resource_amount_is_positive(shared_sb, client, schemas) -> None:
    o = next(o for o in shared_sb.world.orders.values() if o.refunds)
    refunds = client.get(f"/orders/{o.id}/refunds").json()
    assert len(refunds) == len(o.refunds)
    for rf in refunds:
        _validate(schemas["refund"], rf)
        assert not rf["amount"].startswith("-")
        assert client.get(f"/orders/{o.id}/refunds/{rf['id']}").json() == rf
    order = client.get(f"/orders/{o.id}").json()
    assert {r["total"] for r in order["refunds"]} == {"-" + r["amount"] for r in refunds}


def test_paid_orders_carry_gateway_transaction_ids(shared_sb, client) -> None:
    shapes = {
        "stripe": r"^(ch|pi)_[A-Za-z0-9]{24}$",
        "ppcp-gateway": r"^[A-Z0-9]{17}$",
        "square_credit_card": r"^[A-Za-z0-9]{29}$",
        "authorize_net_cim_credit_card": r"^\d{11}$",
    }
    orders = client.get("/orders", params={"per_page": 100, "status": "processing,completed"}).json()
    assert orders
    for o in orders:
        if o["payment_method"] in shapes:
            assert re.match(shapes[o["payment_method"]], o["transaction_id"]), o["transaction_id"]
            assert o["date_paid_gmt"]
        else:
            assert o["transaction_id"] == ""


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/products/999999", "woocommerce_rest_product_invalid_id"),
        ("/orders/999999", "woocommerce_rest_shop_order_invalid_id"),
        ("/customers/999999", "wc_user_invalid_id"),
        ("/orders/999999/refunds", "woocommerce_rest_invalid_order_id"),
        ("/webhooks/999999", "woocommerce_rest_webhook_invalid_id"),
        ("/nope", "rest_no_route"),
    ],
)
def test_unknown_ids_and_routes(client, path, code) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.json() == {"code": code, "message": r.json()["message"], "data": {"status": 404}}


def test_wrong_method_is_no_route(client) -> None:
    r = client.delete("/products")
    assert r.status_code == 404 and r.json()["code"] == "rest_no_route"


def test_non_api_path_is_an_html_404(shared_sb) -> None:
    r = httpx.get(shared_sb.urls["woocommerce"] + "/shop/")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


def test_index_lists_routes(shared_sb) -> None:
    r = httpx.get(shared_sb.urls["woocommerce"] + "/wp-json/wc/v3")
    routes = r.json()["routes"]
    for name in (
        "/wc/v3/products",
        "/wc/v3/orders/(?P<id>[\\d]+)",
        "/wc/v3/products/batch",
        "/wc/v3/webhooks",
        "/wc/v3/system_status",
        "/wc/v3/orders/(?P<order_id>[\\d]+)/refunds",
    ):
        assert name in routes
    root = httpx.get(shared_sb.urls["woocommerce"] + "/wp-json/").json()
    assert "wc/v3" in root["namespaces"]


def test_system_status(client, api) -> None:
    body = client.get("/system_status").json()
    assert body["environment"]["version"].startswith("9.")
    assert body["settings"]["currency"] == "USD"
    assert any(p["plugin"].startswith("woocommerce-gateway-stripe") for p in body["active_plugins"])
    assert api.get("system_status").json()["environment"]["home_url"] == body["environment"]["home_url"]


def test_every_route_answers_options_with_schema(shared_sb) -> None:
    base = shared_sb.urls["woocommerce"] + "/wp-json/wc/v3"
    for path in (
        "/products/1",
        "/products/batch",
        "/customers/2",
        "/orders/batch",
        "/webhooks/1",
        "/orders/5/refunds/6",
        "/products/1/variations/batch",
        "/system_status",
    ):
        body = httpx.options(base + path).json()
        assert body["schema"]["properties"], path


def test_woocommerce_package_reads_everything(shared_sb, api) -> None:
    p = next(iter(shared_sb.world.products))
    assert api.get(f"products/{p}").json()["id"] == p
    assert api.get("customers", params={"per_page": 5}).status_code == 200
    o = next(o for o in shared_sb.world.orders.values() if o.refunds)
    assert api.get(f"orders/{o.id}/refunds").json()[0]["id"] == o.refunds[-1].id
    assert api.options("products").json()["schema"]["title"] == "product"
    assert api.get("webhooks").json() == []
