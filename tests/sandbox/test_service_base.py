"""The `Service` base every stand-in builds on, served over real HTTP: what a new stand-in gets for free."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import Service, request_headers
from sandbox.server import Sandbox
from sandbox.testing import WebhookReceiver
from sandbox.world import World, build_world


class _Echo(Service):
    """The smallest stand-in: echoes what it read; `/crash` crashes, `/notify` posts to a receiver."""

    name = "echo"

    def __init__(self, world: World, *, crash_status: int | None = None) -> None:
        super().__init__(world, webhook_timeout=5.0)
        self.crash_status = crash_status
        self.notify_url = ""

    async def respond(self, scope: Scope, body: bytes) -> Response:
        if scope["path"] == "/crash":
            raise RuntimeError("boom")
        if scope["path"] == "/notify":
            self.courier.schedule(self._notify(body))
            return Response(b"", 202)
        payload = {"body": body.decode(), "headers": request_headers(scope)}
        return Response(json.dumps(payload), 200, media_type="application/json")

    async def _notify(self, body: bytes) -> None:
        record: dict[str, Any] = {"kind": "note"}
        await self.courier.post(self.notify_url, body, {"Content-Type": "text/plain"}, record)
        self.courier.log.add(record)

    def crash_response(self, scope: Scope) -> Response:
        if self.crash_status is None:
            return super().crash_response(scope)
        return Response(b"vendor's own failure", self.crash_status)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(seed=5, products=3, customers=3, orders=5)


@pytest.fixture
def served(world: World) -> Iterator[tuple[Sandbox, _Echo, _Echo]]:
    plain, custom = _Echo(world), _Echo(world, crash_status=200)
    sb = Sandbox(world, {"plain": plain, "custom": custom}, tls=False, host="127.0.0.1")
    sb.start()
    try:
        yield sb, plain, custom
    finally:
        sb.stop()


def test_the_whole_body_reaches_respond_with_lower_case_headers(served) -> None:
    sb, _, _ = served

    def chunks() -> Iterator[bytes]:
        yield b"first,"
        yield b"second"

    r = httpx.post(sb.urls["plain"] + "/x", content=chunks(), headers={"X-Mixed-Case": "v"})
    assert r.status_code == 200
    assert r.json()["body"] == "first,second"
    assert r.json()["headers"]["x-mixed-case"] == "v"


def test_a_crash_is_logged_and_answered_with_the_hosts_500(served) -> None:
    sb, plain, _ = served
    r = httpx.get(sb.urls["plain"] + "/crash")
    assert r.status_code == 500 and b"<center>nginx</center>" in r.content
    errors = httpx.get(sb.admin_url("plain") + "/errors").json()
    assert len(errors) == 1 and "RuntimeError: boom" in errors[0]


def test_a_vendor_answers_its_own_crashes_its_own_way(served) -> None:
    sb, _, _ = served
    r = httpx.get(sb.urls["custom"] + "/crash")
    assert (r.status_code, r.content) == (200, b"vendor's own failure")


def test_deliveries_run_on_the_servers_loop_and_flush_waits_for_them(served) -> None:
    sb, plain, _ = served
    with WebhookReceiver() as rx:
        plain.notify_url = rx.url
        assert httpx.post(sb.urls["plain"] + "/notify", content=b"hello").status_code == 202
        sb.flush_webhooks()  # the base's flush(): returns once the post was attempted
        (log,) = plain.deliveries.list(kind="note")
        assert log["success"] and log["status_code"] == 200
        assert [r.body for r in rx.received] == [b"hello"]
    assert plain.loop is not None  # the server handed every stand-in its loop


def test_the_constructor_wires_what_every_stand_in_has(world: World) -> None:
    svc = _Echo(world)
    assert svc.world is world
    assert svc.courier.log is svc.deliveries and svc.courier.timeout == 5.0
    assert svc.loop is None  # until a server runs it
    assert Service().world.seed == build_world().seed  # no world: the default one
