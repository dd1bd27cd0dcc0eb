"""WooCommerce's errors: a `WP_Error` as the stand-in raises it, and the error tables it answers with.

Every handler raises `WooError`; the router turns it into WordPress's JSON error body.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .encoding import php_json
from .settings import JSON_CT

__all__ = ["WooError", "invalid_id", "invalid_param"]


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
    """The 404 a single-record route answers for an id that is not a `kind` (get, update, delete)."""
    code = {
        "product": ("woocommerce_rest_product_invalid_id", "Invalid ID."),
        "variation": ("woocommerce_rest_product_variation_invalid_id", "Invalid ID."),
        "customer": ("woocommerce_rest_invalid_id", "Invalid resource ID."),
        "order": ("woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
    }[kind]
    return WooError(code[0], code[1], 404)
