"""The PayPal-specific admin routes under `/_sandbox/paypal` (plus `/_sandbox/answer-key`).

What the buyer and PayPal do outside the API (approve an order, open and resolve a dispute), the knobs
tests need (token lifetime, expiring every token now, reporting lag, the clock, duplicate-invoice blocking,
a webhook subscription's URL, delivering pending webhooks now), and what the stand-in received (orders,
captures, refunds with the `PayPal-Request-Id` each used, replays flagged) so tests and benchmarks can
count duplicates and losses from PayPal's side. Answers are plain JSON (`{"error": ...}` on failure).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import AdminRoutes, admin_json, read_object
from sandbox.ledger import LedgerError

from . import webhooks
from .encoding import iso_z, money
from .errors import PayPalError
from .orders import approve
from .rendering import render_capture, render_order
from .state import PayPalState

__all__ = ["admin_routes"]

_SETTINGS = {"token_ttl": int, "reporting_lag_hours": float, "block_duplicate_invoice": bool}


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, PayPalError):
        issue = exc.details[0]["issue"] if exc.details else exc.name
        return admin_json({"error": exc.message, "code": issue}, exc.status)
    if isinstance(exc, LedgerError):
        return admin_json({"error": str(exc), "code": exc.code}, 409)
    return None


def admin_routes(st: PayPalState) -> list[Route]:
    def settings() -> dict[str, Any]:
        return {name: getattr(st, name) for name in _SETTINGS}

    async def info(request: Request) -> Any:
        return {
            "credentials": {
                "client_id": st.client_id,
                "client_secret": st.client_secret,
                "webhook_id": st.webhook_id,
            },
            "account_number": st.account_number,
            "settings": settings(),
            "clock_offset": st.clock_offset,
            "counts": {
                "orders": len(st.orders),
                "captures": len(st.ledger.charges("paypal")),
                "refunds": len(st.ledger.refunds("paypal")),
                "tokens": len(st.tokens),
                "webhooks": len(st.webhooks),
            },
        }

    async def settings_route(request: Request) -> Any:
        if request.method == "PATCH":
            data = await read_object(request)
            unknown = sorted(set(data) - set(_SETTINGS))
            if unknown:
                raise ValueError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(_SETTINGS)}")
            for name, value in data.items():
                kind = _SETTINGS[name]
                if kind is bool and not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                converted = kind(value)
                if kind is not bool and converted < 0:
                    raise ValueError(f"{name} must be >= 0")
                setattr(st, name, converted)
        return settings()

    async def expire_tokens(request: Request) -> Any:
        return {"expired": st.expire_tokens()}

    async def clock(request: Request) -> Any:
        data = await read_object(request)
        st.clock_offset += float(data.get("advance", 0))
        return {"clock_offset": st.clock_offset, "now": st.now()}

    async def approve_route(request: Request) -> Any:
        data = await read_object(request)
        o = approve(st, request.path_params["id"], email=data.get("email"))
        return render_order(st, o)

    async def dispute(request: Request) -> Any:
        data = await read_object(request)
        capture_id = request.path_params["id"]
        amount = data.get("amount_minor")
        d = st.ledger.add_dispute(
            "paypal",
            capture_id,
            created=int(st.now()),
            reason=str(data.get("reason", "fraudulent")),
            amount_minor=int(amount) if amount is not None else None,
        )
        c = st.ledger.charge("paypal", capture_id)
        webhooks.emit(
            st,
            "CUSTOMER.DISPUTE.CREATED",
            "dispute",
            _dispute_resource(st, d.id),
            f"A new dispute opened with Case # {d.id}",
        )
        return {"dispute_id": d.id, "capture": render_capture(st, c, standalone=True)}

    async def resolve(request: Request) -> Any:
        data = await read_object(request)
        outcome = str(data.get("outcome", ""))
        d = st.ledger.resolve_dispute("paypal", request.path_params["id"], outcome, at=int(st.now()))
        webhooks.emit(
            st,
            "CUSTOMER.DISPUTE.RESOLVED",
            "dispute",
            _dispute_resource(st, d.id),
            f"A dispute was resolved with case # {d.id}",
        )
        return {"dispute_id": d.id, "status": d.status}

    async def hooks(request: Request) -> Any:
        return [{"id": h.id, "url": h.url, "event_types": h.event_types} for h in st.webhooks.values()]

    async def set_hook(request: Request) -> Any:
        hook = st.webhooks.get(request.path_params["id"])
        if hook is None:
            raise KeyError(f"no webhook {request.path_params['id']}")
        data = await read_object(request)
        if "url" in data:
            hook.url = data["url"] or None
        if "event_types" in data:
            hook.event_types = [str(x) for x in data["event_types"]]
        return {"id": hook.id, "url": hook.url, "event_types": hook.event_types}

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0, "failed": st.courier.failed}

    async def redeliver(request: Request) -> Any:
        return await webhooks.redeliver(st)

    def _dispute_resource(state: PayPalState, dispute_id: str) -> dict[str, Any]:
        d = state.ledger.dispute("paypal", dispute_id)
        c = state.ledger.charge("paypal", d.charge_id)
        out: dict[str, Any] = {
            "dispute_id": d.id,
            "create_time": iso_z(d.created),
            "disputed_transactions": [
                {"seller_transaction_id": c.id, "invoice_number": c.metadata.get("invoice_id", "")}
            ],
            "reason": _REASONS.get(d.reason, "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED"),
            "status": "OPEN" if d.status == "open" else "RESOLVED",
            "dispute_amount": money(d.amount_minor, d.currency),
            "dispute_life_cycle_stage": "CHARGEBACK" if c.card_brand else "INQUIRY",
            "dispute_channel": "EXTERNAL" if c.card_brand else "INTERNAL",
        }
        if d.status != "open":
            won = d.status == "won"
            out["dispute_outcome"] = {
                "outcome_code": "RESOLVED_SELLER_FAVOUR" if won else "RESOLVED_BUYER_FAVOUR"
            }
        return out

    r = AdminRoutes("/paypal", refusal=_refusal)
    r.get("", info)
    r.add("/settings", settings_route, ["GET", "PATCH"])
    r.post("/tokens/expire", expire_tokens)
    r.post("/clock", clock)
    r.post("/orders/{id}/approve", approve_route)
    r.received(st.received)
    r.post("/captures/{id}/dispute", dispute)
    r.post("/disputes/{id}/resolve", resolve)
    r.get("/webhooks", hooks)
    r.post("/webhooks/flush", flush)
    r.post("/webhooks/redeliver", redeliver)
    r.add("/webhooks/{id}", set_hook, ["PUT", "PATCH"])
    return r.routes


_REASONS = {
    "fraudulent": "UNAUTHORISED",
    "unrecognized": "UNAUTHORISED",
    "product_not_received": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
    "product_unacceptable": "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED",
    "duplicate": "DUPLICATE_TRANSACTION",
}
