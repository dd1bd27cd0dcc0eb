"""Our PayPal client and the PayPal Gateway block against the stand-in (plain HTTP and TLS)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from blocks import PayPalGateway
from clients import ApiError, Declined, NotFound, PayPalClient, RetryPolicy, TransportFailure
from sandbox.server import Sandbox, run_sandbox
from sandbox.world import DEFAULT_END

SIZES = {"products": 20, "customers": 20, "orders": 300, "seed": 9, "now": DEFAULT_END}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("paypal",), **SIZES) as sandbox:
        yield sandbox


def block_for(sb: Sandbox, **kwargs: object) -> PayPalGateway:
    creds = sb.credentials["paypal"]
    return PayPalGateway(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        webhook_id=creds["webhook_id"],
        environment="sandbox",
        base_url=sb.urls["paypal"],
        ca_bundle=sb.ca_file,
        **kwargs,
    )


def test_pay_refund_and_find_it_in_the_search(sb: Sandbox) -> None:
    async def run() -> None:
        async with block_for(sb).client() as pp:
            order = await pp.create_order(
                {
                    "intent": "CAPTURE",
                    "purchase_units": [
                        {"amount": {"currency_code": "USD", "value": "80.00"}, "invoice_id": "NXT-TEST-80"}
                    ],
                }
            )
            with pytest.raises(ApiError) as info:
                await pp.capture_order(order["id"])
            assert info.value.vendor_code == "ORDER_NOT_APPROVED" and info.value.request_id
            sb.call(sb.paypal.approve_order, order["id"])
            captured = await pp.capture_order(order["id"])
            capture_id = captured["purchase_units"][0]["payments"]["captures"][0]["id"]
            refund = await pp.refund_capture(
                capture_id, amount=Decimal("30.00"), currency="USD", request_id="r-80"
            )
            assert refund["amount"]["value"] == "30.00" and refund["status"] == "COMPLETED"
            again = await pp.refund_capture(
                capture_id, amount=Decimal("30.00"), currency="USD", request_id="r-80"
            )
            assert again["id"] == refund["id"]  # the same request id: no second refund
            with pytest.raises(ApiError) as over:
                await pp.refund_capture(capture_id, amount=Decimal("50.01"), currency="USD")
            assert over.value.vendor_code == "REFUND_AMOUNT_EXCEEDED" and over.value.status == 422
            assert (await pp.get_capture(capture_id))["status"] == "PARTIALLY_REFUNDED"
            now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
            found = [
                item["transaction_info"]
                async for page in pp.search_transactions(now - dt.timedelta(hours=1), now)
                for item in page.items
            ]
            codes = {(i["transaction_event_code"], i["transaction_id"]) for i in found}
            assert ("T0006", capture_id) in codes and ("T1107", refund["id"]) in codes

    asyncio.run(run())
    assert (
        len(sb.call(sb.world.ledger.charge, "paypal", sb.paypal.received("capture")[-1]["id"]).refunds) == 1
    )


def test_search_reads_every_window_and_page_of_a_long_range(sb: Sandbox) -> None:
    start = dt.datetime.fromtimestamp(DEFAULT_END, dt.UTC) - dt.timedelta(days=100)
    end = dt.datetime.fromtimestamp(DEFAULT_END, dt.UTC)

    async def run() -> tuple[list[str], set[dt.datetime]]:
        async with block_for(sb).client() as pp:
            ids: list[str] = []
            windows = set()
            async for page in pp.search_transactions(start, end, fields="transaction_info", page_size=5):
                ids += [i["transaction_info"]["transaction_id"] for i in page.items]
                windows.add(page.window_start)
            return ids, windows

    ids, windows = asyncio.run(run())
    lo, hi = int(start.timestamp()), int(end.timestamp()) + 1
    ledger = sb.world.ledger
    expected = [
        c.id for c in ledger.charges("paypal", created_gte=lo, created_lt=hi) if c.status == "succeeded"
    ]
    expected += [r.id for r in ledger.refunds("paypal", created_gte=lo, created_lt=hi)]
    assert sorted(i for i in ids if len(i) == 17 and i in set(expected)) == sorted(expected)
    assert len(windows) == 4  # 100 days in windows of at most 31


def test_token_expiry_is_survived(sb: Sandbox) -> None:
    async def run() -> dict[int, int]:
        async with block_for(sb).client() as pp:
            await pp.get_capture(sb.world.ledger.charges("paypal", status="succeeded")[0].id)
            sb.call(sb.paypal.expire_tokens)
            await pp.get_capture(sb.world.ledger.charges("paypal", status="succeeded")[1].id)
            return pp.stats.by_status

    assert asyncio.run(run()) == {200: 4, 401: 1}  # token, read, 401 invalid_token, new token, read


def test_not_found_and_duplicate_invoice(sb: Sandbox) -> None:
    async def run() -> None:
        async with block_for(sb).client() as pp:
            with pytest.raises(NotFound) as info:
                await pp.get_capture("0AB12345CD6789012")
            assert info.value.gone and info.value.vendor_code == "INVALID_RESOURCE_ID"
            body = {
                "intent": "CAPTURE",
                "purchase_units": [
                    {"amount": {"currency_code": "USD", "value": "5.00"}, "invoice_id": "NXT-TEST-DUP"}
                ],
            }
            for attempt in range(2):
                order = await pp.create_order(body)
                sb.call(sb.paypal.approve_order, order["id"])
                if attempt == 0:
                    await pp.capture_order(order["id"])
                else:
                    with pytest.raises(Declined) as dup:
                        await pp.capture_order(order["id"])
                    assert dup.value.reason == "DUPLICATE_INVOICE_ID"

    asyncio.run(run())


def test_retried_capture_after_a_502_pays_once(sb: Sandbox) -> None:
    creds = sb.credentials["paypal"]
    fast = RetryPolicy(max_retries=2, base_delay=0.01)

    async def run() -> str:
        async with PayPalClient(
            base_url=sb.urls["paypal"],
            client_id=creds["client_id"],
            client_secret=creds["client_secret"],
            retry=fast,
        ) as pp:
            order = await pp.create_order(
                {
                    "intent": "CAPTURE",
                    "purchase_units": [{"amount": {"currency_code": "USD", "value": "7.00"}}],
                }
            )
            sb.call(sb.paypal.approve_order, order["id"])
            sb.set_faults("paypal", script=[502], paths=["/capture"])  # the gateway failed after the origin?
            try:
                captured = await pp.capture_order(order["id"])
            finally:
                sb.set_faults("paypal")
            return str(captured["id"])

    order_id = asyncio.run(run())
    assert len(sb.call(sb.world.ledger.charges_for, "paypal", order_id)) == 1
    attempts = [r for r in sb.paypal.received("capture") if r.get("order") == order_id]
    assert len(attempts) == 1  # the 502 came from the host in front, before PayPal saw it


def test_block_client_trusts_the_sandbox_ca_over_tls() -> None:
    with run_sandbox(services=("paypal",), products=5, customers=5, orders=10, seed=4, tls=True) as tls_sb:
        block = block_for(tls_sb, timeout_ms=5_000)

        async def run() -> str:
            async with block.client() as pp:
                return str(await pp.access_token())

        assert asyncio.run(run()).startswith("A21AA")
        untrusted = PayPalGateway(
            **{**block.model_dump(), "client_secret": block.client_secret, "ca_bundle": None}
        )

        async def refused() -> None:
            async with untrusted.client() as pp:
                await pp.access_token()

        with pytest.raises(Exception) as info:  # the throwaway CA is not in the default trust store
            asyncio.run(refused())
        assert "certificate" in str(info.value).lower() and not isinstance(info.value, TransportFailure)


def test_block_client_settings(sb: Sandbox) -> None:
    client = block_for(sb, timeout_ms=1_500, max_retries=0).client()
    assert isinstance(client, PayPalClient) and client.timeout == 1.5
    assert client.base_url == sb.urls["paypal"]
    assert sb.credentials["paypal"]["client_secret"] not in repr(client)
    asyncio.run(client.aclose())


def test_save_blocks_saves_a_paypal_gateway(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from deployments.commands import sandbox as cmd

    saved: dict[str, object] = {}
    monkeypatch.setattr(
        PayPalGateway, "save", lambda self, name, overwrite=False: saved.update(block=self, name=name)
    )
    assert cmd._save_blocks(sb, "sandbox") == ["paypal: PayPalGateway/sandbox"]
    block = saved["block"]
    assert isinstance(block, PayPalGateway) and saved["name"] == "sandbox"
    creds = sb.credentials["paypal"]
    assert (block.client_id, block.webhook_id, block.api_base_url) == (
        creds["client_id"],
        creds["webhook_id"],
        sb.urls["paypal"],
    )
    assert block.client_secret.get_secret_value() == creds["client_secret"] and block.environment == "sandbox"
