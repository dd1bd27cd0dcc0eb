"""The REST envelope: a parsed request, JSON responses carrying `Square-Version`, and the checks every
handler makes on query parameters and JSON bodies, answered with Square's error codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response

from .encoding import dumps, parse_time
from .errors import SquareError, expected_integer, missing, too_long
from .settings import DEFAULT_LIMIT, JSON_CT, MAX_LIMIT

__all__ = ["Req", "json_response", "money_field", "string_field"]


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path params
    _json: Any = None

    # --- JSON bodies ---
    def json(self) -> dict[str, Any]:
        """The body as a JSON object (Square answers 400 for anything else)."""
        if self._json is None:
            if not self.body.strip():
                raise SquareError(400, "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
            try:
                data = orjson.loads(self.body)
            except orjson.JSONDecodeError:
                raise SquareError(400, "BAD_REQUEST", "The request body is not valid JSON.") from None
            if not isinstance(data, dict):
                raise SquareError(400, "EXPECTED_JSON_BODY", "The request body must be a JSON object.")
            self._json = data
        return self._json  # type: ignore[no-any-return]

    # --- query parameters ---
    def q(self, name: str) -> str | None:
        value = self.query.get(name)
        return value if value not in (None, "") else None

    def q_time(self, name: str) -> float | None:
        raw = self.q(name)
        if raw is None:
            return None
        t = parse_time(raw)
        if t is None:
            raise SquareError(
                400, "INVALID_TIME", f"Invalid timestamp `{raw}`: expected an RFC 3339 timestamp.", field=name
            )
        return t

    def q_limit(self, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
        """`limit`: above the maximum is ignored and the default used (Square's documented rule)."""
        raw = self.q("limit")
        if raw is None:
            return default
        try:
            n = int(raw)
        except ValueError:
            raise expected_integer("limit") from None
        if n < 1:
            raise SquareError(400, "VALUE_TOO_LOW", "`limit` must be at least 1.", field="limit")
        return default if n > maximum else n

    def q_sort_order(self, default: str = "DESC") -> str:
        raw = self.q("sort_order")
        if raw is None:
            return default
        if raw not in ("ASC", "DESC"):
            raise SquareError(
                400, "INVALID_SORT_ORDER", "Sort order must be `ASC` or `DESC`.", field="sort_order"
            )
        return raw

    def q_enum(self, name: str, allowed: tuple[str, ...]) -> str | None:
        raw = self.q(name)
        if raw is not None and raw not in allowed:
            raise SquareError(
                400,
                "INVALID_ENUM_VALUE",
                f"`{raw}` is not a valid enum value for `{name}`.",
                field=name,
            )
        return raw

    def q_int(self, name: str) -> int | None:
        raw = self.q(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise expected_integer(name) from None

    def q_bool(self, name: str) -> bool | None:
        raw = self.q(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise SquareError(400, "EXPECTED_BOOLEAN", "Expected a boolean value.", field=name)
        return raw.lower() == "true"


def json_response(obj: Any, req: Req | None = None, status: int = 200) -> Response:
    headers = {"Square-Version": req.version} if req is not None and req.version else None
    return Response(dumps(obj), status, headers=headers, media_type=JSON_CT)


def string_field(
    body: dict[str, Any], name: str, *, required: bool = False, max_len: int | None = None, prefix: str = ""
) -> str | None:
    """A string field of a body: missing, empty, wrong type and too long answered as Square does."""
    path = prefix + name
    if name not in body or body[name] is None:
        if required:
            raise missing(path)
        return None
    value = body[name]
    if not isinstance(value, str):
        raise SquareError(400, "EXPECTED_STRING", "Expected a string value.", field=path)
    if required and not value.strip():
        raise SquareError(400, "VALUE_EMPTY", "Field must not be blank.", field=path)
    if max_len is not None and len(value) > max_len:
        raise too_long(path, max_len)
    return value


def money_field(body: dict[str, Any], name: str, currencies: frozenset[str]) -> tuple[int, str]:
    """A required Money: `amount` a positive integer (or proto3's integer string), `currency` a code."""
    if name not in body or body[name] is None:
        raise missing(name)
    m = body[name]
    if not isinstance(m, dict):
        raise SquareError(400, "EXPECTED_OBJECT", "Expected an object.", field=name)
    raw = m.get("amount")
    if raw is None:
        raise missing(f"{name}.amount")
    # Square parses proto3 JSON: an int64 may come as a number or a string of digits; never a fraction.
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.lstrip("-").isdigit())
    ):
        raise expected_integer(f"{name}.amount")
    amount = int(raw)
    if amount < 1:
        raise SquareError(400, "VALUE_TOO_LOW", "`amount` must be greater than 0.", field=f"{name}.amount")
    currency = m.get("currency")
    if currency is None:
        raise missing(f"{name}.currency")
    if not isinstance(currency, str) or currency not in currencies:
        raise SquareError(
            400,
            "INVALID_ENUM_VALUE",
            f"`{currency}` is not a valid enum value for `{name}.currency`.",
            field=f"{name}.currency",
        )
    return amount, currency
