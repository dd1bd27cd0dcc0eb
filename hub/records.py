"""Turning WooCommerce REST v3 objects into hub rows.

Each `*_row` function returns the mirror row for one remote object (plus, for orders, its line items and
refunds) or raises `MalformedRecord` with the reason, so the caller can quarantine that one record and keep
the rest of the batch. WooCommerce sends money as decimal strings (`line_items[].price` is a JSON number)
and `*_gmt` dates without a zone suffix; both are parsed exactly here and nowhere else.

Normalisation (what real stores and their plugins send, not what the schema promises):
- NUL characters are removed from every string of the object, keys included, before it is hashed and
  stored: PostgreSQL refuses `\\x00` in text and `\\u0000` in jsonb. `data` and `content_hash` describe the
  cleaned object, so an unchanged record still hashes the same on every pull.
- Text columns take JSON strings, and numbers are turned into text (plugins send numeric SKUs, names and
  phone numbers); a boolean, array or object where text belongs is refused with the field named.
- Lengths are bounded where the value is indexed (`TEXT_LIMITS`; a PostgreSQL b-tree entry holds about
  2.7 kB) and at `FREE_TEXT_MAX` characters elsewhere; integers and amounts must fit their columns.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

FREE_TEXT_MAX = 100_000  # characters: more is garbage from a plugin, not a name or a phone number
# Indexed text columns: at 4 bytes a character the index entry stays under PostgreSQL's b-tree limit.
TEXT_LIMITS = {"sku": 400, "email": 320, "status": 200, "payment_method": 200, "transaction_id": 400}
CURRENCY_MAX = 10  # ISO 4217 codes have 3 letters; currency plugins add codes such as USDT
_INT32 = 2**31
_INT64 = 2**63
_MONEY_LIMIT = Decimal(10) ** 14  # NUMERIC(20, 6) keeps 14 digits before the point
_NUL_JSON = b"\\u0000"  # how orjson writes a NUL character inside a JSON string


class MalformedRecord(ValueError):
    """A remote object the hub cannot store as it is; the message is the quarantine reason."""


@dataclass
class OrderRows:
    order: dict[str, Any]
    line_items: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)


def strip_nul(value: Any) -> Any:
    """`value` with NUL characters removed from every string (dict keys too); untouched values are
    returned as they are, so a clean object costs no copy."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        changed, out = False, {}
        for k, v in value.items():
            ck, cv = strip_nul(k), strip_nul(v)
            changed = changed or ck is not k or cv is not v
            out[ck] = cv
        return out if changed else value
    if isinstance(value, list):
        items = [strip_nul(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def _dump(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=str)


def _cleaned(obj: Any) -> tuple[Any, str]:
    """The object without NUL characters, and the SHA-256 of its canonical JSON."""
    dumped = _dump(obj)
    if _NUL_JSON in dumped:  # rare: only then walk the object (a literal backslash-u0000 also lands here)
        obj = strip_nul(obj)
        dumped = _dump(obj)
    return obj, hashlib.sha256(dumped).hexdigest()


def content_hash(obj: Any) -> str:
    """A stable SHA-256 of a JSON value (key order and whitespace do not matter; NUL characters are
    removed first, as they are from stored objects)."""
    return _cleaned(obj)[1]


def parse_gmt(value: Any, field_name: str) -> datetime | None:
    """Parse a WooCommerce `*_gmt` date (`2024-05-01T10:00:00`, no zone: it is UTC)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{field_name} is not a date string: {_short(value)}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRecord(f"{field_name} is not an ISO 8601 date: {_short(value)}") from None
    try:
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        raise MalformedRecord(f"{field_name} is out of range: {_short(value)}") from None


def parse_money(value: Any, field_name: str, *, blank: Decimal | None = None) -> Decimal | None:
    """Parse a decimal-string amount exactly; `""`/None give `blank`. JSON numbers go through `str`."""
    if value in (None, ""):
        return blank
    if isinstance(value, bool):
        raise MalformedRecord(f"{field_name} is not a number: {value!r}")
    try:
        amount = Decimal(str(value)) if isinstance(value, int | float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise MalformedRecord(f"{field_name} is not a number: {_short(value)}") from None
    if not amount.is_finite():
        raise MalformedRecord(f"{field_name} is not a finite number: {_short(value)}")
    if abs(amount) >= _MONEY_LIMIT:
        raise MalformedRecord(f"{field_name} is out of range: {_short(value)}")
    return amount


def remote_id_of(obj: Any, where: str = "") -> int:
    """The record's integer id, or MalformedRecord."""
    if not isinstance(obj, dict):
        raise MalformedRecord(f"{where or 'record'} is not a JSON object ({type(obj).__name__})")
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _INT64:
        raise MalformedRecord(f"{where + ': ' if where else ''}missing or invalid id: {_short(value)}")
    return value


def as_text(value: Any, field_name: str, limit: int | None = None) -> str | None:
    """A text column's value: strings as they are, numbers as text, `""`/None as None.

    Raises:
        MalformedRecord: a boolean, array or object, or more than `limit` characters.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedRecord(f"{field_name} is a JSON {_json_kind(value)}, not text: {_short(value)}")
    if not isinstance(value, str):
        value = str(value)  # plugins send SKUs, names and phone numbers as JSON numbers
    if value == "":
        return None
    limit = limit or TEXT_LIMITS.get(field_name.rsplit(".", 1)[-1], FREE_TEXT_MAX)
    if len(value) > limit:
        raise MalformedRecord(f"{field_name} is {len(value)} characters long; the hub stores at most {limit}")
    return str(value)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _short(value: Any, limit: int = 80) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _objects(value: Any, field_name: str) -> list[dict[str, Any]]:
    """A list of JSON objects (line items, refunds), or MalformedRecord naming the bad element."""
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise MalformedRecord(f"{field_name} is not a JSON array ({type(value).__name__})")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise MalformedRecord(f"{field_name}[{index}] is not a JSON object ({type(item).__name__})")
    return value


def _start(obj: Any, *, require_id: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row's common columns and the cleaned object the rest of the row is read from."""
    if not isinstance(obj, dict):
        raise MalformedRecord(f"record is not a JSON object ({type(obj).__name__})")
    clean, digest = _cleaned(obj)
    row = {
        "remote_id": remote_id_of(clean) if require_id or clean.get("id") is not None else None,
        "data": clean,
        "content_hash": digest,
        "date_modified_gmt": parse_gmt(clean.get("date_modified_gmt"), "date_modified_gmt"),
    }
    return row, clean


def _int_or_none(value: Any, field_name: str, *, bits: int = 64) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise MalformedRecord(f"{field_name} is not a whole number: {value!r}")
    number: int
    if isinstance(value, int):
        number = value
    else:
        try:
            exact = Decimal(str(value)) if isinstance(value, float | str) else None
        except InvalidOperation:
            exact = None
        if exact is None or not exact.is_finite() or exact != exact.to_integral_value():
            raise MalformedRecord(f"{field_name} is not a whole number: {_short(value)}")
        number = int(exact)
    bound = _INT32 if bits == 32 else _INT64
    if not -bound <= number < bound:
        raise MalformedRecord(f"{field_name} is out of range: {_short(value)}")
    return number


def product_row(obj: Any, *, parent_id: int | None = None, require_id: bool = True) -> dict[str, Any]:
    """A `products` row; pass `parent_id` for a variation (its JSON has `parent_id` too in WC 9).

    `require_id=False` maps a record the hub created and the store has not seen yet (no `id`).
    """
    row, obj = _start(obj, require_id=require_id)
    kind = as_text(obj.get("type"), "type")
    # Only variations hang under a parent here; a simple product's own `parent_id` (e.g. a grouped
    # product's child) is kept in `data` but does not make it a variation.
    is_variation = parent_id is not None or kind == "variation"
    parent = parent_id if parent_id is not None else (obj.get("parent_id") or None)
    if is_variation and not parent:
        raise MalformedRecord("variation without a parent id")
    if not is_variation:
        parent = None
    row.update(
        parent_remote_id=_int_or_none(parent, "parent_id"),
        type=kind or ("variation" if is_variation else "simple"),
        sku=as_text(obj.get("sku"), "sku"),
        name=as_text(obj.get("name"), "name"),
        status=as_text(obj.get("status"), "status"),
        regular_price=parse_money(obj.get("regular_price"), "regular_price"),
        sale_price=parse_money(obj.get("sale_price"), "sale_price"),
        stock_quantity=_int_or_none(obj.get("stock_quantity"), "stock_quantity", bits=32),
        stock_status=as_text(obj.get("stock_status"), "stock_status"),
    )
    return row


def customer_row(obj: Any, *, require_id: bool = True) -> dict[str, Any]:
    row, obj = _start(obj, require_id=require_id)
    billing = obj.get("billing")
    row.update(
        email=as_text(obj.get("email"), "email"),
        first_name=as_text(obj.get("first_name"), "first_name"),
        last_name=as_text(obj.get("last_name"), "last_name"),
        phone=as_text(billing.get("phone"), "billing.phone") if isinstance(billing, dict) else None,
    )
    return row


def order_rows(obj: Any, *, require_id: bool = True) -> OrderRows:
    """The `orders` row with its `order_line_items` and `order_refunds` rows."""
    row, obj = _start(obj, require_id=require_id)
    order_id = row["remote_id"]
    billing = obj.get("billing") if isinstance(obj.get("billing"), dict) else {}
    total = parse_money(obj.get("total"), "total")
    if total is None:
        raise MalformedRecord("order has no total")
    currency = obj.get("currency")
    if (
        not isinstance(currency, str)
        or not 3 <= len(currency) <= CURRENCY_MAX
        or not currency.isascii()
        or not currency.isalnum()
    ):
        raise MalformedRecord(f"currency is not a currency code: {_short(currency)}")
    row.update(
        number=as_text(obj.get("number"), "number") or (str(order_id) if order_id else None),
        status=as_text(obj.get("status"), "status") or "",
        currency=currency.upper(),
        total=total,
        customer_remote_id=_int_or_none(obj.get("customer_id"), "customer_id") or None,
        billing_email=as_text(billing.get("email"), "billing.email"),
        billing_phone=as_text(billing.get("phone"), "billing.phone"),
        payment_method=as_text(obj.get("payment_method"), "payment_method"),
        transaction_id=as_text(obj.get("transaction_id"), "transaction_id"),
        date_created_gmt=parse_gmt(obj.get("date_created_gmt"), "date_created_gmt"),
        date_paid_gmt=parse_gmt(obj.get("date_paid_gmt"), "date_paid_gmt"),
    )
    items = []
    for index, item in enumerate(_objects(obj.get("line_items"), "line_items")):
        where = f"line_items[{index}]"
        items.append(
            {
                "order_remote_id": order_id,
                "remote_id": remote_id_of(item, where) if require_id or "id" in item else None,
                "product_remote_id": _int_or_none(item.get("product_id"), f"{where}.product_id"),
                "variation_remote_id": _int_or_none(item.get("variation_id"), f"{where}.variation_id")
                or None,
                "sku": as_text(item.get("sku"), f"{where}.sku", FREE_TEXT_MAX),
                "name": as_text(item.get("name"), f"{where}.name"),
                "quantity": _int_or_none(item.get("quantity"), f"{where}.quantity", bits=32) or 0,
                "price": parse_money(item.get("price"), f"{where}.price"),
                "subtotal": parse_money(item.get("subtotal"), f"{where}.subtotal"),
                "total": parse_money(item.get("total"), f"{where}.total"),
            }
        )
    refunds = []
    for index, refund in enumerate(_objects(obj.get("refunds"), "refunds")):
        where = f"refunds[{index}]"
        refund_id = remote_id_of(refund, where)
        amount = parse_money(refund.get("total"), f"{where}.total")
        refunds.append(
            {
                "order_remote_id": order_id,
                "remote_id": refund_id,
                # Orders list refunds with a negative total; the hub stores the positive amount.
                "amount": abs(amount) if amount is not None else Decimal(0),
                "reason": as_text(refund.get("reason"), f"{where}.reason"),
                "data": refund,
            }
        )
    return OrderRows(order=row, line_items=items, refunds=refunds)


def is_variable_product(obj: Any) -> bool:
    """A product whose variations are separate records (`/products/{id}/variations`)."""
    return isinstance(obj, dict) and obj.get("type") == "variable" and isinstance(obj.get("id"), int)


def mirror_row(resource: str, obj: Any, *, require_id: bool = True) -> dict[str, Any]:
    """The mirror row of `obj` for `resource` (orders without their children)."""
    if resource == "products":
        return product_row(obj, require_id=require_id)
    if resource == "customers":
        return customer_row(obj, require_id=require_id)
    if resource == "orders":
        return order_rows(obj, require_id=require_id).order
    raise ValueError(f"unknown resource {resource!r}")
