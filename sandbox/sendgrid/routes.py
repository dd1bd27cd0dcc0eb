"""The dispatcher: authenticate, apply the per-endpoint rate limit, route, answer.

Every answer carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds
when the window frees) for its endpoint's rolling minute; past the limit the answer is 429
`too many requests`. Unknown paths are 404 `not found`, other methods 405 `method not allowed`.
"""

from __future__ import annotations

import math
from collections import deque

from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import request_headers

from .auth import authenticate
from .errors import SendGridError, json_response
from .mail import mail_send
from .settings import RATE_LIMITS
from .store import Store
from .webhook_settings import get_settings, get_signed, patch_settings, patch_signed

__all__ = ["handle", "rate_headers", "too_many_requests"]

_SETTINGS = "/v3/user/webhooks/event/settings"
_ROUTES = {"/v3/mail/send", _SETTINGS, _SETTINGS + "/signed"}


def too_many_requests(headers: dict[str, str] | None = None) -> SendGridError:
    return SendGridError(429, [{"field": None, "message": "too many requests"}], headers=headers)


def rate_headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Reset": str(math.ceil(reset)),
    }


def _take_slot(st: Store, endpoint: str) -> dict[str, str]:
    """Count this request in its endpoint's rolling minute; raise 429 when the minute is full."""
    limit = RATE_LIMITS.get(endpoint, RATE_LIMITS["default"])
    now = st.now()
    window = st.windows.setdefault(endpoint, deque())
    while window and window[0] <= now - 60.0:
        window.popleft()
    if len(window) >= limit:
        raise too_many_requests(rate_headers(limit, 0, window[0] + 60.0))
    window.append(now)
    return rate_headers(limit, limit - len(window), window[0] + 60.0)


async def handle(st: Store, scope: Scope, body: bytes) -> Response:
    path: str = scope["path"].rstrip("/")
    method: str = scope["method"].upper()
    headers = request_headers(scope)
    authenticate(st, headers)
    if path not in _ROUTES:
        raise SendGridError.one(404, "not found")
    limits = _take_slot(st, "mail_send" if path == "/v3/mail/send" else path)
    try:
        if path == "/v3/mail/send":
            if method != "POST":
                raise SendGridError.one(405, "method not allowed")
            resp = mail_send(st, body)
        elif path == _SETTINGS and method == "GET":
            resp = json_response(get_settings(st))
        elif path == _SETTINGS and method == "PATCH":
            resp = json_response(patch_settings(st, body))
        elif method == "GET":
            resp = json_response(get_signed(st))
        elif method == "PATCH":
            resp = json_response(patch_signed(st, body))
        else:
            raise SendGridError.one(405, "method not allowed")
    except SendGridError as exc:
        exc.headers = limits | exc.headers
        raise
    resp.headers.update(limits)
    return resp
