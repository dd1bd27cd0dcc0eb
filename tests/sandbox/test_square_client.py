"""`SquareGateway.client()` against the Square stand-in: the SDK aimed at the block's address, trusting its
CA bundle over TLS, with the block's timeout and retries; and `nxt sandbox up --save-blocks` for Square."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from square import Square
from square.core.api_error import ApiError

from blocks import SquareGateway
from deployments.commands import sandbox as cmd
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

WORLD = {"services": ("square",), "products": 10, "customers": 5, "orders": 40, "seed": 3, "now": DEFAULT_END}


def gateway(sb: Sandbox, **kwargs: object) -> SquareGateway:
    creds = sb.credentials["square"]
    return SquareGateway(
        access_token=creds["access_token"],
        location_ids=creds["location_ids"],
        environment="sandbox",
        base_url=sb.urls["square"],
        ca_bundle=sb.ca_file,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(**WORLD) as sb:
        yield sb


@pytest.fixture(scope="module")
def tls_sb() -> Iterator[Sandbox]:
    with run_sandbox(**WORLD, tls=True) as sb:
        yield sb


def close(client: Square) -> None:
    """Close the connections under the SDK client (a kept-alive one holds the server's shutdown)."""
    client._client_wrapper.httpx_client.httpx_client.close()


def requests_to(sb: Sandbox, path: str) -> int:
    stats = httpx.get(sb.admin_url("square") + "/stats", verify=sb.ssl_context() or True).json()
    return int(stats["by_path"].get(path, 0))


def test_client_is_the_sdk_aimed_at_the_block(sb: Sandbox) -> None:
    block = gateway(sb, timeout_ms=12_000)
    client = block.get_client()
    assert isinstance(client, Square)
    assert [loc.id for loc in client.locations.list().locations or []] == block.location_ids
    wrapper = client._client_wrapper
    assert wrapper.get_base_url() == sb.urls["square"] and wrapper.get_timeout() == 12.0
    http = wrapper.httpx_client.httpx_client
    assert http.follow_redirects is False and http.timeout.read == 12.0


def test_client_trusts_the_blocks_ca_bundle(tls_sb: Sandbox) -> None:
    assert tls_sb.urls["square"].startswith("https://")
    client = gateway(tls_sb).client()
    assert client.locations.list().locations
    close(client)
    untrusted = SquareGateway(
        access_token=tls_sb.credentials["square"]["access_token"], base_url=tls_sb.urls["square"]
    ).client()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.locations.list()


def test_max_retries_is_the_clients_default_and_calls_may_override_it(sb: Sandbox) -> None:
    path = "/v2/locations"
    sb.set_faults("square", script=[500, 500, 500])
    before = requests_to(sb, path)
    with pytest.raises(ApiError) as exc:
        gateway(sb, max_retries=1).client().locations.list()
    assert exc.value.status_code == 500
    assert requests_to(sb, path) - before == 2  # one try and one retry, not the SDK's 2 retries

    before = requests_to(sb, path)
    with pytest.raises(ApiError):
        gateway(sb, max_retries=1).client().locations.list(request_options={"max_retries": 0})
    assert requests_to(sb, path) - before == 1

    sb.set_faults("square", script=[500])
    before = requests_to(sb, path)
    assert gateway(sb).client().locations.list().locations  # default 2 retries: the second try answers
    assert requests_to(sb, path) - before == 2
    sb.set_faults("square")


def test_timeout_applies(sb: Sandbox) -> None:
    sb.set_faults("square", script=["slow"], slow_ms=5_000)
    with pytest.raises(httpx.ReadTimeout):
        gateway(sb, timeout_ms=200, max_retries=0).client().locations.list()
    sb.set_faults("square")


def test_save_blocks_saves_the_square_gateway(monkeypatch: pytest.MonkeyPatch, tls_sb: Sandbox) -> None:
    saved: dict[str, object] = {}
    monkeypatch.setattr(
        SquareGateway, "save", lambda self, name, overwrite=False: saved.update(block=self, name=name)
    )
    lines = cmd._save_blocks(tls_sb, "sandbox")
    assert lines == ["square: SquareGateway/sandbox"] and saved["name"] == "sandbox"
    block = saved["block"]
    assert isinstance(block, SquareGateway)
    creds = tls_sb.credentials["square"]
    assert block.access_token.get_secret_value() == creds["access_token"]
    assert (
        block.webhook_signature_key
        and block.webhook_signature_key.get_secret_value() == creds["webhook_signature_key"]
    )
    assert block.location_ids == creds["location_ids"] and block.ca_bundle == tls_sb.ca_file
    assert block.api_base_url == tls_sb.urls["square"] and block.environment == "sandbox"
    client = block.client()
    assert client.locations.get(location_id=block.location_ids[0]).location
    close(client)
