"""Idempotency as Square does it for its write endpoints (CreatePayment, RefundPayment, ...).

The key is scoped to the endpoint. The same key with the same request data replays the first answer
(status and bytes, a decline included: the FAILED payment it created is the answer); the same key with
other data is 400 `IDEMPOTENCY_KEY_REUSED`. A request refused by validation never reached the endpoint,
so it is not remembered and its key stays free. Keys are kept for the life of the sandbox (Square keeps
them at least 24 hours).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from .encoding import dumps
from .errors import SquareError
from .state import IdempotencyRecord, SquareState

__all__ = ["run_idempotent"]


def _fingerprint(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def run_idempotent(
    st: SquareState,
    operation: str,
    key: str,
    body: dict[str, Any],
    execute: Callable[[], tuple[int, dict[str, Any], str]],
) -> tuple[int, bytes]:
    """Replay, refuse, or run `execute` (which returns status, response body and the created id) once."""
    fingerprint = _fingerprint(body)
    record = st.idempotency.get((operation, key))
    if record is not None:
        if record.fingerprint != fingerprint:
            st.conflicts += 1
            raise SquareError(
                400,
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key can only be retried with the same request data.",
                field="idempotency_key",
            )
        received = st.received_by_id.get(record.resource_id)
        if received is not None:
            received.replays += 1
        return record.status, record.body
    status, response, resource_id = execute()
    raw = dumps(response)
    st.idempotency[(operation, key)] = IdempotencyRecord(fingerprint, status, raw, resource_id)
    return status, raw
