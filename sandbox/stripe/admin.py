"""The Stripe-specific admin routes under `/_sandbox/stripe` (plus `/_sandbox/answer-key`).

What Stripe's dashboard, the card networks and the passing of time do, for tests and demos: read what the
account received (every payment intent, refund, customer ... created, with its idempotency key), move the
account's clock (`advance`: payouts are made and paid, idempotency keys expire), deliver pending webhook
events now, register webhook endpoints signed with the credentials' `webhook_secret`, open and decide
disputes, and read any object as the API renders it. Answers are plain JSON (`{"error": ...}` on failure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import AdminRoutes, admin_json, read_object
from sandbox.ledger import LedgerError

from . import balance, disputes, webhooks
from .errors import StripeError
from .rendering import dispute_json, endpoint_json, lookup
from .store import State

__all__ = ["admin_routes", "advance", "parse_time"]


def parse_time(value: Any) -> int:
    """Epoch seconds, or ISO 8601 with a zone."""
    if isinstance(value, bool):
        raise ValueError("a time is epoch seconds or ISO 8601 with a zone")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; add Z or an offset")
    return int(when.timestamp())


def advance(st: State, *, to: int | None = None, seconds: int = 0) -> dict[str, Any]:
    """Move the account's clock forward (never back) and let the ledger catch up."""
    target = to if to is not None else st.now() + seconds
    if target > st.now():
        st.clock_offset += target - st.now()
    done = balance.sync(st)
    return {"now": st.now(), "clock_offset": st.clock_offset, "payouts_created": done["created"],
            "payouts_paid": done["paid"]}  # fmt: skip


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, StripeError):
        return admin_json({"error": exc.message, "code": exc.code}, 404 if exc.status == 404 else 400)
    if isinstance(exc, LedgerError):
        return admin_json({"error": str(exc), "code": exc.code}, 400)
    return None


def admin_routes(st: State) -> list[Route]:
    async def info(request: Request) -> Any:
        led = st.ledger
        return {
            "account_id": st.account_id,
            "publishable_key": st.publishable_key,
            "now": st.now(),
            "clock_offset": st.clock_offset,
            "counts": {
                "charges": len(led.charges("stripe")),
                "refunds": len(led.refunds("stripe")),
                "disputes": len(led.disputes("stripe")),
                "payouts": len(led.payouts("stripe")),
                "balance_transactions": len(led.balance_entries("stripe")),
                "payment_intents": len(st.intents),
                "customers": len(st.customers),
                "events": len(st.events),
                "webhook_endpoints": len(st.endpoints),
                "idempotency_keys": len(st.saved),
                "pending_deliveries": len(st.pending),
            },
            "credentials": st.credentials(),
        }

    async def do_advance(request: Request) -> Any:
        data = await read_object(request)
        to = parse_time(data["to"]) if data.get("to") is not None else None
        seconds = int(data.get("seconds", 0)) + int(data.get("days", 0)) * 86_400
        if seconds < 0:
            raise ValueError("the clock only moves forward: seconds and days must be >= 0")
        return advance(st, to=to, seconds=seconds)

    async def deliver(request: Request) -> Any:
        return await webhooks.deliver_now(st)

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": len(st.pending)}

    async def endpoints(request: Request) -> Any:
        if request.method == "POST":
            data = await read_object(request)
            url = str(data.get("url") or "")
            if not url.startswith(("http://", "https://")):
                raise ValueError("url: give the http(s) URL to deliver events to")
            events = data.get("enabled_events") or ["*"]
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError("enabled_events: a list of event types (or ['*'])")
            ep = webhooks.register(st, url, events)
            return endpoint_json(st, ep, with_secret=True)
        return [
            endpoint_json(st, e, with_secret=True) | {"via_admin": e.via_admin} for e in st.endpoints.values()
        ]

    async def endpoint(request: Request) -> Any:
        ep = st.endpoints.pop(request.path_params["id"], None)
        if ep is None:
            return admin_json({"error": "no such webhook endpoint"}, 404)
        return {"id": ep.id, "deleted": True}

    async def open_dispute(request: Request) -> Any:
        data = await read_object(request)
        amount = data.get("amount")
        d = disputes.open_dispute(
            st,
            str(data["charge"]),
            reason=str(data.get("reason") or "fraudulent"),
            amount=int(amount) if amount is not None else None,
        )
        return dispute_json(st, d)

    async def resolve(request: Request) -> Any:
        data = await read_object(request)
        outcome = str(data.get("status", ""))
        if outcome not in ("won", "lost"):
            raise ValueError("status: won or lost")
        return dispute_json(st, disputes.resolve_dispute(st, request.path_params["id"], outcome))

    async def obj(request: Request) -> Any:
        found = lookup(st, request.path_params["id"])
        if found is None:
            return admin_json({"error": f"no object {request.path_params['id']}"}, 404)
        return found

    r = AdminRoutes("/stripe", refusal=_refusal)
    r.get("", info)
    r.received(st.received)
    r.post("/advance", do_advance)
    r.post("/webhooks/deliver", deliver)
    r.post("/webhooks/flush", flush)
    r.add("/webhook-endpoints", endpoints, ["GET", "POST"])
    r.add("/webhook-endpoints/{id}", endpoint, ["DELETE"])
    r.post("/disputes", open_dispute)
    r.post("/disputes/{id}/resolve", resolve)
    r.get("/objects/{id}", obj)
    return r.routes
