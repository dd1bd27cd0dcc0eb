"""OAuth 2.0 client credentials (`POST /v1/oauth2/token`) and the bearer check on every API call.

The token endpoint takes HTTP Basic `client_id:secret` and the form `grant_type=client_credentials`, and
answers `{scope, access_token, token_type, app_id, expires_in, nonce}`. API calls send
`Authorization: Bearer <token>`; PayPal also accepts the app's Basic credentials directly. A missing or
non-Bearer/Basic header is 401 `AUTHENTICATION_FAILURE`; an unknown or expired token is the OAuth shape
401 `invalid_token` ("Access Token not found in cache"), which is what tells a client to fetch a new one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from urllib.parse import parse_qsl

from starlette.responses import Response

from .encoding import iso_z
from .errors import OAuthError, PayPalError
from .rest import Req, json_response
from .settings import SCOPE
from .state import PayPalState

__all__ = ["authenticate", "issue_token"]

_OVERVIEW = "https://developer.paypal.com/docs/api/overview/#error"


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (user, password) if sep else None


def _app_credentials(st: PayPalState, pair: tuple[str, str] | None) -> bool:
    if pair is None:
        return False
    user, password = pair
    return hmac.compare_digest(user.encode(), st.client_id.encode()) and hmac.compare_digest(
        password.encode(), st.client_secret.encode()
    )


def issue_token(st: PayPalState, req: Req) -> Response:
    """`POST /v1/oauth2/token`."""
    if not _app_credentials(st, _basic(req.headers.get("authorization", ""))):
        raise OAuthError(401, "invalid_client", "Client Authentication failed")
    form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError(400, "unsupported_grant_type", "Grant Type is NULL")
    if grant != "client_credentials":
        raise OAuthError(400, "unsupported_grant_type", f"{grant} is a unsupported grant_type")
    token, ttl = st.new_token()
    return json_response(
        {
            "scope": SCOPE,
            "access_token": token,
            "token_type": "Bearer",
            "app_id": st.app_id,
            "expires_in": ttl,
            "nonce": iso_z(st.now()) + secrets.token_urlsafe(32)[:43],
        }
    )


def authenticate(st: PayPalState, req: Req) -> None:
    """Raise unless the request carries a live access token (or the app's Basic credentials)."""
    header = req.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        if st.token_valid(value.strip()):
            return
        raise OAuthError(401, "invalid_token", "Access Token not found in cache")
    if scheme.lower() == "basic" and _app_credentials(st, _basic(header)):
        return
    raise PayPalError(
        401,
        "AUTHENTICATION_FAILURE",
        extra={"links": [{"href": _OVERVIEW, "rel": "information_link"}]},
    )
