"""The Authorize.Net-specific admin routes under `/_sandbox/authorizenet` (plus `/_sandbox/answer-key`).

What the gateway does on its own schedule (the daily settlement: `settle` moves the stand-in's clock past
the next cutoff and settles), the clock, webhook flushing and redelivery, and what the gateway received
(transactions by type, with the `refId` each used and whether it was refused as a duplicate).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import admin_json, read_json
from sandbox.answer_key import answer_key_route
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
    def wrap(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def inner(request: Request) -> Response:
            try:
                data = fn(request)
                if asyncio.iscoroutine(data):
                    data = await data
                return data if isinstance(data, Response) else admin_json(data)
            except (ValueError, KeyError, TypeError) as exc:
                return admin_json({"error": str(exc)}, 400)

        return inner

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

    async def received(request: Request) -> Any:
        kind = request.query_params.get("kind")
        return [r for r in st.received if kind is None or r["kind"] == kind]

    async def clock(request: Request) -> Any:
        data = await read_json(request)
        st.clock_offset += float((data or {}).get("advance", 0))
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
        return {"pending": 0, "failed": len(st.failed)}

    async def redeliver(request: Request) -> Any:
        return await webhooks.redeliver(st)

    p = "/authorizenet"
    return [
        answer_key_route(st.world),
        Route(p, wrap(info), methods=["GET"]),
        Route(p + "/received", wrap(received), methods=["GET"]),
        Route(p + "/clock", wrap(clock), methods=["POST"]),
        Route(p + "/settle", wrap(settle), methods=["POST"]),
        Route(p + "/webhooks", wrap(hooks), methods=["GET"]),
        Route(p + "/webhooks/flush", wrap(flush), methods=["POST"]),
        Route(p + "/webhooks/redeliver", wrap(redeliver), methods=["POST"]),
    ]
