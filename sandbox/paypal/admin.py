"""The PayPal-specific admin routes under `/_sandbox/paypal` (plus `/_sandbox/answer-key`).

What the buyer and PayPal do outside the API (approve an order, open and resolve a dispute), the knobs
tests need (token lifetime, expiring every token now, reporting lag, the clock, duplicate-invoice blocking,
a webhook subscription's URL, delivering pending webhooks now), and what the stand-in received (orders,
captures, refunds with the `PayPal-Request-Id` each used, replays flagged) so tests and benchmarks can
count duplicates and losses from PayPal's side. Answers are plain JSON (`{"error": ...}` on failure).
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
from sandbox.ledger import LedgerError

from . import webhooks
from .encoding import iso_z, money
from .errors import PayPalError
from .orders import approve
from .rendering import render_capture, render_order
from .state import PayPalState

__all__ = ["admin_routes"]

_SETTINGS = {"token_ttl": int, "reporting_lag_hours": float, "block_duplicate_invoice": bool}


def admin_routes(st: PayPalState) -> list[Route]:
    def wrap(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def inner(request: Request) -> Response:
            try:
                data = fn(request)
                if asyncio.iscoroutine(data):
                    data = await data
                return data if isinstance(data, Response) else admin_json(data)
            except PayPalError as exc:
                issue = exc.details[0]["issue"] if exc.details else exc.name
                return admin_json({"error": exc.message, "code": issue}, exc.status)
            except LedgerError as exc:
                return admin_json({"error": str(exc), "code": exc.code}, 409)
            except (ValueError, KeyError, TypeError) as exc:
                return admin_json({"error": str(exc)}, 400)

        return inner

    async def body_of(request: Request) -> dict[str, Any]:
        data = await read_json(request)
        if not isinstance(data, dict):
            raise ValueError("send a JSON object")
        return data

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
            data = await body_of(request)
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
        data = await body_of(request)
        st.clock_offset += float(data.get("advance", 0))
        return {"clock_offset": st.clock_offset, "now": st.now()}

    async def approve_route(request: Request) -> Any:
        data = await body_of(request)
        o = approve(st, request.path_params["id"], email=data.get("email"))
        return render_order(st, o)

    async def received(request: Request) -> Any:
        kind = request.query_params.get("kind")
        return [r for r in st.received if kind is None or r["kind"] == kind]

    async def dispute(request: Request) -> Any:
        data = await body_of(request)
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
        data = await body_of(request)
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
        data = await body_of(request)
        if "url" in data:
            hook.url = data["url"] or None
        if "event_types" in data:
            hook.event_types = [str(x) for x in data["event_types"]]
        return {"id": hook.id, "url": hook.url, "event_types": hook.event_types}

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0, "failed": len(st.failed)}

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

    p = "/paypal"
    return [
        answer_key_route(st.world),
        Route(p, wrap(info), methods=["GET"]),
        Route(p + "/settings", wrap(settings_route), methods=["GET", "PATCH"]),
        Route(p + "/tokens/expire", wrap(expire_tokens), methods=["POST"]),
        Route(p + "/clock", wrap(clock), methods=["POST"]),
        Route(p + "/orders/{id}/approve", wrap(approve_route), methods=["POST"]),
        Route(p + "/received", wrap(received), methods=["GET"]),
        Route(p + "/captures/{id}/dispute", wrap(dispute), methods=["POST"]),
        Route(p + "/disputes/{id}/resolve", wrap(resolve), methods=["POST"]),
        Route(p + "/webhooks", wrap(hooks), methods=["GET"]),
        Route(p + "/webhooks/flush", wrap(flush), methods=["POST"]),
        Route(p + "/webhooks/redeliver", wrap(redeliver), methods=["POST"]),
        Route(p + "/webhooks/{id}", wrap(set_hook), methods=["PUT", "PATCH"]),
    ]


_REASONS = {
    "fraudulent": "UNAUTHORISED",
    "unrecognized": "UNAUTHORISED",
    "product_not_received": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
    "product_unacceptable": "MERCHANDISE_OR_SERVICE_NOT_AS_DESCRIBED",
    "duplicate": "DUPLICATE_TRANSACTION",
}
