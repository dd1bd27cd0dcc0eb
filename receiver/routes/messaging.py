"""`POST /api/integrations/sms/send` and `/email/send`: the old service's direct sends, through the outbox.

A request is validated and written to the notifications outbox (`hub.notifications.submit_sms` /
`submit_email`: recorded, deduplicated) and answered at once; then a `notification-dispatch` run is asked
for, which sends it (through the served `notification-dispatch/every-minute` deployment when it is READY,
else in this process, one run at a time with a follow-up run for what arrived meanwhile). A new message is
answered 202 with `data.status` `queued` and its `notificationId`; the same request again (the same
`Idempotency-Key` header, or the same text to the same recipient within 10 minutes) answers the message as
it is now: 200 with the provider's `sid`/`messageId` and `sentAt` once sent. Bad input answers the seed's
error JSON, `{"success": false, "message", "error": {"code", "field", "notificationId"}}`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Header, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError

from blocks import NotificationSettings
from flows.notification_dispatch import DISPATCH_DEPLOYMENT, dispatch_notifications, load_settings
from hub import outbox
from hub.notifications import NotificationRejected, submit_email, submit_sms
from receiver.deps import ApiToken, Runtime, RuntimeDep
from receiver.errors import HubUnavailable, Rejected

__all__ = ["EmailRequest", "SmsRequest", "dispatches", "router"]

logger = logging.getLogger("nxt.receiver")

router = APIRouter(prefix="/api/integrations", tags=["messaging"], dependencies=[ApiToken])

SETTINGS_TTL_S = 30.0  # the Notification Settings block (default region) is re-read this often
SENT = ("sent", "delivered", "undelivered")


class SmsRequest(BaseModel):
    """`POST /api/integrations/sms/send`, as the old service took it."""

    model_config = ConfigDict(extra="forbid")
    to: str | None = Field(
        default=None, description="Phone number (E.164, or national in the default region)."
    )
    message: str | None = Field(default=None, description="The text (1-1,600 characters).")
    urgent: bool = Field(default=False, description="Send before everything else waiting.")


class EmailRequest(BaseModel):
    """`POST /api/integrations/email/send`, as the old service took it."""

    model_config = ConfigDict(extra="forbid")
    to: str | None = Field(default=None, description="Email address.")
    subject: str | None = Field(default=None, description="Subject line.")
    content: str | None = Field(default=None, description="HTML (or plain text).")
    priority: str = Field(default="normal", description="`low`, `normal` or `high`.")


@router.post(
    "/sms/send",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a text (through the outbox)",
    responses={200: {"description": "the same request again: the message as it is now"}},
)
async def sms_send(
    request: SmsRequest, rt: RuntimeDep, idempotency_key: str | None = Header(default=None, max_length=150)
) -> Response:
    """Queue one text and start sending it; answers `data: {sid, status, to, sentAt, notificationId}`."""
    settings = await _settings(rt)
    row_id, new = await _submit(
        "sms",
        submit_sms,
        rt,
        request.to,
        request.message,
        urgent=request.urgent,
        idempotency_key=idempotency_key,
        default_region=settings.default_region,
    )
    row = await _load(rt, row_id)
    if row.status == "queued":
        _request_dispatch(rt)
    sent = row.status in SENT
    data = {
        "sid": row.provider_id,
        "status": (row.provider_status or row.status) if sent else row.status,
        "to": row.recipient,
        "sentAt": _iso(row.sent_at) if sent else None,
        "notificationId": row.id,
    }
    message = "SMS sent successfully" if sent else "SMS accepted; it goes out as soon as Twilio takes it"
    return _answer(message, data, new)


@router.post(
    "/email/send",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send an email (through the outbox)",
    responses={200: {"description": "the same request again: the message as it is now"}},
)
async def email_send(
    request: EmailRequest, rt: RuntimeDep, idempotency_key: str | None = Header(default=None, max_length=150)
) -> Response:
    """Queue one email and start sending it; answers `data: {messageId, to, subject, sentAt, status,
    notificationId}`."""
    row_id, new = await _submit(
        "email",
        submit_email,
        rt,
        request.to,
        request.subject,
        request.content,
        priority=request.priority,
        idempotency_key=idempotency_key,
    )
    row = await _load(rt, row_id)
    if row.status == "queued":
        _request_dispatch(rt)
    sent = row.status in SENT
    data = {
        "messageId": row.provider_id,
        "to": row.recipient,
        "subject": (row.rendered or {}).get("subject") or row.payload.get("subject"),
        "sentAt": _iso(row.sent_at) if sent else None,
        "status": row.status,
        "notificationId": row.id,
    }
    message = (
        "Email sent successfully" if sent else "Email accepted; it goes out as soon as SendGrid takes it"
    )
    return _answer(message, data, new)


# --------------------------------------------------------------------------------------------------


async def _submit(channel: str, submit: Any, rt: Runtime, *args: Any, **kwargs: Any) -> tuple[int, bool]:
    """Validate and enqueue; bad input and opted-out recipients become the seed's error JSON."""
    key = kwargs.pop("idempotency_key", None)
    try:
        result: tuple[int, bool] = await asyncio.to_thread(
            submit, rt.engine, *(a if a is not None else "" for a in args), idempotency_key=key, **kwargs
        )
    except NotificationRejected as exc:
        raise Rejected(
            exc.status,
            exc.message,
            source=channel,
            error={"code": exc.code, "field": exc.field, "notificationId": exc.row_id},
        ) from None
    except OperationalError as exc:
        raise HubUnavailable(f"the hub is unavailable: {type(exc.orig).__name__}", source=channel) from None
    return result


async def _load(rt: Runtime, row_id: int) -> outbox.OutboxRow:
    try:
        return (await asyncio.to_thread(outbox.load, rt.engine, [row_id]))[0]
    except OperationalError as exc:
        raise HubUnavailable(f"the hub is unavailable: {type(exc.orig).__name__}") from None


def _answer(message: str, data: dict[str, Any], new: bool) -> Response:
    code = status.HTTP_202_ACCEPTED if new else status.HTTP_200_OK
    body = {"success": True, "message": message, "data": data}
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


async def _settings(rt: Runtime) -> NotificationSettings:
    cached: tuple[float, NotificationSettings] | None = rt.extra.get("notification_settings")
    if cached and time.monotonic() - cached[0] < SETTINGS_TTL_S:
        return cached[1]
    settings = await load_settings(rt.settings.blocks)
    rt.extra["notification_settings"] = (time.monotonic(), settings)
    return settings


class _Dispatches:
    """One dispatch run at a time per receiver; a request arriving while one runs asks for one more."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.again = False


def dispatches(rt: Runtime) -> _Dispatches:
    """This receiver's API dispatch state."""
    return rt.extra.setdefault("api_dispatches", _Dispatches())  # type: ignore[no-any-return]


def _request_dispatch(rt: Runtime) -> None:
    """Ask for a `notification-dispatch` run now (the deployment when served, else here)."""
    state = dispatches(rt)
    if state.task is not None and not state.task.done():
        state.again = True
        return
    state.task = asyncio.create_task(_dispatch_loop(rt, state), name="nxt-receiver-api-dispatch")


async def _dispatch_loop(rt: Runtime, state: _Dispatches) -> None:
    while True:
        state.again = False
        names = rt.settings.blocks
        key = f"api-dispatch-{_hub_id(rt)}-{time.time_ns()}"
        try:
            await rt.starter.start(
                dispatch_notifications,
                deployment=DISPATCH_DEPLOYMENT,
                parameters={"sms": names, "email": names, "settings": names, "hub": rt.settings.hub},
                key=key,
                tags=["api", "notifications"],
                wait=True,
            )
        except Exception as exc:  # the message stays queued: the every-minute dispatch sends it
            logger.warning("notification dispatch for the API's messages did not finish: %s", exc)
        if not state.again:
            return


def _hub_id(rt: Runtime) -> str:
    # Scoped to this hub: one Prefect server may serve several hubs (staging, production).
    return hashlib.sha256(rt.engine.url.render_as_string(hide_password=True).encode()).hexdigest()[:8]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
