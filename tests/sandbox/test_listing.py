"""Listing: pagination, headers, ordering, date bounds, filters, and their parameter errors."""

from __future__ import annotations

import math
import re

import httpx
import pytest

from sandbox.testing import woocommerce_client
from sandbox.world import ORDER_STATUSES


def test_totals_and_pages(shared_sb, client) -> None:
    world = shared_sb.world
    visible = [p for p in world.products.values() if p.status != "trash"]
    r = client.get("/products", params={"per_page": 7})
    assert int(r.headers["X-WP-Total"]) == len(visible)
    assert int(r.headers["X-WP-TotalPages"]) == math.ceil(len(visible) / 7)
    assert len(r.json()) == 7


def test_default_per_page_is_10(client) -> None:
    assert len(client.get("/orders").json()) == 10


def test_link_header_prev_next_only(client) -> None:
    first = client.get("/customers", params={"per_page": 5})
    assert 'rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
    middle = client.get("/customers", params={"per_page": 5, "page": 2})
    rels = re.findall(r'rel="(\w+)"', middle.headers["Link"])
    assert rels == ["prev", "next"]
    assert "page=3" in middle.headers["Link"] and "per_page=5" in middle.headers["Link"]
    last_page = int(first.headers["X-WP-TotalPages"])
    last = client.get("/customers", params={"per_page": 5, "page": last_page})
    assert re.findall(r'rel="(\w+)"', last.headers["Link"]) == ["prev"]
    assert "first" not in last.headers["Link"] and "last" not in last.headers["Link"]


def test_page_past_the_end_is_empty(client) -> None:
    r = client.get("/products", params={"per_page": 50, "page": 99})
    assert r.status_code == 200 and r.json() == []
    assert int(r.headers["X-WP-Total"]) > 0


def test_walking_pages_sees_every_record_once(shared_sb, client) -> None:
    seen: list[int] = []
    page = 1
    while True:
        params = {"per_page": 25, "page": page, "status": ",".join(ORDER_STATUSES)}
        r = client.get("/orders", params=params)
        seen += [o["id"] for o in r.json()]
        if page >= int(r.headers["X-WP-TotalPages"]):
            break
        page += 1
    assert sorted(seen) == sorted(shared_sb.world.orders)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"per_page": 101}, "per_page must be between 1 (inclusive) and 100 (inclusive)"),
        ({"per_page": 0}, "per_page must be between 1 (inclusive) and 100 (inclusive)"),
        ({"per_page": "ten"}, "per_page is not of type integer."),
        ({"page": 0}, "page must be greater than or equal to 1"),
        ({"order": "up"}, "order is not one of asc, desc."),
        ({"modified_after": "yesterday"}, "Invalid date."),
        ({"dates_are_gmt": "maybe"}, "dates_are_gmt is not of type boolean."),
    ],
    ids=["per_page>100", "per_page=0", "per_page-text", "page=0", "order", "date", "bool"],
)
def test_invalid_params(client, params, message) -> None:
    r = client.get("/products", params=params)
    body = r.json()
    assert r.status_code == 400
    assert body["code"] == "rest_invalid_param"
    (name,) = params
    assert body["message"] == f"Invalid parameter(s): {name}"
    assert body["data"]["params"][name] == message
    assert body["data"]["details"][name]["message"] == message


def test_per_page_100_is_fine(api) -> None:
    r = api.get("products", params={"per_page": 100})
    assert r.status_code == 200


def test_offset(client) -> None:
    all_ids = [p["id"] for p in client.get("/products", params={"per_page": 20}).json()]
    r = client.get("/products", params={"per_page": 5, "offset": 3})
    assert [p["id"] for p in r.json()] == all_ids[3:8]


def test_default_order_is_date_desc_with_id_tiebreak(fresh_sb, fresh_client) -> None:
    ids = sorted(fresh_sb.world.products)[:4]
    wc = fresh_sb.woocommerce

    def same_second() -> None:  # same created second for four products
        for i in ids:
            wc.record("product", i).created = 1_700_000_000
        wc.invalidate("product", ids)

    fresh_sb.call(same_second)
    got = [p["id"] for p in fresh_client.get("/products", params={"include": ",".join(map(str, ids))}).json()]
    assert got == sorted(ids, reverse=True)
    asc = fresh_client.get("/products", params={"include": ",".join(map(str, ids)), "order": "asc"})
    assert [p["id"] for p in asc.json()] == sorted(ids)


def test_orderby_modified_and_id(client) -> None:
    mods = client.get("/products", params={"orderby": "modified", "order": "asc", "per_page": 50}).json()
    keys = [(p["date_modified_gmt"], p["id"]) for p in mods]
    assert keys == sorted(keys)
    ids = [p["id"] for p in client.get("/products", params={"orderby": "id", "order": "asc"}).json()]
    assert ids == sorted(ids)


def test_include_and_orderby_include(client, shared_sb) -> None:
    pick = sorted(shared_sb.world.orders)[:3][::-1]
    include = ",".join(map(str, pick))
    r = client.get(
        "/orders", params={"include": include, "orderby": "include", "status": ",".join(ORDER_STATUSES)}
    )
    assert [o["id"] for o in r.json()] == pick


def test_modified_after_is_exclusive(fresh_sb, fresh_client) -> None:
    ids = sorted(fresh_sb.world.products)[:3]
    at = 1_900_000_000
    fresh_sb.call(fresh_sb.woocommerce.touch, "product", ids[:2], at=at, webhooks=False)
    fresh_sb.call(fresh_sb.woocommerce.touch, "product", ids[2:], at=at + 1, webhooks=False)
    boundary = "2030-03-17T17:46:40"  # == at, GMT
    after = fresh_client.get("/products", params={"modified_after": boundary, "dates_are_gmt": "true"})
    assert [p["id"] for p in after.json()] == [ids[2]]
    before = fresh_client.get(
        "/products",
        params={
            "modified_before": "2030-03-17T17:46:41",
            "modified_after": "2030-03-17T17:46:39",
            "dates_are_gmt": "true",
        },
    )
    assert sorted(p["id"] for p in before.json()) == ids[:2]


def test_dates_are_gmt_uses_the_right_clock(make_sb) -> None:
    sb = make_sb(gmt_offset_hours=-5)
    pid = sorted(sb.world.products)[0]
    sb.call(sb.woocommerce.touch, "product", [pid], at=1_900_000_000, webhooks=False)
    with woocommerce_client(sb) as c:
        p = c.get(f"/products/{pid}").json()
        assert p["date_modified_gmt"] == "2030-03-17T17:46:40"
        assert p["date_modified"] == "2030-03-17T12:46:40"
        gmt = c.get("/products", params={"modified_after": "2030-03-17T17:00:00", "dates_are_gmt": "true"})
        assert [x["id"] for x in gmt.json()] == [pid]
        # Without dates_are_gmt the bound is read as site-local time: 17:00 local is after 12:46 local.
        local = c.get("/products", params={"modified_after": "2030-03-17T17:00:00"})
        assert local.json() == []
        local2 = c.get("/products", params={"modified_after": "2030-03-17T12:00:00"})
        assert [x["id"] for x in local2.json()] == [pid]


def test_after_before_filter_created(client, shared_sb) -> None:
    r = client.get(
        "/orders", params={"after": "2025-06-01T00:00:00", "before": "2025-07-01T00:00:00", "per_page": 100}
    )
    for o in r.json():
        assert "2025-06-01T00:00:00" < o["date_created"] < "2025-07-01T00:00:00"
    expected = [
        o
        for o in shared_sb.world.orders.values()
        if o.status != "trash" and 1748736000 < o.created < 1751328000
    ]
    assert int(r.headers["X-WP-Total"]) == len(expected)


def test_order_status_any_excludes_trash(shared_sb, client) -> None:
    w = shared_sb.world
    trashed = {o.id for o in w.orders.values() if o.status == "trash"}
    assert trashed, "the seeded world has trashed orders"
    r = client.get("/orders", params={"per_page": 100})
    assert not trashed & {o["id"] for o in r.json()}
    t = client.get("/orders", params={"status": "trash", "per_page": 100})
    assert {o["id"] for o in t.json()} == trashed
    both = client.get("/orders", params={"status[]": ["completed", "refunded"], "per_page": 100})
    assert {o["status"] for o in both.json()} <= {"completed", "refunded"}


@pytest.mark.parametrize(
    "status",
    [
        {"status": "any,trash"},
        {"status": "trash,any"},
        {"status[]": ["trash", "any"]},
        {"status": "completed,any"},
    ],
    ids=["any,trash", "trash,any", "status[]", "completed,any"],
)
def test_any_in_an_order_status_list_is_plain_any(shared_sb, client, status) -> None:
    """`prepare_objects_query` short-circuits on `any`: WP_Query's `any` leaves trashed orders out."""
    w = shared_sb.world
    untrashed = {o.id for o in w.orders.values() if o.status != "trash"}
    r = client.get("/orders", params={"per_page": 100, **status})
    got = {o["id"] for o in r.json()}
    assert int(r.headers["X-WP-Total"]) == len(untrashed)
    assert got <= untrashed and len(got) == min(100, len(untrashed))
    with_trash = client.get("/orders", params={"per_page": 100, "status": "trash,completed"}).json()
    assert {o["status"] for o in with_trash} == {"trash", "completed"}


def test_product_status_any_leaves_trash_out(fresh_sb, fresh_client, make_api) -> None:
    pid = sorted(fresh_sb.world.products)[0]
    assert fresh_client.delete(f"/products/{pid}").json()["status"] == "trash"
    trashed = {p.id for p in fresh_sb.world.products.values() if p.status == "trash"}
    for params in ({}, {"status": "any"}):
        ids = [p["id"] for p in fresh_client.get("/products", params={"per_page": 100, **params}).json()]
        assert pid not in ids and not trashed & set(ids)
    only = fresh_client.get("/products", params={"per_page": 100, "status": "trash"}).json()
    assert {p["id"] for p in only} == trashed
    # WooCommerce 9.4 takes one product status, so a list is refused rather than read as "with trash".
    r = make_api(fresh_sb).get("products", params={"status": "any,trash"})
    assert r.status_code == 400 and r.json()["code"] == "rest_invalid_param"


def test_bad_order_status(client) -> None:
    r = client.get("/orders", params={"status": "shipped"})
    assert r.status_code == 400
    assert r.json()["data"]["params"]["status"].startswith("status[0] is not one of any, trash")


def test_search(shared_sb, client) -> None:
    c = next(iter(shared_sb.world.customers.values()))
    r = client.get("/customers", params={"search": c.email})
    assert [x["id"] for x in r.json()] == [c.id]
    p = next(p for p in shared_sb.world.products.values() if p.status == "publish")
    assert [x["id"] for x in client.get("/products", params={"search": p.sku}).json()] == [p.id]
    # products take one status (not a list as orders do)
    assert client.get("/products", params={"status": "any,trash"}).status_code == 400


def test_customers_have_no_modified_filter(shared_sb, client) -> None:
    r = client.get("/customers", params={"modified_after": "2099-01-01T00:00:00", "per_page": 100})
    assert r.status_code == 200
    assert len(r.json()) == len(shared_sb.world.customers)
    names = [(c["first_name"] + " " + c["last_name"]) for c in r.json()]
    assert names == sorted(names)  # customers default to orderby=name, order=asc


def test_variations_listing(shared_sb, client) -> None:
    p = next(p for p in shared_sb.world.products.values() if p.type == "variable")
    r = client.get(f"/products/{p.id}/variations")
    assert sorted(v["id"] for v in r.json()) == sorted(p.variation_ids)
    assert all(v["parent_id"] == p.id for v in r.json())
    assert int(r.headers["X-WP-Total"]) == len(p.variation_ids)


def test_fields_param(client) -> None:
    r = client.get("/products", params={"_fields": "id,date_modified_gmt", "per_page": 2})
    assert all(set(p) == {"id", "date_modified_gmt"} for p in r.json())


def test_woocommerce_package_pagination(api) -> None:
    r1 = api.get("orders", params={"per_page": 10, "page": 1})
    r2 = api.get("orders", params={"per_page": 10, "page": 2})
    assert not {o["id"] for o in r1.json()} & {o["id"] for o in r2.json()}
    assert r1.headers["X-WP-TotalPages"] == r2.headers["X-WP-TotalPages"]
    assert isinstance(httpx.Headers(r1.headers).get("link"), str)
