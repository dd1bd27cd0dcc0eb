"""The Authorize.Net-specific admin routes under `/_sandbox/authorizenet` (plus `/_sandbox/answer-key`).

What the gateway does on its own schedule (the daily settlement: `settle` moves the stand-in's clock past
the next cutoff and settles), the clock, webhook flushing and redelivery, and what the gateway received
(transactions by type, with the `refId` each used and whether it was refused as a duplicate).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from sandbox._framework import AdminRoutes, read_object
from sandbox.ledger import DAY, SETTLEMENT_CUTOFF

from . import webhooks
from .state import AnetState

__all__ = ["admin_routes", "settle_now"]


def settle_now(st: AnetState) -> int:
    """Move the clock just past the next settlement cutoff and settle; returns the number of batches."""
    now = st.now()
    cutoff = now - now % DAY + SETTLEMENT_CUTOFF
    if cutoff <= now:
        cutoff += DAY
    st.clock_offset += cutoff + 1 - now
    st.settle()
    return len(st.ledger.batches())


def admin_routes(st: AnetState) -> list[Route]:
    async def info(request: Request) -> Any:
        st.settle()
        return {
            "credentials": {
                "api_login_id": st.api_login_id,
                "transaction_key": st.transaction_key,
                "signature_key": st.signature_key,
            },
            "clock_offset": st.clock_offset,
            "counts": {
                "transactions": len(st.ledger.charges("authorizenet")),
                "refunds": len(st.ledger.refunds("authorizenet")),
                "batches": len(st.ledger.batches()),
                "unsettled": len(st.ledger.unsettled()),
                "webhooks": len(st.webhooks),
            },
        }

    async def clock(request: Request) -> Any:
        data = await read_object(request)
        st.clock_offset += float(data.get("advance", 0))
        return {"clock_offset": st.clock_offset, "now": st.now()}

    async def settle(request: Request) -> Any:
        return {"batches": settle_now(st), "now": st.now()}

    async def hooks(request: Request) -> Any:
        return [
            {"webhookId": h.webhook_id, "url": h.url, "eventTypes": h.event_types, "status": h.status}
            for h in st.webhooks.values()
        ]

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0, "failed": st.courier.failed}

    async def redeliver(request: Request) -> Any:
        return await webhooks.redeliver(st)

    r = AdminRoutes("/authorizenet")
    r.get("", info)
    r.received(st.received)
    r.post("/clock", clock)
    r.post("/settle", settle)
    r.get("/webhooks", hooks)
    r.post("/webhooks/flush", flush)
    r.post("/webhooks/redeliver", redeliver)
    return r.routes
