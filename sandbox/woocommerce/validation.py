"""WordPress's checks on a dispatched request: query args and JSON body against the route's schema.

A subset of `rest_validate_value_from_schema`: types, enums, bounds, date and email formats. WordPress runs
these only on a request it dispatches, which is why batch items (called directly) skip them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .encoding import DATE_RE, parse_list
from .errors import invalid_param

__all__ = ["matches_type", "validate_args", "validate_body"]


def validate_args(spec: dict[str, Any], query: dict[str, Any], *, gmt_offset: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, tuple[str, str]] = {}
    for name, arg in spec.items():
        if name not in query:
            if "default" in arg:
                out[name] = arg["default"]
            continue
        raw = query[name]
        typ = arg.get("type")
        try:
            out[name] = _coerce(name, raw, arg, typ)
        except ValueError as exc:
            code, msg = exc.args
            errors[name] = (code, msg)
    if errors:
        raise invalid_param(errors)
    return out


def _coerce(name: str, raw: Any, arg: dict[str, Any], typ: Any) -> Any:
    if typ == "integer":
        if isinstance(raw, dict | list) or not re.fullmatch(r"\s*-?\d+(\.0*)?\s*", str(raw)):
            raise ValueError("rest_invalid_type", f"{name} is not of type integer.")
        v = int(float(str(raw)))
        lo, hi = arg.get("minimum"), arg.get("maximum")
        if lo is not None and hi is not None and not lo <= v <= hi:
            raise ValueError(
                "rest_out_of_bounds", f"{name} must be between {lo} (inclusive) and {hi} (inclusive)"
            )
        if lo is not None and v < lo:
            raise ValueError("rest_out_of_bounds", f"{name} must be greater than or equal to {lo}")
        return v
    if typ == "boolean":
        s = str(raw).lower() if not isinstance(raw, dict | list) else "x"
        if s in ("true", "1", ""):
            return s != ""
        if s in ("false", "0"):
            return False
        raise ValueError("rest_invalid_type", f"{name} is not of type boolean.")
    if typ == "array":
        items = parse_list(raw)
        item_spec = arg.get("items", {})
        return [_coerce(f"{name}[{i}]", v, item_spec, item_spec.get("type")) for i, v in enumerate(items)]
    if isinstance(raw, dict | list):
        raise ValueError("rest_invalid_type", f"{name} is not of type string.")
    s = str(raw)
    if "enum" in arg and s not in arg["enum"]:
        raise ValueError("rest_not_in_enum", f"{name} is not one of {', '.join(arg['enum'])}.")
    if arg.get("format") == "date-time" and not DATE_RE.match(s.strip()):
        raise ValueError("rest_invalid_date", "Invalid date.")
    if arg.get("format") == "email" and s and "@" not in s:
        raise ValueError("rest_invalid_email", "Invalid email address.")
    return s


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, str) and re.fullmatch(r"-?\d+", v) is not None)
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool) or v in ("true", "false", "1", "0", 0, 1),
    "array": lambda v: isinstance(v, list | dict),
    "object": lambda v: isinstance(v, dict | list),
    "null": lambda v: v is None,
}


def matches_type(prop: dict[str, Any], value: Any) -> bool:
    """Whether `value` is of (one of) the JSON Schema type(s) of `prop`, as WordPress checks it."""
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    return any(_JSON_TYPES[t](value) for t in types if t in _JSON_TYPES)


def validate_body(schema: dict[str, Any], body: dict[str, Any]) -> None:
    """Type- and enum-check the top-level writable fields WordPress would validate."""
    errors: dict[str, tuple[str, str]] = {}
    for key, value in body.items():
        prop = schema["properties"].get(key)
        if prop is None or prop.get("readonly"):
            continue
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            errors[key] = ("rest_invalid_type", f"{key} is not of type {','.join(types)}.")
        elif "enum" in prop and value not in prop["enum"]:
            errors[key] = ("rest_not_in_enum", f"{key} is not one of {', '.join(prop['enum'])}.")
    if errors:
        raise invalid_param(errors)
