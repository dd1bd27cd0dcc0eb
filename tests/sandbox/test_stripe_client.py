"""`StripeGateway.client()` against the Stripe stand-in: TLS with the block's CA bundle (sync and async,
without touching `stripe.ca_bundle_path`), its retries and timeout, and the framework's faults answered as
Stripe answers them (429 with Stripe's body and `Stripe-Should-Retry`, 5xx, dropped connections)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from stripe_sandbox import stripe_sdk

from blocks.stripe import StripeGateway
from clients import InvalidConfig
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZE = {"products": 5, "customers": 5, "orders": 30, "seed": 2, "now": DEFAULT_END}


@pytest.fixture(scope="module")
def tls_sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("stripe",), tls=True, **SIZE) as s:
        yield s


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("stripe",), **SIZE) as s:
        yield s


def test_tls_trusts_the_blocks_ca_bundle_sync_and_async(tls_sb: Sandbox) -> None:
    before = stripe.ca_bundle_path
    client = stripe_sdk(tls_sb)
    assert tls_sb.urls["stripe"].startswith("https://")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. httpx's DeprecationWarning for a str body
        pi = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})

        async def read() -> str:
            got = await client.v1.payment_intents.retrieve_async(pi.id)
            return str(got.id)

        assert asyncio.run(read()) == pi.id
    assert stripe.ca_bundle_path == before  # no global state changed for other clients


def test_without_the_bundle_the_sandbox_certificate_is_refused(tls_sb: Sandbox) -> None:
    creds = tls_sb.credentials["stripe"]
    gateway = StripeGateway(
        secret_key=creds["api_key"], base_url=tls_sb.urls["stripe"], max_network_retries=0
    )
    with pytest.raises(stripe.APIConnectionError):
        gateway.client().v1.balance.retrieve()


def test_a_file_that_is_no_ca_bundle_is_invalid_config(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(InvalidConfig, match="is not a CA bundle"):
        StripeGateway(secret_key="sk_test_x", ca_bundle=str(bogus)).client()
    with pytest.raises(InvalidConfig, match="is not a file"):
        StripeGateway(secret_key="sk_test_x", ca_bundle=str(tmp_path / "missing.pem")).client()


def test_retries_are_the_blocks(sb: Sandbox) -> None:
    sb.set_faults("stripe", script=[500, 502])
    try:
        assert stripe_sdk(sb, retries=2).v1.balance.retrieve().object == "balance"
        assert sb.call(lambda: sb.stripe.faults.script) == []  # both faults were met: two retries
        sb.set_faults("stripe", script=[500])
        with pytest.raises(stripe.APIError) as exc:
            stripe_sdk(sb, retries=0).v1.balance.retrieve()
        assert exc.value.http_status == 500 and exc.value.json_body["error"]["type"] == "api_error"
    finally:
        sb.set_faults("stripe")


def test_rate_limits_answer_as_stripe_and_are_not_retried(sb: Sandbox) -> None:
    sb.set_faults("stripe", script=[429, "ok"])
    try:
        with pytest.raises(stripe.RateLimitError) as exc:
            stripe_sdk(sb, retries=2).v1.balance.retrieve()
        assert sb.call(lambda: sb.stripe.faults.script) == ["ok"]  # one request: the SDK did not retry
    finally:
        sb.set_faults("stripe")
    err = exc.value
    assert err.http_status == 429 and err.headers["Stripe-Should-Retry"] == "false"
    assert (
        err.json_body["error"]["code"] == "rate_limit"
        and err.json_body["error"]["type"] == "invalid_request_error"
    )


def test_timeout_and_dropped_connections(sb: Sandbox) -> None:
    sb.set_faults("stripe", script=["slow"], slow_ms=5_000)
    try:
        with pytest.raises(stripe.APIConnectionError):
            stripe_sdk(sb, retries=0, timeout_ms=200).v1.balance.retrieve()
        sb.set_faults("stripe", script=["drop"])
        with pytest.raises(stripe.APIConnectionError):
            stripe_sdk(sb, retries=0).v1.balance.retrieve()
        sb.set_faults("stripe", script=["drop"])
        assert stripe_sdk(sb, retries=1).v1.balance.retrieve().object == "balance"
    finally:
        sb.set_faults("stripe")


def test_block_fields_are_bounded() -> None:
    with pytest.raises(ValueError):
        StripeGateway(secret_key="sk_test_x", max_network_retries=-1)
    with pytest.raises(ValueError):
        StripeGateway(secret_key="sk_test_x", timeout_ms=10)
    client = StripeGateway(secret_key="sk_test_x", max_network_retries=4).client()
    assert client._requestor._options.max_network_retries == 4
