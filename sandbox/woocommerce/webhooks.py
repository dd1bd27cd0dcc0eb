"""Webhooks: topics, deliveries (signed, queued like Action Scheduler, no retries), the ping, the routes.

`emit()` queues one delivery per active webhook of the topic (a pending one for the same record is not
queued twice); `deliver()` posts the body built at delivery time with WooCommerce's `X-WC-Webhook-*`
headers and keeps the webhook's failure count (the 7th consecutive failure disables it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import re
import time
from typing import Any

from starlette.responses import Response

from .encoding import as_int, php_json
from .errors import WooError
from .rendering import record_bytes, render_webhook
from .rest import Req, json_response, paged
from .schemas import SCHEMAS
from .settings import MAX_FAILURES, VALID_TOPICS, WC_VERSION, WP_VERSION
from .store import Store, Webhook
from .validation import validate_body

__all__ = [
    "create_webhook",
    "delete_webhook",
    "deliver",
    "deliver_ping",
    "emit",
    "get_webhook",
    "list_webhooks",
    "payload",
    "sign_webhook",
    "update_webhook",
]


def sign_webhook(body: bytes, secret: str) -> str:
    """WooCommerce's webhook signature: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


# --- delivery --------------------------------------------------------------------------------------
def emit(st: Store, kind: str, event: str, rec_id: int) -> None:
    """Queue deliveries for `<kind>.<event>` like Action Scheduler: one pending job per hook+id."""
    topic = f"{kind}.{event}"
    if kind == "order":
        o = st.world.orders.get(rec_id)
        if o is not None and o.status in ("draft", "auto-draft", "new", "checkout-draft"):
            return
    for w in list(st.webhooks.values()):
        if w.status != "active" or w.topic != topic or rec_id in w.pending:
            continue
        w.pending.add(rec_id)
        st.courier.schedule(deliver(st, w, rec_id, topic))


def payload(st: Store, kind: str, event: str, rec_id: int) -> bytes:
    if event == "deleted":
        return php_json({"id": rec_id})
    store = st.table(kind)
    rec = store.get(rec_id)
    return php_json({"id": rec_id}) if rec is None else record_bytes(st, kind, rec)


async def deliver(st: Store, w: Webhook, rec_id: int, topic: str, *, manual: bool = False) -> dict[str, Any]:
    if st.webhook_delay_ms and not manual:
        await asyncio.sleep(st.webhook_delay_ms / 1000)
    w.pending.discard(rec_id)
    kind, event = topic.split(".", 1)
    body = payload(st, kind, event, rec_id)
    delivery_id = hashlib.md5(f"{w.id}{time.time()}{random.random()}".encode()).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})",
        "X-WC-Webhook-Source": st.base_url + "/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": kind,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": sign_webhook(body, w.secret),
        "X-WC-Webhook-ID": str(w.id),
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }
    record: dict[str, Any] = {
        "kind": "delivery",
        "delivery_id": delivery_id,
        "webhook_id": w.id,
        "topic": topic,
        "resource_id": rec_id,
        "url": w.delivery_url,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    # WooCommerce counts 200-302 as delivered: it follows no redirects, so a 301/302 is the answer.
    outcome = await st.courier.post(
        w.delivery_url, body, headers, record, success=lambda code: 200 <= code < 303
    )
    if outcome.ok:
        w.failure_count = 0
    elif w.failure_count > MAX_FAILURES:
        w.status = "disabled"
    else:
        w.failure_count += 1
    record["failure_count"] = w.failure_count
    record["webhook_status"] = w.status
    st.courier.log.add(record)
    return record


async def deliver_ping(st: Store, w: Webhook) -> dict[str, Any]:
    """The unsigned form post WooCommerce sends when a webhook is created; its result is ignored."""
    body = f"webhook_id={w.id}".encode()
    headers = {
        "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    record: dict[str, Any] = {
        "kind": "ping",
        "webhook_id": w.id,
        "url": w.delivery_url,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    await st.courier.post(w.delivery_url, body, headers, record, timeout=min(st.courier.timeout, 5.0))
    st.courier.log.add(record)
    return record


# --- REST routes -----------------------------------------------------------------------------------
def _webhook(st: Store, req: Req) -> Webhook:
    w = st.webhooks.get(as_int(req.params.get("id")))
    if w is None:
        raise WooError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
    return w


def list_webhooks(st: Store, req: Req) -> Response:
    status = req.args.get("status", "all")
    hooks = [w for w in st.webhooks.values() if status == "all" or w.status == status]
    include = req.args.get("include") or []
    if include:
        hooks = [w for w in hooks if w.id in include]
    desc = req.args.get("order", "desc") == "desc"
    hooks.sort(key=lambda w: (w.created, w.id), reverse=desc)
    by_id = {w.id: w for w in hooks}
    return paged(
        st, req, "/webhooks", [w.id for w in hooks], lambda i: php_json(render_webhook(st, by_id[i]))
    )


def get_webhook(st: Store, req: Req) -> Response:
    return json_response(render_webhook(st, _webhook(st, req)))


def _check_webhook_body(body: dict[str, Any], creating: bool) -> None:
    validate_body(SCHEMAS["webhook"], {k: v for k, v in body.items() if k != "delivery_url"})
    if creating:
        missing = [k for k in ("topic", "delivery_url") if not body.get(k)]
        if missing:
            raise WooError(
                "rest_missing_callback_param",
                f"Missing parameter(s): {', '.join(missing)}",
                400,
                params=missing,
            )
    if "topic" in body:
        topic = str(body["topic"])
        if topic not in VALID_TOPICS and not re.fullmatch(r"action\.(woocommerce|wc)_\w+", topic):
            raise WooError(
                "woocommerce_rest_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
                400,
            )
    if "delivery_url" in body:
        url = str(body["delivery_url"])
        if not re.match(r"^https?://[^\s/]+", url):
            raise WooError(
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )


async def create_webhook(st: Store, req: Req) -> Response:
    body = req.params_json()
    _check_webhook_body(body, True)
    now = st.now()
    st.next_webhook_id += 1
    w = Webhook(
        id=st.next_webhook_id,
        name=str(
            body.get("name")
            or f"Webhook created on {time.strftime('%B %d, %Y @ %I:%M %p', time.gmtime(now))}"
        ),
        status=str(body.get("status") or "active"),
        topic=str(body["topic"]),
        delivery_url=str(body["delivery_url"]),
        secret=str(body.get("secret") or st.webhook_secret),
        created=now,
        modified=now,
    )
    st.webhooks[w.id] = w
    await deliver_ping(st, w)
    return json_response(render_webhook(st, w), 201, {"Location": st.api(f"/webhooks/{w.id}")})


async def update_webhook(st: Store, req: Req) -> Response:
    w = _webhook(st, req)
    body = req.params_json()
    _check_webhook_body(body, False)
    for f in ("name", "status", "topic", "delivery_url", "secret"):
        if f in body and body[f] is not None:
            setattr(w, f, str(body[f]))
    if body.get("status") == "active":
        w.failure_count = 0
    w.modified = st.now()
    return json_response(render_webhook(st, w))


async def delete_webhook(st: Store, req: Req) -> Response:
    w = _webhook(st, req)
    if str(req.query.get("force", "")).lower() not in ("true", "1"):
        raise WooError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
    data = render_webhook(st, w)
    del st.webhooks[w.id]
    return json_response(data)
