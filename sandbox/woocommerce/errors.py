"""WooCommerce's errors: a `WP_Error` as the stand-in raises it, and the error tables it answers with.

Every handler raises `WooError`; the router turns it into WordPress's JSON error body.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .encoding import php_json
from .settings import JSON_CT

__all__ = [
    "POST_TYPE",
    "WooError",
    "exists",
    "invalid_id",
    "invalid_param",
    "parent_mismatch",
    "update_invalid_id",
    "user_invalid_id",
]

#: WooCommerce's post type of each record kind (the `{post_type}` in its error codes).
POST_TYPE = {"product": "product", "variation": "product_variation", "order": "shop_order"}


class WooError(Exception):
    """A WP_Error: rendered as `{"code","message","data":{"status",...}}`."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.data = code, message, status, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return Response(php_json(self.body()), self.status, headers=headers, media_type=JSON_CT)


def invalid_param(errors: dict[str, tuple[str, str]]) -> WooError:
    """WordPress's `rest_invalid_param` for `{param: (code, message)}`."""
    return WooError(
        "rest_invalid_param",
        f"Invalid parameter(s): {', '.join(errors)}",
        400,
        params={k: m for k, (_, m) in errors.items()},
        details={k: {"code": c, "message": m, "data": None} for k, (c, m) in errors.items()},
    )


def invalid_id(kind: str) -> WooError:
    """The 404 of `get_item`/`delete_item` for an id that is not a `kind` (`WC_REST_CRUD_Controller`).

    Customers answer `user_invalid_id()` instead: their routes look the user up in the permission check.
    """
    if kind == "customer":
        return user_invalid_id()
    return WooError(f"woocommerce_rest_{POST_TYPE[kind]}_invalid_id", "Invalid ID.", 404)


def update_invalid_id(kind: str) -> WooError:
    """What `update_item` answers for an id that is not a `kind`: the same code as a GET, with status 400.

    A dispatched customer PUT never gets here (its permission check answers `user_invalid_id()` first);
    a batch update calls `update_item` directly and does.
    """
    if kind == "customer":
        return WooError("woocommerce_rest_invalid_id", "Invalid resource ID.", 400)
    return WooError(f"woocommerce_rest_{POST_TYPE[kind]}_invalid_id", "Invalid ID.", 400)


def user_invalid_id() -> WooError:
    """`Users::get_user_in_current_site()` for an unknown user: customers' GET, PUT and DELETE (404)."""
    return WooError("wc_user_invalid_id", "Invalid user ID.", 404)


def exists(kind: str) -> WooError:
    """`create_item` given a non-empty `id`: WooCommerce refuses to create an existing record (400)."""
    if kind == "customer":
        return WooError("woocommerce_rest_customer_exists", "Cannot create existing resource.", 400)
    post_type = POST_TYPE[kind]
    return WooError(f"woocommerce_rest_{post_type}_exists", f"Cannot create existing {post_type}.", 400)


def parent_mismatch() -> WooError:
    """A variation PUT under another product: the variations controller's permission check (403)."""
    return WooError("woocommerce_rest_cannot_edit", "Parent product does not match current variation.", 403)
