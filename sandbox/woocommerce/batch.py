"""The batch endpoints (`POST {resource}/batch`) as `WC_REST_Controller::batch_items` runs them.

WooCommerce calls the resource's own `create_item`, `update_item` and `delete_item` for each item, directly:
WordPress's schema validation only runs on a request it dispatches, so no item ever gets
`rest_invalid_param`; what reaches the controller is coerced by its setters or refused by them. Each failed
item comes back in the 200 answer as `{"id": ..., "error": {"code", "message", "data"}}`:

- create: `id` 0. An item carrying a non-empty `id` is `woocommerce_rest_{post_type}_exists` (customers:
  `woocommerce_rest_customer_exists`), 400.
- update: `id` echoes the item's `id` as sent (null when missing). An id that is not a record of the
  route's kind is `woocommerce_rest_{post_type}_invalid_id` "Invalid ID." (customers:
  `woocommerce_rest_invalid_id` "Invalid resource ID."), **400** (`update_item`), not the 404 of a GET.
- delete: each entry is cast the way PHP's `(int)` does; 0 is skipped without an answer; an unknown id is
  `woocommerce_rest_{post_type}_invalid_id` 404 (customers: `wc_user_invalid_id` "Invalid user ID." 404).
  Batch delete is permanent (`force=true`).
- A variation id sent to `/products/batch` is `woocommerce_rest_invalid_product_id`, 404.

Sources: plugins/woocommerce/includes/rest-api/Controllers/Version3/class-wc-rest-controller.php
(`batch_items`), class-wc-rest-crud-controller.php (`create_item`, `update_item`, `delete_item`),
Version2/class-wc-rest-products-v2-controller.php (`delete_item`, `prepare_object_for_database`),
Version1/class-wc-rest-customers-v1-controller.php, and the `WC_Product`/`WC_Customer` setters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from .encoding import as_int, php_empty
from .errors import WooError, exists, invalid_id, invalid_param, update_invalid_id
from .rendering import record_bytes
from .rest import Req, json_response
from .schemas import SCHEMAS
from .settings import BATCH_LIMIT, SCHEMA_NAMES
from .store import Store
from .validation import matches_type
from .writes import create, delete, update

__all__ = ["batcher", "php_int"]

_VARIATION_VIA_PRODUCTS = (
    "To manipulate product variations you should use the "
    "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint."
)
# What `get_post_status_object()` knows (anything else becomes a draft), and the product classes.
_POST_STATUSES = {"publish", "future", "draft", "pending", "private", "trash", "auto-draft", "inherit"}
_PRODUCT_TYPES = {"simple", "grouped", "external", "variable"}
_TAX_STATUSES = ("taxable", "shipping", "none")
_VISIBILITIES = ("visible", "catalog", "search", "hidden")
_PHP_NUMBER = re.compile(r"[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")


def php_int(value: Any) -> int:
    """PHP's `(int)` cast: leading number of a string, truncated floats, 1 for a non-empty array."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value and abs(value) != float("inf") else 0
    if isinstance(value, str):
        m = _PHP_NUMBER.match(value)
        if not m:
            return 0
        text = m.group(1)
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else int(float(text))
    if isinstance(value, list | dict):
        return 1 if value else 0
    return 0


def _is_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return (
        isinstance(value, str)
        and re.fullmatch(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*", value) is not None
    )


# --- the per-item errors ----------------------------------------------------------------------------
def _variation_via_products() -> WooError:
    return WooError("woocommerce_rest_invalid_product_id", _VARIATION_VIA_PRODUCTS, 404)


# --- an item as the controller sees it ------------------------------------------------------------
def _php_string(value: bool | int | float) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _as_controller_sees_it(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """The item after the controller's own handling, in place of WordPress's schema validation.

    A null is unset (`isset()` is false). A scalar where a string belongs becomes PHP's string of it, a
    string or number where a boolean belongs goes through `wc_string_to_bool`, a float where an integer
    belongs is truncated; a value of any other wrong type is ignored, as the setters' `is_array` checks
    and loops ignore it. Then the enums: an unknown post status becomes `draft`, an unknown product type
    `simple`, an unknown order status `pending`; a bad tax status or catalog visibility is the setter's
    error.
    """
    props = SCHEMAS[SCHEMA_NAMES[kind]]["properties"]
    out: dict[str, Any] = {}
    for key, value in item.items():
        if value is None:
            continue
        prop = props.get(key)
        if prop is not None and not prop.get("readonly") and not matches_type(prop, value):
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            if "boolean" in types and isinstance(value, str | int | float):
                value = isinstance(value, str) and value.lower() in ("yes", "true", "1") or value == 1
            elif "integer" in types and isinstance(value, float):
                value = php_int(value)
            elif "string" in types and isinstance(value, bool | int | float):
                value = _php_string(value)
            else:
                continue
        out[key] = value
    if kind in ("product", "variation") and "status" in out and out["status"] not in _POST_STATUSES:
        out["status"] = "draft"
    if kind == "product" and "type" in out:
        if out["type"] == "variation":
            raise _variation_via_products()
        if out["type"] not in _PRODUCT_TYPES:
            out["type"] = "simple"
    if kind in ("product", "variation") and "tax_status" in out:
        out["tax_status"] = out["tax_status"] or "taxable"
        if out["tax_status"] not in _TAX_STATUSES:
            raise WooError("product_invalid_tax_status", "Invalid product tax status.", 400)
    if kind == "product" and out.get("catalog_visibility", "visible") not in _VISIBILITIES:
        raise WooError("product_invalid_catalog_visibility", "Invalid catalog visibility option.", 400)
    if kind == "order" and "status" in out and out["status"] not in props["status"]["enum"]:
        out["status"] = "pending"
    return out


# --- the three operations -----------------------------------------------------------------------------
def _create_item(st: Store, kind: str, item: Any, parent: int | None) -> dict[str, Any]:
    try:
        if not isinstance(item, dict):  # WooCommerce would create a record of defaults (see docs)
            raise invalid_param({"create": ("rest_invalid_type", "create[] is not of type object.")})
        if not php_empty(item.get("id")):
            raise exists(kind)
        body = _as_controller_sees_it(kind, item)
        if kind == "customer":
            email = body.get("email")
            if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
                raise WooError("customer_invalid_email", "Invalid email address", 400)  # set_email()
            if not email:  # wc_create_new_customer(); a dispatched POST says rest_missing_callback_param
                raise WooError(
                    "registration-error-invalid-email", "Please provide a valid email address.", 400
                )
        rec = create(st, kind, body, parent=parent, validate=False)
        return dict(json.loads(record_bytes(st, kind, rec)))
    except WooError as exc:
        return {"id": 0, "error": exc.body()}


def _update_item(st: Store, kind: str, item: Any, parent: int | None) -> dict[str, Any]:
    sent_id = item.get("id") if isinstance(item, dict) else None
    try:
        if not isinstance(item, dict):
            raise update_invalid_id(kind)
        if kind == "customer":  # Users::get_user_in_current_site(): a non-numeric id is no user
            rid = php_int(sent_id) if _is_numeric(sent_id) else 0
        else:
            rid = php_int(sent_id)
        rec = st.table(kind).get(rid)
        if rec is None and kind == "product" and rid in st.world.variations:
            raise _variation_via_products()
        # The sandbox also refuses another product's variation (WooCommerce's batch would update it).
        if rec is None or (kind == "variation" and rec.parent_id != parent):
            raise update_invalid_id(kind)
        body = _as_controller_sees_it(kind, item)
        update(st, kind, rec, body, validate=False)  # its own refusals (email taken, username) as a PUT's
        return dict(json.loads(record_bytes(st, kind, rec)))
    except WooError as exc:
        return {"id": sent_id, "error": exc.body()}


def _delete_item(st: Store, kind: str, rid: int, parent: int | None) -> dict[str, Any]:
    try:
        rec = st.table(kind).get(rid)
        if rec is None and kind == "product" and rid in st.world.variations:
            raise _variation_via_products()
        if rec is None or (kind == "variation" and rec.parent_id != parent):
            raise invalid_id(kind)  # delete_item's 404
        return delete(st, kind, rec, force=True)
    except WooError as exc:
        return {"id": rid, "error": exc.body()}


def batcher(st: Store, kind: str) -> Callable[[Req], Any]:
    """The handler of `{resource}/batch` for `kind`."""

    async def handler(req: Req) -> Response:
        body = req.params_json()
        groups = {k: body.get(k) or [] for k in ("create", "update", "delete")}
        for k, v in groups.items():
            if not isinstance(v, list):
                raise invalid_param({k: ("rest_invalid_type", f"{k} is not of type array.")})
        n = sum(len(v) for v in groups.values())
        if n > BATCH_LIMIT:
            raise WooError(
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                413,
            )
        parent = as_int(req.params.get("product_id")) if kind == "variation" else None
        out: dict[str, list[Any]] = {}
        for item in groups["create"]:
            out.setdefault("create", []).append(_create_item(st, kind, item, parent))
        for item in groups["update"]:
            out.setdefault("update", []).append(_update_item(st, kind, item, parent))
        for raw in groups["delete"]:
            rid = php_int(raw)
            if rid:  # batch_items skips an id that casts to 0, without an answer
                out.setdefault("delete", []).append(_delete_item(st, kind, rid, parent))
        return json_response(out or [])  # PHP's empty array is `[]`

    return handler
