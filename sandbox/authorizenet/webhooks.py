"""Webhooks: the REST registration API (`/rest/v1/webhooks`) and signed deliveries.

Registration takes HTTP Basic `api_login_id:transaction_key`. Each delivery is a POST of
`{notificationId, eventType, eventDate, webhookId, payload}` with
`X-ANET-Signature: sha512=<HMAC-SHA512 of the raw body, uppercase hex>`, keyed by the Signature Key's text
as given (not hex-decoded). Deliveries happen in the background and are recorded in the delivery log;
failed ones are not retried on their own (the gateway retries for days): `redeliver()` does it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from sandbox._framework import is_loopback_host

from .encoding import dumps
from .settings import EVENT_TYPES, REST_PREFIX
from .state import AnetState, Webhook

__all__ = ["emit", "handle_rest", "redeliver", "sign"]


def sign(body: bytes, signature_key: str) -> str:
    """The `X-ANET-Signature` value: `sha512=` + uppercase hex HMAC-SHA512 keyed by the key's text."""
    return "sha512=" + hmac.new(signature_key.encode(), body, hashlib.sha512).hexdigest().upper()


def _event_date(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1e7) % 10_000_000:07d}Z"


def emit(st: AnetState, event_type: str, payload: dict[str, Any]) -> None:
    """Queue a notification to every active subscription listing `event_type`."""
    for hook in list(st.webhooks.values()):
        if hook.status != "active" or event_type not in hook.event_types:
            continue
        body = dumps(
            {
                "notificationId": str(uuid.uuid4()),
                "eventType": event_type,
                "eventDate": _event_date(st.now()),
                "webhookId": hook.webhook_id,
                "payload": payload,
            },
            bom=False,
        )
        st.courier.schedule(deliver(st, hook, event_type, body))


async def deliver(st: AnetState, hook: Webhook, event_type: str, body: bytes) -> dict[str, Any]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Authorize.Net Webhooks",
        "X-ANET-Signature": sign(body, st.signature_key),
    }
    record: dict[str, Any] = {
        "kind": "webhook",
        "event_type": event_type,
        "webhook_id": hook.webhook_id,
        "url": hook.url,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    outcome = await st.courier.post(hook.url, body, headers, record)
    if not outcome.ok:
        st.courier.keep_failed(lambda: _again(st, hook.webhook_id, event_type, body))
    st.courier.log.add(record)
    return record


def _again(
    st: AnetState, webhook_id: str, event_type: str, body: bytes
) -> Coroutine[Any, Any, dict[str, Any]] | None:
    """A new attempt of a failed delivery, unless its subscription is gone."""
    hook = st.webhooks.get(webhook_id)
    return None if hook is None else deliver(st, hook, event_type, body)


async def redeliver(st: AnetState) -> list[dict[str, Any]]:
    """Attempt every failed delivery again now (the gateway would, over days)."""
    return await st.courier.redeliver()


# --- the REST API -------------------------------------------------------------------------------------
def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data).encode(), status, media_type="application/json")


def _error(status: int, reason: str, message: str) -> Response:
    return _json(
        {"status": status, "reason": reason, "message": message, "correlationId": str(uuid.uuid4())}, status
    )


def _authorized(st: AnetState, header: str) -> bool:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return hmac.compare_digest(user.encode(), st.api_login_id.encode()) and hmac.compare_digest(
        password.encode(), st.transaction_key.encode()
    )


def _render(hook: Webhook) -> dict[str, Any]:
    return {
        "_links": {"self": {"href": f"{REST_PREFIX}/webhooks/{hook.webhook_id}"}},
        "webhookId": hook.webhook_id,
        "name": hook.name,
        "eventTypes": hook.event_types,
        "status": hook.status,
        "url": hook.url,
    }


def _valid_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    # Authorize.Net wants https; plain http is let through for receivers on this machine (tests, demos).
    return bool(parts.hostname) and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname))
    )


def _apply(hook: Webhook | None, body: Any) -> Webhook | Response:
    if not isinstance(body, dict):
        return _error(400, "VALIDATION_ERROR", "The request body must be a JSON object.")
    url = body.get("url", hook.url if hook else None)
    if not _valid_url(url):
        return _error(400, "VALIDATION_ERROR", "The url is invalid: a webhook url must be an https URL.")
    types = body.get("eventTypes", hook.event_types if hook else None)
    if not isinstance(types, list) or not types:
        return _error(400, "VALIDATION_ERROR", "At least one event type is required.")
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        return _error(400, "ERROR_INVALID_EVENTTYPE", f"Invalid event type: {unknown[0]}")
    status = body.get("status", hook.status if hook else "active")
    if status not in ("active", "inactive"):
        return _error(400, "VALIDATION_ERROR", "The status must be active or inactive.")
    name = str(body.get("name", hook.name if hook else ""))
    if hook is None:
        return Webhook("", name, str(url), [str(t) for t in types], str(status))
    hook.name, hook.url, hook.event_types, hook.status = name, str(url), [str(t) for t in types], str(status)
    return hook


def handle_rest(st: AnetState, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
    """`/rest/v1/webhooks[/{id}]` and `/rest/v1/eventtypes`."""
    if not _authorized(st, headers.get("authorization", "")):
        return _error(
            401, "AUTHENTICATION_ERROR", "User authentication failed due to invalid authentication values."
        )
    parts = path[len(REST_PREFIX) :].strip("/").split("/")
    try:
        data = json.loads(body.decode("utf-8-sig")) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return _error(400, "VALIDATION_ERROR", "The request body is not valid JSON.")
    if parts == ["eventtypes"] and method == "GET":
        return _json([{"name": t} for t in EVENT_TYPES])
    if parts[0] != "webhooks" or len(parts) > 2:
        return _error(404, "NOT_FOUND", "The requested resource was not found.")
    if len(parts) == 1:
        if method == "GET":
            return _json([_render(h) for h in st.webhooks.values()])
        if method == "POST":
            made = _apply(None, data)
            if isinstance(made, Response):
                return made
            made.webhook_id = st.new_webhook_id()
            st.webhooks[made.webhook_id] = made
            return _json(_render(made))
        return _error(405, "METHOD_NOT_ALLOWED", "The method is not allowed.")
    hook = st.webhooks.get(parts[1])
    if hook is None:
        return _error(404, "NOT_FOUND", f"The webhook {parts[1]} was not found.")
    if method == "GET":
        return _json(_render(hook))
    if method == "PUT":
        updated = _apply(hook, data)
        return updated if isinstance(updated, Response) else _json(_render(updated))
    if method == "DELETE":
        del st.webhooks[hook.webhook_id]
        return Response(b"", 200)
    return _error(405, "METHOD_NOT_ALLOWED", "The method is not allowed.")
