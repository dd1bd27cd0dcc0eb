"""Square's request checks before any endpoint runs: the Bearer access token and the `Square-Version`.

A missing or malformed `Authorization` header and an unknown token are 401 `AUTHENTICATION_ERROR`
`UNAUTHORIZED`, with the details Square gives; the token is compared in constant time. `Square-Version`
must be a date (`YYYY-MM-DD`); without it the application's default version applies. Either way the
version is echoed on the response, as Square does.
"""

from __future__ import annotations

import hmac
import re

from .errors import SquareError
from .rest import Req
from .state import SquareState

__all__ = ["authenticate", "resolve_version"]

_AUTH = "AUTHENTICATION_ERROR"
_MISSING = (
    "Your request did not include an `Authorization` http header with an access token. The header value "
    'is expected to be of the format "Bearer TOKEN" (without quotation marks), where TOKEN is to be '
    'replaced with your access token (e.g. "Bearer ABC123def456GHI789jkl0"). For more information, see '
    "https://developer.squareup.com/docs/build-basics/access-tokens. If you are seeing this error message "
    "while using one of our officially supported SDKs, please report this to developers@squareup.com."
)
_MALFORMED = (
    "The `Authorization` http header of your request was malformed. The header value is expected to be of "
    'the format "Bearer TOKEN" (without quotation marks), where TOKEN is to be replaced with your access '
    'token (e.g. "Bearer ABC123def456GHI789jkl0"). For more information, see '
    "https://developer.squareup.com/docs/build-basics/access-tokens."
)
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def authenticate(st: SquareState, req: Req) -> None:
    """Raise Square's 401 unless the request carries the account's access token."""
    header = req.headers.get("authorization")
    if header is None or not header.strip():
        raise SquareError(401, "UNAUTHORIZED", _MISSING, category=_AUTH)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SquareError(401, "UNAUTHORIZED", _MALFORMED, category=_AUTH)
    if not hmac.compare_digest(token.strip().encode(), st.access_token.encode()):
        raise SquareError(401, "UNAUTHORIZED", "This request could not be authorized.", category=_AUTH)


def resolve_version(st: SquareState, req: Req) -> None:
    """Set `req.version` from `Square-Version` (or the default); a value that is not a date is a 400."""
    raw = req.headers.get("square-version")
    if raw is None or not raw.strip():
        req.version = st.default_version
        return
    raw = raw.strip()
    if not _VERSION.match(raw):
        req.version = st.default_version
        raise SquareError(
            400,
            "INVALID_SQUARE_VERSION_FORMAT",
            f"Invalid Square-Version format `{raw}`; expected YYYY-MM-DD.",
        )
    req.version = raw
