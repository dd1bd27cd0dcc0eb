"""The request as a handler sees it, Stripe's parameter checks, and list pages.

`Req` holds the parsed form/query parameters, the request id and the idempotency key; `req.begin()` marks
where a handler starts executing (errors after it are saved under the idempotency key, errors before it are
validation and are not). The `get_*` helpers raise the errors Stripe raises for each kind of bad value, and
`page()` answers a list as Stripe does: newest first, `limit` 1-100, `starting_after`/`ending_before`,
`created` bounds, `has_more`, `url`, and `expand[]` with the `data.` prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .encoding import format_amount
from .errors import (
    amount_error,
    invalid_integer,
    invalid_request,
    missing_param,
    resource_missing,
    unknown_param,
)
from .rendering import expand
from .settings import (
    DEFAULT_LIMIT,
    LIST_LIMIT_MAX,
    MAX_AMOUNT,
    METADATA_KEY_MAX,
    METADATA_KEYS_MAX,
    METADATA_VALUE_MAX,
    MINIMUM_AMOUNTS,
    PARAMS,
    SUPPORTED_CURRENCIES,
)
from .store import State

__all__ = [
    "Created",
    "Req",
    "check_params",
    "get_amount",
    "get_bool",
    "get_currency",
    "get_enum",
    "get_int",
    "get_metadata",
    "get_str",
    "page",
    "parse_created",
    "render_one",
]

_INT = re.compile(r"^-?\d+$")


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    request_id: str
    idempotency_key: str | None = None
    api_version: str | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    executing: bool = False

    def begin(self) -> None:
        """From here on the endpoint is executing: an error is a result, saved under the idempotency key."""
        self.executing = True

    @property
    def expand(self) -> list[str]:
        raw = self.params.get("expand")
        if raw is None or raw == "":
            return []
        if isinstance(raw, str):
            return [raw]
        if isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return list(raw)
        raise invalid_request("Invalid array", param="expand")


class _Dated(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created(self) -> int: ...


def check_params(req: Req, route: str) -> None:
    """Stripe refuses a parameter the endpoint does not take (`parameter_unknown`)."""
    allowed = PARAMS[route]
    for name in req.params:
        if name not in allowed:
            raise unknown_param(name)


def get_str(req: Req, name: str, *, required: bool = False, empty_ok: bool = True) -> str | None:
    value = req.params.get(name)
    if value is None:
        if required:
            raise missing_param(name)
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {_show(value)}", param=name, code="parameter_invalid_string")
    if value == "" and not empty_ok:
        raise invalid_request(
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset a "
            "parameter; however '" + name + "' cannot be unset. You should remove '" + name + "' from your "
            "request or supply a non-empty value.",
            param=name,
            code="parameter_invalid_empty",
        )
    return value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def get_int(req: Req, name: str, *, required: bool = False, value: Any = None) -> int | None:
    raw = req.params.get(name) if value is None else value
    if raw is None:
        if required:
            raise missing_param(name)
        return None
    if not isinstance(raw, str) or not _INT.match(raw.strip()):
        raise invalid_integer(name, _show(raw))
    return int(raw)


def get_bool(req: Req, name: str) -> bool | None:
    raw = req.params.get(name)
    if raw is None:
        return None
    if raw in ("true", "false"):
        return bool(raw == "true")
    raise invalid_request(f"Invalid boolean: {_show(raw)}", param=name, code="parameter_invalid_boolean")


def get_enum(req: Req, name: str, values: Sequence[str], *, required: bool = False) -> str | None:
    raw = get_str(req, name, required=required)
    if raw is None or raw == "":
        return None
    if raw not in values:
        choices = ", ".join(values[:-1]) + f", or {values[-1]}" if len(values) > 1 else values[0]
        raise invalid_request(f"Invalid {name}: must be one of {choices}", param=name)
    return raw


def get_currency(req: Req, *, required: bool = True) -> str | None:
    raw = get_str(req, "currency", required=required)
    if raw is None:
        return None
    cur = raw.strip().lower()
    if cur not in SUPPORTED_CURRENCIES:
        raise invalid_request(
            f"Invalid currency: {raw}. Stripe currently supports these currencies: "
            + ", ".join(sorted(SUPPORTED_CURRENCIES, key=lambda c: (c != "usd", c))),
            param="currency",
        )
    return cur


def get_amount(req: Req, currency: str, name: str = "amount", *, required: bool = True) -> int | None:
    """An amount in minor units of `currency`: an integer between the currency's minimum and the maximum."""
    amount = get_int(req, name, required=required)
    if amount is None:
        return None
    minimum = MINIMUM_AMOUNTS.get(currency, 1)
    if amount < minimum:
        if amount < 1:
            raise amount_error(
                "parameter_invalid_integer", "This value must be greater than or equal to 1.", name
            )
        raise amount_error(
            "amount_too_small", f"Amount must be at least {format_amount(minimum, currency)} {currency}", name
        )
    if amount > MAX_AMOUNT:
        raise amount_error(
            "amount_too_large", f"Amount must be no more than {format_amount(MAX_AMOUNT, currency)}", name
        )
    return amount


def get_metadata(req: Req, current: dict[str, str] | None = None) -> dict[str, str] | None:
    """`metadata[...]` merged into `current` as Stripe does: `""` for a key unsets it, `metadata=""` all."""
    raw = req.params.get("metadata")
    if raw is None:
        return None
    out = dict(current or {})
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid object", param="metadata")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid_request("Invalid string: " + _show(value), param=f"metadata[{key}]")
        if len(key) > METADATA_KEY_MAX:
            raise invalid_request(
                f"Metadata keys can have up to {METADATA_KEY_MAX} characters, but you passed in a key with "
                f"{len(key)} characters: {key}",
                param=f"metadata[{key}]",
            )
        if len(value) > METADATA_VALUE_MAX:
            raise invalid_request(
                f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you passed in a value "
                f"that is {len(value)} characters. Invalid value: {value[:50]}",
                param=f"metadata[{key}]",
            )
        if value == "":
            out.pop(key, None)
        else:
            out[key] = value
    if len(out) > METADATA_KEYS_MAX:
        raise invalid_request(
            f"You can have up to {METADATA_KEYS_MAX} metadata keys, but you passed in {len(out)}.",
            param="metadata",
        )
    return out


@dataclass(frozen=True)
class Created:
    """A `created` filter as a half-open window [gte, lt) (None: unbounded)."""

    gte: int | None = None
    lt: int | None = None

    def __contains__(self, t: int) -> bool:
        return (self.gte is None or t >= self.gte) and (self.lt is None or t < self.lt)


def parse_created(req: Req, name: str = "created") -> Created:
    raw = req.params.get(name)
    if raw is None or raw == "":
        return Created()
    if isinstance(raw, str):
        t = get_int(req, name)
        assert t is not None
        return Created(t, t + 1)
    if not isinstance(raw, dict):
        raise invalid_request("Invalid object", param=name)
    gte: int | None = None
    lt: int | None = None
    for op, value in raw.items():
        if op not in ("gt", "gte", "lt", "lte"):
            raise unknown_param(f"{name}[{op}]")
        t = get_int(req, f"{name}[{op}]", value=value)
        assert t is not None
        if op in ("gt", "gte"):
            low = t + 1 if op == "gt" else t
            gte = low if gte is None else max(gte, low)
        else:
            high = t + 1 if op == "lte" else t
            lt = high if lt is None else min(lt, high)
    return Created(gte, lt)


def _limit(req: Req) -> int:
    limit = get_int(req, "limit")
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise invalid_request(
            "This value must be greater than or equal to 1.", param="limit", code="parameter_invalid_integer"
        )
    if limit > LIST_LIMIT_MAX:
        raise invalid_request(
            f"This value must be less than or equal to {LIST_LIMIT_MAX} (it currently is '{limit}').",
            param="limit",
            code="parameter_invalid_integer",
        )
    return limit


def _list_expand(req: Req) -> list[str]:
    out = []
    for path in req.expand:
        if not path.startswith("data."):
            raise invalid_request(
                f"This property cannot be expanded ({path}). You may want to try expanding "
                f"'data.{path}' instead.",
                param="expand",
            )
        out.append(path[len("data.") :])
    return out


def page(
    st: State,
    req: Req,
    items: Sequence[_Dated],
    url: str,
    render: Callable[[Any], dict[str, Any]],
    *,
    find: Callable[[str], _Dated | None] | None = None,
) -> dict[str, Any]:
    """One page of `items` (newest first), as Stripe's list object.

    A cursor that is not in `items` (filtered out) pages from its `created`; one no object has is a 404
    naming the parameter, as Stripe answers it. `find` looks a cursor's object up by id.
    """
    limit = _limit(req)
    paths = _list_expand(req)
    after = get_str(req, "starting_after", empty_ok=False)
    before = get_str(req, "ending_before", empty_ok=False)
    if after and before:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    cursor = after or before
    if cursor:
        pos = next((i for i, o in enumerate(items) if o.id == cursor), None)
        param = "starting_after" if after else "ending_before"
        if pos is None:
            obj = find(cursor) if find is not None else None
            if obj is None:
                raise resource_missing(cursor, param=param)
            if after:
                pos = next((i for i, o in enumerate(items) if o.created < obj.created), len(items)) - 1
            else:
                pos = next((i for i, o in enumerate(items) if o.created <= obj.created), len(items))
        if after:
            chunk = list(items[pos + 1 : pos + 1 + limit])
            has_more = len(items) > pos + 1 + limit
        else:
            start = max(0, pos - limit)
            chunk = list(items[start:pos])
            has_more = start > 0
    else:
        chunk = list(items[:limit])
        has_more = len(items) > limit
    data = [render(o) for o in chunk]
    if paths:
        for rendered in data:
            expand(st, rendered, paths)
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def render_one(st: State, req: Req, obj: dict[str, Any]) -> dict[str, Any]:
    """A single object with the request's `expand[]` applied."""
    return expand(st, obj, req.expand) if req.expand else obj
