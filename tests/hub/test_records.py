"""Mapping WooCommerce objects to hub rows: what plugins really send is normalised, what cannot be stored is
refused with a precise reason (and quarantined by the caller), never a crash."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hub.records import (
    MalformedRecord,
    content_hash,
    customer_row,
    order_rows,
    product_row,
    strip_nul,
)


def _product(**change: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "name": "Mug",
        "type": "simple",
        "sku": "MUG-1",
        "status": "publish",
        "regular_price": "10.00",
        "stock_quantity": 5,
        "stock_status": "instock",
        "date_modified_gmt": "2024-05-01T10:00:00",
        **change,
    }


def _order(**change: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "number": "7",
        "status": "processing",
        "currency": "USD",
        "total": "10.00",
        "billing": {"email": "a@example.com", "phone": "555"},
        "date_modified_gmt": "2024-05-01T10:00:00",
        "line_items": [{"id": 70, "product_id": 1, "quantity": 1, "total": "10.00", "name": "Mug"}],
        "refunds": [{"id": 700, "total": "-1.00", "reason": ""}],
        **change,
    }


@pytest.mark.parametrize("kind", ["variable-subscription", "subscription_variation", "x" * 200])
def test_long_product_types_are_kept(kind: str) -> None:
    assert product_row(_product(type=kind))["type"] == kind


@pytest.mark.parametrize(
    ("value", "stored"), [(12345, "12345"), (12.5, "12.5"), ("", None), (None, None)], ids=str
)
def test_numbers_sent_for_text_are_coerced(value: Any, stored: str | None) -> None:
    row = product_row(_product(sku=value, name=value))
    assert row["sku"] == stored and row["name"] == stored
    assert customer_row({"id": 3, "email": value, "billing": {"phone": value}})["phone"] == stored


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("sku", ["A", "B"], r"sku is a JSON array, not text"),
        ("name", {"en": "Mug"}, r"name is a JSON object, not text"),
        ("sku", True, r"sku is a JSON boolean, not text"),
        ("status", [1], r"status is a JSON array, not text"),
        ("type", {"x": 1}, r"type is a JSON object, not text"),
    ],
)
def test_non_scalar_text_is_refused_with_the_field_named(field: str, value: Any, reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        product_row(_product(**{field: value}))


def test_non_string_customer_email_is_refused() -> None:
    with pytest.raises(MalformedRecord, match="email is a JSON array"):
        customer_row({"id": 3, "email": ["a@example.com"]})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"refunds": ["oops"]}, r"refunds\[0\] is not a JSON object \(str\)"),
        ({"refunds": [{"id": 1, "total": "-1"}, 5]}, r"refunds\[1\] is not a JSON object \(int\)"),
        ({"line_items": [None]}, r"line_items\[0\] is not a JSON object \(NoneType\)"),
        ({"line_items": {"id": 70}}, r"line_items is not a JSON array \(dict\)"),
        ({"refunds": "none"}, r"refunds is not a JSON array \(str\)"),
        ({"line_items": [{"id": "x"}]}, r"line_items\[0\]: missing or invalid id"),
        ({"refunds": [{"id": 9, "total": "abc"}]}, r"refunds\[0\]\.total is not a number"),
    ],
)
def test_bad_children_are_refused_precisely(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        order_rows(_order(**change))


@pytest.mark.parametrize("obj", ["a string", 12, None, ["list"]], ids=str)
def test_a_record_that_is_not_an_object_is_refused(obj: Any) -> None:
    with pytest.raises(MalformedRecord, match="record is not a JSON object"):
        product_row(obj)


def test_nul_characters_are_removed_everywhere_before_hashing() -> None:
    dirty = _product(
        name="Mu\x00g",
        sku="\x00MUG-1",
        meta_data=[{"key": "no\x00te", "value": ["a\x00b", {"deep\x00": "c\x00"}]}],
    )
    row = product_row(dirty)
    clean = _product(name="Mug", sku="MUG-1", meta_data=[{"key": "note", "value": ["ab", {"deep": "c"}]}])
    assert row["name"] == "Mug" and row["sku"] == "MUG-1"
    assert row["data"] == clean
    assert row["content_hash"] == content_hash(clean) == content_hash(dirty)
    assert "\x00" not in repr(row)
    assert dirty["name"] == "Mu\x00g", "the caller's object is not modified"


def test_strip_nul_leaves_clean_values_alone() -> None:
    value = {"a": ["b", 1, None, 2.5, {"c": "d"}]}
    assert strip_nul(value) is value


def test_order_children_are_cleaned_too() -> None:
    rows = order_rows(_order(line_items=[{"id": 70, "quantity": 1, "name": "M\x00ug", "sku": 123}]))
    assert rows.line_items[0]["name"] == "Mug" and rows.line_items[0]["sku"] == "123"
    assert "\x00" not in repr(rows.order["data"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sku": "S" * 401}, r"sku is 401 characters long; the hub stores at most 400"),
        ({"name": "N" * 100_001}, r"name is 100001 characters long"),
        ({"id": 2**63}, r"missing or invalid id"),
        ({"stock_quantity": 2**40}, r"stock_quantity is out of range"),
        ({"regular_price": "1e20"}, r"regular_price is out of range"),
        ({"date_modified_gmt": "0001-01-01T00:00:00+05:00"}, r"date_modified_gmt is out of range"),
    ],
)
def test_absurd_values_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedRecord, match=reason):
        product_row(_product(**change))


def test_long_free_text_within_limits_is_kept() -> None:
    phone = "+1 (555) 010-0000 ext. 1234, ask for the warehouse manager, weekdays only"
    assert len(phone) > 50
    row = customer_row({"id": 3, "email": "a@example.com", "billing": {"phone": phone}})
    assert row["phone"] == phone
    order = order_rows(_order(billing={"phone": phone}, status="wc-awaiting-shipment-confirmation"))
    assert order.order["billing_phone"] == phone
    assert order.order["status"] == "wc-awaiting-shipment-confirmation"


@pytest.mark.parametrize(
    ("currency", "ok"), [("usd", True), ("USDT", True), ("US", False), ("U$D", False), (840, False)]
)
def test_currency_codes(currency: Any, ok: bool) -> None:
    if ok:
        assert order_rows(_order(currency=currency)).order["currency"] == str(currency).upper()
    else:
        with pytest.raises(MalformedRecord, match="currency"):
            order_rows(_order(currency=currency))


def test_integral_floats_are_whole_numbers() -> None:
    assert product_row(_product(stock_quantity=3.0))["stock_quantity"] == 3
    assert product_row(_product(stock_quantity="4"))["stock_quantity"] == 4
    with pytest.raises(MalformedRecord, match="stock_quantity is not a whole number"):
        product_row(_product(stock_quantity=2.5))


def test_money_stays_exact() -> None:
    assert product_row(_product(regular_price=0.1))["regular_price"] == Decimal("0.1")
