"""Messages as Twilio renders them (the Message resource of API 2010-04-01), and their admin records."""

from __future__ import annotations

from typing import Any

from .encoding import rfc2822
from .settings import API_VERSION
from .store import Message, Store

__all__ = ["admin_record", "message_json"]


def message_json(st: Store, m: Message) -> dict[str, Any]:
    uri = st.path(f"/Messages/{m.sid}")
    # Twilio counts segments once the message is processed: a service's `accepted` answer says "0".
    num_segments = "0" if m.status == "accepted" else str(m.segments)
    return {
        "body": m.body,
        "num_segments": num_segments,
        "direction": "outbound-api",
        "from": m.from_,
        "to": m.to,
        "date_updated": rfc2822(m.updated),
        "price": m.price,
        "error_message": m.error_message,
        "uri": uri + ".json",
        "account_sid": m.account_sid,
        "num_media": str(len(m.media_urls)),
        "status": m.status,
        "messaging_service_sid": m.messaging_service_sid,
        "sid": m.sid,
        "date_sent": rfc2822(m.sent),
        "date_created": rfc2822(m.created),
        "error_code": m.error_code,
        "price_unit": "USD" if m.price is not None else None,
        "api_version": API_VERSION,
        "subresource_uris": {
            "media": f"{uri}/Media.json",
            "feedback": f"{uri}/Feedback.json",
        },
    }


def admin_record(st: Store, m: Message) -> dict[str, Any]:
    """What the sandbox received and did, for tests and benchmarks (times as epoch seconds)."""
    return {
        "sid": m.sid,
        "to": m.to,
        "from": m.from_,
        "body": m.body,
        "media_urls": m.media_urls,
        "messaging_service_sid": m.messaging_service_sid,
        "sender": m.sender,
        "status": m.status,
        "error_code": m.error_code,
        "num_segments": m.segments,
        "status_callback": m.status_callback,
        "validity_period": m.validity_period,
        "received_at": m.created,
        "date_sent": m.sent,
        "status_history": [{"status": s, "at": at} for s, at in m.history],
        "scheduled": [{"status": s, "at": at} for at, s in m.scheduled],
        "callbacks": m.callbacks,
        "credential": m.credential,
        "params": [[k, v] for k, v in m.params],
    }
