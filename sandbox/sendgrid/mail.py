"""`POST /v3/mail/send`: parse, validate, check the sender, record, and schedule the events.

Success is 202 with an empty body and an `X-Message-Id` (one per request; each recipient's events carry
`<X-Message-Id>.<suffix>` as `sg_message_id`). `mail_settings.sandbox_mode.enable` answers 200 and sends
nothing, as SendGrid's sandbox mode does. A `from` that is not a verified sender is 403.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from . import webhooks
from .errors import SendGridError
from .events import events_for
from .settings import BODY_MAX_BYTES
from .store import Email, Store
from .validation import merged_custom_args, validate_mail

__all__ = ["mail_send"]

_NOT_VERIFIED = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is "
    "resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the "
    "Sender Identity requirements"
)


def _addresses(items: Any) -> list[str]:
    return [str(i["email"]) for i in items or [] if isinstance(i, dict) and i.get("email")]


def mail_send(st: Store, body: bytes) -> Response:
    now = st.now()
    call: dict[str, Any] = {"received_at": now, "bytes": len(body), "status": 0, "x_message_id": None}
    st.calls.append(call)
    try:
        response = _mail_send(st, body, now, call)
    except SendGridError as exc:
        call["status"] = exc.status
        call["errors"] = exc.errors
        raise
    call["status"] = response.status_code
    return response


def _mail_send(st: Store, body: bytes, now: float, call: dict[str, Any]) -> Response:
    if len(body) > BODY_MAX_BYTES:
        raise SendGridError.one(413, "content too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SendGridError(400, [{"field": None, "message": "Bad Request", "help": None}]) from None
    if not isinstance(data, dict):
        raise SendGridError(400, [{"field": None, "message": "Bad Request", "help": None}])
    errors = validate_mail(st, data, now)
    if errors:
        raise SendGridError(400, errors)
    personalizations: list[dict[str, Any]] = data["personalizations"]
    senders = [data["from"]["email"]] + [p["from"]["email"] for p in personalizations if "from" in p]
    if any(s.lower() not in st.verified_senders for s in senders):
        raise SendGridError(403, [{"message": _NOT_VERIFIED, "field": "from", "help": None}])
    call["personalizations"] = len(personalizations)
    call["recipients"] = sum(len(_addresses(p.get(k))) for p in personalizations for k in ("to", "cc", "bcc"))
    sandbox = (((data.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable")) is True
    if sandbox:
        call["sandbox_mode"] = True
        return Response(b"", 200)

    x_message_id = st.new_id()
    call["x_message_id"] = x_message_id
    categories = [c for c in data.get("categories") or [] if isinstance(c, str)]
    content_types = [str(c.get("type")) for c in data.get("content") or [] if isinstance(c, dict)]
    asm: dict[str, Any] = data["asm"] if isinstance(data.get("asm"), dict) else {}
    for i, p in enumerate(personalizations):
        email = Email(
            x_message_id=x_message_id,
            index=i,
            from_email=str((p.get("from") or data["from"])["email"]),
            to=_addresses(p.get("to")),
            cc=_addresses(p.get("cc")),
            bcc=_addresses(p.get("bcc")),
            subject=p.get("subject") or data.get("subject"),
            custom_args=merged_custom_args(data, p),
            categories=categories,
            send_at=p.get("send_at", data.get("send_at")),
            template_id=data.get("template_id"),
            content_types=content_types,
            received_at=now,
            asm_group_id=asm.get("group_id") if isinstance(asm.get("group_id"), int) else None,
        )
        st.emails.append(email)
        webhooks.queue(st, events_for(st, email))
    return Response(b"", 202, headers={"X-Message-Id": x_message_id})
