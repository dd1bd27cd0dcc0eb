"""The Square-specific admin routes under `/_sandbox/square`, and the answer key at `/_sandbox/answer-key`.

What the seller does in the Square Dashboard (register a webhook endpoint, which signs with the account's
`webhook_signature_key`), what the card networks and banks do (open or settle a dispute, fail a payout),
what time does (advance to a day's payouts, complete a refund now), and inspection: what the stand-in
received, with the idempotency key of each request, so tests and benchmarks count duplicates and losses
from Square's side. Answers are plain JSON (`{"error": ...}` on failure), not Square's.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import AdminRoutes, admin_json, read_object
from sandbox.ledger import LedgerError

from . import disputes, payouts, refunds, webhooks
from .encoding import parse_time
from .errors import SquareError
from .rendering import dispute, payout, refund, subscription
from .state import SquareState

__all__ = ["admin_routes"]


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, SquareError):
        return admin_json({"error": exc.errors[0]["detail"], "code": exc.code}, exc.status)
    if isinstance(exc, LedgerError):
        return admin_json({"error": str(exc), "code": exc.code}, 400)
    return None


def admin_routes(st: SquareState) -> list[Route]:
    async def info(request: Request) -> Any:
        led = st.ledger
        return {
            "seed": st.world.seed,
            "merchant_id": st.merchant_id,
            "application_id": st.application_id,
            "credentials": st.credentials(),
            "counts": {
                "payments": len(led.charges("square")),
                "refunds": len(led.refunds("square")),
                "payouts": len(led.payouts("square")),
                "disputes": len(led.disputes("square")),
                "subscriptions": len(st.subscriptions),
                "pending_deliveries": len(st.pending),
            },
        }

    async def received(request: Request) -> Any:
        kind = request.query_params.get("kind")
        if kind not in (None, "payment", "refund"):
            raise ValueError("kind must be payment or refund")
        out: dict[str, Any] = {"idempotency_conflicts": st.conflicts}
        for k in ("payment", "refund"):
            if kind in (None, k):
                out[k + "s"] = [r.to_dict() for r in st.received[k]]
        return out

    async def hooks(request: Request) -> Any:
        if request.method == "POST":
            data = await read_object(request)
            types = data.get("event_types")
            sub = webhooks.register_endpoint(st, str(data["url"]), types, name=str(data.get("name") or ""))
            return subscription(sub, with_key=True) | {"source": sub.source}
        return [
            subscription(s, with_key=True)
            | {
                "source": s.source,
                "pending": sum(1 for d in st.pending.values() if d.subscription_id == s.id),
            }
            for s in st.subscriptions.values()
        ]

    async def unhook(request: Request) -> Any:
        sub = st.subscriptions.pop(request.path_params["id"], None)
        if sub is None:
            raise KeyError(f"no subscription {request.path_params['id']}")
        return {"deleted": sub.id}

    async def deliver(request: Request) -> Any:
        return {"attempts": await webhooks.deliver_now(st)}

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": len(st.pending)}

    async def advance(request: Request) -> Any:
        data = await read_object(request)
        raw = data.get("now")
        if raw is None:
            now = None
        elif isinstance(raw, int | float):
            now = int(raw)
        else:
            t = parse_time(str(raw))
            if t is None:
                raise ValueError("now: use epoch seconds or an RFC 3339 time")
            now = int(t)
        announced = payouts.advance(st, now)
        await st.courier.flush()
        return {"announced": announced}

    async def fail(request: Request) -> Any:
        p = payouts.fail_payout(st, request.path_params["id"])
        return payout(st, p)

    async def complete(request: Request) -> Any:
        rid = request.path_params["id"]
        changed = refunds.complete_refund(st, rid)
        return refund(st, st.ledger.refund("square", rid)) | {"changed": changed}

    async def open_dispute(request: Request) -> Any:
        data = await read_object(request)
        d = disputes.open_dispute(
            st,
            str(data["payment_id"]),
            reason=str(data.get("reason") or "fraudulent"),
            amount_minor=data.get("amount"),
        )
        return dispute(st, d)

    async def resolve(request: Request) -> Any:
        data = await read_object(request)
        state = str(data.get("state", "")).upper()
        if state not in ("WON", "LOST"):
            raise ValueError("state must be WON or LOST")
        return dispute(st, disputes.resolve_dispute(st, request.path_params["id"], state))

    r = AdminRoutes("/square", refusal=_refusal)
    r.get("", info)
    r.get("/received", received)
    r.add("/webhooks", hooks, ["GET", "POST"])
    r.post("/webhooks/deliver", deliver)
    r.post("/webhooks/flush", flush)
    r.add("/webhooks/{id}", unhook, ["DELETE"])
    r.post("/payouts/advance", advance)
    r.post("/payouts/{id}/fail", fail)
    r.post("/refunds/{id}/complete", complete)
    r.post("/disputes", open_dispute)
    r.post("/disputes/{id}/resolve", resolve)
    return r.routes
