"""Webhooks: subscriptions, signed deliveries, the certificate, and `verify-webhook-signature`.

`emit()` builds one event (`{id, event_version, create_time, resource_type, resource_version, event_type,
summary, resource, links}`) and delivers it in the background to every subscription listing its type (or
`*`) that has a URL. Each delivery is a new transmission, signed as PayPal signs them: RSA-SHA256 over
`<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body>`, base64, with the
`PAYPAL-TRANSMISSION-ID/-TIME/-SIG`, `PAYPAL-CERT-URL` and `PAYPAL-AUTH-ALGO` headers. The certificate is
served at the cert URL (under the stand-in's base URL instead of api.paypal.com).

`POST /v1/notifications/verify-webhook-signature` answers `SUCCESS` only for a transmission this stand-in
really sent: same transmission id, time, signature, cert URL, algorithm and webhook id, and a
`webhook_event` byte-identical to the delivered body (it is read from the request's raw bytes, so a client
that re-serialises the event gets `FAILURE`, as PayPal warns). Anything else is `FAILURE`, HTTP 200
either way.
Failed deliveries are not retried on their own (PayPal retries for three days): `redeliver()` does it.
"""

from __future__ import annotations

import base64
import time
import uuid
import zlib
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from sandbox._framework import is_loopback_host

from .encoding import dumps, top_level_spans
from .errors import PayPalError
from .rest import Req, json_response
from .settings import CERT_ID, EVENT_TYPES, MAX_WEBHOOKS
from .state import PayPalState, Transmission, Webhook

__all__ = [
    "create_webhook",
    "delete_webhook",
    "deliver",
    "emit",
    "get_certificate",
    "get_webhook",
    "list_webhooks",
    "redeliver",
    "sign",
    "verify_signature",
]

_WEBHOOK_DOCS = "https://developer.paypal.com/docs/api/webhooks/#errors"
_USER_AGENT = "PayPal/AUHD-214.0-58040287"
_VERIFY_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
)


def _validation_error(field: str, issue: str) -> PayPalError:
    return PayPalError(
        400,
        "VALIDATION_ERROR",
        [{"field": field, "issue": issue}],
        message="Invalid data provided",
        extra={"information_link": _WEBHOOK_DOCS, "links": []},
    )


def _iso_ms(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def cert_url(st: PayPalState) -> str:
    return f"{st.base_url}/v1/notifications/certs/{CERT_ID}"


def sign(st: PayPalState, transmission_id: str, when: str, webhook_id: str, body: bytes) -> str:
    """PayPal's transmission signature (base64 RSA-SHA256 of `id|time|webhook id|crc32(body)`)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, _ = st.signing()
    message = f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body)}".encode()
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


# --- emitting and delivering ------------------------------------------------------------------------
def emit(st: PayPalState, event_type: str, resource_type: str, resource: dict[str, Any], summary: str) -> str:
    """Queue the event to every subscription that wants it; returns the event id."""
    event_id = st.event_id()
    event = {
        "id": event_id,
        "event_version": "1.0",
        "create_time": _iso_ms(st.now()),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": summary,
        "resource": resource,
        "links": [
            {
                "href": f"{st.base_url}/v1/notifications/webhooks-events/{event_id}",
                "rel": "self",
                "method": "GET",
            },
            {
                "href": f"{st.base_url}/v1/notifications/webhooks-events/{event_id}/resend",
                "rel": "resend",
                "method": "POST",
            },
        ],
    }
    body = dumps(event)
    for hook in list(st.webhooks.values()):
        if hook.url and ("*" in hook.event_types or event_type in hook.event_types):
            st.courier.schedule(deliver(st, hook, event_id, event_type, body))
    return event_id


async def deliver(
    st: PayPalState, hook: Webhook, event_id: str, event_type: str, body: bytes
) -> dict[str, Any]:
    """POST one signed transmission of an event to a subscription; record it in the delivery log."""
    transmission_id = str(uuid.uuid1())
    when = datetime.fromtimestamp(st.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = sign(st, transmission_id, when, hook.id, body)
    url = cert_url(st)
    st.transmissions[transmission_id] = Transmission(
        transmission_id, hook.id, when, sig, url, "SHA256withRSA", body
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": when,
        "PAYPAL-TRANSMISSION-SIG": sig,
        "PAYPAL-CERT-URL": url,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-AUTH-VERSION": "v2",
        "Correlation-Id": uuid.uuid4().hex[:13],
    }
    record: dict[str, Any] = {
        "kind": "webhook",
        "event_id": event_id,
        "event_type": event_type,
        "webhook_id": hook.id,
        "url": hook.url,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    outcome = await st.courier.post(hook.url or "", body, headers, record)
    if not outcome.ok:
        st.courier.keep_failed(lambda: _again(st, hook.id, event_id, event_type, body))
    st.courier.log.add(record)
    return record


def _again(
    st: PayPalState, webhook_id: str, event_id: str, event_type: str, body: bytes
) -> Coroutine[Any, Any, dict[str, Any]] | None:
    """A new transmission of a failed delivery, unless its subscription is gone or has no URL."""
    hook = st.webhooks.get(webhook_id)
    return None if hook is None or not hook.url else deliver(st, hook, event_id, event_type, body)


async def redeliver(st: PayPalState) -> list[dict[str, Any]]:
    """Attempt every failed delivery again now (PayPal would, over three days)."""
    return await st.courier.redeliver()


# --- the notifications API --------------------------------------------------------------------------
def _render(st: PayPalState, hook: Webhook) -> dict[str, Any]:
    base = f"{st.base_url}/v1/notifications/webhooks/{hook.id}"
    types = [{"name": n, "description": EVENT_TYPES.get(n, "ALL")} for n in hook.event_types]
    return {
        "id": hook.id,
        "url": hook.url or "",
        "event_types": types,
        "links": [
            {"href": base, "rel": "self", "method": "GET"},
            {"href": base, "rel": "update", "method": "PATCH"},
            {"href": base, "rel": "delete", "method": "DELETE"},
        ],
    }


def _valid_url(url: Any) -> bool:
    if not isinstance(url, str) or len(url) > 2048:
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    # PayPal takes https only; plain http is let through for receivers on this machine (tests, demos).
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def create_webhook(st: PayPalState, req: Req) -> Response:
    body = req.json(required=True)
    if not isinstance(body, dict):
        raise _validation_error("body", "MALFORMED_REQUEST")
    url = body.get("url")
    if not _valid_url(url):
        raise _validation_error("url", "Not a valid webhook URL")
    raw_types = body.get("event_types")
    if not isinstance(raw_types, list) or not raw_types:
        raise _validation_error("event_types", "Required field is missing")
    names = []
    for i, item in enumerate(raw_types):
        name = item.get("name") if isinstance(item, dict) else None
        if name != "*" and name not in EVENT_TYPES:
            raise _validation_error(f"event_types[{i}].name", "Not a valid event name")
        names.append(str(name))
    if any(h.url == url for h in st.webhooks.values()):
        raise PayPalError(
            400, "WEBHOOK_URL_ALREADY_EXISTS", message="Webhook URL already exists", extra={"links": []}
        )
    if len(st.webhooks) >= MAX_WEBHOOKS:
        raise PayPalError(
            400,
            "WEBHOOK_NUMBER_LIMIT_EXCEEDED",
            message="Maximum number of webhooks allowed per app exceeded",
            extra={"links": []},
        )
    hook = Webhook(st.new_id("order"), str(url), names)
    st.webhooks[hook.id] = hook
    return json_response(_render(st, hook), 201)


def list_webhooks(st: PayPalState, req: Req) -> Response:
    return json_response({"webhooks": [_render(st, h) for h in st.webhooks.values()]})


def _hook(st: PayPalState, req: Req) -> Webhook:
    hook = st.webhooks.get(req.params["id"])
    if hook is None:
        raise PayPalError(
            404,
            "INVALID_RESOURCE_ID",
            message="Resource id not found",
            extra={"information_link": _WEBHOOK_DOCS, "links": []},
        )
    return hook


def get_webhook(st: PayPalState, req: Req) -> Response:
    return json_response(_render(st, _hook(st, req)))


def delete_webhook(st: PayPalState, req: Req) -> Response:
    hook = _hook(st, req)
    del st.webhooks[hook.id]
    return Response(b"", 204)


def get_certificate(st: PayPalState, req: Req) -> Response:
    if req.params["cert_id"] != CERT_ID:
        return Response(b"", 404)
    _, pem = st.signing()
    return Response(pem, 200, media_type="application/x-pem-file")


def verify_signature(st: PayPalState, req: Req) -> Response:
    body = req.json(required=True)
    if not isinstance(body, dict):
        raise _validation_error("body", "MALFORMED_REQUEST")
    for name in _VERIFY_FIELDS:
        value = body.get(name)
        if value is None or value == "":
            raise _validation_error(name, "Required field cannot be blank")
        if name != "webhook_event" and not isinstance(value, str):
            raise _validation_error(name, "Invalid data type")
    if not isinstance(body["webhook_event"], dict):
        raise _validation_error("webhook_event", "Invalid data type")
    return json_response({"verification_status": "SUCCESS" if _genuine(st, req, body) else "FAILURE"})


def _genuine(st: PayPalState, req: Req, body: dict[str, Any]) -> bool:
    sent = st.transmissions.get(body["transmission_id"])
    if sent is None:
        return False
    same_headers = (
        body["webhook_id"] == sent.webhook_id
        and body["transmission_time"] == sent.time
        and body["transmission_sig"] == sent.sig
        and body["cert_url"] == sent.cert_url
        and body["auth_algo"] == sent.auth_algo
    )
    if not same_headers:
        return False
    text = req.body.decode("utf-8")
    spans = top_level_spans(text)
    if spans is None or "webhook_event" not in spans:
        return False
    start, end = spans["webhook_event"]
    return text[start:end].encode("utf-8") == sent.body
