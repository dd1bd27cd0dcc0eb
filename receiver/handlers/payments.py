"""Gateway webhooks -> a targeted `ingest-ledger` run for that gateway.

A Stripe, PayPal, Square or Authorize.Net event about money (a charge, a refund, a dispute, a payout, a
settled transaction) starts ledger ingestion for that gateway only, from a day before the oldest event
of the group (`LOOKBACK`), so the hub's ledger follows the gateway within seconds instead of at the next
hourly run. Rows are grouped per gateway and debounced: a burst of events (a payout's dozens of
`balance` movements, a refund's `refund.created` + `charge.refunded`) becomes one run. Ingestion re-reads
what the webhook names from the gateway's API rather than trusting the event body: an event is a hint
that something changed, the API is the record (and re-reading is idempotent: transactions merge, entries
append once).
"""

from __future__ import annotations

from datetime import timedelta

from flows.ledger_ingestion import ingest_ledger
from hub.inbox import InboxRow
from receiver.dispatch import Batch, Handler

__all__ = ["DEBOUNCE_S", "HANDLERS", "LOOKBACK", "TOPICS", "deployment_names", "ingest_for"]

DEBOUNCE_S = 5.0
MAX_WAIT_S = 60.0
LOOKBACK = timedelta(days=1)  # a charge captured or refunded today may have been created yesterday
TOPICS: dict[str, tuple[str, ...]] = {
    "stripe": ("charge.*", "payment_intent.*", "refund.*", "payout.*"),
    "paypal": ("PAYMENT.*", "CUSTOMER.DISPUTE.*"),
    "square": ("payment.*", "refund.*", "payout.*", "dispute.*"),
    "authorizenet": ("net.authorize.payment.*",),
}


def deployment_names(gateway: str) -> list[str]:
    """The hourly ingestion deployment of the gateway: one run per gateway at a time, however started."""
    return [f"ingest-ledger/hourly-{gateway}"]


async def ingest_for(batch: Batch) -> str | None:
    """Start one `ingest-ledger` run for the gateway of `batch.rows`, from a day before its oldest row."""
    gateway = batch.handler.source
    since = min(row.received_at for row in batch.rows) - LOOKBACK
    return await batch.run_flow(
        ingest_ledger,
        deployment=deployment_names(gateway),
        parameters={
            "gateways": [gateway],
            "since": since.isoformat(),
            "hub": batch.settings.hub,
            "block": batch.settings.blocks,
        },
        tags=[f"gateway:{gateway}"],
    )


def _by_gateway(row: InboxRow) -> str:
    return row.source


HANDLERS = tuple(
    Handler(
        name=f"{gateway}-ledger",
        source=gateway,
        topics=topics,
        run=ingest_for,
        group_by=_by_gateway,
        debounce_s=DEBOUNCE_S,
        max_wait_s=MAX_WAIT_S,
        max_batch=1000,
    )
    for gateway, topics in TOPICS.items()
)
