"""`Idempotency-Key` as Stripe implements it for v1 POST requests.

- The response (status, body, headers) of the first request with a key is saved once the endpoint starts
  executing, errors included (a 402 decline, a refund above what remains); a request that fails validation
  before that is not saved, so a retry with the same key may succeed.
- The same key with the same parameters replays the saved response with `Idempotent-Replayed: true` and
  `Original-Request` naming the first request (the replay has a `Request-Id` of its own).
- The same key on another endpoint, or with other parameters, is a 400 `idempotency_error`.
- Keys are scoped to the account and pruned once 24 hours old on the account's clock; a key reused after
  that starts a new request. GET and DELETE ignore keys, as at Stripe.
"""

from __future__ import annotations

from typing import Any

import orjson

from .errors import StripeError, idempotency_mismatch
from .rest import Req
from .settings import IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_TTL
from .store import Saved, State

__all__ = ["check_key", "fingerprint", "replay", "save"]


def fingerprint(req: Req) -> bytes:
    return orjson.dumps(req.params, option=orjson.OPT_SORT_KEYS)


def _prune(st: State, now: int) -> None:
    # Saved in creation order (a key is re-saved only after it was dropped): expired ones are at the front.
    while st.saved:
        first = next(iter(st.saved))
        if st.saved[first].created + IDEMPOTENCY_TTL > now:
            return
        del st.saved[first]


def check_key(key: str) -> None:
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise StripeError(
            400,
            f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters long (it is {len(key)}).",
        )


def replay(st: State, account: str, req: Req) -> Saved | None:
    """The saved response for this request's key, or None to execute it. Raises on a mismatch."""
    key = req.idempotency_key
    if not key:
        return None
    saved = st.saved.get((account, key))
    if saved is None:
        return None
    if saved.created + IDEMPOTENCY_TTL <= st.now():
        del st.saved[(account, key)]
        return None
    if saved.method != req.method or saved.path != req.path:
        raise idempotency_mismatch(
            "Keys for idempotent requests can only be used for the same endpoint they were first used for "
            f"('{req.path}' vs '{saved.path}'). Try using a key other than '{key}' if you meant to execute a "
            "different request."
        )
    if saved.fingerprint != fingerprint(req):
        raise idempotency_mismatch(
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request."
        )
    return saved


def save(st: State, account: str, req: Req, status: int, body: bytes, headers: dict[str, Any]) -> None:
    key = req.idempotency_key
    if not key:
        return
    now = st.now()
    _prune(st, now)
    st.saved[(account, key)] = Saved(
        key=key,
        method=req.method,
        path=req.path,
        fingerprint=fingerprint(req),
        status=status,
        body=body,
        headers={k: str(v) for k, v in headers.items()},
        created=now,
        request_id=req.request_id,
    )
