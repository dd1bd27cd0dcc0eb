"""The demo's steps, each through the same flows, blocks and receiver a real installation uses.

Only the blocks' URLs and keys differ from production: they point at the sandbox. Each step returns a
`StepResult` (what it did, what it measured), which `deployments.demo.report` prints.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from deployments.errors import one_line

__all__ = ["BLOCKS", "HISTORY_DAYS", "DemoContext", "StepResult"]

BLOCKS = "demo"
"""The name every block of the demo is saved under (the store, gateways, providers, receiver API)."""

HISTORY_DAYS = 120
"""How far back the demo's sandbox history goes: four months of orders and payments (a sandbox started
without it holds two years, read by ledger ingestion in 31-day windows, most of the demo's time)."""

CUSTOMER_PHONE = "+14155550142"
CUSTOMER_EMAIL = "ada.lovelace@example.com"
OPERATOR_EMAIL = "ops@example.com"


@dataclass
class StepResult:
    """One line of the demo's report."""

    step: str
    did: str
    seconds: float
    figures: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


@dataclass
class DemoContext:
    """What the steps share: the running sandbox, the hub, and what earlier steps learned."""

    sb: Any
    engine: sa.Engine
    results: list[StepResult] = field(default_factory=list)
    new_order_id: int | None = None

    @contextmanager
    def step(self, name: str) -> Iterator[StepResult]:
        """Time a step; its body fills in `did` and `figures`."""
        result = StepResult(name, "", 0.0)
        started = time.perf_counter()
        try:
            yield result
        except Exception as exc:  # the report says what failed; the later steps still run
            result.ok = False
            result.did = f"failed: {one_line(exc)}"
        finally:
            result.seconds = time.perf_counter() - started
            self.results.append(result)

    # --- blocks ---------------------------------------------------------------------------------------

    def save_blocks(self) -> None:
        """Save every integration block under `demo`, pointing at the sandbox."""
        from blocks import NotificationSettings, ReceiverAPI
        from deployments.sandbox_blocks import blocks_for

        blocks = list(blocks_for(self.sb).items())
        for name, block in blocks:
            if name == "woocommerce":
                block.max_concurrency = 8  # type: ignore[attr-defined]
                block.rate_limit_rpm = 60_000  # type: ignore[attr-defined]
        every = [block for _, block in blocks] + [
            ReceiverAPI(bearer_token=secrets.token_urlsafe(32)),
            NotificationSettings(operator_emails=[OPERATOR_EMAIL]),
        ]

        async def save_all() -> None:  # one by one: at once, they queue on the new server's SQLite lock
            for block in every:
                await block.asave(BLOCKS, overwrite=True)

        asyncio.run(save_all())

    # --- 1. full sync ---------------------------------------------------------------------------------

    def full_sync(self) -> None:
        from flows.woocommerce_sync import woocommerce_sync

        with self.step("full sync") as r:
            summary = asyncio.run(woocommerce_sync(store=BLOCKS, sync_type="full"))
            c = summary["counts"]
            r.ok = summary["status"] == "completed"
            r.did = f"pulled the store into the hub ({summary['status']})"
            r.figures = {"records": c["fetched"], "written": c["inserted"] + c["updated"]}

    # --- 2. a hub-side price change pushed back, with one conflict --------------------------------------

    def push_prices(self, count: int = 3) -> None:
        from blocks import WooCommerceStore, load_block
        from flows.woocommerce_sync import woocommerce_sync
        from hub.edits import stage_update

        with self.step("price change pushed") as r:
            with self.engine.begin() as conn:
                picked = conn.execute(
                    sa.text(
                        "SELECT remote_id, data FROM products WHERE store = :s AND deleted_at IS NULL "
                        "ORDER BY remote_id LIMIT :n"
                    ),
                    {"s": BLOCKS, "n": count},
                ).all()
                new_prices = {}
                for remote_id, data in picked:
                    price = _price(data)
                    new_prices[int(remote_id)] = str((price * Decimal("1.10")).quantize(Decimal("0.01")))
                    stage_update(
                        conn, "products", BLOCKS, int(remote_id), {"regular_price": new_prices[remote_id]}
                    )
            # Meanwhile someone edits the first product in the store: both sides changed, a conflict.
            contested = int(picked[0][0])
            time.sleep(1.1)  # WooCommerce timestamps have one-second resolution: make the store's newer
            store_price = str(_price(picked[0][1]) + Decimal("0.99"))
            block = load_block(WooCommerceStore, BLOCKS)

            async def edit_in_store() -> None:
                client = block.client()
                try:
                    await client.put(f"products/{contested}", {"regular_price": store_price})
                finally:
                    await client.aclose()

            asyncio.run(edit_in_store())
            summary = asyncio.run(
                woocommerce_sync(store=BLOCKS, sync_type="products", direction="bidirectional")
            )
            prices = asyncio.run(_store_prices(block, list(new_prices)))
            kept = "store's" if prices[contested] == store_price else "hub's"
            pushed_ok = sum(1 for i, p in new_prices.items() if i != contested and prices[i] == p)
            r.ok = summary["status"] == "completed" and pushed_ok == len(new_prices) - 1
            r.did = (
                f"raised {len(new_prices)} prices by 10% in the hub and pushed them; product {contested} was "
                f"also edited in the store: conflict resolved by `{block.conflict_resolution}`, the "
                f"{kept} newer price kept"
            )
            r.figures = {
                "pushed": summary["counts"]["pushed"],
                "conflicts": summary["counts"]["conflicts"],
                "store prices now": ", ".join(f"{i}: {p}" for i, p in sorted(prices.items())),
            }

    # --- 3. webhooks: an order created and paid -> receiver -> targeted sync -> confirmation -------------

    def order_via_webhooks(self, receiver_url: str, drain: Any) -> None:
        from blocks import StripeGateway, WooCommerceStore, load_block

        with self.step("order webhooks") as r:
            block = load_block(WooCommerceStore, BLOCKS)
            stripe = load_block(StripeGateway, BLOCKS).client()

            async def place_order() -> tuple[int, str]:
                client = block.client()
                try:
                    for topic in ("order.created", "order.updated"):
                        await client.post(
                            "webhooks",
                            {
                                "name": f"NXT {topic}",
                                "topic": topic,
                                "delivery_url": f"{receiver_url}/api/webhooks/woocommerce",
                                "secret": block.webhook_secret.get_secret_value(),  # type: ignore[union-attr]
                            },
                        )
                    product = (await client.get("products", {"type": "simple", "per_page": 1}))[0]["id"]
                    order = await client.post("orders", _new_order(product))
                    # The shopper pays at Stripe; the store records the charge and marks the order paid.
                    intent = await asyncio.to_thread(
                        stripe.v1.payment_intents.create,
                        {
                            "amount": int(Decimal(order["total"]) * 100),
                            "currency": order["currency"].lower(),
                            "payment_method": "pm_card_visa",
                            "confirm": True,
                            "metadata": {"order_id": str(order["id"])},
                            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                        },
                        {"idempotency_key": f"demo-order-{order['id']}-payment"},
                    )
                    await client.put(
                        f"orders/{order['id']}",
                        {"status": "processing", "set_paid": True, "transaction_id": intent.latest_charge},
                    )
                    return int(order["id"]), str(intent.latest_charge)
                finally:
                    await client.aclose()

            self.new_order_id, charge = asyncio.run(place_order())
            self.sb.flush_webhooks()
            drain()
            with self.engine.connect() as conn:
                inbox: dict[str, int] = dict(
                    conn.execute(sa.text("SELECT status, count(*) FROM webhook_events GROUP BY status")).all()
                )
                status = conn.execute(
                    sa.text("SELECT status FROM orders WHERE store = :s AND remote_id = :i"),
                    {"s": BLOCKS, "i": self.new_order_id},
                ).scalar()
                queued = conn.execute(
                    sa.text(
                        "SELECT channel, count(*) FROM outbox WHERE template = 'order-confirmation' "
                        "GROUP BY channel"
                    )
                ).all()
            r.ok = status == "processing" and inbox.get("done", 0) >= 2 and len(queued) == 2
            r.did = (
                f"order {self.new_order_id} created and paid (Stripe charge {charge}); the store's webhooks "
                f"were verified and stored by the receiver, which ran a targeted sync and queued the "
                f"confirmation"
            )
            r.figures = {
                "webhooks stored": sum(inbox.values()),
                "order in hub": status,
                "confirmations queued": ", ".join(f"{c}: {n}" for c, n in queued),
            }

    # --- 4. ledger ingestion and reconciliation ----------------------------------------------------------

    def reconcile(self) -> None:
        from flows.payment_reconciliation import reconcile_payments
        from hub.reconciliation import run_items

        with self.step("ledger + reconciliation") as r:
            ingested = self._ingest()
            # Whole UTC days, from before the first order to tomorrow (the order just paid included).
            end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
            summary = asyncio.run(
                reconcile_payments(
                    start=end - timedelta(days=HISTORY_DAYS + 2),
                    end=end,
                    store=BLOCKS,
                    alert_threshold=0,
                    notification_settings=BLOCKS,
                )
            )
            run_ids = list(summary["run_ids"].values())
            with self.engine.connect() as conn:
                found = run_items(conn, run_ids, statuses=("open",))
            planted = self.sb.call(lambda: self.sb.world.ledger.answer_key())
            expected = {_break_key(p) for p in planted}
            got = {_break_key(i) for i in found}
            r.ok = got == expected
            r.did = (
                "read each gateway's ledger into the hub, then matched it to the orders; breaks found vs "
                "the sandbox's planted discrepancies"
            )
            r.figures = {
                "ledger records": ingested,
                "planted": len(expected),
                "found": len(got & expected),
                "false": len(got - expected),
                "missed": len(expected - got),
            }

    def _ingest(self) -> int:
        from flows.ledger_ingestion import ingest_ledger

        # The sandbox's gateways hold HISTORY_DAYS of history; a first run without `since` reads 30 days.
        since = datetime.now(UTC) - timedelta(days=HISTORY_DAYS + 1)
        summary = asyncio.run(ingest_ledger(block=BLOCKS, since=since))
        return sum(sum(g["read"].values()) for g in summary["gateways"].values())

    # --- 5. notification dispatch -------------------------------------------------------------------

    def dispatch(self) -> None:
        from flows.notification_dispatch import dispatch_notifications

        with self.step("notifications sent") as r:
            summary = asyncio.run(dispatch_notifications(sms=BLOCKS, email=BLOCKS, settings=BLOCKS))
            c = summary["counts"]
            texts = self.sb.call(lambda: len(self.sb.twilio.messages(to=CUSTOMER_PHONE)))
            emails = self.sb.call(lambda: len(self.sb.sendgrid.emails(to=CUSTOMER_EMAIL)))
            alerts = self.sb.call(lambda: len(self.sb.sendgrid.emails(to=OPERATOR_EMAIL)))
            r.ok = summary["status"] == "completed" and texts >= 1 and emails >= 1 and alerts >= 1
            r.did = (
                "sent what was queued: the order confirmation by SMS and email, and reconciliation's alerts "
                "to the operators"
            )
            r.figures = {
                "sms sent": c.get("sms_sent", 0),
                "emails sent": c.get("email_sent", 0),
                "shopper's texts at Twilio": texts,
                "shopper's emails at SendGrid": emails,
                "operator alerts at SendGrid": alerts,
            }


def _break_key(item: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a break. PayPal's Transaction Search does not carry the dispute case id
    (`PP-D-...`) the answer key names, so a PayPal dispute is identified by its order alone."""
    if (item["category"], item["gateway"]) == ("open_dispute", "paypal"):
        return (item["category"], item["gateway"], item["order_id"], None)
    return (item["category"], item["gateway"], item["order_id"], item["gateway_id"])


def _price(data: Any) -> Decimal:
    import json

    record = data if isinstance(data, dict) else json.loads(data)
    return Decimal(record.get("regular_price") or record.get("price") or "10.00")


async def _store_prices(block: Any, ids: list[int]) -> dict[int, str]:
    client = block.client()
    try:
        return {i: (await client.get(f"products/{i}"))["regular_price"] for i in ids}
    finally:
        await client.aclose()


def _new_order(product_id: int) -> dict[str, Any]:
    billing = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_1": "12 St James's Square",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "GB",
        "email": CUSTOMER_EMAIL,
        "phone": CUSTOMER_PHONE,
    }
    return {
        "payment_method": "stripe",
        "payment_method_title": "Credit card (Stripe)",
        "status": "pending",
        "billing": billing,
        "shipping": {k: v for k, v in billing.items() if k not in ("email", "phone")},
        "line_items": [{"product_id": product_id, "quantity": 2}],
    }
