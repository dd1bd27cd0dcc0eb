"""WooCommerce authentication: OAuth 1.0a over http, Basic or query keys over https."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

import httpx
import pytest
from fake_woocommerce import FAST, KEY, SECRET, FakeStore, php_oauth_signature

from clients import AuthFailed, WooCommerceClient
from clients.woocommerce._auth import (
    OAuth1QueryAuth,
    oauth_signature,
    php_params,
    signature_base_string,
)

pytestmark = pytest.mark.anyio

URL = "http://127.0.0.1:8080/wp-json/wc/v3/products"


def signed(request: httpx.Request, *, nonce: str = "abc", ts: float = 1_700_000_000) -> dict:
    auth = OAuth1QueryAuth(KEY, SECRET, clock=lambda: ts, nonce=lambda: nonce)
    flow = auth.auth_flow(request)
    return dict(parse_qsl(next(flow).url.query.decode(), keep_blank_values=True))


def test_base_string_matches_a_hand_written_one() -> None:
    params = {
        "page": "2",
        "per_page": "100",
        "search": "blue shirt",
        "oauth_consumer_key": "ck_test",
        "oauth_nonce": "abc",
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": "1700000000",
    }
    expected = (
        "GET&http%3A%2F%2F127.0.0.1%3A8080%2Fwp-json%2Fwc%2Fv3%2Fproducts&"
        "oauth_consumer_key%3Dck_test%26oauth_nonce%3Dabc%26oauth_signature_method%3DHMAC-SHA256"
        "%26oauth_timestamp%3D1700000000%26page%3D2%26per_page%3D100%26search%3Dblue%2520shirt"
    )
    assert signature_base_string("GET", URL, params) == expected
    mac = hmac.new(b"cs_test&", expected.encode(), hashlib.sha256).digest()
    assert oauth_signature(expected, "cs_test") == base64.b64encode(mac).decode()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page": 3, "per_page": 100},
        {"modified_after": "2024-01-01T00:00:00", "dates_are_gmt": "true", "orderby": "modified"},
        {"search": "café & crème ~ 100%", "sku": "A/B+C"},
    ],
    ids=["none", "paging", "incremental", "awkward-characters"],
)
def test_signature_matches_an_independent_port_of_the_server_check(params: dict) -> None:
    request = httpx.Request("GET", URL, params=params)
    query = signed(request)
    assert query["oauth_signature"] == php_oauth_signature("GET", URL, query, SECRET)
    assert query["oauth_signature_method"] == "HMAC-SHA256"


def test_signature_matches_the_woocommerce_python_package(monkeypatch) -> None:
    from woocommerce.oauth import OAuth

    monkeypatch.setattr(OAuth, "generate_nonce", staticmethod(lambda: "fixednonce"))
    query = "page=2&per_page=100&modified_after=2024-01-01T00%3A00%3A00&search=blue%20shirt"
    theirs = OAuth(
        url=f"{URL}?{query}",
        consumer_key=KEY,
        consumer_secret=SECRET,
        version="wc/v3",
        method="GET",
        oauth_timestamp=1_700_000_000,
    ).get_oauth_url()
    their_signature = dict(parse_qsl(httpx.URL(theirs).query.decode()))["oauth_signature"]
    ours = signed(httpx.Request("GET", f"{URL}?{query}"), nonce="fixednonce")
    assert ours["oauth_signature"] == their_signature


def test_php_params_reads_brackets_like_php() -> None:
    assert php_params([("a", "1"), ("s[]", "x"), ("s[]", "y"), ("f[k]", "v"), ("a", "2")]) == {
        "a": "2",
        "s": {"0": "x", "1": "y"},
        "f": {"k": "v"},
    }


def test_each_signing_gets_a_fresh_nonce_and_timestamp() -> None:
    auth = OAuth1QueryAuth(KEY, SECRET)
    first = dict(parse_qsl(next(auth.auth_flow(httpx.Request("GET", URL))).url.query.decode()))
    second = dict(parse_qsl(next(auth.auth_flow(httpx.Request("GET", URL))).url.query.decode()))
    assert first["oauth_nonce"] != second["oauth_nonce"]
    assert len(first["oauth_nonce"]) == 32


async def test_oauth_over_real_http_including_retries(live_store) -> None:
    """Over plain http the store verifies OAuth and refuses a reused nonce: retries re-sign."""
    live_store.store.faults += [httpx.Response(502), httpx.Response(503)]
    async with WooCommerceClient(
        base_url=live_store.url, consumer_key=KEY, consumer_secret=SECRET, retry=FAST
    ) as wc:
        assert wc.auth_method == "oauth1"
        page = await wc.list_page("products", per_page=5, params={"search": "a b/c", "x": True})
    assert [p["id"] for p in page.items] == [1, 2, 3, 4, 5]
    assert len(live_store.store.nonces) == 1
    nonces = [dict(parse_qsl(r.url.query.decode()))["oauth_nonce"] for r in live_store.store.requests]
    assert len(set(nonces)) == 3  # two failed attempts and the success, each freshly signed


async def test_wrong_secret_over_http_is_auth_failed(live_store) -> None:
    async with WooCommerceClient(
        base_url=live_store.url, consumer_key=KEY, consumer_secret="cs_wrong_wrong", retry=FAST
    ) as wc:
        with pytest.raises(AuthFailed) as caught:
            await wc.get("products/1")
    assert "Invalid signature" in str(caught.value)
    assert len(live_store.store.requests) == 1  # never retried


async def test_basic_auth_over_https(store: FakeStore) -> None:
    async with WooCommerceClient(
        base_url="https://shop.example",
        consumer_key=KEY,
        consumer_secret=SECRET,
        transport=store.transport(),
    ) as wc:
        assert (await wc.get("products/7"))["id"] == 7
    request = store.requests[-1]
    assert (
        request.headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    )
    assert "oauth_signature" not in request.url.query.decode()


async def test_query_string_auth_over_https(store: FakeStore) -> None:
    async with WooCommerceClient(
        base_url="https://shop.example",
        consumer_key=KEY,
        consumer_secret=SECRET,
        query_string_auth=True,
        transport=store.transport(),
    ) as wc:
        await wc.get("products/7")
    request = store.requests[-1]
    query = dict(parse_qsl(request.url.query.decode()))
    assert query["consumer_key"] == KEY and query["consumer_secret"] == SECRET
    assert "authorization" not in request.headers


async def test_query_string_auth_is_ignored_over_http(store: FakeStore) -> None:
    async with WooCommerceClient(
        base_url="http://shop.example",
        consumer_key=KEY,
        consumer_secret=SECRET,
        query_string_auth=True,
        transport=store.transport(),
    ) as wc:
        await wc.get("products/7")
    query = dict(parse_qsl(store.requests[-1].url.query.decode()))
    assert "consumer_secret" not in query and "oauth_signature" in query
