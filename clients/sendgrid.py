"""Sending one Mail Send request (up to 1,000 personalizations) through the official SendGrid SDK, and what
its answer means for the outbox.

`send_mail` never raises for what SendGrid (or the network) answers; its `MailResult.outcome` is:

- `accepted`: 202 (or 200 in sandbox mode); `message_id` is the request's X-Message-Id, the prefix of
  every event's `sg_message_id`.
- `refused`: 400: SendGrid refused the whole request; `errors` holds its `{message, field}` list, whose
  `personalizations.N...` fields name the personalizations at fault. Nothing was sent.
- `too_large`: 413: nothing was sent; send fewer personalizations per request.
- `retry`: 429 or 5xx, or a request that never fully left (connection refused, DNS, a failure while
  sending): send again later. A 5xx is SendGrid saying the request failed, so it is retried rather than
  held for a person; the events (which carry our id) would show a duplicate if one ever happened.
- `in_doubt`: the request left but no answer came (timeout, connection closed): SendGrid may have
  accepted it; only its events can tell.
- `config`: 401/403/404/405, a TLS failure: the key, the sender identity or the base URL is wrong.

Mail Send has no idempotency key, which is why the SDK's client is built without retries (see
`clients/_sdk.py`) and every retry decision is made here, by the outbox.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.error
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient

__all__ = [
    "MAIL_ACCEPTED",
    "MAIL_CONFIG",
    "MAIL_IN_DOUBT",
    "MAIL_REFUSED",
    "MAIL_RETRY",
    "MAIL_TOO_LARGE",
    "MAX_PERSONALIZATIONS",
    "MailResult",
    "send_mail",
]

MAIL_ACCEPTED = "accepted"
MAIL_REFUSED = "refused"
MAIL_TOO_LARGE = "too_large"
MAIL_RETRY = "retry"
MAIL_IN_DOUBT = "in_doubt"
MAIL_CONFIG = "config"
MAX_PERSONALIZATIONS = 1000  # per request, and recipients (to + cc + bcc) in all
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class MailResult:
    """What one Mail Send request came to (see the module docstring for `outcome`)."""

    outcome: str
    status: int | None = None
    message_id: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    retry_after: float | None = None


def send_mail(client: SendGridAPIClient, body: dict[str, Any]) -> MailResult:
    """POST `body` to /v3/mail/send."""
    from python_http_client.exceptions import HTTPError

    try:
        response = client.client.mail.send.post(request_body=body)
    except HTTPError as exc:
        return _from_error(exc.status_code, exc.body, exc.headers)
    except urllib.error.URLError as exc:
        # urllib raises URLError for failures while connecting or sending the request (the answer is
        # read later): an incomplete request cannot have been processed.
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError | ssl.SSLError):
            return MailResult(MAIL_CONFIG, message=f"TLS failure reaching SendGrid: {reason}")
        return MailResult(MAIL_RETRY, message=f"could not send to SendGrid: {_describe(reason)}")
    except (TimeoutError, http.client.HTTPException, ConnectionError, OSError) as exc:
        return MailResult(MAIL_IN_DOUBT, message=f"no answer from SendGrid: {_describe(exc)}")
    message_id = response.headers.get("X-Message-Id") if response.headers is not None else None
    return MailResult(MAIL_ACCEPTED, status=response.status_code, message_id=message_id)


def _from_error(status: int, body: Any, headers: Any) -> MailResult:
    errors = _errors(body)
    text = "; ".join(
        f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
        for e in errors[:3]
    )[:MESSAGE_LIMIT]
    described = f"SendGrid {status}: {text}" if text else f"SendGrid {status}"
    if status == 400:
        return MailResult(MAIL_REFUSED, status=status, errors=errors, message=described)
    if status == 413:
        return MailResult(MAIL_TOO_LARGE, status=status, errors=errors, message=described)
    if status == 429:
        return MailResult(MAIL_RETRY, status=status, message=described, retry_after=_reset_in(headers))
    if status >= 500:
        return MailResult(MAIL_RETRY, status=status, message=described)
    return MailResult(MAIL_CONFIG, status=status, errors=errors, message=described)


def _errors(body: Any) -> list[dict[str, Any]]:
    try:
        data = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
    except (ValueError, UnicodeDecodeError):
        return []
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _reset_in(headers: Any) -> float | None:
    """Seconds until `X-RateLimit-Reset` (an epoch time), if SendGrid sent one."""
    try:
        reset = float(headers.get("X-RateLimit-Reset")) if headers is not None else None
    except (TypeError, ValueError):
        return None
    if reset is None:
        return None
    return max(0.0, min(reset - time.time(), 3600.0))


def _describe(exc: Any) -> str:
    text = str(exc).strip() if exc is not None else ""
    name = type(exc).__name__ if isinstance(exc, BaseException) else "error"
    return f"{name}: {text.splitlines()[0][:MESSAGE_LIMIT]}" if text else name
