"""Stripe's wire encoding: form bodies with bracket keys, JSON out, money in messages, ids.

Stripe v1 takes `application/x-www-form-urlencoded` bodies (and query strings) whose keys nest with
brackets, as Rack parses them: `metadata[order_id]=42`, `expand[0]=latest_charge` or `expand[]=...`,
`card[token]=tok_visa`. A hash whose keys are all indexes is an array. Responses are JSON (pretty-printed,
as Stripe prints them).
"""

from __future__ import annotations

import random
import re
import string
from typing import Any
from urllib.parse import parse_qsl

import orjson

from .settings import ZERO_DECIMAL

__all__ = [
    "FormError",
    "dumps",
    "exponent",
    "format_amount",
    "parse_form",
    "random_id",
]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_ALNUM = string.ascii_letters + string.digits
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "krw": "₩", "inr": "₹"}


class FormError(ValueError):
    """A form key Stripe cannot parse (a value that is both a hash and a scalar, ...). `param` names it."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def _set(root: dict[str, Any], name: str, path: list[str], value: str) -> None:
    node: Any = root
    keys = [name, *path]
    shown = name
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if key == "":  # `a[]`: append
            if not isinstance(node, list):
                raise FormError(f"Invalid array: {shown}", shown)
            if last:
                node.append(value)
                return
            nxt = path[i] if i < len(path) else ""
            child: Any = [] if nxt == "" else {}
            node.append(child)
            node = child
            continue
        if isinstance(node, list):
            raise FormError(f"Invalid array: {shown}", shown)
        if last:
            if isinstance(node.get(key), (dict, list)):
                raise FormError(f"Invalid hash: {shown}[{key}]" if i else f"Invalid hash: {key}", key)
            node[key] = value
            return
        nxt = keys[i + 1]
        existing = node.get(key)
        if existing is None:
            existing = [] if nxt == "" else {}
            node[key] = existing
        elif isinstance(existing, str):
            raise FormError(f"Invalid hash: {shown if i else key}", shown if i else key)
        elif nxt == "" and not isinstance(existing, list):
            raise FormError(f"Invalid array: {shown if i else key}", shown if i else key)
        node = existing
        if i:
            shown = f"{shown}[{key}]"
        else:
            shown = key


def _arrays(value: Any) -> Any:
    """Hashes keyed by indexes only (`expand[0]`, `expand[1]`) become arrays, in index order."""
    if isinstance(value, list):
        return [_arrays(v) for v in value]
    if isinstance(value, dict):
        out = {k: _arrays(v) for k, v in value.items()}
        if out and all(k.isdigit() for k in out):
            return [out[k] for k in sorted(out, key=int)]
        return out
    return value


def parse_form(text: str) -> dict[str, Any]:
    """A form body or query string as Stripe reads it: nested hashes and arrays of strings."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        m = _KEY.match(raw_key)
        if m is None:
            raise FormError(f"Invalid parameter name: {raw_key}", raw_key)
        _set(root, m.group(1), _PART.findall(m.group(2)), value)
    return _arrays(root)  # type: ignore[no-any-return]


def dumps(data: Any) -> bytes:
    """JSON as Stripe sends it (indented by two spaces, with a final newline)."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def exponent(currency: str) -> int:
    """Digits after the point in `currency`'s minor unit (JPY 0, USD 2, KWD 3)."""
    cur = currency.lower()
    if cur in ZERO_DECIMAL:
        return 0
    return 3 if cur in _THREE_DECIMAL else 2


def format_amount(minor: int, currency: str) -> str:
    """Money as Stripe writes it in messages: `$10.50`, `€0.50`, `¥50`, `15.00 CZK`."""
    cur = currency.lower()
    exp = exponent(cur)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp) if exp else (abs(minor), 0)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    symbol = _SYMBOLS.get(cur)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {cur.upper()}"


def random_id(rng: random.Random, prefix: str, n: int = 24) -> str:
    return prefix + "".join(rng.choices(_ALNUM, k=n))
