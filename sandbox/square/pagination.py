"""Square's cursors: opaque, signed, bound to the query that made them, and keyset-based.

A cursor carries the sort key of the last item served and the time window the first page resolved
(defaults such as "now - 1 year" are frozen there, so a pager that re-sends the same parameters does not
see the window slide between pages). It is signed with the account's secret: a cursor that was edited or
made up is 400 `INVALID_CURSOR`, and so is one from another query (another endpoint, other filters) on
the endpoints that are strict about it (see docs/sandbox.md); ListPayouts and ListPayoutEntries document
that changed parameters only risk duplicates or gaps, so there the key is applied to the new query.
Keyset paging means items created while a client pages never shift the pages it has not read yet.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from .errors import SquareError
from .rest import Req
from .state import SquareState

__all__ = ["Cursor", "decode_cursor", "encode_cursor", "keyset_page", "query_fingerprint", "time_window"]

T = TypeVar("T")
_MAC = 12


@dataclass(frozen=True, slots=True)
class Cursor:
    key: tuple[Any, ...]
    window: tuple[Any, ...]


def query_fingerprint(req: Req, scope: str, ignore: tuple[str, ...] = ("cursor", "limit")) -> str:
    """What makes two requests "the same query": the endpoint and its explicit parameters."""
    items = sorted((k, v) for k, v in req.query.items() if k not in ignore and v != "")
    return hashlib.sha256(orjson.dumps([scope, items])).hexdigest()[:16]


def encode_cursor(st: SquareState, fingerprint: str, key: Sequence[Any], window: Sequence[Any]) -> str:
    payload = orjson.dumps({"q": fingerprint, "k": list(key), "w": list(window)})
    mac = hmac.new(st.cursor_key, payload, hashlib.sha256).digest()[:_MAC]
    return base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")


def _invalid(detail: str) -> SquareError:
    return SquareError(400, "INVALID_CURSOR", detail, field="cursor")


def decode_cursor(st: SquareState, req: Req, fingerprint: str, *, strict: bool = True) -> Cursor | None:
    """The request's cursor, or None on a first page; 400 INVALID_CURSOR for a bad or foreign one."""
    raw = req.q("cursor")
    if raw is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        payload, mac = blob[:-_MAC], blob[-_MAC:]
        ok = len(blob) > _MAC and hmac.compare_digest(
            mac, hmac.new(st.cursor_key, payload, hashlib.sha256).digest()[:_MAC]
        )
        data = orjson.loads(payload) if ok else None
    except (ValueError, orjson.JSONDecodeError):
        data = None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("k"), list)
        or not isinstance(data.get("w"), list)
    ):
        raise _invalid("The cursor is not valid.")
    if strict and data.get("q") != fingerprint:
        raise _invalid("The cursor is not valid for this query: it was returned for other parameters.")
    return Cursor(tuple(data["k"]), tuple(data["w"]))


def keyset_page(
    items: Sequence[T],
    key: Callable[[T], tuple[Any, ...]],
    *,
    desc: bool,
    after: tuple[Any, ...] | None,
    limit: int,
) -> tuple[list[T], bool]:
    """The `limit` items after `after` in `items` (sorted ascending by `key`), walking down when `desc`.

    Returns the page and whether more items follow it.
    """
    keys = [key(i) for i in items]
    if desc:
        end = len(items) if after is None else bisect.bisect_left(keys, after)
        start = max(0, end - limit)
        chunk = list(items[start:end])
        chunk.reverse()
        return chunk, start > 0
    start = 0 if after is None else bisect.bisect_right(keys, after)
    chunk = list(items[start : start + limit])
    return chunk, start + limit < len(items)


def time_window(
    st: SquareState,
    req: Req,
    cursor: Cursor | None,
    *,
    begin: str = "begin_time",
    end: str = "end_time",
    default_span: int | None = None,
) -> tuple[float | None, float | None]:
    """`[begin, end)` from the query; the defaults (`now - default_span`, `now`) come from the cursor on
    later pages. `begin` after `end` is 400 `INVALID_TIME_RANGE`."""
    lo, hi = req.q_time(begin), req.q_time(end)
    if cursor is not None and len(cursor.window) == 2:
        lo = cursor.window[0] if lo is None else lo
        hi = cursor.window[1] if hi is None else hi
    now = st.now()
    if default_span is not None:
        # "now" at second resolution: what was created this second is in (records carry whole seconds)
        lo = int(now) - default_span if lo is None else lo
        hi = int(now) + 1 if hi is None else hi
    if lo is not None and hi is not None and lo > hi:
        raise SquareError(
            400, "INVALID_TIME_RANGE", f"The `{begin}` must be before the `{end}`.", field=begin
        )
    return lo, hi
