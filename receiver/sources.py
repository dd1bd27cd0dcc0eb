"""Each webhook source: which block holds its secret, how its signature is checked, and how its body
becomes inbox items (dedupe key, topic, the object it is about).

`SOURCES[name].accept(incoming, loaded, ctx)` verifies the raw body (unless verification is off), parses
it and returns `Accepted(items)`, or `Accepted(ping=True)` for WooCommerce's unsigned creation ping. It
raises `Rejected` with the status the issue names: 401 signature, 400 body, 404 unknown service, 503
not set up here.

Dedupe keys (the inbox's unique (source, event_key)):

| source | key |
|---|---|
| woocommerce | topic : resource id : SHA-256 of the raw body (WooCommerce sends no event id) |
| stripe | event `id` (`evt_...`) |
| paypal | event `id` (`WH-...`) |
| square | `event_id` |
| authorizenet | `notificationId` |
| twilio | `MessageSid` : `MessageStatus` |
| sendgrid | `sg_event_id` of each event of the batch |
| third-party | service : `webhook-id` (Standard Webhooks), else `X-Webhook-Id`, else SHA-256 of the body |
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import orjson
from fastapi import status

from hub.inbox import InboxItem, stable_key
from receiver import verify
from receiver.credentials import Loaded
from receiver.errors import Rejected
from receiver.settings import ReceiverSettings

__all__ = ["SOURCES", "Accepted", "Incoming", "Source"]

_400 = status.HTTP_400_BAD_REQUEST
_503 = status.HTTP_503_SERVICE_UNAVAILABLE
SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,48}$")
_PING = re.compile(rb"^webhook_id=\d+$")


@dataclass(frozen=True)
class Incoming:
    """A webhook request as the sources need it."""

    body: bytes
    headers: Mapping[str, str]  # lower-case names
    path: str
    query: str
    url: str  # as the receiver saw it
    path_params: Mapping[str, str] = field(default_factory=dict)

    def public_url(self, settings: ReceiverSettings) -> str:
        """The URL the vendor called: `public_base_url` + path (+ query) when set, else as seen."""
        if settings.public_base_url:
            return settings.public_base_url + self.path + (f"?{self.query}" if self.query else "")
        return self.url


@dataclass(frozen=True)
class Accepted:
    items: Sequence[InboxItem] = ()
    ping: bool = False


class Source(Protocol):
    name: str

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted: ...


def _json(body: bytes, source: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise Rejected(_400, "body is not JSON", source=source) from None


def _object(body: bytes, source: str) -> dict[str, Any]:
    data = _json(body, source)
    if not isinstance(data, dict):
        raise Rejected(_400, "body is not a JSON object", source=source)
    return data


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _not_set_up(source: str, what: str) -> Rejected:
    return Rejected(_503, f"{source} webhooks are not set up here: {what}", source=source)


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return text or None


# --- WooCommerce -----------------------------------------------------------------------------------
WOO_TOPIC = re.compile(r"^[a-z_]+\.[a-z_]+$|^action\.[a-z0-9_]+$")


class WooCommerce:
    name = "woocommerce"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        headers = incoming.headers
        signature = headers.get("x-wc-webhook-signature")
        if not signature and _PING.match(incoming.body.strip()):
            return Accepted(ping=True)  # unsigned `webhook_id=N` on creation: WooCommerce wants a 200
        if not loaded.stores:
            raise _not_set_up(self.name, "no WooCommerce Store block (NXT_RECEIVER_STORES)")
        store = _pick_store(loaded, headers.get("x-wc-webhook-source"))
        if verify_signatures:
            candidates = [store] if store else list(loaded.stores)
            secrets: list[tuple[str, str]] = []
            for name in candidates:
                key = _secret(loaded.stores[name].webhook_secret)
                if key:
                    secrets.append((name, key))
            if not secrets:
                raise _not_set_up(self.name, "the WooCommerce Store block has no webhook_secret")
            last: Rejected | None = None
            for name, secret in secrets:
                try:
                    verify.woocommerce(incoming.body, signature, secret)
                    store = name
                    last = None
                    break
                except Rejected as exc:
                    last = exc
            if last is not None:
                raise last
        store = store or next(iter(loaded.stores))
        topic = (headers.get("x-wc-webhook-topic") or "").strip().lower()
        if not topic and incoming.path_params.get("event"):
            topic = incoming.path_params["event"].strip("/").replace("/", ".").lower()
        if not WOO_TOPIC.match(topic):
            raise Rejected(_400, "no valid X-WC-Webhook-Topic (e.g. order.updated)", source=self.name)
        data = _object(incoming.body, self.name)
        rid = data.get("id")
        if isinstance(rid, bool) or not isinstance(rid, int) or rid <= 0:
            if not topic.startswith("action."):
                raise Rejected(_400, "body has no positive integer id", source=self.name)
            rid = None
        kind = topic.split(".", 1)[0]
        digest = hashlib.sha256(incoming.body).hexdigest()[:32]
        item = InboxItem(
            source=self.name,
            event_key=stable_key(store, topic, str(rid), digest),
            topic=topic,
            payload=data,
            account=store,
            resource=f"{kind}.{rid}" if rid is not None else None,
        )
        return Accepted([item])


def _pick_store(loaded: Loaded, source_url: str | None) -> str | None:
    if len(loaded.stores) == 1:
        return next(iter(loaded.stores))
    if source_url:
        wanted = source_url.strip().rstrip("/").lower()
        for name, block in loaded.stores.items():
            if str(block.site_url).rstrip("/").lower() == wanted:
                return name
    return None


# --- Stripe ----------------------------------------------------------------------------------------
class Stripe:
    name = "stripe"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        if verify_signatures:
            block = loaded.block(self.name)
            secret = _secret(getattr(block, "webhook_secret", None))
            if not secret:
                raise _not_set_up(self.name, "save a Stripe Gateway block with webhook_secret (whsec_...)")
            verify.stripe(
                incoming.body,
                incoming.headers.get("stripe-signature"),
                secret,
                settings.timestamp_tolerance_s,
            )
        event = _object(incoming.body, self.name)
        event_id, kind = _text(event.get("id")), _text(event.get("type"))
        if not event_id or not kind:
            raise Rejected(_400, "not a Stripe event (no id or type)", source=self.name)
        obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
        resource = None
        if isinstance(obj, dict) and _text(obj.get("id")):
            resource = f"{_text(obj.get('object')) or 'object'}.{_text(obj.get('id'))}"
        return Accepted([InboxItem(self.name, event_id, kind, event, resource=resource)])


# --- PayPal ----------------------------------------------------------------------------------------
class PayPal:
    name = "paypal"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        event = _object(incoming.body, self.name) if not verify_signatures else None
        if verify_signatures:
            block = loaded.block(self.name)
            webhook_id = getattr(block, "webhook_id", None)
            if block is None or not webhook_id:
                raise _not_set_up(self.name, "save a PayPal Gateway block with webhook_id")
            await verify.paypal(loaded.client(self.name), incoming.headers, incoming.body, str(webhook_id))
            event = _object(incoming.body, self.name)
        assert event is not None
        event_id, kind = _text(event.get("id")), _text(event.get("event_type"))
        if not event_id or not kind:
            raise Rejected(_400, "not a PayPal event (no id or event_type)", source=self.name)
        res = event.get("resource")
        resource = None
        if isinstance(res, dict) and _text(res.get("id")):
            resource = f"{(_text(event.get('resource_type')) or 'resource').lower()}.{_text(res.get('id'))}"
        return Accepted([InboxItem(self.name, event_id, kind, event, resource=resource)])


# --- Square ----------------------------------------------------------------------------------------
class Square:
    name = "square"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        if verify_signatures:
            block = loaded.block(self.name)
            key = _secret(getattr(block, "webhook_signature_key", None))
            if not key:
                raise _not_set_up(self.name, "save a Square Gateway block with webhook_signature_key")
            url = getattr(block, "notification_url", None) or incoming.public_url(settings)
            verify.square(incoming.body, incoming.headers.get("x-square-hmacsha256-signature"), key, str(url))
        event = _object(incoming.body, self.name)
        event_id, kind = _text(event.get("event_id")), _text(event.get("type"))
        if not event_id or not kind:
            raise Rejected(_400, "not a Square event (no event_id or type)", source=self.name)
        data = event.get("data")
        resource = None
        if isinstance(data, dict) and _text(data.get("id")):
            resource = f"{_text(data.get('type')) or 'object'}.{_text(data.get('id'))}"
        account = _text(event.get("merchant_id"))
        return Accepted([InboxItem(self.name, event_id, kind, event, account=account, resource=resource)])


# --- Authorize.Net ---------------------------------------------------------------------------------
class AuthorizeNet:
    name = "authorizenet"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        if verify_signatures:
            block = loaded.block(self.name)
            key = _secret(getattr(block, "signature_key", None))
            if not key:
                raise _not_set_up(self.name, "save an Authorize.Net Gateway block with signature_key")
            verify.authorizenet(incoming.body, incoming.headers.get("x-anet-signature"), key)
        event = _object(incoming.body, self.name)
        event_id, kind = _text(event.get("notificationId")), _text(event.get("eventType"))
        if not event_id or not kind:
            raise Rejected(
                _400, "not an Authorize.Net event (no notificationId or eventType)", source=self.name
            )
        payload = event.get("payload")
        resource = None
        if isinstance(payload, dict) and _text(payload.get("id")):
            resource = f"{_text(payload.get('entityName')) or 'transaction'}.{_text(payload.get('id'))}"
        return Accepted([InboxItem(self.name, event_id, kind, event, resource=resource)])


# --- Twilio ----------------------------------------------------------------------------------------
class Twilio:
    name = "twilio"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        try:
            pairs = parse_qsl(incoming.body.decode(), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise Rejected(_400, "body is not a UTF-8 form", source=self.name) from None
        if verify_signatures:
            block = loaded.block(self.name)
            token = _secret(getattr(block, "auth_token", None))
            if not token:
                raise _not_set_up(self.name, "save a Twilio SMS Provider block (auth_token)")
            verify.twilio(
                incoming.public_url(settings),
                pairs,
                incoming.headers.get("x-twilio-signature"),
                token,
                settings_header=incoming.headers.get("x-twilio-webhooks-signature-settings"),
            )
        form = dict(pairs)
        # The status callback URL's query (`?nxt_id=<outbox row>`, which the dispatch adds) names our row
        # even when the message's SID never reached the hub; Twilio signs it as part of the URL.
        for name, value in parse_qsl(incoming.query, keep_blank_values=False):
            form.setdefault(name, value)
        sid = form.get("MessageSid") or form.get("SmsSid")
        state = form.get("MessageStatus") or form.get("SmsStatus")
        if not sid or not state:
            raise Rejected(
                _400, "not a message status callback (no MessageSid or MessageStatus)", source=self.name
            )
        item = InboxItem(
            self.name,
            stable_key(sid, state),
            f"message.{state.lower()}",
            form,
            account=form.get("AccountSid"),
            resource=f"message.{sid}",
        )
        return Accepted([item])


# --- SendGrid --------------------------------------------------------------------------------------
class SendGrid:
    name = "sendgrid"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        if verify_signatures:
            block = loaded.block(self.name)
            key = getattr(block, "verification_key", None)
            if not key:
                raise _not_set_up(self.name, "save a SendGrid Email Provider block with verification_key")
            verify.sendgrid(
                incoming.body,
                incoming.headers.get("x-twilio-email-event-webhook-signature"),
                incoming.headers.get("x-twilio-email-event-webhook-timestamp"),
                str(key),
                settings.timestamp_tolerance_s,
            )
        batch = _json(incoming.body, self.name)
        if not isinstance(batch, list) or not all(isinstance(e, dict) for e in batch):
            raise Rejected(_400, "body is not a JSON array of events", source=self.name)
        items = []
        for event in batch:
            kind = _text(event.get("event")) or "unknown"
            key = (
                _text(event.get("sg_event_id")) or "sha256:" + hashlib.sha256(orjson.dumps(event)).hexdigest()
            )
            message = _text(event.get("sg_message_id"))
            items.append(
                InboxItem(
                    self.name,
                    key,
                    f"email.{kind}",
                    event,
                    resource=f"message.{message}" if message else None,
                )
            )
        return Accepted(items)


# --- Third party -----------------------------------------------------------------------------------
class ThirdParty:
    name = "third-party"

    async def accept(
        self, incoming: Incoming, loaded: Loaded, settings: ReceiverSettings, *, verify_signatures: bool
    ) -> Accepted:
        service = incoming.path_params.get("service", "").lower()
        if not SERVICE_NAME.match(service):
            raise Rejected(status.HTTP_404_NOT_FOUND, "unknown service", source=self.name)
        webhooks = loaded.webhooks
        secret = None
        if webhooks is not None:
            secret = (webhooks.secrets.get_secret_value() or {}).get(service)
        if verify_signatures:
            if not secret:
                raise Rejected(
                    status.HTTP_404_NOT_FOUND,
                    f"unknown service {service!r}: no secret for it in the Third-Party Webhook Secrets block",
                    source=self.name,
                )
            if incoming.headers.get("webhook-signature"):
                verify.standard_webhooks(incoming.body, incoming.headers, str(secret), self.name)
            else:
                verify.legacy_hmac(
                    incoming.body, incoming.headers.get("x-webhook-signature"), str(secret), self.name
                )
        data = _json(incoming.body, self.name)
        msg_id = incoming.headers.get("webhook-id") or incoming.headers.get("x-webhook-id")
        key = (
            stable_key(service, msg_id.strip())
            if msg_id
            else stable_key(service, "sha256", hashlib.sha256(incoming.body).hexdigest())
        )
        kind = None
        if isinstance(data, dict):
            kind = _text(data.get("event")) or _text(data.get("type"))
        topic = f"{service}.{kind or 'event'}"
        resource = f"{service}.{msg_id.strip()}" if msg_id else None
        payload = data if isinstance(data, dict) else {"data": data}
        return Accepted([InboxItem(self.name, key, topic, payload, account=service, resource=resource)])


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (WooCommerce(), Stripe(), PayPal(), Square(), AuthorizeNet(), Twilio(), SendGrid(), ThirdParty())
}
"""Every webhook source by its path segment under /api/webhooks/."""


def path_of(url: str) -> str:
    return urlsplit(url).path
