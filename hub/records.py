"""Turning WooCommerce REST v3 objects into hub rows.

Each `*_row` function returns the mirror row for one remote object (plus, for orders, its line items and
refunds) or raises `MalformedRecord` with the reason, so the caller can quarantine that one record and keep
the rest of the batch. WooCommerce sends money as decimal strings (`line_items[].price` is a JSON number)
and `*_gmt` dates without a zone suffix; both are parsed exactly here and nowhere else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson


class MalformedRecord(ValueError):
    """A remote object the hub cannot store as it is; the message is the quarantine reason."""


@dataclass
class OrderRows:
    order: dict[str, Any]
    line_items: list[dict[str, Any]] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)


def content_hash(obj: Any) -> str:
    """A stable SHA-256 of a JSON value (key order and whitespace do not matter)."""
    return hashlib.sha256(orjson.dumps(obj, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def parse_gmt(value: Any, field_name: str) -> datetime | None:
    """Parse a WooCommerce `*_gmt` date (`2024-05-01T10:00:00`, no zone: it is UTC)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedRecord(f"{field_name} is not a date string: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedRecord(f"{field_name} is not an ISO 8601 date: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_money(value: Any, field_name: str, *, blank: Decimal | None = None) -> Decimal | None:
    """Parse a decimal-string amount exactly; `""`/None give `blank`. JSON numbers go through `str`."""
    if value in (None, ""):
        return blank
    if isinstance(value, bool):
        raise MalformedRecord(f"{field_name} is not a number: {value!r}")
    try:
        amount = Decimal(str(value)) if isinstance(value, int | float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise MalformedRecord(f"{field_name} is not a number: {value!r}") from None
    if not amount.is_finite():
        raise MalformedRecord(f"{field_name} is not a finite number: {value!r}")
    return amount


def remote_id_of(obj: Any) -> int:
    """The record's integer id, or MalformedRecord."""
    if not isinstance(obj, dict):
        raise MalformedRecord(f"record is not a JSON object: {type(obj).__name__}")
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MalformedRecord(f"missing or invalid id: {value!r}")
    return value


def _base(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "remote_id": remote_id_of(obj),
        "data": obj,
        "content_hash": content_hash(obj),
        "date_modified_gmt": parse_gmt(obj.get("date_modified_gmt"), "date_modified_gmt"),
    }


def _int_or_none(value: Any, field_name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return int(str(value))
        except ValueError:
            raise MalformedRecord(f"{field_name} is not a whole number: {value!r}") from None
    return value


def product_row(obj: Any, *, parent_id: int | None = None) -> dict[str, Any]:
    """A `products` row; pass `parent_id` for a variation (its JSON has `parent_id` too in WC 9)."""
    row = _base(obj)
    # Only variations hang under a parent here; a simple product's own `parent_id` (e.g. a grouped
    # product's child) is kept in `data` but does not make it a variation.
    is_variation = parent_id is not None or obj.get("type") == "variation"
    parent = parent_id if parent_id is not None else (obj.get("parent_id") or None)
    if is_variation and not parent:
        raise MalformedRecord("variation without a parent id")
    if not is_variation:
        parent = None
    row.update(
        parent_remote_id=_int_or_none(parent, "parent_id"),
        type=str(obj.get("type") or ("variation" if is_variation else "simple")),
        sku=(obj.get("sku") or None),
        name=(obj.get("name") or None),
        status=obj.get("status"),
        regular_price=parse_money(obj.get("regular_price"), "regular_price"),
        sale_price=parse_money(obj.get("sale_price"), "sale_price"),
        stock_quantity=_int_or_none(obj.get("stock_quantity"), "stock_quantity"),
        stock_status=obj.get("stock_status"),
    )
    return row


def customer_row(obj: Any) -> dict[str, Any]:
    row = _base(obj)
    billing = obj.get("billing") or {}
    row.update(
        email=(obj.get("email") or None),
        first_name=(obj.get("first_name") or None),
        last_name=(obj.get("last_name") or None),
        phone=(billing.get("phone") or None) if isinstance(billing, dict) else None,
    )
    return row


def order_rows(obj: Any) -> OrderRows:
    """The `orders` row with its `order_line_items` and `order_refunds` rows."""
    row = _base(obj)
    order_id = row["remote_id"]
    billing = obj.get("billing") if isinstance(obj.get("billing"), dict) else {}
    total = parse_money(obj.get("total"), "total")
    if total is None:
        raise MalformedRecord("order has no total")
    currency = obj.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise MalformedRecord(f"currency is not a 3-letter code: {currency!r}")
    row.update(
        number=str(obj.get("number") or order_id),
        status=str(obj.get("status") or ""),
        currency=currency.upper(),
        total=total,
        customer_remote_id=_int_or_none(obj.get("customer_id"), "customer_id") or None,
        billing_email=billing.get("email") or None,
        billing_phone=billing.get("phone") or None,
        payment_method=obj.get("payment_method") or None,
        transaction_id=obj.get("transaction_id") or None,
        date_created_gmt=parse_gmt(obj.get("date_created_gmt"), "date_created_gmt"),
        date_paid_gmt=parse_gmt(obj.get("date_paid_gmt"), "date_paid_gmt"),
    )
    items = []
    for item in obj.get("line_items") or []:
        item_id = remote_id_of(item)
        items.append(
            {
                "order_remote_id": order_id,
                "remote_id": item_id,
                "product_remote_id": _int_or_none(item.get("product_id"), "line_items.product_id"),
                "variation_remote_id": _int_or_none(item.get("variation_id"), "line_items.variation_id")
                or None,
                "sku": item.get("sku") or None,
                "name": item.get("name") or None,
                "quantity": _int_or_none(item.get("quantity"), "line_items.quantity") or 0,
                "price": parse_money(item.get("price"), "line_items.price"),
                "subtotal": parse_money(item.get("subtotal"), "line_items.subtotal"),
                "total": parse_money(item.get("total"), "line_items.total"),
            }
        )
    refunds = []
    for refund in obj.get("refunds") or []:
        amount = parse_money(refund.get("total"), "refunds.total")
        refunds.append(
            {
                "order_remote_id": order_id,
                "remote_id": remote_id_of(refund),
                # Orders list refunds with a negative total; the hub stores the positive amount.
                "amount": abs(amount) if amount is not None else Decimal(0),
                "reason": refund.get("reason") or None,
                "data": refund,
            }
        )
    return OrderRows(order=row, line_items=items, refunds=refunds)


def is_variable_product(obj: Any) -> bool:
    """A product whose variations are separate records (`/products/{id}/variations`)."""
    return isinstance(obj, dict) and obj.get("type") == "variable" and isinstance(obj.get("id"), int)


def mirror_row(resource: str, obj: Any) -> dict[str, Any]:
    """The mirror row of `obj` for `resource` (orders without their children)."""
    if resource == "products":
        return product_row(obj)
    if resource == "customers":
        return customer_row(obj)
    if resource == "orders":
        return order_rows(obj).order
    raise ValueError(f"unknown resource {resource!r}")
