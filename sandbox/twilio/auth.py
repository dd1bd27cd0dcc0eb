"""HTTP Basic authentication as Twilio checks it: `AccountSid:AuthToken`, or an API key `SKxxx:secret`.

Returns the SID of the credential used; anything else is Twilio's 20003 (401). The account in the URL
must be the credential's account (Twilio answers the same 20003 otherwise).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from .errors import auth_error
from .store import Store

__all__ = ["authenticate"]


def authenticate(st: Store, headers: dict[str, str], path_account: str | None) -> str:
    raw = headers.get("authorization", "")
    scheme, _, value = raw.partition(" ")
    if scheme.lower() != "basic":
        raise auth_error()
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise auth_error() from None
    if user == st.account_sid:
        secret = st.auth_token
    elif user == st.api_key_sid:
        secret = st.api_key_secret
    else:
        raise auth_error()
    if not hmac.compare_digest(password.encode(), secret.encode()):
        raise auth_error()
    if path_account is not None and path_account != st.account_sid:
        raise auth_error()
    return user
