"""Webhooks: events, signed deliveries with Square's retries, and the Webhook Subscriptions API.

`emit()` builds one event (Square's envelope, the object as it is at that moment) and queues one delivery
per enabled subscription to its type. A delivery POSTs the event with `x-square-hmacsha256-signature` =
base64(HMAC-SHA256(signature key, notification URL + body)) and the legacy SHA-1 `x-square-signature`;
a 2xx within `webhook_timeout` (Square: 10 s) is success, anything else (3xx included) is retried with
the same body and `event_id` after 1, 2, 4, 8, 16 and 32 minutes, then hourly, for 24 hours.
`deliver_now()` sends every waiting retry at once (tests and demos do not wait minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from sandbox._delivery import next_delay

from .encoding import dumps, stamp_ms
from .errors import SquareError
from .idempotency import run_idempotent
from .pagination import decode_cursor, encode_cursor, keyset_page, query_fingerprint
from .rendering import event, subscription
from .rest import Req, json_response, string_field
from .settings import EVENT_TYPES, IDEMPOTENCY_KEY_MAX, RETRY_SCHEDULE, SUBSCRIPTION_NAME_MAX
from .state import Delivery, SquareState, Subscription

__all__ = [
    "create_subscription",
    "delete_subscription",
    "deliver_now",
    "emit",
    "get_subscription",
    "list_event_types",
    "list_subscriptions",
    "register_endpoint",
    "rotate_signature_key",
    "sign",
    "update_subscription",
]

_GIVE_UP_AFTER = 24 * 3600
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def sign(signature_key: str, notification_url: str, body: bytes) -> str:
    """Square's `x-square-hmacsha256-signature`: base64 HMAC-SHA256 over the notification URL + body."""
    mac = hmac.new(signature_key.encode(), notification_url.encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _sign_sha1(signature_key: str, notification_url: str, body: bytes) -> str:
    mac = hmac.new(signature_key.encode(), notification_url.encode() + body, hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


# --- events and deliveries -------------------------------------------------------------------------
def emit(st: SquareState, event_type: str, obj_type: str, obj: dict[str, Any]) -> str:
    """Queue `event_type` about `obj` (already rendered) to every subscription that wants it."""
    event_id = str(uuid.uuid4())
    created = st.now()
    body = dumps(event(st, event_type, event_id, created, obj_type, obj))
    for sub in list(st.subscriptions.values()):
        if not sub.enabled or event_type not in sub.event_types:
            continue
        d = Delivery(
            event_id=event_id,
            event_type=event_type,
            subscription_id=sub.id,
            url=sub.notification_url,
            signature_key=sub.signature_key,
            api_version=sub.api_version,
            body=body,
            created=created,
        )
        st.pending[(event_id, sub.id)] = d
        st.courier.schedule(_attempt(st, d))
    return event_id


async def _attempt(st: SquareState, d: Delivery) -> dict[str, Any]:
    if d.done:
        return {"event_id": d.event_id, "subscription_id": d.subscription_id, "skipped": "already delivered"}
    st.courier.cancel_retry(d)
    d.attempts += 1
    now = st.now()
    if d.first_attempt is None:
        d.first_attempt = now
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Square Connect v2",
        "Square-Environment": "Sandbox",
        "Square-Initial-Delivery-Timestamp": stamp_ms(d.first_attempt),
        "X-Square-Hmacsha256-Signature": sign(d.signature_key, d.url, d.body),
        "X-Square-Signature": _sign_sha1(d.signature_key, d.url, d.body),
    }
    if d.attempts > 1:
        headers["Square-Retry-Number"] = str(d.attempts - 1)
        headers["Square-Retry-Reason"] = d.last_reason
    record: dict[str, Any] = {
        "kind": "delivery",
        "event_id": d.event_id,
        "type": d.event_type,
        "subscription_id": d.subscription_id,
        "url": d.url,
        "attempt": d.attempts,
        "request_headers": headers,
        "body": d.body.decode(),
        "time": time.time(),
    }
    outcome = await st.courier.post(d.url, d.body, headers, record)
    if outcome.error is None:
        d.last_reason = f"http_status_code_{outcome.status}"
    else:
        d.last_reason = "http_timeout" if outcome.timed_out else "http_connection_error"
    d.last_status = outcome.status
    delay = next_delay(RETRY_SCHEDULE, d.attempts)
    if outcome.ok:
        d.done = True
        st.pending.pop((d.event_id, d.subscription_id), None)
    elif delay is not None and now - d.first_attempt < _GIVE_UP_AFTER:
        record["next_attempt_in_s"] = delay
        st.courier.retry_later(d, delay, lambda: _attempt(st, d))
    else:
        d.done = True
        record["gave_up"] = True
        st.pending.pop((d.event_id, d.subscription_id), None)
    st.courier.log.add(record)
    return record


async def deliver_now(st: SquareState) -> list[dict[str, Any]]:
    """Attempt every delivery still waiting (retries included) now; returns the attempts' records."""
    return await st.courier.deliver_now(
        lambda: [d for d in st.pending.values() if not d.done], lambda d: _attempt(st, d)
    )


# --- subscriptions ---------------------------------------------------------------------------------
def _new_key(st: SquareState) -> str:
    return st.token(22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def register_endpoint(
    st: SquareState, url: str, event_types: list[str] | None = None, *, name: str = ""
) -> Subscription:
    """A subscription made in the Developer Dashboard: signed with the account's `webhook_signature_key`."""
    _check_url(url, "notification_url")
    types = _check_types(event_types if event_types is not None else list(EVENT_TYPES), "event_types")
    now = int(st.now())
    sub = Subscription(
        id="wbhk_" + st.token(32, "0123456789abcdef"),
        name=name or "Sandbox endpoint",
        enabled=True,
        event_types=types,
        notification_url=url,
        api_version=st.default_version,
        signature_key=st.webhook_signature_key,
        created=now,
        updated=now,
        source="admin",
    )
    st.subscriptions[sub.id] = sub
    return sub


def _check_url(url: str, field: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise SquareError(400, "INVALID_VALUE", f"`{url}` is not a valid URL.", field=field)
    return url


def _check_types(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise SquareError(400, "EXPECTED_ARRAY", "Expected an array.", field=field)
    if not value:
        raise SquareError(400, "ARRAY_EMPTY", "The array must not be empty.", field=field)
    out: list[str] = []
    for i, t in enumerate(value):
        if not isinstance(t, str):
            raise SquareError(400, "EXPECTED_STRING", "Expected a string value.", field=f"{field}[{i}]")
        if t not in EVENT_TYPES:
            raise SquareError(400, "INVALID_VALUE", f"Unknown event type `{t}`.", field=f"{field}[{i}]")
        if t not in out:
            out.append(t)
    return out


def _subscription_fields(
    st: SquareState, req: Req, body: dict[str, Any], *, creating: bool
) -> dict[str, Any]:
    sub = body.get("subscription")
    if sub is None:
        if creating:
            raise SquareError(400, "MISSING_REQUIRED_PARAMETER", "Field must be set", field="subscription")
        return {}
    if not isinstance(sub, dict):
        raise SquareError(400, "EXPECTED_OBJECT", "Expected an object.", field="subscription")
    p = "subscription."
    out: dict[str, Any] = {}
    name = string_field(sub, "name", max_len=SUBSCRIPTION_NAME_MAX, prefix=p)
    if name is not None:
        out["name"] = name
    url = string_field(sub, "notification_url", required=creating, prefix=p)
    if url is not None:
        out["notification_url"] = _check_url(url, p + "notification_url")
    if creating or sub.get("event_types") is not None:
        if sub.get("event_types") is None:
            raise SquareError(400, "MISSING_REQUIRED_PARAMETER", "Field must be set", field=p + "event_types")
        out["event_types"] = _check_types(sub["event_types"], p + "event_types")
    version = string_field(sub, "api_version", prefix=p)
    if version is not None:
        if not _VERSION.match(version):
            raise SquareError(
                400, "INVALID_VALUE", f"`{version}` is not an API version.", field=p + "api_version"
            )
        out["api_version"] = version
    if sub.get("enabled") is not None:
        if not isinstance(sub["enabled"], bool):
            raise SquareError(400, "EXPECTED_BOOLEAN", "Expected a boolean value.", field=p + "enabled")
        out["enabled"] = sub["enabled"]
    return out


def create_subscription(st: SquareState, req: Req) -> Response:
    body = req.json()
    key = string_field(body, "idempotency_key", max_len=IDEMPOTENCY_KEY_MAX)
    fields = _subscription_fields(st, req, body, creating=True)

    def execute() -> tuple[int, dict[str, Any], str]:
        now = int(st.now())
        sub = Subscription(
            id="wbhk_" + st.token(32, "0123456789abcdef"),
            name=fields.get("name", ""),
            enabled=fields.get("enabled", True),
            event_types=fields["event_types"],
            notification_url=fields["notification_url"],
            api_version=fields.get("api_version", req.version or st.default_version),
            signature_key=_new_key(st),
            created=now,
            updated=now,
        )
        st.subscriptions[sub.id] = sub
        return 200, {"subscription": subscription(sub, with_key=True)}, sub.id

    if key:
        status, raw = run_idempotent(st, "CreateWebhookSubscription", key, body, execute)
        return Response(raw, status, headers={"Square-Version": req.version}, media_type="application/json")
    _, out, _ = execute()
    return json_response(out, req)


def _find(st: SquareState, req: Req) -> Subscription:
    sub = st.subscriptions.get(req.params["id"])
    if sub is None:
        raise SquareError(404, "NOT_FOUND", f"Could not find subscription with id: {req.params['id']}")
    return sub


def list_subscriptions(st: SquareState, req: Req) -> Response:
    include_disabled = req.q_bool("include_disabled") or False
    desc = req.q_sort_order("ASC") == "DESC"
    limit = req.q_limit()
    fingerprint = query_fingerprint(req, "subscriptions")
    cursor = decode_cursor(st, req, fingerprint)
    subs = sorted(
        (s for s in st.subscriptions.values() if include_disabled or s.enabled),
        key=lambda s: (s.created, s.id),
    )
    chunk, more = keyset_page(
        subs, lambda s: (s.created, s.id), desc=desc, after=cursor.key if cursor else None, limit=limit
    )
    out: dict[str, Any] = {"subscriptions": [subscription(s, with_key=False) for s in chunk]}
    if more and chunk:
        out["cursor"] = encode_cursor(st, fingerprint, (chunk[-1].created, chunk[-1].id), ())
    return json_response(out, req)


def get_subscription(st: SquareState, req: Req) -> Response:
    return json_response({"subscription": subscription(_find(st, req), with_key=True)}, req)


def update_subscription(st: SquareState, req: Req) -> Response:
    sub = _find(st, req)
    fields = _subscription_fields(st, req, req.json(), creating=False)
    for name, value in fields.items():
        setattr(sub, name, value)
    sub.updated = int(st.now())
    return json_response({"subscription": subscription(sub, with_key=True)}, req)


def delete_subscription(st: SquareState, req: Req) -> Response:
    sub = _find(st, req)
    del st.subscriptions[sub.id]
    return json_response({}, req)


def rotate_signature_key(st: SquareState, req: Req) -> Response:
    sub = _find(st, req)
    if req.body.strip():
        string_field(req.json(), "idempotency_key", max_len=IDEMPOTENCY_KEY_MAX)
    sub.signature_key = _new_key(st)
    sub.updated = int(st.now())
    return json_response({"signature_key": sub.signature_key}, req)


def list_event_types(st: SquareState, req: Req) -> Response:
    return json_response(
        {
            "event_types": list(EVENT_TYPES),
            "metadata": [
                {"event_type": t, "api_version_introduced": v, "release_status": "PUBLIC"}
                for t, v in EVENT_TYPES.items()
            ],
        },
        req,
    )
