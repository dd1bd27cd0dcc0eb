"""The XSD check the API runs on every request: element order, required elements, simple types.

The JSON API converts the body to XML and validates it against `AnetApiSchema.xsd`, so members must come
in the schema's sequence order, required ones must be there, and values must fit their simple types.
Every failure is `E00003` worded as the .NET schema validator words it (what Authorize.Net answers), e.g.
"The element 'transactionRequest' in namespace '...' has invalid child element 'order' ... List of possible
elements expected: 'shipTo, customerIP, ...'". `validate()` returns the request as plain Python values
(dicts, lists for repeated elements, `Decimal`, `int`, `bool`, `str`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from .encoding import Obj, parse_datetime, text_of
from .errors import AnetError, incomplete, invalid_child, invalid_value
from .settings import NAMESPACE, REQUESTS, TYPES

__all__ = ["validate"]

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INT = re.compile(r"^[+-]?\d+$")
_NUMERIC = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class _Slot:
    names: tuple[str, ...]
    types: dict[str, str] = field(hash=False)
    required: bool
    repeat: bool


def _parse(spec: str) -> _Slot:
    if spec.startswith("choice:"):
        alts = spec[len("choice:") :].split("|")
        required = alts[0].startswith("*")
        types = {}
        for alt in alts:
            name, kind = alt.lstrip("*").split(" ", 1)
            types[name] = kind
        return _Slot(tuple(types), types, required, False)
    head, kind = spec.split(" ", 1)
    required = head.startswith("*")
    name = head.lstrip("*")
    repeat = name.endswith("[]")
    name = name.removesuffix("[]")
    return _Slot((name,), {name: kind}, required, repeat)


@cache
def _slots(type_name: str) -> tuple[_Slot, ...]:
    specs = REQUESTS[type_name] if type_name in REQUESTS else TYPES[type_name]
    return tuple(_parse(s) for s in specs)


def _expected(slots: tuple[_Slot, ...], pos: int) -> list[str]:
    names: list[str] = []
    for slot in slots[pos:]:
        names.extend(slot.names)
        if slot.required:
            break
    return names


def validate(request_name: str, body: Any) -> dict[str, Any]:
    """The request's members checked against its XSD sequence (raises `AnetError` E00003)."""
    return _complex(request_name, request_name, body)


def _complex(element: str, type_name: str, value: Any) -> dict[str, Any]:
    slots = _slots(type_name)
    if not isinstance(value, Obj):
        if _is_array(value) or text_of(value) != "":
            raise AnetError(
                "E00003",
                f"The element '{element}' in namespace '{NAMESPACE}' cannot contain text."
                + (
                    f" List of possible elements expected: '{', '.join(_expected(slots, 0))}' in namespace "
                    f"'{NAMESPACE}'."
                    if _expected(slots, 0)
                    else ""
                ),
            )
        value = Obj()
    out: dict[str, Any] = {}
    pos = 0
    last: _Slot | None = None
    for key, item in value:
        if last is not None and last.repeat and key in last.names:
            out[key].extend(_repeat(key, last.types[key], item))
            continue
        j = next((i for i in range(pos, len(slots)) if key in slots[i].names), None)
        skipped_required = j is not None and any(s.required for s in slots[pos:j])
        if j is None or skipped_required:
            raise invalid_child(element, key, _expected(slots, pos))
        slot = slots[j]
        if slot.repeat:
            out[key] = _repeat(key, slot.types[key], item)
        elif _is_array(item):
            raise invalid_child(element, key, _expected(slots, j + 1))
        else:
            out[key] = _value(key, slot.types[key], item)
        pos, last = j + 1, slot
    rest = _expected(slots, pos)
    if any(s.required for s in slots[pos:]):
        raise incomplete(element, rest)
    return out


def _repeat(element: str, kind: str, item: Any) -> list[Any]:
    items = item if _is_array(item) else [item]
    return [_value(element, kind, x) for x in items]


def _value(element: str, kind: str, value: Any) -> Any:
    if kind == "any":
        return _plain(value)
    if kind in TYPES:
        return _complex(element, kind, value)
    if isinstance(value, Obj | list):
        child = value[0][0] if isinstance(value, Obj) and value else "item"
        raise AnetError(
            "E00003",
            f"The element '{element}' in namespace '{NAMESPACE}' cannot contain child element '{child}' "
            f"because the parent element's content model is text only.",
        )
    text = text_of(value)
    name, _, arg = kind.partition(":")
    if name == "str":
        lo, _, hi = arg.rpartition("-")
        if len(text) > int(hi):
            raise invalid_value(
                element, text, "String", "The actual length is greater than the MaxLength value."
            )
        if lo and len(text) < int(lo):
            raise invalid_value(
                element, text, "String", "The actual length is less than the MinLength value."
            )
        return text
    if name == "decimal":
        if not _DECIMAL.match(text):
            raise invalid_value(
                element, text, "Decimal", f"The string '{text}' is not a valid Decimal value."
            )
        return Decimal(text)
    if name == "int":
        if not _INT.match(text):
            raise invalid_value(element, text, "Int", f"The string '{text}' is not a valid Int32 value.")
        lo_s, _, hi_s = arg.partition("-")
        number = int(text)
        if number < int(lo_s):
            raise invalid_value(element, text, "Int", "The MinInclusive constraint failed.")
        if number > int(hi_s):
            raise invalid_value(element, text, "Int", "The MaxInclusive constraint failed.")
        return number
    if name == "bool":
        if text not in ("true", "false", "1", "0"):
            raise invalid_value(
                element, text, "Boolean", f"The string '{text}' is not a valid Boolean value."
            )
        return text in ("true", "1")
    if name == "dateTime":
        if parse_datetime(text) is None:
            raise invalid_value(
                element, text, "DateTime", f"The string '{text}' is not a valid XsdDateTime value."
            )
        return text
    if name == "numeric":
        if not _NUMERIC.match(text):
            raise invalid_value(element, text, "numericString", "The Pattern constraint failed.")
        return text
    if name == "enum":
        if text not in arg.split("|"):
            raise invalid_value(element, text, "String", "The Enumeration constraint failed.")
        return text
    raise AssertionError(f"unknown simple type {kind}")  # pragma: no cover - a settings typo


def _is_array(value: Any) -> bool:
    """A JSON array (an `Obj` is a list of pairs too, but stands for an object)."""
    return isinstance(value, list) and not isinstance(value, Obj)


def _plain(value: Any) -> Any:
    if isinstance(value, Obj):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
