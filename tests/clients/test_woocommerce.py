"""WooCommerceClient against a fake store behind httpx.MockTransport."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import pickle
import random

import httpx
import pytest
from fake_woocommerce import FAST, KEY, SECRET, FakeStore, Gate, wc_error

from clients import (
    ApiError,
    AuthFailed,
    BreakerConfig,
    CircuitOpen,
    ClientError,
    InvalidConfig,
    NotFound,
    NotWooCommerce,
    Page,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportFailure,
    WooCommerceClient,
)
from clients._http import RateLimiter
from clients.woocommerce._client import is_gone_code
from clients.woocommerce._pages import trusted_totals
from clients.woocommerce.settings import MAX_TOTAL_PAGES

pytestmark = pytest.mark.anyio

SITE = "https://shop.example"


def make(store: FakeStore | None = None, handler=None, **kwargs) -> WooCommerceClient:
    transport = httpx.MockTransport(handler) if handler else (store or FakeStore()).transport()
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("base_url", SITE)
    return WooCommerceClient(consumer_key=KEY, consumer_secret=SECRET, transport=transport, **kwargs)


# -- construction


def test_base_url_is_normalised_and_validated() -> None:
    wc = make(base_url="https://shop.example/wp-json/wc/v3/")
    assert wc.base_url == "https://shop.example"
    assert wc.api_url == "https://shop.example/wp-json/wc/v3/"
    assert make(base_url="https://example.com/shop/").api_url == ("https://example.com/shop/wp-json/wc/v3/")
    for bad in ("shop.example", "ftp://shop.example", ""):
        with pytest.raises(InvalidConfig, match="base_url"):
            make(base_url=bad)
    with pytest.raises(InvalidConfig, match="consumer_key and consumer_secret are required"):
        WooCommerceClient(base_url=SITE, consumer_key="", consumer_secret=SECRET)


def test_repr_and_auth_never_show_secrets() -> None:
    wc = make()
    assert KEY not in repr(wc) and SECRET not in repr(wc)
    assert SECRET not in repr(wc._http._auth) and KEY not in repr(wc._http._auth)
    assert repr(wc) == (
        "WooCommerceClient(base_url='https://shop.example', api_version='wc/v3', auth='basic')"
    )


# -- reading


async def test_get_and_list_page(store: FakeStore) -> None:
    async with make(store) as wc:
        assert (await wc.get("products/12"))["name"] == "Product 12"
        page = await wc.list_page("products", page=3, per_page=100)
    assert page == Page(items=page.items, page=3, per_page=100, total=250, total_pages=3)
    assert [p["id"] for p in page.items] == list(range(201, 251))
    assert page.is_last
    query = store.requests[-1].url.params
    assert query["page"] == "3" and query["per_page"] == "100"


async def test_params_are_sent_the_wordpress_way(store: FakeStore) -> None:
    async with make(store) as wc:
        await wc.list_page("products", params={"dates_are_gmt": True, "include": [1, 2, 3], "skip": None})
    query = store.requests[-1].url.params
    assert query["dates_are_gmt"] == "true" and query["include"] == "1,2,3"
    assert "skip" not in query


async def test_per_page_out_of_range_is_refused_before_sending(store: FakeStore) -> None:
    async with make(store) as wc:
        with pytest.raises(InvalidConfig, match="per_page must be between 1 and 100"):
            await wc.list_page("products", per_page=101)
    assert store.requests == []


async def test_missing_record_is_not_found(store: FakeStore) -> None:
    async with make(store) as wc:
        with pytest.raises(NotFound, match="woocommerce_rest_product_invalid_id") as caught:
            await wc.get("products/99999")
    assert caught.value.status == 404
    assert len(store.requests) == 1


async def test_iter_pages_yields_in_order_with_bounded_concurrency() -> None:
    # The gate holds requests until 3 are in flight: passes only if the client overlaps them.
    store = FakeStore(products=1234, gate=Gate(3, skip=1))
    seen: list[int] = []
    async with make(store, max_concurrency=3) as wc:
        async for page in wc.iter_pages("products", per_page=50):
            seen.append(page.page)
    assert seen == list(range(1, 26))
    assert store.max_in_flight == 3
    assert len(store.requests) == 25


async def test_iter_pages_holds_at_most_a_window_of_pages() -> None:
    store = FakeStore(products=2000)
    consumed = 0
    leads: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        # How far ahead of the consumer is the page asked for? (the bound, checked on every request)
        leads.append(int(request.url.params["page"]) - consumed)
        return store.respond(request)

    async with make(handler=handler, max_concurrency=2) as wc:
        async for page in wc.iter_pages("products", per_page=100):
            consumed = page.page
    assert consumed == 20
    # Page k+2 is asked for while the caller holds page k: prefetching, but never further.
    assert max(leads) == 2


async def test_iter_pages_resumes_from_a_start_page(store: FakeStore) -> None:
    async with make(store) as wc:
        pages = [p.page async for p in wc.iter_pages("products", per_page=100, start_page=2)]
    assert pages == [2, 3]


async def test_iter_pages_stopped_early_cancels_the_rest() -> None:
    store = FakeStore(products=5000)
    never = asyncio.Event()
    in_flight = {"n": 0, "entered": 0, "cancelled": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        if int(request.url.params["page"]) <= 3:
            return store.respond(request)
        in_flight["n"] += 1
        in_flight["entered"] += 1
        try:
            await never.wait()  # pages after 3 never answer: only cancelling ends them
        except asyncio.CancelledError:
            in_flight["cancelled"] += 1
            raise
        finally:
            in_flight["n"] -= 1
        raise AssertionError("unreachable")

    async with make(handler=handler, max_concurrency=4) as wc:
        async with contextlib.aclosing(wc.iter_pages("products", per_page=10)) as pages:
            async for page in pages:
                if page.page == 3:
                    break
        # Closing the generator cancelled and awaited the requests still in flight.
        assert in_flight["n"] == 0
    # Pages 4 and 5 were asked for while page 2 was awaited; each was cancelled, none answered.
    assert in_flight["entered"] >= 2
    assert in_flight["cancelled"] == in_flight["entered"]


async def test_iter_pages_without_total_headers_reads_until_a_short_page() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=[{"id": i} for i in range(10 if page < 3 else 4)])

    async with make(handler=handler) as wc:
        pages = [p async for p in wc.iter_pages("products", per_page=10)]
    assert [p.page for p in pages] == [1, 2, 3] and pages[0].total_pages == -1


async def test_a_failing_page_raises_in_order_after_retries() -> None:
    store = FakeStore(products=500)
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "4":
            calls["n"] += 1
            return wc_error(500, "internal_server_error", "Boom")
        return store.respond(request)

    got: list[int] = []
    async with make(handler=handler, retry=RetryPolicy(max_retries=2, base_delay=0)) as wc:
        with pytest.raises(ServerError, match="500 internal_server_error: Boom"):
            async for page in wc.iter_pages("products", per_page=100):
                got.append(page.page)
    assert got == [1, 2, 3]
    assert calls["n"] == 3


async def test_flaky_store_still_yields_every_record() -> None:
    """10% 5xx and some 429s: retries make the read complete and exact."""
    store = FakeStore(products=2000)
    rng = random.Random(7)

    def handler(request: httpx.Request) -> httpx.Response:
        roll = rng.random()
        if roll < 0.1:
            return httpx.Response(502, text="<html>Bad Gateway</html>")
        if roll < 0.15:
            return wc_error(429, "too_many_requests", "Slow down", **{"Retry-After": "0"})
        return store.respond(request)

    async with make(handler=handler, retry=RetryPolicy(max_retries=6, base_delay=0)) as wc:
        ids = [item["id"] async for page in wc.iter_pages("products") for item in page.items]
        stats = wc.stats
    assert ids == list(range(1, 2001))
    assert stats.retries > 0 and stats.by_status.get(200) == 20


async def test_json_with_a_bom_is_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=b'\xef\xbb\xbf[{"id": 1}]',
            headers={"X-WP-Total": "1", "X-WP-TotalPages": "1", "content-type": "application/json"},
        )

    async with make(handler=handler) as wc:
        page = await wc.list_page("products")
    assert page.items == [{"id": 1}] and page.total == 1


# -- not WooCommerce


async def test_html_answer_is_not_woocommerce() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<!doctype html><html><title>My blog</title></html>")

    async with make(handler=handler) as wc:
        with pytest.raises(NotWooCommerce, match="text/html that is not JSON") as caught:
            await wc.list_page("products")
        with pytest.raises(NotWooCommerce):
            await wc.check()
    assert "pretty permalinks" in str(caught.value)


async def test_wordpress_without_woocommerce_is_not_woocommerce() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")

    async with make(handler=handler) as wc:
        with pytest.raises(NotWooCommerce, match="no wc/v3 REST namespace"):
            await wc.check()
        with pytest.raises(NotWooCommerce, match="install and activate WooCommerce"):
            await wc.list_page("products")


async def test_a_wrong_path_on_a_real_store_is_not_found(store: FakeStore) -> None:
    async with make(store) as wc:
        with pytest.raises(NotFound, match="rest_no_route.*check the path"):
            await wc.get("prodcts")


async def test_plain_404_page_is_not_woocommerce() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, html="<h1>Not Found</h1>")

    async with make(handler=handler) as wc:
        with pytest.raises(NotWooCommerce, match="no WordPress REST API"):
            await wc.get("products/1")


async def test_redirect_names_the_address_to_use() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        target = f"https://www.shop.example{request.url.path}?{request.url.query.decode()}"
        return httpx.Response(301, headers={"Location": target})

    async with make(handler=handler, query_string_auth=True) as wc:
        with pytest.raises(NotWooCommerce, match="set base_url to https://www.shop.example") as c:
            await wc.check()
    assert SECRET not in str(c.value) and KEY not in str(c.value)


# -- check and auth failures


async def test_check_passes_on_a_store(store: FakeStore) -> None:
    async with make(store) as wc:
        await wc.check()
        status = await wc.system_status()
    assert status["environment"]["version"] == "9.9.9"
    assert [r.url.path for r in store.requests[:2]] == ["/wp-json/wc/v3", "/wp-json/wc/v3/products"]


async def test_check_with_wrong_keys_is_auth_failed_with_the_fix() -> None:
    store = FakeStore(key="ck_other_key_value")
    async with make(store) as wc:
        with pytest.raises(AuthFailed) as caught:
            await wc.check()
    assert str(caught.value) == (
        "WooCommerce at https://shop.example rejected the credentials "
        "(401 woocommerce_rest_authentication_error: Consumer key is invalid.); "
        "check consumer_key/consumer_secret on the block"
    )
    assert len(store.requests) == 1


async def test_write_permission_missing_names_the_fix() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(
            401,
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
        )

    async with make(handler=handler) as wc:
        with pytest.raises(AuthFailed, match="give the key Read/Write permission"):
            await wc.batch("products", update=[{"id": 1, "name": "x"}])


async def test_check_on_a_down_store_fails_fast() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        raise httpx.ConnectError("connection refused")

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with make(handler=handler, retry=RetryPolicy(jitter=0)) as wc:
        wc._http._sleep = sleep
        with pytest.raises(TransportFailure, match="could not connect to WooCommerce at"):
            await wc.check()
    assert calls["n"] == 4
    assert waits == [0.5, 1.0, 2.0]  # short waits, whatever the client's own policy


async def test_a_down_store_trips_the_breaker_shared_by_all_clients() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503, text="<html>Service Unavailable</html>")

    breaker = BreakerConfig(failure_threshold=5, reset_after=60)
    first = make(handler=handler, breaker=breaker)
    second = make(handler=handler, breaker=breaker)
    with pytest.raises(ServerError):
        await first.get("products/1")
    with pytest.raises(CircuitOpen, match="WooCommerce at https://shop.example looks down"):
        async for _ in second.iter_pages("products"):
            pass
    with pytest.raises(CircuitOpen):
        await first.get("products/2")
    assert calls["n"] == 5
    await first.aclose()
    await second.aclose()


async def test_rate_limited_store_is_retried_after_retry_after() -> None:
    store = FakeStore(products=10)
    store.faults.append(wc_error(429, "rate_limited", "Too many", **{"Retry-After": "1"}))
    waits: list[float] = []
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    async with make(store) as wc:
        wc._http._sleep = sleep  # and a limiter on the same fake time
        wc._http.limiter = RateLimiter(None, clock=lambda: clock[0])
        page = await wc.list_page("products")
        assert wc.stats.rate_limited == 1
    assert len(page.items) == 10
    assert 1.0 in waits


async def test_rate_limited_past_the_budget_raises() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(429, "rate_limited", "Too many", **{"Retry-After": "0"})

    async with make(handler=handler, retry=RetryPolicy(max_retries=2, base_delay=0)) as wc:
        with pytest.raises(RateLimited, match="rate limiting") as caught:
            await wc.get("products/1")
    assert caught.value.retry_after == 0


# -- batch


async def test_batch_splits_at_100_items_summed_over_operations(store: FakeStore) -> None:
    create = [{"name": f"New {i}"} for i in range(120)]
    update = [{"id": i, "regular_price": "9.99"} for i in range(1, 51)]
    delete = list(range(201, 241))
    async with make(store) as wc:
        result = await wc.batch("products", create=create, update=update, delete=delete)
    assert store.batch_sizes == [100, 100, 10]
    assert result.requests == 3 and result.ok
    assert (len(result.created), len(result.updated), len(result.deleted)) == (120, 50, 40)
    assert store.items[1]["regular_price"] == "9.99" and 201 not in store.items


async def test_batch_collects_per_item_errors_without_raising(store: FakeStore) -> None:
    async with make(store) as wc:
        result = await wc.batch(
            "/products/batch",
            create=[{"name": "ok"}, {"sku": "no-name"}],
            update=[{"id": 3, "name": "x"}, {"id": 99999, "name": "y"}, {"name": "no id"}],
            delete=[5, 88888],
        )
    assert len(result.created) == 1 and len(result.updated) == 1 and len(result.deleted) == 1
    errors = {(e["op"], e["index"]): e for e in result.errors}
    assert errors[("create", 1)]["code"] == "woocommerce_rest_missing_name"
    assert errors[("create", 1)]["id"] is None
    assert errors[("update", 1)] == {
        "op": "update",
        "index": 1,
        "id": 99999,
        "code": "woocommerce_rest_product_invalid_id",
        "message": "Invalid ID.",
        "status": 400,
    }
    assert errors[("update", 2)]["code"] == "nxt_missing_id"
    assert errors[("delete", 1)]["status"] == 404
    assert store.batch_sizes == [6]  # the update without an id was never sent


async def test_batch_with_creates_is_not_retried_after_a_5xx(store: FakeStore) -> None:
    store.faults.append(httpx.Response(500))
    async with make(store) as wc:
        with pytest.raises(ServerError) as caught:
            await wc.batch("products", create=[{"name": "x"}])
    assert caught.value.batch_result is not None and caught.value.batch_result.requests == 0
    assert len(store.requests) == 1


async def test_batch_of_updates_is_retried_after_a_5xx(store: FakeStore) -> None:
    store.faults.append(httpx.Response(500))
    async with make(store) as wc:
        result = await wc.batch("products", update=[{"id": 1, "name": "x"}])
    assert result.ok and len(store.requests) == 2


async def test_batch_failure_keeps_what_earlier_requests_did(store: FakeStore) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if len(store.batch_sizes) >= 1:
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        return store.respond(request)

    async with make(handler=handler) as wc:
        with pytest.raises(ClientError) as caught:
            await wc.batch("products", update=[{"id": i, "name": "x"} for i in range(1, 151)])
    assert caught.value.batch_result.requests == 1
    assert len(caught.value.batch_result.updated) == 100


# -- errors


def test_errors_survive_pickling_and_keep_their_attributes() -> None:
    error = RateLimited("slow down", retry_after=3.0, status=429, vendor_code="x", body="b")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimited and str(copy) == "slow down"
    assert (copy.retry_after, copy.status, copy.vendor_code, copy.body) == (3.0, 429, "x", "b")


def test_error_bodies_are_truncated() -> None:
    error = ServerError("boom", status=500, body="x" * 2000)
    assert error.body is not None and len(error.body) < 600
    assert error.body.endswith("[1500 more characters]")


async def test_secrets_never_appear_in_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        echo = str(request.url) + " " + request.headers.get("authorization", "")
        return httpx.Response(400, text=f"bad: {echo} {KEY} {SECRET}")

    for options in ({}, {"query_string_auth": True}, {"base_url": "http://shop.example"}):
        async with make(handler=handler, **options) as wc:
            with pytest.raises(ClientError) as caught:
                await wc.get("products/1")
        text = f"{caught.value} {caught.value!r} {caught.value.body}"
        assert KEY not in text and SECRET not in text
        assert base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() not in text


async def test_post_put_delete(store: FakeStore) -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if len(seen) == 1:
            return httpx.Response(500)
        return httpx.Response(200, json={"ok": request.method})

    async with make(handler=handler) as wc:
        with pytest.raises(ServerError):
            await wc.post("orders/1/notes", {"note": "hi"})  # may have been applied: no retry
        assert await wc.put("products/1", {"name": "x"}) == {"ok": "PUT"}
        assert await wc.delete("products/1", {"force": True}) == {"ok": "DELETE"}
    assert [m for m, _ in seen] == ["POST", "PUT", "DELETE"]


async def test_php_notices_in_front_of_json_name_the_fix() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text='<br />\n<b>Deprecated</b>: old call in x.php<br />\n[{"id": 1}]')

    async with make(handler=handler) as wc:
        with pytest.raises(NotWooCommerce, match="WP_DEBUG_DISPLAY"):
            await wc.list_page("products")


def test_a_missing_ca_bundle_is_invalid_config() -> None:
    with pytest.raises(InvalidConfig, match="neither a CA bundle file nor a directory"):
        WooCommerceClient(
            base_url=SITE, consumer_key=KEY, consumer_secret=SECRET, verify="/nonexistent/ca.pem"
        )


async def test_circuit_open_message_says_what_and_for_how_long() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    async with make(handler=handler, breaker=BreakerConfig(failure_threshold=2, reset_after=45)) as wc:
        with pytest.raises(CircuitOpen) as caught:
            await wc.get("products/1")
    assert str(caught.value).startswith(
        "WooCommerce at https://shop.example looks down: 2 consecutive failures, the last: "
        "ConnectError: [Errno 111] Connection refused; not calling it for 45s more"
    )


# -- page totals are cross-checked and bounded


@pytest.mark.parametrize(
    ("total", "total_pages", "per_page", "expected"),
    [
        (250, 3, 100, (250, 3)),
        (0, 0, 100, (0, 0)),
        (100, 1, 100, (100, 1)),
        (-1, -1, 100, (-1, -1)),  # no headers: unknown, silently (a proxy stripped them)
        (250, 4, 100, (-1, -1)),  # pages do not match the total
        (250, 999_999_999, 100, (-1, -1)),
        (250, -1, 100, (-1, -1)),  # one header without the other
        (-1, 3, 100, (-1, -1)),
        (10_000_001 * 100, 10_000_001, 100, (-1, -1)),  # consistent, but past the cap
        (MAX_TOTAL_PAGES * 10, MAX_TOTAL_PAGES, 10, (MAX_TOTAL_PAGES * 10, MAX_TOTAL_PAGES)),
    ],
)
def test_totals_are_trusted_only_when_consistent_and_bounded(
    total: int, total_pages: int, per_page: int, expected: tuple[int, int]
) -> None:
    got_total, got_pages, problem = trusted_totals(total, total_pages, per_page)
    assert (got_total, got_pages) == expected
    assert (problem is None) == (expected != (-1, -1) or (total, total_pages) == (-1, -1))


@pytest.mark.parametrize(
    "headers",
    [
        {"X-WP-Total": "250", "X-WP-TotalPages": "999999999"},
        {"X-WP-Total": "250", "X-WP-TotalPages": "-3"},
        {"X-WP-Total": "lots", "X-WP-TotalPages": "3"},
        {"X-WP-TotalPages": "3"},
    ],
)
async def test_an_inconsistent_pair_is_unknown_totals_with_a_warning(headers, caplog) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": 1}], headers=headers)

    with caplog.at_level("WARNING", logger="nxt.clients"):
        async with make(handler=handler) as wc:
            page = await wc.list_page("products")
    assert (page.total, page.total_pages) == (-1, -1)
    warnings = [r for r in caplog.records if r.name == "nxt.clients" and r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert (
        "page totals" in warnings[0].getMessage()
        and "GET /wp-json/wc/v3/products" in warnings[0].getMessage()
    )


async def test_a_wrong_total_pages_header_does_not_mean_millions_of_requests(live_store, caplog) -> None:
    """Over real HTTP: 30 products, but the server claims 999,999,999 pages."""
    live_store.behaviour.update(headers={"X-WP-TotalPages": "999999999"})
    async with WooCommerceClient(
        base_url=live_store.url, consumer_key=KEY, consumer_secret=SECRET, retry=FAST
    ) as wc:
        with caplog.at_level("WARNING", logger="nxt.clients"):
            pages = [p async for p in wc.iter_pages("products", per_page=7)]
    assert [len(p.items) for p in pages] == [7, 7, 7, 7, 2]  # read until the short page
    assert len(live_store.served) == 5
    assert sum("page totals" in r.getMessage() for r in caplog.records) == 1  # once per read


async def test_full_pages_forever_without_totals_stop_at_the_cap(monkeypatch) -> None:
    import clients.woocommerce._pages as pages_module

    monkeypatch.setattr(pages_module, "MAX_TOTAL_PAGES", 5)
    served: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        served.append(int(request.url.params["page"]))
        return httpx.Response(200, json=[{"id": i} for i in range(10)])

    async with make(handler=handler) as wc:
        with pytest.raises(ApiError, match="more than 5 pages"):
            async for _ in wc.iter_pages("products", per_page=10):
                pass
    assert served == [1, 2, 3, 4, 5]


# -- what a 404 means


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("products/99999", "woocommerce_rest_product_invalid_id"),
        ("orders/99999", "woocommerce_rest_shop_order_invalid_id"),
        ("customers/99999", "woocommerce_rest_invalid_id"),
        ("products/1/variations/99999", "woocommerce_rest_product_variation_invalid_id"),
    ],
)
async def test_an_invalid_id_404_means_the_record_is_gone(path: str, code: str) -> None:
    store = FakeStore(products=1)
    async with make(store) as wc:
        with pytest.raises(NotFound) as caught:
            await wc.get(path)
    assert caught.value.gone is True and caught.value.vendor_code == code
    assert "no such record" in str(caught.value)


async def test_rest_no_route_on_a_record_path_is_not_gone() -> None:
    """A plugin, security rule or proxy answering for a route WooCommerce has."""
    store = FakeStore(products=1)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/products/1"):
            return wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        return store.respond(request)

    async with make(handler=handler) as wc:
        with pytest.raises(NotFound) as caught:
            await wc.get("products/1")
    assert caught.value.gone is False
    assert "plugin" in str(caught.value) and "proxy" in str(caught.value)


async def test_a_404_with_another_code_is_not_gone() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return wc_error(404, "rest_post_invalid_id", "Invalid post ID.")

    async with make(handler=handler) as wc:
        with pytest.raises(NotFound) as caught:
            await wc.get("products/1")
    assert caught.value.gone is False


async def test_a_404_without_a_rest_error_is_not_woocommerce_not_a_missing_record() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not here"})

    async with make(handler=handler) as wc:
        with pytest.raises(NotWooCommerce) as caught:
            await wc.get("products/1")
    assert not isinstance(caught.value, NotFound)


@pytest.mark.parametrize(
    ("code", "gone"),
    [
        ("woocommerce_rest_invalid_id", True),
        ("wc_user_invalid_id", True),  # customers on current WooCommerce
        ("wc_user_invalid_id_x", False),
        ("woocommerce_rest_product_invalid_id", True),
        ("woocommerce_rest_shop_order_invalid_id", True),
        ("woocommerce_rest_product_variation_invalid_id", True),
        ("woocommerce_rest_order_refund_invalid_id", True),
        ("rest_no_route", False),
        ("rest_post_invalid_id", False),
        ("woocommerce_rest_invalid_product_id", False),
        ("woocommerce_rest_cannot_view", False),
        ("woocommerce_rest__invalid_id", False),
        (None, False),
        ("", False),
    ],
)
def test_gone_codes(code: str | None, gone: bool) -> None:
    assert is_gone_code(code) is gone


def test_not_found_gone_survives_pickling() -> None:
    error = NotFound("gone", status=404, vendor_code="woocommerce_rest_invalid_id", gone=True)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.gone is True and NotFound("x").gone is False


async def test_before_request_counts_every_request_of_the_client(store: FakeStore) -> None:
    taken: list[int] = []

    async def take_slot() -> None:
        taken.append(1)

    store.faults += [httpx.Response(502), httpx.Response(429)]
    async with make(store, before_request=take_slot) as wc:
        await wc.check()  # the credential check counts too
        await wc.get("products/1")
        pages = [p async for p in wc.iter_pages("products", per_page=100)]
    assert len(pages) == 3
    assert len(taken) == len(store.requests) == 2 + 2 + 1 + 3


# -- insecure settings are accepted, with a warning


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nxt.clients" and r.levelname == "WARNING"]


@pytest.mark.parametrize("base_url", ["http://shop.example", "http://10.0.0.5:8080", "http://[2001:db8::1]"])
def test_plain_http_to_a_remote_store_warns_once(base_url: str, caplog) -> None:
    with caplog.at_level("WARNING", logger="nxt.clients"):
        make(base_url=base_url)
        make(base_url=base_url, verify=False)  # TLS settings mean nothing over http
    warnings = _warnings(caplog)
    assert len(warnings) == 2
    assert "plain http" in warnings[0] and "OAuth 1.0a signs no body" in warnings[0]
    assert "in clear" in warnings[0] and "https://" in warnings[0]


def test_turning_tls_verification_off_warns(caplog) -> None:
    with caplog.at_level("WARNING", logger="nxt.clients"):
        make(base_url="https://shop.example", verify=False)
    (warning,) = _warnings(caplog)
    assert "TLS verification is off" in warning and "anyone on the path can read and change" in warning


@pytest.mark.parametrize(
    ("base_url", "verify"),
    [
        ("https://shop.example", True),
        ("http://127.0.0.1:8080", True),
        ("http://127.9.8.7", False),
        ("http://localhost:8000", True),
        ("http://LOCALHOST", True),
        ("http://[::1]:8080", True),
        ("https://127.0.0.1:8443", False),
    ],
)
def test_secure_or_loopback_settings_are_silent(base_url: str, verify: bool, caplog) -> None:
    with caplog.at_level("WARNING", logger="nxt.clients"):
        make(base_url=base_url, verify=verify)
    assert _warnings(caplog) == []


def test_a_file_that_is_not_a_ca_bundle_is_invalid_config(tmp_path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(InvalidConfig, match=r"ca.pem is not a CA bundle \(PEM certificates\)"):
        WooCommerceClient(base_url=SITE, consumer_key=KEY, consumer_secret=SECRET, verify=str(bogus))


def test_settings_are_readable_on_the_client() -> None:
    wc = make(timeout=12.5, max_concurrency=2)
    assert (wc.timeout, wc.deadline, wc.verify, wc.rate_limit) == (12.5, 60.0, True, None)
    assert make(timeout=45.0, deadline=10.0).deadline == 10.0
