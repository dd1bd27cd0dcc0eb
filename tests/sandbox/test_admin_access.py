"""Who may use the admin endpoints (`/_sandbox/...`): loopback clients, or holders of the admin token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import sandbox._framework as framework
from deployments.commands import sandbox as cmd
from sandbox._framework import is_loopback_host, validate_admin_token
from sandbox.server import run_sandbox
from sandbox.woocommerce import WooCommerceService
from sandbox.world import build_world

TOKEN = "adm_" + "x7" * 12
REMOTE = ("203.0.113.9", 50123)


def _service(**kwargs: Any) -> WooCommerceService:
    svc = WooCommerceService(build_world(seed=1, products=3, customers=2, orders=2), **kwargs)
    svc.on_started("http://127.0.0.1:1")
    return svc


def _get(svc: WooCommerceService, path: str, client: tuple[str, int], **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=svc.asgi(), client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
            return await c.get(path, headers=headers)

    return asyncio.run(go())


def test_a_remote_client_gets_403_saying_how_to_set_the_token() -> None:
    svc = _service()
    r = _get(svc, "/_sandbox/", REMOTE)
    assert r.status_code == 403
    message = r.json()["error"]
    assert "loopback" in message and "--admin-token" in message and "NXT_SANDBOX_ADMIN_TOKEN" in message
    assert _get(svc, "/_sandbox/woocommerce/keys", REMOTE).status_code == 403
    assert _get(svc, "/wp-json/", REMOTE).status_code == 200, "the vendor API is not gated"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_are_served_without_a_token(host: str) -> None:
    r = _get(_service(), "/_sandbox/", (host, 1))
    assert r.status_code == 200 and r.json()["service"] == "woocommerce"


def test_a_request_without_a_client_address_is_refused() -> None:
    app = _service().asgi()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/_sandbox/", "headers": [], "query_string": b""}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 403


def test_with_a_token_only_its_bearer_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = framework.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(framework.hmac, "compare_digest", spy)
    svc = _service(admin_token=TOKEN)
    assert _get(svc, "/_sandbox/", REMOTE, Authorization=f"Bearer {TOKEN}").status_code == 200
    assert compared == [(TOKEN.encode(), TOKEN.encode())], "checked with a constant-time compare"
    assert _get(svc, "/_sandbox/", REMOTE, Authorization=f"bearer {TOKEN}").status_code == 200
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
    ):
        r = _get(svc, "/_sandbox/", REMOTE, **headers)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in r.text
    assert _get(svc, "/_sandbox/", ("127.0.0.1", 1)).status_code == 401, "loopback needs it too, once set"


def test_tokens_must_be_long_and_header_safe() -> None:
    assert validate_admin_token(TOKEN) == TOKEN
    for bad in ("short", "has space in the middle!", "new\nline-new-line-new-line", "é" * 20):
        with pytest.raises(ValueError, match="at least 16 characters"):
            validate_admin_token(bad)
    with pytest.raises(ValueError):
        _service(admin_token="short")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("example.com", False),
        (None, False),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_running_sandbox_with_a_token_over_http() -> None:
    with run_sandbox(products=3, customers=2, orders=2, admin_token=TOKEN) as sb:
        assert httpx.get(sb.admin_url() + "/").status_code == 401
        r = httpx.get(sb.admin_url() + "/", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        assert TOKEN not in r.text and TOKEN not in json.dumps(sb.describe())


def _up(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str] | None = None) -> Any:
    """Run `nxt sandbox up` until it would start serving; returns (result, start_sandbox kwargs)."""
    import sandbox.server

    seen: dict[str, Any] = {}

    def fake_start(**kwargs: Any) -> Any:
        seen.update(kwargs)
        raise RuntimeError("not starting in this test")

    monkeypatch.setattr(sandbox.server, "start_sandbox", fake_start)
    monkeypatch.delenv("NXT_SANDBOX_ADMIN_TOKEN", raising=False)
    return CliRunner().invoke(cmd.app, ["up", *args], env=env), seen


def test_up_on_a_public_address_without_a_token_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    result, seen = _up(monkeypatch, ["--host", "0.0.0.0"])
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "loopback clients only" in warnings[0] and "--admin-token" in warnings[0]
    assert seen["host"] == "0.0.0.0" and seen["admin_token"] is None
    quiet, _ = _up(monkeypatch, ["--host", "127.0.0.1"])
    assert "warning:" not in quiet.stderr


def test_up_takes_the_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    result, seen = _up(monkeypatch, ["--host", "0.0.0.0"], env={"NXT_SANDBOX_ADMIN_TOKEN": TOKEN})
    assert seen["admin_token"] == TOKEN and "warning:" not in result.stderr
    bad, seen = _up(monkeypatch, ["--admin-token", "short"])
    assert bad.exit_code == 2 and not seen
    assert bad.stderr.strip().startswith("error: --admin-token") and "Traceback" not in bad.output
