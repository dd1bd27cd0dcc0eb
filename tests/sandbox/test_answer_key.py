"""The answer-key helper every stand-in serves at `GET <admin_url>/answer-key`, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox._framework import Service
from sandbox.answer_key import answer_key_document, answer_key_route
from sandbox.server import Sandbox
from sandbox.world import World, build_world


class _Probe(Service):
    """The smallest stand-in: no vendor API, the answer key in its admin routes."""

    name = "probe"

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world

    def vendor_app(self) -> ASGIApp:
        return PlainTextResponse("no vendor here", status_code=404)

    def admin_routes(self) -> list[Route]:
        return [answer_key_route(self.world)]


@pytest.fixture(scope="module")
def probe() -> Iterator[tuple[World, str]]:
    world = build_world(seed=3, products=10, customers=40, orders=300, end=1_796_040_000)
    sb = Sandbox(world, {"probe": _Probe(world)}, tls=False, host="127.0.0.1")
    sb.start()
    try:
        yield world, sb.admin_url("probe") + "/answer-key"
    finally:
        sb.stop()


def test_serves_the_whole_key(probe) -> None:
    world, url = probe
    doc = httpx.get(url).json()
    assert doc["items"] == world.answer_key()
    assert (doc["seed"], doc["now"], doc["now_iso"]) == (3, 1_796_040_000, "2026-11-30T12:00:00Z")
    assert doc["discrepancy_rate"] == 0.03
    assert sum(doc["counts"].values()) == len(doc["items"])
    assert all(doc["counts"][c] >= 1 for c in doc["counts"])


def test_filters(probe) -> None:
    world, url = probe
    stripe = httpx.get(url, params={"gateway": "stripe"}).json()["items"]
    assert stripe and all(k["gateway"] == "stripe" for k in stripe)
    two = httpx.get(url, params=[("category", "open_dispute,duplicate_charge")]).json()["items"]
    assert {k["category"] for k in two} == {"open_dispute", "duplicate_charge"}
    sms = httpx.get(url, params={"channel": "sms"}).json()["items"]
    assert sms and all(k["category"] == "contact" and k["channel"] == "sms" for k in sms)
    assert answer_key_document(world, channel=["sms"])["items"] == sms


def test_unknown_filter_is_a_400(probe) -> None:
    _, url = probe
    r = httpx.get(url, params={"category": "typo"})
    assert r.status_code == 400 and "unknown category typo" in r.json()["error"]
    assert httpx.get(url, params={"gateway": "venmo"}).status_code == 400
