"""How requests to WooCommerce are authenticated (what `WC_REST_Authentication` accepts).

* https: HTTP Basic `consumer_key:consumer_secret`, or (`query_string_auth=True`) the pair in the
  query string, for servers that strip the Authorization header.
* http: WooCommerce ignores both and only accepts OAuth 1.0a "one-legged" signatures in the
  query string. We sign HMAC-SHA256 exactly as the server checks it
  (`check_oauth_signature` in `includes/class-wc-rest-authentication.php`):

  - the parameters are the decoded query (PHP's `$_GET`, so `a[b]=c` is an array) plus the
    `oauth_*` ones, minus `oauth_signature`, sorted by key with `strcmp`;
  - keys and values are `rawurlencode`d, then each `key=value` string is `rawurlencode`d again
    and they are joined with `%26`;
  - base string = `METHOD&rawurlencode(scheme://host[:port]/path)&` + that;
  - key = `consumer_secret + "&"`; signature = base64(HMAC-SHA256(key, base string)).

  httpx calls the auth flow for every attempt, so each retry gets a fresh nonce and timestamp
  (WooCommerce rejects a nonce it has seen within 15 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode

import httpx

__all__ = [
    "OAuth1QueryAuth",
    "QueryStringAuth",
    "build_auth",
    "oauth_signature",
    "php_params",
    "signature_base_string",
]

PhpParams = Mapping[str, "str | Mapping[str, str]"]


def rawurlencode(value: str) -> str:
    """PHP's `rawurlencode` (RFC 3986: only ALPHA / DIGIT / `-._~` stay as they are)."""
    return quote(value, safe="~")


def php_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str | dict[str, str]]:
    """Decoded query pairs as PHP's `$_GET` holds them (one level of `key[sub]` arrays)."""
    params: dict[str, str | dict[str, str]] = {}
    for key, value in pairs:
        if "[" in key and key.endswith("]") and not key.startswith("["):
            base, _, sub = key[:-1].partition("[")
            current = params.get(base)
            group = current if isinstance(current, dict) else {}
            if sub == "":
                sub = str(sum(1 for k in group if k.isdigit()))
            group[sub] = value
            params[base] = group
        else:
            params[key] = value  # PHP keeps the last of repeated keys
    return params


def _join_with_equals_sign(params: PhpParams, prefix: str = "") -> list[str]:
    parts: list[str] = []
    for key, value in params.items():
        if prefix:
            key = f"{prefix}%5B{key}%5D"
        if isinstance(value, Mapping):
            parts.extend(_join_with_equals_sign(value, key))
        else:
            parts.append(rawurlencode(f"{key}={value}"))
    return parts


def signature_base_string(method: str, url: str, params: PhpParams) -> str:
    """The OAuth 1.0a string WooCommerce signs, for `url` without its query.

    Args:
        method: HTTP method.
        url: `scheme://host[:port]/path` as the server sees it (its home URL plus the path).
        params: Decoded request parameters (see `php_params`), without `oauth_signature`.
    """
    ordered = sorted(
        ((k, v) for k, v in params.items() if k != "oauth_signature"),
        key=lambda kv: kv[0].encode("utf-8"),  # PHP strcmp compares bytes
    )
    normalized: dict[str, str | dict[str, str]] = {}
    for key, value in ordered:
        if isinstance(value, Mapping):
            normalized[rawurlencode(key)] = {k: rawurlencode(v) for k, v in value.items()}
        else:
            normalized[rawurlencode(key)] = rawurlencode(value)
    query = "%26".join(_join_with_equals_sign(normalized))
    return f"{method.upper()}&{rawurlencode(url)}&{query}"


def oauth_signature(base_string: str, consumer_secret: str, method: str = "HMAC-SHA256") -> str:
    """base64(HMAC(consumer_secret + "&", base_string)) with SHA-256 or SHA-1."""
    digest = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}[method]
    mac = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


class OAuth1QueryAuth(httpx.Auth):
    """OAuth 1.0a one-legged HMAC-SHA256 signature in the query string (for plain http).

    Args:
        consumer_key: The WooCommerce consumer key (`ck_...`).
        consumer_secret: The WooCommerce consumer secret (`cs_...`).
        clock: Wall clock in seconds (injectable for tests).
        nonce: Nonce factory (injectable for tests); 32 hex characters by default.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._key = consumer_key
        self._secret = consumer_secret
        self._clock = clock
        self._nonce = nonce

    def __repr__(self) -> str:
        return "OAuth1QueryAuth(consumer_key='***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raw_query = request.url.query
        decoded = parse_qsl(raw_query.decode("ascii"), keep_blank_values=True)
        oauth = [
            ("oauth_consumer_key", self._key),
            ("oauth_nonce", self._nonce()),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", str(int(self._clock()))),
        ]
        base_url = str(request.url.copy_with(query=None, fragment=None))
        base = signature_base_string(request.method, base_url, php_params(decoded + oauth))
        oauth.append(("oauth_signature", oauth_signature(base, self._secret)))
        extra = urlencode(oauth, quote_via=quote, safe="").encode("ascii")
        request.url = request.url.copy_with(query=raw_query + b"&" + extra if raw_query else extra)
        yield request


class QueryStringAuth(httpx.Auth):
    """`consumer_key` and `consumer_secret` as query parameters (https only)."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self._pairs = [("consumer_key", consumer_key), ("consumer_secret", consumer_secret)]

    def __repr__(self) -> str:
        return "QueryStringAuth(consumer_key='***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raw_query = request.url.query
        extra = urlencode(self._pairs, quote_via=quote, safe="").encode("ascii")
        request.url = request.url.copy_with(query=raw_query + b"&" + extra if raw_query else extra)
        yield request


class _BasicAuth(httpx.BasicAuth):
    def __repr__(self) -> str:
        return "BasicAuth(consumer_key='***')"


def build_auth(
    scheme: str, consumer_key: str, consumer_secret: str, *, query_string_auth: bool = False
) -> tuple[httpx.Auth, str]:
    """The auth WooCommerce accepts over `scheme`, and its short name for reprs and messages."""
    if scheme == "https":
        if query_string_auth:
            return QueryStringAuth(consumer_key, consumer_secret), "query-string"
        return _BasicAuth(consumer_key, consumer_secret), "basic"
    # Over plain http WooCommerce ignores Basic and query-string keys: OAuth 1.0a only.
    return OAuth1QueryAuth(consumer_key, consumer_secret), "oauth1"
