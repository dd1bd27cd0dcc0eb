"""Status callbacks: Twilio's form POST to a message's `StatusCallback`, signed `X-Twilio-Signature`.

The signature is base64(HMAC-SHA1(auth token, URL + each parameter's name and value, sorted by name)),
written here from Twilio's description so that a test verifying it with the SDK's `RequestValidator`
checks both against the spec. Callbacks of one message are posted one after another (in status order);
different messages' callbacks go out concurrently. Twilio does not retry a failed status callback, and
neither does the stand-in. Every attempt is recorded in the delivery log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from .settings import API_VERSION
from .store import Message, Store

__all__ = ["callback_params", "emit", "sign"]

_MAX_PARALLEL = 32


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def callback_params(st: Store, m: Message, status: str) -> dict[str, str]:
    params = {"SmsSid": m.sid, "SmsStatus": status, "MessageStatus": status, "To": m.to}
    if m.messaging_service_sid:
        params["MessagingServiceSid"] = m.messaging_service_sid
    params["MessageSid"] = m.sid
    params["AccountSid"] = m.account_sid
    if m.from_:
        params["From"] = m.from_
    params["ApiVersion"] = API_VERSION
    if status in ("failed", "undelivered") and m.error_code is not None:
        params["ErrorCode"] = str(m.error_code)
    return params


def emit(st: Store, m: Message, status: str) -> None:
    """Queue the callback for `m` having reached `status` (after its earlier callbacks)."""
    if not m.status_callback:
        return
    params = callback_params(st, m, status)
    previous = st.callback_chains.get(m.sid)
    task = st.courier.schedule(_post(st, previous, m, status, params))
    if task is None:  # not on the server's loop: queued there, unchained
        return
    st.callback_chains[m.sid] = task

    def done(t: asyncio.Task[Any]) -> None:
        if st.callback_chains.get(m.sid) is t:
            del st.callback_chains[m.sid]

    task.add_done_callback(done)


async def _post(
    st: Store, previous: asyncio.Task[Any] | None, m: Message, status: str, params: dict[str, str]
) -> None:
    if previous is not None:
        await asyncio.wait([previous])  # its outcome is recorded by itself; only the order matters here
    if st.callback_limit is None:
        st.callback_limit = asyncio.Semaphore(_MAX_PARALLEL)
    url = m.status_callback or ""
    body = urlencode(params)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        "X-Home-Region": "us1",
        "X-Twilio-Signature": sign(url, params, st.auth_token),
    }
    record: dict[str, Any] = {
        "kind": "status_callback",
        "sid": m.sid,
        "status": status,
        "url": url,
        "request_headers": dict(headers),
        "body": body,
        "time": time.time(),
    }
    m.callbacks += 1
    async with st.callback_limit:
        await st.courier.post(url, body.encode(), headers, record, timeout=st.callback_timeout_s)
    st.courier.log.add(record)
