"""Resource-level reads of WooCommerceClient: fetch_by_ids, variations, list_ids (fake store)."""

from __future__ import annotations

import httpx
import pytest
from fake_woocommerce import FAST, KEY, SECRET, FakeStore, Gate, wc_error

from clients import FetchResult, InvalidConfig, NotFound, ServerError, WooCommerceClient
from clients.woocommerce.settings import RESOURCES

pytestmark = pytest.mark.anyio

SITE = "https://shop.example"


def make(store: FakeStore | None = None, handler=None, **kwargs) -> WooCommerceClient:
    transport = httpx.MockTransport(handler) if handler else (store or FakeStore()).transport()
    kwargs.setdefault("retry", FAST)
    return WooCommerceClient(
        base_url=SITE, consumer_key=KEY, consumer_secret=SECRET, transport=transport, **kwargs
    )


def shop(orders: int = 0, products: int = 20) -> FakeStore:
    store = FakeStore(products=products)
    for i in range(1, orders + 1):
        store.orders[i] = {
            "id": i,
            "status": "processing",
            "date_modified_gmt": f"2026-01-01T00:00:{i % 60:02d}",
        }
    return store


def requested(store: FakeStore) -> list[tuple[str, dict[str, str]]]:
    return [(r.url.path.removeprefix("/wp-json/wc/v3/"), dict(r.url.params)) for r in store.requests]


# -- fetch_by_ids


async def test_orders_are_found_in_any_status_trash_included() -> None:
    store = shop(orders=10)
    store.orders[4]["status"] = "trash"
    async with make(store) as wc:
        result = await wc.fetch_by_ids("orders", [1, 4, 7, 99999])
    assert isinstance(result, FetchResult)
    assert list(result.found) == [1, 4, 7] and result.found[4]["status"] == "trash"
    assert result.gone == [99999]
    calls = requested(store)
    assert calls[0] == ("orders", {"include": "1,4,7,99999", "status": "any", "page": "1", "per_page": "100"})
    # Only what `any` did not show is asked for in the trash, then one by one.
    assert calls[1] == ("orders", {"include": "4,99999", "status": "trash", "page": "1", "per_page": "100"})
    assert calls[2] == ("orders/99999", {})
    assert len(calls) == 3


async def test_products_in_trash_are_found_and_missing_ones_are_gone() -> None:
    store = shop(products=5)
    store.items[2]["status"] = "trash"
    async with make(store) as wc:
        result = await wc.fetch_by_ids("products", [2, 3, 6])
    assert sorted(result.found) == [2, 3] and result.gone == [6]
    assert [params.get("status") for _, params in requested(store)[:2]] == ["any", "trash"]


async def test_ids_are_read_100_per_request_concurrently() -> None:
    store = shop(orders=1000)
    store.gate = Gate(3)  # passes only if 3 chunks are in flight at once
    async with make(store, max_concurrency=3) as wc:
        result = await wc.fetch_by_ids("orders", list(range(1000, 0, -1)))
    assert list(result.found) == list(range(1000, 0, -1))  # the order asked for
    assert result.gone == []
    sizes = [len(params["include"].split(",")) for _, params in requested(store)]
    assert sizes == [100] * 10
    assert store.max_in_flight == 3


async def test_an_id_no_listing_shows_is_read_on_its_own() -> None:
    """A plugin can hide records from listings; the record itself is still there."""
    store = shop(products=5)

    def handler(request: httpx.Request) -> httpx.Response:
        response = store.respond(request)
        if request.url.path.endswith("/products") and response.status_code == 200:
            rows = [r for r in response.json() if r["id"] != 3]
            return httpx.Response(
                200, json=rows, headers={"X-WP-Total": str(len(rows)), "X-WP-TotalPages": "1"}
            )
        return response

    async with make(handler=handler) as wc:
        result = await wc.fetch_by_ids("products", [1, 3])
    assert sorted(result.found) == [1, 3] and result.gone == []
    assert requested(store)[-1] == ("products/3", {})


async def test_variations_by_ids_with_their_parent() -> None:
    store = shop(products=2)
    store.variations[1] = {v: {"id": v, "parent_id": 1} for v in (11, 12, 13)}
    async with make(store) as wc:
        result = await wc.fetch_by_ids("variations", [11, 13, 14], parent_id=1)
    assert sorted(result.found) == [11, 13] and result.gone == [14]
    assert requested(store)[0][0] == "products/1/variations"
    assert "status" not in requested(store)[0][1]


async def test_customers_are_listed_in_every_role() -> None:
    store = shop()
    store.customers.update({5: {"id": 5, "role": "subscriber"}})
    async with make(store) as wc:
        result = await wc.fetch_by_ids("customers", [5])
    assert result.found == {5: {"id": 5, "role": "subscriber"}}
    assert requested(store)[0][1]["role"] == "all"


async def test_a_404_that_does_not_say_gone_is_raised() -> None:
    """rest_no_route on a record path: a plugin or proxy, not a deleted record."""
    store = shop(orders=2)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/orders/9"):
            return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        return store.respond(request)

    async with make(handler=handler) as wc:
        with pytest.raises(NotFound) as caught:
            await wc.fetch_by_ids("orders", [1, 9])
    assert caught.value.gone is False


async def test_a_failing_listing_is_raised_after_retries() -> None:
    store = shop(orders=2)
    store.faults += [httpx.Response(500)] * 4
    async with make(store) as wc:
        with pytest.raises(ServerError):
            await wc.fetch_by_ids("orders", [1, 2])
    assert len(store.requests) == 4


async def test_repeats_are_read_once_and_nothing_asked_is_no_request() -> None:
    store = shop(orders=3)
    async with make(store) as wc:
        assert await wc.fetch_by_ids("orders", []) == FetchResult()
        assert store.requests == []
        result = await wc.fetch_by_ids("orders", [2, 2, 1, 2])
    assert list(result.found) == [2, 1]
    assert requested(store)[0][1]["include"] == "1,2"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("coupons", [1]), {}, "unknown WooCommerce resource 'coupons'"),
        (("variations", [1]), {}, "pass parent_id"),
        (("orders", [1]), {"parent_id": 3}, "have no parent"),
        (("orders", [0]), {}, "0 is not a WooCommerce record id"),
        (("orders", [True]), {}, "True is not a WooCommerce record id"),
        (("orders", ["7"]), {}, "'7' is not a WooCommerce record id"),
        (("variations", [1]), {"parent_id": -2}, "parent_id -2"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(args, kwargs, message: str) -> None:
    store = shop(orders=1)
    async with make(store) as wc:
        with pytest.raises(InvalidConfig, match=message):
            await wc.fetch_by_ids(*args, **kwargs)
    assert store.requests == []


# -- variations


async def test_variations_reads_every_page_by_id() -> None:
    store = shop(products=1)
    store.variations[1] = {v: {"id": v, "parent_id": 1} for v in range(100, 350)}
    store.gate = Gate(2, skip=1)  # pages 2 and 3 in flight together
    async with make(store, max_concurrency=2) as wc:
        variations = await wc.variations(1)
    assert [v["id"] for v in variations] == list(range(100, 350))
    assert [params["page"] for _, params in requested(store)] == ["1", "2", "3"]
    assert requested(store)[0][1]["orderby"] == "id" and requested(store)[0][1]["per_page"] == "100"


async def test_variations_seen_twice_are_returned_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        rows = [{"id": 1}, {"id": 2}] if page == 1 else [{"id": 2}]  # the listing shifted
        return httpx.Response(200, json=rows, headers={"X-WP-Total": "3", "X-WP-TotalPages": "2"})

    async with make(handler=handler) as wc:
        # per_page is 100, so 3 records in 2 pages is inconsistent: read until the short page
        assert [v["id"] for v in await wc.variations(7)] == [1, 2]


# -- list_ids


async def test_list_ids_reads_the_window_with_only_ids_and_dates() -> None:
    store = shop(orders=250)
    store.orders[3]["status"] = "trash"
    store.orders[4]["date_modified_gmt"] = None
    store.gate = Gate(2, skip=1)
    async with make(store, max_concurrency=2) as wc:
        ids = await wc.list_ids("orders", params={"status": "any"})
    assert sorted(ids) == [i for i in range(1, 251) if i != 3]
    assert ids[1] == "2026-01-01T00:00:01" and ids[4] is None
    first = requested(store)[0][1]
    assert first["_fields"] == "id,date_modified_gmt" and first["per_page"] == "100"
    assert (first["orderby"], first["order"], first["status"]) == ("id", "asc", "any")
    assert len(store.requests) == 3


async def test_list_ids_of_a_path_keeps_the_callers_order_and_trash_window() -> None:
    store = shop(orders=5)
    store.orders[2]["status"] = "trash"
    async with make(store) as wc:
        ids = await wc.list_ids("orders", params={"status": "trash", "orderby": "modified"})
        assert list(ids) == [2]
        assert requested(store)[0][1]["orderby"] == "modified"
        with pytest.raises(InvalidConfig, match="parent_id is only for a resource name"):
            await wc.list_ids("products/1/variations", parent_id=1)


def test_every_resource_says_how_to_see_all_its_records() -> None:
    assert RESOURCES["orders"].statuses == ("any", "trash")
    assert RESOURCES["products"].statuses == ("any", "trash")
    assert dict(RESOURCES["customers"].list_params) == {"role": "all"}
    assert RESOURCES["refunds"].batch_path is None
    assert RESOURCES["variations"].batch_path == "products/{parent_id}/variations/batch"
