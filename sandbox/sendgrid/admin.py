"""The SendGrid-specific admin routes under `/_sandbox/sendgrid`: what the account received, and controls.

Inspection (every Mail Send call, every email with its recipients and custom_args, every event, the
suppression list, a summary) and controls (post pending events now, event shares and webhook behaviour,
verified senders). Answers are plain JSON (`{"error": ...}` on failure), not SendGrid's.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from sandbox._framework import AdminRoutes, read_object

from . import webhooks
from .store import Email, Store

__all__ = ["admin_routes", "configure", "email_record", "info", "summary", "verify_sender"]

_KNOBS = {
    "open_rate": float,
    "click_rate": float,
    "deferred_rate": float,
    "duplicate_rate": float,
    "batch_size": int,
    "flush_interval_s": float,
    "max_attempts": int,
    "retry_base_s": float,
    "webhook_timeout_s": float,
}


def email_record(e: Email) -> dict[str, Any]:
    return {
        "x_message_id": e.x_message_id,
        "personalization": e.index,
        "from": e.from_email,
        "to": e.to,
        "cc": e.cc,
        "bcc": e.bcc,
        "subject": e.subject,
        "custom_args": e.custom_args,
        "categories": e.categories,
        "send_at": e.send_at,
        "template_id": e.template_id,
        "content_types": e.content_types,
        "received_at": e.received_at,
        "sg_message_ids": e.sg_message_ids,
    }


def summary(st: Store) -> dict[str, Any]:
    """Calls, emails, recipients, events by type, and repeated (recipients, custom_args) emails."""
    seen = Counter(
        (tuple(sorted(a.lower() for a in e.recipients())), json.dumps(e.custom_args, sort_keys=True))
        for e in st.emails
    )
    return {
        "mail_send_calls": len(st.calls),
        "accepted_calls": sum(1 for c in st.calls if c["status"] == 202),
        "emails": len(st.emails),
        "recipients": sum(len(e.recipients()) for e in st.emails),
        "events": dict(Counter(ev["event"] for ev in st.events)),
        "events_pending": len(st.pending) + sum(len(b) for _, _, b, _ in st.retry),
        "events_discarded": st.discarded,
        "suppressions": len(st.suppressions),
        "duplicates": sum(n - 1 for n in seen.values() if n > 1),
    }


def info(st: Store) -> dict[str, Any]:
    return {
        "credentials": st.credentials(),
        "verified_senders": sorted(st.verified_senders),
        "event_webhook": dict(st.event_settings) | {"signed": st.signed},
        "settings": {k: getattr(st, k) for k in _KNOBS},
        "summary": summary(st),
    }


def configure(st: Store, data: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(_KNOBS))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(_KNOBS)}")
    for key, value in data.items():
        cast = _KNOBS[key](value)
        if (
            cast < 0
            or (key.endswith("_rate") and cast > 1)
            or (key in ("batch_size", "max_attempts") and cast < 1)
        ):
            raise ValueError(f"{key}={value!r} is out of range")
        setattr(st, key, cast)
    return {k: getattr(st, k) for k in _KNOBS}


def verify_sender(st: Store, email: str) -> list[str]:
    if "@" not in email:
        raise ValueError(f"{email!r} is not an email address")
    st.verified_senders.add(email.lower())
    return sorted(st.verified_senders)


def admin_routes(st: Store) -> list[Route]:
    async def get_info(request: Request) -> Any:
        return info(st)

    async def emails(request: Request) -> Any:
        q = request.query_params
        out = st.emails
        if "to" in q:
            out = [e for e in out if q["to"].lower() in (a.lower() for a in e.recipients())]
        for key, value in q.items():
            if key.startswith("arg."):
                out = [e for e in out if e.custom_args.get(key[4:]) == value]
        return [email_record(e) for e in out]

    async def calls(request: Request) -> Any:
        return st.calls

    async def events(request: Request) -> Any:
        q = request.query_params
        out = st.events
        for key in ("email", "event", "sg_message_id"):
            if key in q:
                out = [ev for ev in out if ev.get(key) == q[key]]
        return out

    async def deliver(request: Request) -> Any:
        data = await read_object(request)
        posted = await webhooks.deliver_now(st, everything=bool(data.get("all", True)))
        return {"posted": posted, "pending": len(st.pending)}

    async def get_summary(request: Request) -> Any:
        return summary(st)

    async def settings(request: Request) -> Any:
        if request.method == "PATCH":
            return configure(st, await read_object(request))
        return {k: getattr(st, k) for k in _KNOBS}

    async def senders(request: Request) -> Any:
        if request.method == "POST":
            return verify_sender(st, str((await read_object(request))["email"]))
        return sorted(st.verified_senders)

    async def suppressions(request: Request) -> Any:
        if request.method == "DELETE":
            st.suppressions.clear()
        return {k: {"reason": r, "since": t} for k, (r, t) in st.suppressions.items()}

    r = AdminRoutes("/sendgrid")
    r.get("", get_info)
    r.get("/emails", emails)
    r.get("/calls", calls)
    r.get("/events", events)
    r.post("/events/deliver", deliver)
    r.get("/summary", get_summary)
    r.add("/settings", settings, ["GET", "PATCH"])
    r.add("/senders", senders, ["GET", "POST"])
    r.add("/suppressions", suppressions, ["GET", "DELETE"])
    return r.routes
