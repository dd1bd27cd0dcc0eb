"""`POST /api/webhooks/...`: one handler per vendor. Each is verified by its `VerifiedBody` dependency,
stored in the inbox (group commit) and acknowledged only after the commit.

Answers: 200 `{"success": true, "message": "stored", "duplicate": false, "data": {"id": N}}`; a
redelivery gets `"duplicate": true` and starts nothing. SendGrid posts a batch: `data` counts it. The
signature routes use no bearer token.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response, status

from receiver.deps import (
    AuthorizeNetBody,
    PayPalBody,
    RuntimeDep,
    SendGridBody,
    SquareBody,
    StripeBody,
    ThirdPartyBody,
    TwilioBody,
    Verified,
    WooCommerceBody,
)
from receiver.errors import Rejected
from receiver.sources import SOURCES

__all__ = ["router"]

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def _json(body: dict[str, Any], code: int = status.HTTP_200_OK) -> Response:
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


async def _store(rt: RuntimeDep, verified: Verified) -> Response:
    if verified.accepted.ping:
        return _json({"success": True, "message": "ping received", "duplicate": False, "data": None})
    items = verified.accepted.items
    if not items:
        return _json(
            {
                "success": True,
                "message": "no events in the batch",
                "duplicate": False,
                "data": {"received": 0},
            }
        )
    stored = await rt.writer.store(items)
    if verified.source == "sendgrid" or len(stored) > 1:
        dups = sum(1 for s in stored if s.duplicate)
        return _json(
            {
                "success": True,
                "message": f"stored {len(stored) - dups} of {len(stored)} events",
                "duplicate": dups == len(stored),
                "data": {
                    "received": len(stored),
                    "stored": len(stored) - dups,
                    "duplicates": dups,
                    "ids": [s.id for s in stored],
                },
            }
        )
    one = stored[0]
    return _json(
        {
            "success": True,
            "message": "duplicate: already received" if one.duplicate else "stored",
            "duplicate": one.duplicate,
            "data": {"id": one.id},
        }
    )


@router.post("/woocommerce", summary="WooCommerce webhook (topic from X-WC-Webhook-Topic)")
async def woocommerce(rt: RuntimeDep, body: WooCommerceBody) -> Response:
    """A WooCommerce delivery: `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the body with the store's
    webhook secret. The unsigned `webhook_id=N` ping sent when a webhook is created gets 200."""
    return await _store(rt, body)


@router.post("/woocommerce/{event:path}", summary="WooCommerce webhook at the old per-event paths")
async def woocommerce_event(event: str, rt: RuntimeDep, body: WooCommerceBody) -> Response:
    """The old service's paths (`/api/webhooks/woocommerce/order/created`, ...); the topic header wins
    over the path when both are present."""
    return await _store(rt, body)


@router.post("/stripe", summary="Stripe webhook")
async def stripe(rt: RuntimeDep, body: StripeBody) -> Response:
    """`Stripe-Signature` checked by the SDK with the Stripe Gateway block's `webhook_secret` (300 s)."""
    return await _store(rt, body)


@router.post("/paypal", summary="PayPal webhook")
async def paypal(rt: RuntimeDep, body: PayPalBody) -> Response:
    """Verified by PayPal's verify-webhook-signature API with the PayPal Gateway block's `webhook_id`."""
    return await _store(rt, body)


@router.post("/square", summary="Square webhook")
async def square(rt: RuntimeDep, body: SquareBody) -> Response:
    """`x-square-hmacsha256-signature` over the notification URL + body (the Square block's
    `notification_url`, else the receiver's public URL)."""
    return await _store(rt, body)


@router.post("/authorizenet", summary="Authorize.Net webhook")
async def authorizenet(rt: RuntimeDep, body: AuthorizeNetBody) -> Response:
    """`X-ANET-Signature: sha512=<HEX>` keyed by the Authorize.Net block's `signature_key`."""
    return await _store(rt, body)


@router.post("/twilio", summary="Twilio message status callback")
async def twilio(rt: RuntimeDep, body: TwilioBody) -> Response:
    """`X-Twilio-Signature` over the public URL and the sorted form parameters (Twilio block's auth token)."""
    return await _store(rt, body)


@router.post("/sendgrid", summary="SendGrid Event Webhook (a batch)")
async def sendgrid(rt: RuntimeDep, body: SendGridBody) -> Response:
    """Signed Event Webhook (ECDSA with the SendGrid block's public key, timestamp within tolerance); one
    inbox row per event of the batch, deduped by `sg_event_id`."""
    return await _store(rt, body)


@router.post(
    "/third-party/{service}", summary="Third-party webhook (Standard Webhooks or X-Webhook-Signature)"
)
async def third_party(service: str, rt: RuntimeDep, body: ThirdPartyBody) -> Response:
    """Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the service's secret
    from the Third-Party Webhook Secrets block; senders set up for the old service send
    `X-Webhook-Signature` = hex HMAC-SHA256 of the body with the same secret."""
    return await _store(rt, body)


@router.api_route(
    "/{source}",
    methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "POST", "OPTIONS"],
    include_in_schema=False,
)
async def unknown(source: str, request: Request) -> Response:
    """Anything else under /api/webhooks: 405 for a known source (wrong method), else 404."""
    if source in SOURCES and source != "third-party":
        raise Rejected(status.HTTP_405_METHOD_NOT_ALLOWED, f"use POST for {source} webhooks", source=source)
    raise Rejected(status.HTTP_404_NOT_FOUND, f"unknown webhook source {source!r}", source=source[:50])
