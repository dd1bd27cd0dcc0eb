"""Stripe's authentication: the secret key as a Bearer token, or as the Basic user with no password.

Also the per-request headers Stripe checks before anything else: `Stripe-Version` (a malformed one is a
400) and `Stripe-Account` (only this account). Messages are Stripe's; a wrong key is echoed masked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

from .errors import StripeError
from .store import State

__all__ = ["authenticate", "check_account", "check_version", "mask_key"]

_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, using "
    "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
)
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Stripe"'}


def mask_key(key: str) -> str:
    """`sk_test_****************abcd`, as Stripe echoes a key it does not know."""
    m = re.match(r"^((?:sk|rk|pk)_(?:test|live)_)", key)
    prefix = m.group(1) if m else ""
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def _presented(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate(st: State, authorization: str | None) -> str:
    """The account id the key belongs to; else Stripe's 401."""
    key = _presented(authorization)
    if key is None:
        raise StripeError(401, _NO_KEY, headers=_CHALLENGE)
    if hmac.compare_digest(key.encode(), st.api_key.encode()):
        return st.account_id
    if hmac.compare_digest(key.encode(), st.publishable_key.encode()):
        raise StripeError(
            401,
            "This API call cannot be made with a publishable API key. Please use a secret API key. You can "
            "find a list of your API keys at https://dashboard.stripe.com/account/apikeys.",
            headers=_CHALLENGE,
        )
    raise StripeError(401, f"Invalid API Key provided: {mask_key(key)}", headers=_CHALLENGE)


def check_version(version: str | None) -> None:
    if version is not None and not _VERSION.match(version.strip()):
        raise StripeError(400, f"Invalid Stripe API version: {version}")


def check_account(st: State, account: str | None) -> None:
    if account is not None and account != st.account_id:
        raise StripeError(
            403,
            f"The provided key '{mask_key(st.api_key)}' does not have access to account '{account}' (or that "
            "account does not exist). Application access may have been revoked.",
        )
