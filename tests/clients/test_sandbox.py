"""WooCommerceClient against the sandbox store (real HTTP, real OAuth 1.0a / TLS checks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clients import (
    AuthFailed,
    InvalidConfig,
    NotWooCommerce,
    RetryPolicy,
    WooCommerceClient,
)

server = pytest.importorskip("sandbox.server")

pytestmark = pytest.mark.anyio

QUICK = RetryPolicy(max_retries=3, base_delay=0.01, jitter=0.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with server.run_sandbox(services=("woocommerce",), products=120, customers=5, orders=5, seed=11) as sb:
        yield sb


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[Any]:
    with server.run_sandbox(
        services=("woocommerce",), products=5, customers=1, orders=1, seed=11, tls=True
    ) as sb:
        yield sb


def client_for(sb: Any, *, key: str = "consumer_key", secret: str = "consumer_secret", **kw: Any):
    creds = sb.credentials["woocommerce"]
    kw.setdefault("retry", QUICK)
    kw.setdefault("base_url", sb.urls["woocommerce"])
    return WooCommerceClient(consumer_key=creds[key], consumer_secret=creds[secret], **kw)


async def test_full_read_over_oauth(sandbox: Any) -> None:
    async with client_for(sandbox, max_concurrency=3) as wc:
        assert wc.auth_method == "oauth1"
        await wc.check()
        pages = [
            p async for p in wc.iter_pages("products", per_page=25, params={"orderby": "id", "order": "asc"})
        ]
    ids = [item["id"] for page in pages for item in page.items]
    assert len(ids) == len(set(ids)) == pages[0].total
    assert [p.page for p in pages] == list(range(1, pages[0].total_pages + 1))


async def test_faults_are_retried(sandbox: Any) -> None:
    sandbox.set_faults(script=[502, 429, "drop"])
    try:
        async with client_for(sandbox) as wc:
            page = await wc.list_page("products", per_page=5)
            stats = wc.stats
    finally:
        sandbox.set_faults()
    assert len(page.items) == 5
    assert stats.retries == 3 and stats.rate_limited == 1 and stats.transport_failures == 1


async def test_wrong_secret_and_read_only_key(sandbox: Any) -> None:
    creds = sandbox.credentials["woocommerce"]
    async with WooCommerceClient(
        base_url=sandbox.urls["woocommerce"],
        consumer_key=creds["consumer_key"],
        consumer_secret="cs_not_the_right_one",
        retry=QUICK,
    ) as wc:
        with pytest.raises(AuthFailed, match="check consumer_key/consumer_secret"):
            await wc.check()
    async with client_for(sandbox, key="read_only_consumer_key", secret="read_only_consumer_secret") as wc:
        await wc.check()
        with pytest.raises(AuthFailed, match="Read/Write permission"):
            await wc.batch("products", update=[{"id": 1, "name": "x"}])


async def test_a_path_that_is_not_the_site_is_not_woocommerce(sandbox: Any) -> None:
    async with client_for(sandbox, base_url=sandbox.urls["woocommerce"] + "/blog") as wc:
        with pytest.raises(NotWooCommerce):
            await wc.check()


async def test_tls_with_the_sandbox_ca(tls_sandbox: Any) -> None:
    async with client_for(tls_sandbox, verify=tls_sandbox.ca_file) as wc:
        assert wc.auth_method == "basic"
        await wc.check()
    async with client_for(tls_sandbox) as wc:  # system CAs do not know the sandbox CA
        with pytest.raises(InvalidConfig, match="TLS certificate .* could not be verified"):
            await wc.check()


# -- resource-level reads against the sandbox store


@pytest.fixture(scope="module")
def shop() -> Iterator[Any]:
    with server.run_sandbox(services=("woocommerce",), products=60, customers=5, orders=40, seed=5) as sb:
        yield sb


async def test_fetch_by_ids_finds_trashed_orders_and_products_and_reports_the_gone(shop: Any) -> None:
    async with client_for(shop) as wc:
        order_ids = sorted((await wc.list_ids("orders", params={"status": "any"})).keys())
        product_ids = sorted((await wc.list_ids("products")).keys())
        trashed_order, kept_order = order_ids[0], order_ids[1]
        trashed_product = product_ids[0]
        await wc.delete(f"orders/{trashed_order}")  # to the trash, not deleted
        await wc.delete(f"products/{trashed_product}")
        missing = max(order_ids) + 10_000

        orders = await wc.fetch_by_ids("orders", [trashed_order, kept_order, missing])
        products = await wc.fetch_by_ids("products", [trashed_product, product_ids[1]])
        # The trash is a listing of its own: the paged "any" read does not show it.
        assert trashed_order not in await wc.list_ids("orders", params={"status": "any"})
        assert trashed_order in await wc.list_ids("orders", params={"status": "trash"})
    assert orders.found[trashed_order]["status"] == "trash"
    assert orders.found[kept_order]["id"] == kept_order
    assert orders.gone == [missing]
    assert products.found[trashed_product]["status"] == "trash" and products.gone == []


async def test_variations_and_fetching_them_by_ids(shop: Any) -> None:
    async with client_for(shop, max_concurrency=3) as wc:
        page = await wc.list_page("products", params={"type": "variable", "orderby": "id", "order": "asc"})
        parent = page.items[0]
        variations = await wc.variations(parent["id"])
        assert sorted(v["id"] for v in variations) == sorted(parent["variations"])
        wanted = [v["id"] for v in variations][:2]
        result = await wc.fetch_by_ids("variations", [*wanted, 987654], parent_id=parent["id"])
    assert sorted(result.found) == sorted(wanted)
    assert result.gone == [987654]


async def test_list_ids_matches_a_full_paged_read(shop: Any) -> None:
    async with client_for(shop, max_concurrency=3) as wc:
        ids = await wc.list_ids("customers", params={"role": "all"})
        pages = [p async for p in wc.iter_pages("customers", per_page=2, params={"role": "all"})]
    assert set(ids) == {c["id"] for p in pages for c in p.items}
    assert all(value is None or value.startswith("20") for value in ids.values())
