"""The `Service` base every stand-in builds on, served over real HTTP: what a new stand-in gets for free."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from sandbox._framework import (
    AdminRoutes,
    ReceivedLog,
    Service,
    admin_json,
    read_object,
    request_headers,
)
from sandbox.server import Sandbox
from sandbox.testing import WebhookReceiver
from sandbox.world import World, build_world


class _VendorError(Exception):
    pass


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, _VendorError):
        return admin_json({"error": str(exc), "code": "vendor"}, 409)
    return None


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

    def admin_routes(self) -> list[Route]:
        self.received = ReceivedLog()
        for kind in ("order", "refund", "order", "capture"):
            self.received.add(kind, n=len(self.received))

        async def body(request: Request) -> Any:
            return await read_object(request)

        async def fail(request: Request) -> Any:
            kind = request.path_params["kind"]
            if kind == "vendor":
                raise _VendorError("the vendor said no")
            if kind == "key":
                return {}["missing"]
            if kind == "value":
                raise ValueError("bad value")
            raise RuntimeError("a bug")

        async def plain(request: Request) -> Any:
            return PlainTextResponse("as is")

        r = AdminRoutes("/echo", refusal=_refusal)
        r.received(self.received)
        r.post("/body", body)
        r.get("/fail/{kind}", fail)
        r.add("/plain", plain, ["GET", "PUT"])
        return r.routes

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


# --- admin routes ----------------------------------------------------------------------------------
def test_admin_handlers_answer_json_or_their_own_response(served) -> None:
    sb, _, _ = served
    admin = sb.admin_url("plain") + "/echo"
    assert httpx.post(admin + "/body", json={"a": 1}).json() == {"a": 1}
    assert httpx.post(admin + "/body").json() == {}  # no body: an empty object
    r = httpx.put(admin + "/plain")
    assert (r.status_code, r.text) == (200, "as is")
    assert httpx.post(admin + "/plain").status_code == 405


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("vendor", 409, {"error": "the vendor said no", "code": "vendor"}),
        ("value", 400, {"error": "bad value"}),
        ("key", 400, {"error": "'missing'"}),
    ],
)
def test_admin_errors_are_answers_not_crashes(served, kind: str, status: int, body: dict[str, Any]) -> None:
    sb, plain, _ = served
    r = httpx.get(sb.admin_url("plain") + f"/echo/fail/{kind}")
    assert (r.status_code, r.json()) == (status, body)
    assert plain.errors == []


def test_a_bug_in_an_admin_handler_is_a_logged_500(served) -> None:
    sb, plain, _ = served
    r = httpx.get(sb.admin_url("plain") + "/echo/fail/bug")
    assert r.status_code == 500 and r.json() == {"error": "admin error: a bug"}
    assert len(plain.errors) == 1 and "RuntimeError: a bug" in plain.errors[0]


def test_an_admin_body_must_be_a_json_object(served) -> None:
    sb, _, _ = served
    r = httpx.post(sb.admin_url("plain") + "/echo/body", json=[1, 2])
    assert (r.status_code, r.json()) == (400, {"error": "send a JSON object"})


def test_received_lists_every_kind_asked_for(served) -> None:
    sb, _, _ = served
    url = sb.admin_url("plain") + "/echo/received"
    assert [r["n"] for r in httpx.get(url).json()] == [0, 1, 2, 3]
    assert [r["n"] for r in httpx.get(url, params={"kind": "order"}).json()] == [0, 2]
    assert [r["n"] for r in httpx.get(url, params={"kind": "order,capture"}).json()] == [0, 2, 3]
    assert [r["n"] for r in httpx.get(url, params=[("kind", "refund"), ("kind", "capture")]).json()] == [1, 3]


def test_the_received_log_hands_out_copies() -> None:
    log = ReceivedLog()
    log.add("order", id="o1")
    log.add("refund", id="r1")
    (first,) = log.list("order")
    first["id"] = "changed"
    assert log.list() == [{"kind": "order", "id": "o1"}, {"kind": "refund", "id": "r1"}]
    assert log.list(None) == log.list() and len(log) == 2


def test_every_stand_in_serves_the_answer_key(served, world: World) -> None:
    sb, _, _ = served
    doc = httpx.get(sb.admin_url("plain") + "/answer-key").json()
    assert doc["items"] == world.answer_key()
