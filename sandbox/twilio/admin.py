"""The Twilio-specific admin routes under `/_sandbox/twilio`: what the account received, and its controls.

Inspection (every message with its status history and send times, a per-sender throughput summary) and
controls (the clock, delays, sender rates, flushing callbacks). Answers are plain JSON (`{"error": ...}`
on failure), not Twilio's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._framework import AdminRoutes, admin_json, read_object

from . import delivery
from .rendering import admin_record
from .store import Message, Store

__all__ = ["admin_routes", "configure", "info", "max_rate", "set_rate", "summary"]

_SETTINGS = ("sending_delay_s", "delivery_delay_s", "concurrency_limit", "callback_timeout_s")


def max_rate(times: list[float]) -> int:
    """The most of `times` (whole microseconds, as the clock gives them) in any one-second window."""
    ordered = sorted(round(t * 1_000_000) for t in times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while ordered[lo] <= t - 1_000_000:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def summary(st: Store) -> dict[str, Any]:
    """Counts by status, per-sender throughput (received and sent), and repeated (to, body) pairs."""
    by_sender: dict[str, list[Message]] = {}
    for m in st.ordered:
        by_sender.setdefault(m.sender, []).append(m)
    seen: Counter[tuple[str, str]] = Counter((m.to, m.body) for m in st.ordered)
    senders = {}
    for key, msgs in by_sender.items():
        sent = [m.sent for m in msgs if m.sent is not None]
        senders[key] = {
            "messages": len(msgs),
            "mps": st.senders[key].mps if key in st.senders else None,
            "max_received_per_s": max_rate([m.created for m in msgs]),
            "max_sent_per_s": max_rate(sent),
            "queued": sum(1 for m in msgs if m.status in ("accepted", "queued")),
        }
    return {
        "messages": len(st.ordered),
        "by_status": dict(Counter(m.status for m in st.ordered)),
        "senders": senders,
        "duplicates": sum(n - 1 for n in seen.values() if n > 1),
        "pending_changes": delivery.pending(st),
    }


def info(st: Store) -> dict[str, Any]:
    return {
        "account_sid": st.account_sid,
        "credentials": st.credentials(),
        "api_key": {"sid": st.api_key_sid, "secret": st.api_key_secret},
        "numbers": {
            "long_code": st.from_number,
            "toll_free": st.toll_free_number,
            "short_code": st.short_code,
        },
        "messaging_services": {
            s.sid: {"friendly_name": s.friendly_name, "numbers": s.numbers} for s in st.services.values()
        },
        "senders": {k: {"kind": s.kind, "mps": s.mps} for k, s in st.senders.items()},
        "settings": {name: getattr(st, name) for name in _SETTINGS},
        "clock": {"now": st.clock.now(), "frozen": st.clock.frozen},
        "messages": len(st.ordered),
    }


def configure(st: Store, data: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(_SETTINGS))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(_SETTINGS)}")
    for name, value in data.items():
        number = float(value)
        if number < 0:
            raise ValueError(f"{name} must be >= 0")
        setattr(st, name, int(number) if name == "concurrency_limit" else number)
    return {name: getattr(st, name) for name in _SETTINGS}


def set_rate(st: Store, sender: str, mps: float) -> dict[str, Any]:
    """Set a sender's rate (messages per second); an unknown number becomes one of the account's."""
    if not mps > 0:
        raise ValueError("mps must be > 0")
    if sender in st.services:
        st.mps_overrides[sender] = mps
        s = st.service_sender(sender)
    else:
        s = st.add_number(sender, mps)
        for service in st.services.values():  # a service's rate is its numbers' total
            if sender in service.numbers:
                st.service_sender(service.sid)
    return {"sender": s.key, "kind": s.kind, "mps": s.mps}


def _refusal(exc: Exception) -> Response | None:
    if isinstance(exc, LookupError):  # an unknown message sid or sender
        return admin_json({"error": f"not found: {exc}"}, 404)
    return None


def admin_routes(st: Store) -> list[Route]:
    async def get_info(request: Request) -> Any:
        return info(st)

    async def messages(request: Request) -> Any:
        q = request.query_params
        out = st.ordered
        for key, attr in (("to", "to"), ("from", "from_"), ("status", "status"), ("sender", "sender")):
            if key in q:
                out = [m for m in out if getattr(m, attr) == q[key]]
        return [admin_record(st, m) for m in out]

    async def one(request: Request) -> Any:
        return admin_record(st, st.messages[request.path_params["sid"]])

    async def get_summary(request: Request) -> Any:
        return summary(st)

    async def clock(request: Request) -> Any:
        if request.method == "PATCH":
            data = await read_object(request)
            if data.get("frozen") is True:
                st.clock.freeze()
            elif data.get("frozen") is False:
                st.clock.unfreeze()
            if "advance_s" in data:
                delivery.advance(st, float(data["advance_s"]))
            delivery.process_due(st)
        return {"now": st.clock.now(), "frozen": st.clock.frozen, "pending_changes": delivery.pending(st)}

    async def settle(request: Request) -> Any:
        applied = delivery.settle(st)
        if (await read_object(request)).get("wait", True):
            await st.courier.flush()
        return {"applied": applied, "now": st.clock.now()}

    async def settings(request: Request) -> Any:
        if request.method == "PATCH":
            return configure(st, await read_object(request))
        return {name: getattr(st, name) for name in _SETTINGS}

    async def sender(request: Request) -> Any:
        data = await read_object(request)
        if "mps" not in data:
            raise ValueError('send {"mps": <messages per second>}')
        return set_rate(st, request.path_params["sender"], float(data["mps"]))

    async def flush(request: Request) -> Any:
        await st.courier.flush()
        return {"pending": 0}

    r = AdminRoutes("/twilio", refusal=_refusal)
    r.get("", get_info)
    r.get("/messages", messages)
    r.get("/messages/{sid}", one)
    r.get("/summary", get_summary)
    r.add("/clock", clock, ["GET", "PATCH"])
    r.post("/settle", settle)
    r.add("/settings", settings, ["GET", "PATCH"])
    r.add("/senders/{sender}", sender, ["PUT"])
    r.post("/callbacks/flush", flush)
    return r.routes
