"""Events: one per state change, as Stripe names them, kept for `/v1/events` and delivered to endpoints.

`emit()` snapshots the object as it is now (`data.object`), with `previous_attributes` for `*.updated`-like
changes, notes the request that caused it (`request.id`, `request.idempotency_key`; null for what the
account did on its own, like a payout), and hands it to `webhooks.enqueue`.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from . import webhooks
from .errors import invalid_request, resource_missing
from .rendering import event_json
from .rest import Req, check_params, get_bool, page, parse_created, render_one
from .settings import EVENT_TYPES
from .store import Event, State

__all__ = ["emit", "get_event", "list_events"]


def emit(
    st: State,
    type_: str,
    obj: dict[str, Any],
    req: Req | None = None,
    previous: dict[str, Any] | None = None,
) -> Event:
    if type_ not in EVENT_TYPES:  # a typo here would silently reach no endpoint that listens for the name
        raise ValueError(f"not an event type the stand-in sends: {type_}")
    data: dict[str, Any] = {"object": obj}
    if previous:
        data["previous_attributes"] = previous
    ev = Event(
        id=st.new_id("evt_1", 23),
        type=type_,
        created=st.now(),
        data=data,
        request_id=req.request_id if req is not None else None,
        idempotency_key=req.idempotency_key if req is not None else None,
    )
    st.events[ev.id] = ev
    webhooks.enqueue(st, ev)
    return ev


def get_event(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    ev = st.events.get(req.path_params["id"])
    if ev is None:
        raise resource_missing(req.path_params["id"])
    return render_one(st, req, event_json(st, ev))


def _type_filter(req: Req) -> list[str] | None:
    one = req.params.get("type")
    many = req.params.get("types")
    if one is not None and many is not None:
        raise invalid_request("You may only specify one of these parameters: type, types.", param="type")
    if one is not None:
        if not isinstance(one, str):
            raise invalid_request("Invalid string", param="type")
        return [one]
    if many is not None:
        values = [many] if isinstance(many, str) else many
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise invalid_request("Invalid array", param="types")
        if len(values) > 20:
            raise invalid_request("You can pass up to 20 types.", param="types")
        return values
    return None


def list_events(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "events.list")
    types = _type_filter(req)
    created = parse_created(req)
    success = get_bool(req, "delivery_success")
    items = []
    for ev in reversed(st.events.values()):
        if ev.created not in created:
            continue
        if types is not None and not any(fnmatch.fnmatchcase(ev.type, t) for t in types):
            continue
        if success is not None and success != (not ev.pending):
            continue
        items.append(ev)
    return page(st, req, items, "/v1/events", lambda e: event_json(st, e), find=st.events.get)
