"""Fixtures for the sync flow tests: a small sandbox store, a block aimed at it, a fresh hub, and
snapshots of both sides so a test can assert "the hub equals the store"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from woocommerce import API

from blocks import WooCommerceStore
from clients._http import reset_shared_state
from hub.db import create_hub_engine
from hub.models import Customer, Order, Product
from hub.records import content_hash
from sandbox.server import Sandbox


@pytest.fixture(autouse=True)
def _fresh_client_state() -> Iterator[None]:
    """Rate limiters and circuit breakers are shared per store URL in a process; tests start clean."""
    reset_shared_state()
    yield
    reset_shared_state()


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


@pytest.fixture
def sync(block: WooCommerceStore, engine: sa.Engine) -> Callable[..., dict[str, Any]]:
    """Run the sync's work without Prefect (the flow tests cover the Prefect wrapper)."""
    from flows.woocommerce_sync import run_sync

    def run(**kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("store", "test")
        b = kwargs.pop("block", block)
        return asyncio.run(run_sync(b, engine, use_prefect=False, **kwargs))

    return run


def _store_snapshot(sb: Sandbox) -> dict[tuple[str, int], str]:
    """Every record the store serves, read with WooCommerce's own Python client: (table, id) -> hash."""
    creds = sb.credentials["woocommerce"]
    api = API(
        url=sb.urls["woocommerce"],
        consumer_key=creds["consumer_key"],
        consumer_secret=creds["consumer_secret"],
        version="wc/v3",
        timeout=30,
    )

    def every(path: str, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            resp = api.get(path, params={**params, "per_page": 100, "page": page})
            assert resp.status_code == 200, resp.text
            out += resp.json()
            if page >= int(resp.headers["X-WP-TotalPages"]):
                return out
            page += 1

    snap: dict[tuple[str, int], str] = {}
    for p in every("products") + every("products", status="trash"):
        snap[("products", p["id"])] = content_hash(p)
        if p["type"] == "variable":
            for v in every(f"products/{p['id']}/variations"):
                snap[("products", v["id"])] = content_hash(v)
    for c in every("customers"):
        snap[("customers", c["id"])] = content_hash(c)
    for o in every("orders") + every("orders", status="trash"):
        snap[("orders", o["id"])] = content_hash(o)
    return snap


def _hub_snapshot(engine: sa.Engine, store: str = "test") -> dict[tuple[str, int], str]:
    snap: dict[tuple[str, int], str] = {}
    with engine.connect() as conn:
        for name, model in (("products", Product), ("customers", Customer), ("orders", Order)):
            t = model.__table__
            for rid, h in conn.execute(
                sa.select(t.c.remote_id, t.c.content_hash).where(t.c.store == store, t.c.deleted_at.is_(None))
            ):
                snap[(name, rid)] = h
    return snap


class Probe:
    """What a test asks of both sides."""

    def __init__(self, sb: Sandbox, engine: sa.Engine) -> None:
        self.sb, self.engine = sb, engine

    def store(self) -> dict[tuple[str, int], str]:
        return _store_snapshot(self.sb)

    def hub(self, store: str = "test") -> dict[tuple[str, int], str]:
        return _hub_snapshot(self.engine, store)

    def assert_hub_equals_store(self) -> None:
        store, hub = self.store(), self.hub()
        missing = sorted(set(store) - set(hub))[:5]
        extra = sorted(set(hub) - set(store))[:5]
        stale = sorted(k for k in store.keys() & hub.keys() if store[k] != hub[k])[:5]
        assert (missing, extra, stale) == ([], [], []), "hub differs from store"

    def assert_hub_has_store(self) -> None:
        """Every record the store serves is in the hub as served (deletions may wait for a full run)."""
        store, hub = self.store(), self.hub()
        missing = sorted(set(store) - set(hub))[:5]
        stale = sorted(k for k in store.keys() & hub.keys() if store[k] != hub[k])[:5]
        assert (missing, stale) == ([], []), "hub lacks what the store has"

    def requests(self) -> int:
        return self.sb.call(lambda: self.sb.woocommerce.stats.total)

    def requests_by_path(self) -> dict[str, int]:
        return self.sb.call(lambda: dict(self.sb.woocommerce.stats.by_path))

    def pages_read(self, path: str, *, status: str | None | bool = True) -> int:
        """Listing pages requested for `path` (the credentials probe and id listings left out).

        `status=None` counts only listings without a `status` filter (e.g. not the trashed records'),
        a string only that status; by default every listing.
        """
        recent = self.sb.call(lambda: list(self.sb.woocommerce.stats.recent))

        def wanted(query: str) -> bool:
            if "_fields=id" in query:
                return False
            if status is True:
                return True
            if status is None:
                return "status=" not in query
            return f"status={status}" in query

        return sum(1 for r in recent if r["path"] == path and wanted(r["query"]))

    def id_pages(self, path: str) -> int:
        """Pages of `path` read for ids and modification times only (a listing's confirmation)."""
        recent = self.sb.call(lambda: list(self.sb.woocommerce.stats.recent))
        return sum(1 for r in recent if r["path"] == path and "_fields=id%2Cdate_modified_gmt" in r["query"])

    def reset_requests(self) -> None:
        self.sb.call(self.sb.woocommerce.stats.reset)


@pytest.fixture
def probe(sandbox: Sandbox, engine: sa.Engine) -> Probe:
    return Probe(sandbox, engine)
