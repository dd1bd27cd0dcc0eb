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
