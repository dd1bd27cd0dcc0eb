"""The dispatcher of `/2010-04-01/Accounts/{AccountSid}/Messages...`: authenticate, route, answer.

Routes: `Messages.json` (GET list, POST create) and `Messages/{Sid}.json` (GET fetch). Every request is
authenticated first (20003); an unknown path is 20404, a known path with another method 20004 (405).
With a concurrency limit set, requests past it answer 20429 (429), as Twilio does for too many concurrent
requests.
"""

from __future__ import annotations

import re
import secrets

from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import request_headers

from .auth import authenticate
from .encoding import json_response, parse_form
from .errors import TwilioError, not_found
from .messages import create_message, fetch_message, list_messages
from .rendering import message_json
from .store import Store

__all__ = ["handle", "too_many_requests"]

_LIST = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_ONE = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json$")
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/.]+)")


def too_many_requests() -> TwilioError:
    return TwilioError(20429, "Too Many Requests", 429)


async def handle(st: Store, scope: Scope, body: bytes) -> Response:
    path: str = scope["path"]
    method: str = scope["method"].upper()
    request_id = "RQ" + secrets.token_hex(16)
    if st.concurrency_limit and st.in_flight > st.concurrency_limit:
        raise too_many_requests()
    account = _ACCOUNT.match(path)
    credential = authenticate(st, request_headers(scope), account.group("account") if account else None)
    query = parse_form(scope.get("query_string", b""))
    headers = {"Twilio-Request-Id": request_id}
    if m := _LIST.match(path):
        if method in ("GET", "HEAD"):
            return json_response(list_messages(st, query, path), headers=headers)
        if method == "POST":
            msg = create_message(st, parse_form(body), credential)
            return json_response(message_json(st, msg), 201, headers)
        raise TwilioError(20004, "Method not allowed", 405)
    if m := _ONE.match(path):
        if method in ("GET", "HEAD"):
            return json_response(fetch_message(st, m.group("sid"), path), headers=headers)
        raise TwilioError(20004, "Method not allowed", 405)
    raise not_found(path)
