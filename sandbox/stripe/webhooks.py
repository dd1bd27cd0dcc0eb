"""Webhook endpoints (`/v1/webhook_endpoints`) and the signed delivery of events to them.

Each event goes to every enabled endpoint that listens for its type (or `*`) as a POST of the event JSON
with `Stripe-Signature: t=<unix>,v1=<hex>`: HMAC-SHA256 keyed by the whole `whsec_...` secret over
`"<t>.<body>"`. Endpoints created through the API sign with their own secret (returned once, on create);
those registered through the sandbox admin with the credentials' `webhook_secret`. A delivery that is not
answered 2xx is retried after each of `State.retry_delays` (Stripe retries for days; the sandbox in seconds),
and every attempt is in the delivery log. `deliver_now()` attempts everything pending at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any

from sandbox._delivery import next_delay

from .encoding import dumps
from .errors import StripeError, invalid_request, missing_param, resource_missing
from .rendering import endpoint_json, event_json
from .rest import Req, check_params, get_bool, get_metadata, get_str, page, render_one
from .store import Delivery, Endpoint, Event, State

__all__ = [
    "MAX_ENDPOINTS",
    "create_endpoint",
    "delete_endpoint",
    "deliver_now",
    "enqueue",
    "get_endpoint",
    "list_endpoints",
    "register",
    "sign",
    "update_endpoint",
]

MAX_ENDPOINTS = 16  # per account in test mode
_EVENT_NAME = re.compile(r"^\*$|^[a-z_]+(\.[a-z_]+)+$")
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """Stripe's signature header for `payload` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


# --- delivery --------------------------------------------------------------------------------------------
def enqueue(st: State, ev: Event) -> None:
    """Start delivering `ev` to every endpoint that wants it."""
    for ep in st.endpoints.values():
        if ep.wants(ev.type):
            ev.pending.add(ep.id)
            d = Delivery(ev.id, ep.id)
            st.pending[(ev.id, ep.id)] = d
            st.courier.schedule(attempt(st, d))


async def attempt(st: State, d: Delivery) -> dict[str, Any] | None:
    """POST the event to the endpoint once; on failure, schedule the next attempt (if any is left)."""
    key = (d.event_id, d.endpoint_id)
    ev = st.events.get(d.event_id)
    ep = st.endpoints.get(d.endpoint_id)
    if ev is None or ep is None or d.in_flight:
        if ep is None:
            st.pending.pop(key, None)
        return None
    d.in_flight = True
    d.attempts += 1
    body = dumps(event_json(st, ev))
    sent_at = int(time.time())  # the receiver checks `t` against its own clock
    secret = st.webhook_secret if ep.via_admin else ep.secret
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Accept": "*/*; q=0.5, application/xml",
        "Cache-Control": "no-cache",
        "Stripe-Signature": sign(body, secret, sent_at),
    }
    record: dict[str, Any] = {
        "kind": "event",
        "event_id": ev.id,
        "type": ev.type,
        "endpoint_id": ep.id,
        "url": ep.url,
        "attempt": d.attempts,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    try:
        outcome = await st.courier.post(ep.url, body, headers, record)
    finally:
        d.in_flight = False
    delay = next_delay(st.retry_delays, d.attempts)
    if outcome.ok:
        ev.pending.discard(ep.id)
        st.pending.pop(key, None)
    elif delay is not None and key in st.pending:
        record["next_attempt_in"] = delay
        st.courier.retry_later(d, delay, lambda: attempt(st, d))
    else:
        st.pending.pop(key, None)  # given up: the event stays pending for this endpoint
    st.courier.log.add(record)
    return record


async def deliver_now(st: State) -> list[dict[str, Any]]:
    """Attempt every pending delivery now (retries included, without waiting for their timers)."""
    return await st.courier.deliver_now(lambda: st.pending.values(), lambda d: attempt(st, d))


# --- endpoints ---------------------------------------------------------------------------------------------
def register(
    st: State, url: str, enabled_events: list[str] | None = None, *, via_admin: bool = True
) -> Endpoint:
    """An endpoint registered outside the API (the sandbox admin): signed with the `webhook_secret`."""
    ep = Endpoint(
        id=st.new_id("we_1", 23),
        url=url,
        secret=st.webhook_secret if via_admin else st.new_id("whsec_", 32),
        enabled_events=list(enabled_events or ["*"]),
        created=st.now(),
        via_admin=via_admin,
    )
    st.endpoints[ep.id] = ep
    return ep


def _events(req: Req, *, required: bool) -> list[str] | None:
    raw = req.params.get("enabled_events")
    if raw is None:
        if required:
            raise missing_param("enabled_events")
        return None
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise invalid_request("Invalid array", param="enabled_events")
    for i, v in enumerate(values):
        if not _EVENT_NAME.match(v):
            raise invalid_request(
                f"Invalid enabled_events[{i}]: {v} is not a valid event type", param="enabled_events"
            )
    return list(dict.fromkeys(values))


def _url(req: Req, *, required: bool) -> str | None:
    url = get_str(req, "url", required=required)
    if url is not None and not _URL.match(url):
        raise invalid_request(f"Invalid URL: {url}", param="url", code="url_invalid")
    return url


def _endpoint(st: State, req: Req) -> Endpoint:
    ep = st.endpoints.get(req.path_params["id"])
    if ep is None or ep.via_admin:
        raise resource_missing(req.path_params["id"])
    return ep


def create_endpoint(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "webhook_endpoints.create")
    url = _url(req, required=True)
    events = _events(req, required=True)
    description = get_str(req, "description")
    metadata = get_metadata(req)
    api_version = get_str(req, "api_version")
    if sum(1 for e in st.endpoints.values() if not e.via_admin) >= MAX_ENDPOINTS:
        raise StripeError(400, f"You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints.")
    req.begin()
    assert url is not None and events is not None
    ep = register(st, url, events, via_admin=False)
    ep.description, ep.metadata, ep.api_version = description or None, metadata or {}, api_version
    st.record("webhook_endpoint", id=ep.id, url=url, idempotency_key=req.idempotency_key, created=ep.created)
    return render_one(st, req, endpoint_json(st, ep, with_secret=True))


def get_endpoint(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    return render_one(st, req, endpoint_json(st, _endpoint(st, req)))


def update_endpoint(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "webhook_endpoints.update")
    ep = _endpoint(st, req)
    url = _url(req, required=False)
    events = _events(req, required=False)
    disabled = get_bool(req, "disabled")
    description = get_str(req, "description")
    metadata = get_metadata(req, ep.metadata)
    req.begin()
    if url is not None:
        ep.url = url
    if events is not None:
        ep.enabled_events = events
    if disabled is not None:
        ep.status = "disabled" if disabled else "enabled"
    if description is not None:
        ep.description = description or None
    if metadata is not None:
        ep.metadata = metadata
    return render_one(st, req, endpoint_json(st, ep))


def delete_endpoint(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "delete")
    ep = _endpoint(st, req)
    del st.endpoints[ep.id]
    for key in [k for k in st.pending if k[1] == ep.id]:
        st.courier.cancel_retry(st.pending.pop(key))
    return {"id": ep.id, "object": "webhook_endpoint", "deleted": True}


def list_endpoints(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "webhook_endpoints.list")
    items = [e for e in reversed(st.endpoints.values()) if not e.via_admin]
    return page(
        st, req, items, "/v1/webhook_endpoints", lambda e: endpoint_json(st, e), find=st.endpoints.get
    )
