"""API key authentication: `Authorization: Bearer <API key>`, answered as SendGrid answers it.

No header is 401 `authorization required`; any other scheme or an unknown key is 401 `The provided
authorization grant is invalid, expired, or revoked`.
"""

from __future__ import annotations

import hmac

from .errors import SendGridError
from .store import Store

__all__ = ["authenticate"]


def authenticate(st: Store, headers: dict[str, str]) -> None:
    raw = headers.get("authorization")
    if not raw:
        raise SendGridError.one(401, "authorization required")
    scheme, _, key = raw.strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), st.api_key.encode()):
        raise SendGridError.one(401, "The provided authorization grant is invalid, expired, or revoked")
