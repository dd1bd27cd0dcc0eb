"""Gateway webhooks start a targeted ledger ingestion: a Stripe payment's events, signed and delivered by
the stand-in, become one `ingest-ledger` run for Stripe that puts the charge in the hub's ledger; every
gateway's money topics have a handler, other topics (messaging) do not."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from receiver_harness import rows, save_blocks, settings_for, start_receiver

from blocks import StripeGateway
from hub.models import utcnow
from receiver.handlers import default_registry
from receiver.handlers.payments import HANDLERS
from sandbox.server import run_sandbox


def test_every_gateway_has_a_ledger_handler_for_its_money_topics() -> None:
    registry = default_registry()
    now = utcnow()

    def row(source: str, topic: str) -> Any:
        from hub.inbox import InboxRow

        return InboxRow(
            1, source, "k", topic, None, None, {}, "pending", 0, now, None, None, None, 0, None, None
        )

    for source, topic in (
        ("stripe", "charge.refunded"),
        ("stripe", "charge.dispute.created"),
        ("stripe", "payout.paid"),
        ("paypal", "PAYMENT.CAPTURE.REFUNDED"),
        ("paypal", "CUSTOMER.DISPUTE.CREATED"),
        ("square", "refund.updated"),
        ("authorizenet", "net.authorize.payment.authcapture.created"),
    ):
        handler = registry.find(row(source, topic))
        assert handler is not None and handler.name == f"{source}-ledger", (source, topic)
    assert registry.find(row("stripe", "customer.created")) is None
    assert {h.source for h in HANDLERS} == {"stripe", "paypal", "square", "authorizenet"}


def test_a_stripe_payment_webhook_ingests_the_charge(
    names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NXT_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    with run_sandbox(services=("stripe",), products=2, customers=2, orders=4, seed=6) as sb:
        creds = sb.credentials["stripe"]
        save_blocks(names)
        block = StripeGateway(
            secret_key=creds["api_key"], webhook_secret=creds["webhook_secret"], base_url=sb.urls["stripe"]
        )
        block.save(names, overwrite=True)
        running = start_receiver(settings_for(names, dispatch_enabled=True), engine)
        try:
            sb.call(sb.stripe.register_webhook, running.url + "/api/webhooks/stripe", ["charge.succeeded"])
            intent = block.client().v1.payment_intents.create(
                params={
                    "amount": 1234,
                    "currency": "usd",
                    "payment_method": "pm_card_visa",
                    "confirm": True,
                    "metadata": {"order_id": str(uuid.uuid4().int % 100_000)},
                }
            )
            sb.flush_webhooks()
            running.call(running.runtime.dispatcher.drain())
            stored = [r for r in rows(engine) if r.source == "stripe"]
            assert [r.topic for r in stored] == ["charge.succeeded"] and stored[0].status == "done"
            with engine.connect() as conn:
                charge = (
                    conn.execute(
                        sa.text(
                            "SELECT gateway_id, amount_minor, status FROM gateway_transactions "
                            "WHERE alt_id = :pi"
                        ),
                        {"pi": intent.id},
                    )
                    .mappings()
                    .one()
                )
            assert (charge["amount_minor"], charge["status"]) == (1234, "succeeded")

            from prefect.client.orchestration import get_client

            async def run_name() -> str:
                async with get_client() as client:
                    run = await client.read_flow_run(uuid.UUID(stored[0].flow_run_id))
                    assert run.state.is_completed()
                    return run.name

            assert running.call(run_name()).startswith("payments-ingest/stripe/")
        finally:
            running.stop()
