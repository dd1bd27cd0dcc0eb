"""Who is calling: WooCommerce's REST authentication and the key's permissions.

`authenticate()` is `WC_REST_Authentication::authenticate`: over HTTPS, query `consumer_key`/`consumer_secret`
or HTTP Basic; otherwise OAuth 1.0a one-legged (HMAC-SHA1/SHA256, key `secret&`, +-15 min timestamps,
nonces remembered per key). `check_permission()` gives the route's `woocommerce_rest_cannot_*` without a
key, and refuses writes to a read-only key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any
from urllib.parse import unquote

from .encoding import parse_php_query, rawurlencode
from .errors import WooError
from .rest import Req
from .settings import OAUTH_WINDOW
from .store import ApiKey, Store

__all__ = ["authenticate", "check_permission"]


def authenticate(st: Store, req: Req, real_method: str) -> tuple[ApiKey | None, WooError | None]:
    """`WC_REST_Authentication::authenticate`: Basic/query keys over HTTPS, else OAuth 1.0a."""
    error: WooError | None = None
    if req.https:
        ck = req.query.get("consumer_key")
        cs = req.query.get("consumer_secret")
        if not (isinstance(ck, str) and ck and isinstance(cs, str) and cs):
            ck = cs = None
            auth = req.headers.get("authorization", "")
            if auth[:6].lower() == "basic ":
                try:
                    user, _, pw = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                except (ValueError, UnicodeDecodeError):
                    user = pw = ""
                if user and pw:
                    ck, cs = user, pw
        if ck and cs:
            key = st.keys.get(ck)
            if key is not None:
                if hmac.compare_digest(key.consumer_secret, cs):
                    return key, None
                error = WooError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
    params = _oauth_params(req)
    if isinstance(params, WooError):
        return None, params
    if not params:
        return None, error
    key = st.keys.get(str(params["oauth_consumer_key"]))
    if key is None:
        return None, WooError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
    sig_error = _check_signature(st, req, real_method, key, params)
    if sig_error is not None:
        return None, sig_error
    ts_raw = str(params["oauth_timestamp"])
    nonce = str(params["oauth_nonce"])
    now = int(time.time())
    if not re.fullmatch(r"\d+", ts_raw) or not now - OAUTH_WINDOW <= int(ts_raw) <= now + OAUTH_WINDOW:
        return None, WooError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
    if nonce in key.nonces.values():
        return None, WooError(
            "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", 401
        )
    key.nonces[int(ts_raw)] = nonce  # keyed by timestamp, as WooCommerce stores them
    for t in [t for t in key.nonces if t < now - OAUTH_WINDOW]:
        del key.nonces[t]
    return key, None


def _oauth_params(req: Req) -> dict[str, Any] | WooError:
    params: dict[str, Any] = dict(req.query)
    if "application/x-www-form-urlencoded" in req.headers.get("content-type", ""):
        params.update(parse_php_query(req.body.decode("utf-8", "replace")))
    header = req.headers.get("authorization", "").strip()
    if header.startswith("OAuth "):
        for name, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(?::?"([^"]*)"|([^,]*))', header):
            params[name] = unquote(quoted or bare)
    names = (
        "oauth_consumer_key",
        "oauth_timestamp",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
    )
    missing = [n for n in names if not params.get(n) or params.get(n) == "0"]
    if len(missing) == len(names):
        return {}
    if missing:
        word = "parameter" if len(missing) == 1 else "parameters"
        return WooError(
            "woocommerce_rest_authentication_missing_parameter",
            f"Missing OAuth {word} {', '.join(missing)}",
            401,
        )
    return params


def _check_signature(
    st: Store, req: Req, method: str, key: ApiKey, params: dict[str, Any]
) -> WooError | None:
    params = dict(params)
    consumer_sig = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
    base_uri = rawurlencode(st.base_url + req.raw_path)
    parts: list[str] = []

    for k in sorted(params, key=lambda s: s.encode()):
        v = params[k]
        ek = rawurlencode(k)
        if isinstance(v, dict):  # PHP arrays: key%5Bsub%5D=value, values encoded, sub-keys raw
            for sk, sv in v.items():
                parts.append(rawurlencode(f"{ek}%5B{sk}%5D={rawurlencode(str(sv))}"))
        else:
            parts.append(rawurlencode(f"{ek}={rawurlencode(str(v))}"))
    string_to_sign = f"{method}&{base_uri}&{'%26'.join(parts)}"
    sm = params.get("oauth_signature_method")
    if sm not in ("HMAC-SHA1", "HMAC-SHA256"):
        return WooError(
            "woocommerce_rest_authentication_error",
            "Invalid signature - signature method is invalid.",
            401,
        )
    algo = hashlib.sha1 if sm == "HMAC-SHA1" else hashlib.sha256
    expected = base64.b64encode(
        hmac.new((key.consumer_secret + "&").encode(), string_to_sign.encode(), algo).digest()
    ).decode()
    if not hmac.compare_digest(expected, consumer_sig):
        return WooError(
            "woocommerce_rest_authentication_error",
            "Invalid signature - provided signature does not match.",
            401,
        )
    return None


def check_permission(key: ApiKey | None, perm: str, method: str) -> None:
    if key is None:
        messages = {
            "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
            "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
            "create": (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            ),
            "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
            "delete": (
                "woocommerce_rest_cannot_delete",
                "Sorry, you are not allowed to delete this resource.",
            ),
            "batch": (
                "woocommerce_rest_cannot_batch",
                "Sorry, you are not allowed to batch manipulate this resource.",
            ),
        }
        code, msg = messages[perm]
        raise WooError(code, msg, 401)
    if method in ("GET", "HEAD") and key.permissions not in ("read", "read_write"):
        raise WooError(
            "woocommerce_rest_authentication_error",
            "The API key provided does not have read permissions.",
            401,
        )
    if method in ("POST", "PUT", "PATCH", "DELETE") and key.permissions not in ("write", "read_write"):
        raise WooError(
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
            401,
        )
