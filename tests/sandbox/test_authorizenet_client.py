"""Our Authorize.Net client and the Authorize.Net Gateway block against the stand-in (HTTP and TLS)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from blocks import AuthorizeNetGateway
from clients import (
    ApiError,
    AuthFailed,
    AuthorizeNetClient,
    Declined,
    NotFound,
    RetryPolicy,
    ServerError,
    TransportFailure,
)
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {"products": 20, "customers": 20, "orders": 300, "seed": 17, "now": DEFAULT_END}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("authorizenet",), **SIZES) as sandbox:
        yield sandbox


def block_for(sb: Sandbox, **kwargs: object) -> AuthorizeNetGateway:
    creds = sb.credentials["authorizenet"]
    return AuthorizeNetGateway(
        api_login_id=creds["api_login_id"],
        transaction_key=creds["transaction_key"],
        signature_key=creds["signature_key"],
        environment="sandbox",
        base_url=sb.urls["authorizenet"],
        ca_bundle=sb.ca_file,
        **kwargs,
    )


def test_charge_settle_refund_and_report(sb: Sandbox) -> None:
    async def run() -> None:
        async with block_for(sb).client() as anet:
            await anet.authenticate_test()
            tr = await anet.charge(
                Decimal("25.50"),
                card_number="4111111111111111",
                expiration_date="2035-12",
                invoice_number="800001",
                description="Order #800001",
                customer_email="ann@example.com",
                bill_to={"lastName": "Lee", "firstName": "Ann"},  # any member order: the client sorts them
            )
            assert tr["responseCode"] == "1"
            with pytest.raises(Declined) as dup:
                await anet.charge(
                    Decimal("25.50"),
                    card_number="4111111111111111",
                    expiration_date="2035-12",
                    invoice_number="800001",
                )
            assert dup.value.reason == "11" and dup.value.transaction_id is None
            with pytest.raises(ApiError) as early:
                await anet.refund(tr["transId"], Decimal("5.00"), card_last4="1111")
            assert early.value.vendor_code == "54" and not isinstance(early.value, Declined)
            sb.call(sb.authorizenet.settle_now)
            refund = await anet.refund(tr["transId"], Decimal("5.00"), card_last4="1111")
            assert refund["refTransID"] == tr["transId"]
            with pytest.raises(ApiError) as over:
                await anet.refund(tr["transId"], Decimal("21.00"), card_last4="1111")
            assert over.value.vendor_code == "55"
            details = await anet.transaction_details(tr["transId"])
            assert (
                details["settleAmount"] == Decimal("25.50")
                and details["transactionStatus"] == "settledSuccessfully"
            )
            now = dt.datetime.fromtimestamp(sb.call(sb.authorizenet.advance_clock, 0), dt.UTC)
            batches = [b async for b in anet.settled_batches(now - dt.timedelta(days=2), now)]
            ids = [
                t["transId"]
                for b in batches
                async for page in anet.batch_transactions(b["batchId"], page_size=1)
                for t in page
            ]
            assert tr["transId"] in ids
            unsettled = [t["transId"] async for page in anet.unsettled_transactions() for t in page]
            assert refund["transId"] in unsettled

    asyncio.run(run())


def test_declines_and_auth_flows(sb: Sandbox) -> None:
    async def run() -> None:
        async with block_for(sb).client() as anet:
            with pytest.raises(Declined) as declined:
                await anet.charge(
                    Decimal("9.00"),
                    card_number="4111111111111111",
                    expiration_date="2035-12",
                    bill_to={"zip": "46282"},
                )
            assert declined.value.reason == "2" and declined.value.transaction_id
            assert declined.value.vendor_code == "2" and declined.value.status == 200
            auth = await anet.charge(
                Decimal("30.00"), card_number="4111111111111111", expiration_date="1235", auth_only=True
            )
            captured = await anet.capture(auth["transId"], Decimal("20.00"))
            assert captured["transId"] == auth["transId"]
            voided = await anet.void(auth["transId"])
            assert voided["responseCode"] == "1"
            with pytest.raises(NotFound) as missing:
                await anet.transaction_details("11111111111")
            assert missing.value.gone and missing.value.vendor_code == "E00040"

    asyncio.run(run())


def test_every_settled_transaction_of_a_long_range(sb: Sandbox) -> None:
    end = dt.datetime.fromtimestamp(DEFAULT_END, dt.UTC)
    start = end - dt.timedelta(days=75)

    async def run() -> list[str]:
        async with block_for(sb).client() as anet:
            ids: list[str] = []
            async for batch in anet.settled_batches(start, end, statistics=False):
                async for page in anet.batch_transactions(batch["batchId"], page_size=3):
                    ids += [t["transId"] for t in page]
            return ids

    ids = asyncio.run(run())
    batches = sb.world.ledger.batches(settled_gte=int(start.timestamp()), settled_lt=int(end.timestamp()) + 1)
    assert ids == [t.id for b in batches for t in b.transactions] and ids


def test_wrong_credentials_are_auth_failed(sb: Sandbox) -> None:
    async def run() -> None:
        async with AuthorizeNetClient(
            api_url=sb.urls["authorizenet"], api_login_id="nobody", transaction_key="wrongkey"
        ) as anet:
            await anet.authenticate_test()

    with pytest.raises(AuthFailed) as info:
        asyncio.run(run())
    assert info.value.vendor_code == "E00007" and "wrongkey" not in str(info.value)


def test_a_charge_is_not_repeated_after_a_gateway_error(sb: Sandbox) -> None:
    creds = sb.credentials["authorizenet"]
    fast = RetryPolicy(max_retries=3, base_delay=0.01)

    async def run() -> None:
        async with AuthorizeNetClient(
            api_url=sb.urls["authorizenet"],
            api_login_id=creds["api_login_id"],
            transaction_key=creds["transaction_key"],
            retry=fast,
        ) as anet:
            sb.set_faults("authorizenet", script=[502, 502])
            await anet.authenticate_test()  # a read: retried through both 502s
            assert anet.stats.retries == 2
            sb.set_faults("authorizenet", script=[502])
            with pytest.raises(ServerError):
                await anet.charge(Decimal("3.00"), card_number="4111111111111111", expiration_date="2035-12")
            assert anet.stats.retries == 2  # a payment that may have gone through is not asked for again

    try:
        asyncio.run(run())
    finally:
        sb.set_faults("authorizenet")


def test_block_client_trusts_the_sandbox_ca_over_tls() -> None:
    with run_sandbox(
        services=("authorizenet",), products=5, customers=5, orders=10, seed=4, tls=True
    ) as tls_sb:
        block = block_for(tls_sb, timeout_ms=5_000)
        assert block.api_url == tls_sb.describe()["authorizenet"]["api_url"]

        async def run(gateway: AuthorizeNetGateway) -> None:
            async with gateway.client() as anet:
                await anet.authenticate_test()

        asyncio.run(run(block))
        untrusted = AuthorizeNetGateway(
            **{**block.model_dump(), "transaction_key": block.transaction_key, "ca_bundle": None}
        )
        with pytest.raises(Exception) as info:
            asyncio.run(run(untrusted))
        assert "certificate" in str(info.value).lower() and not isinstance(info.value, TransportFailure)


def test_save_blocks_saves_an_authorizenet_gateway(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from deployments.commands import sandbox as cmd

    saved: dict[str, object] = {}
    monkeypatch.setattr(
        AuthorizeNetGateway, "save", lambda self, name, overwrite=False: saved.update(block=self, name=name)
    )
    assert cmd._save_blocks(sb, "sandbox") == ["authorizenet: AuthorizeNetGateway/sandbox"]
    block = saved["block"]
    assert isinstance(block, AuthorizeNetGateway)
    creds = sb.credentials["authorizenet"]
    assert block.api_url == sb.describe()["authorizenet"]["api_url"]
    assert block.transaction_key.get_secret_value() == creds["transaction_key"]
    assert (
        block.signature_key is not None and block.signature_key.get_secret_value() == creds["signature_key"]
    )
