"""JSON Schemas of the WooCommerce REST v3 resources, as `OPTIONS` on each route returns them.

Written after the `get_item_schema()` of the WC 9 controllers (products, variations, customers, orders,
refunds, webhooks). Field lists are complete for what the stand-in renders; descriptions are abridged.
Like WordPress, dates are declared `"format": "date-time"` although the values carry no zone suffix.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SCHEMAS", "collection_args", "item_args"]

VE = ["view", "edit"]


def _f(typ: Any, desc: str, *, ro: bool = False, ctx: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"description": desc, "type": typ, "context": ctx or VE}
    if ro:
        d["readonly"] = True
    d.update(kw)
    return d


def _date(desc: str, ro: bool = False, nullable: bool = True) -> dict[str, Any]:
    return _f(["null", "string"] if nullable else "string", desc, ro=ro, format="date-time")


def _obj(desc: str, props: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return _f("object", desc, properties=props, **kw)


def _arr(desc: str, items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return _f("array", desc, items=items, **kw)


def _meta() -> dict[str, Any]:
    return _arr(
        "Meta data.",
        {
            "type": "object",
            "properties": {
                "id": _f("integer", "Meta ID.", ro=True),
                "key": _f("string", "Meta key."),
                "value": _f(
                    ["null", "object", "string", "number", "boolean", "integer", "array"], "Meta value."
                ),
            },
        },
    )


def _address(shipping: bool) -> dict[str, Any]:
    props = {
        k: _f("string", f"{k.replace('_', ' ').capitalize()}.")
        for k in (
            "first_name",
            "last_name",
            "company",
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
        )
    }
    if not shipping:
        props["email"] = _f(["string", "null"], "Email address.", format="email")
    props["phone"] = _f("string", "Phone number.")
    return _obj("Shipping address." if shipping else "Billing address.", props)


_LINKS = _f("object", "Hypermedia links.", ro=True)
_IMAGE = {
    "type": "object",
    "properties": {
        "id": _f("integer", "Image ID."),
        "date_created": _date("Date created, site timezone.", ro=True),
        "date_created_gmt": _date("Date created, GMT.", ro=True),
        "date_modified": _date("Date modified, site timezone.", ro=True),
        "date_modified_gmt": _date("Date modified, GMT.", ro=True),
        "src": _f("string", "Image URL.", format="uri"),
        "name": _f("string", "Image name."),
        "alt": _f("string", "Image alternative text."),
    },
}
_TERM = {
    "type": "object",
    "properties": {
        "id": _f("integer", "Term ID."),
        "name": _f("string", "Term name.", ro=True),
        "slug": _f("string", "Term slug.", ro=True),
    },
}
_DIMENSIONS = _obj(
    "Product dimensions.",
    {k: _f("string", f"Product {k}.") for k in ("length", "width", "height")},
)
_DOWNLOAD = _arr(
    "List of downloadable files.",
    {
        "type": "object",
        "properties": {
            "id": _f("string", "File ID."),
            "name": _f("string", "File name."),
            "file": _f("string", "File URL."),
        },
    },
)

_STOCK_PRICE: dict[str, Any] = {
    "permalink": _f("string", "URL.", ro=True, format="uri"),
    "sku": _f("string", "Stock-keeping unit."),
    "global_unique_id": _f("string", "GTIN, UPC, EAN or ISBN."),
    "price": _f("string", "Current price.", ro=True),
    "regular_price": _f("string", "Regular price."),
    "sale_price": _f("string", "Sale price."),
    "date_on_sale_from": _date("Start date of sale price, site timezone."),
    "date_on_sale_from_gmt": _date("Start date of sale price, GMT."),
    "date_on_sale_to": _date("End date of sale price, site timezone."),
    "date_on_sale_to_gmt": _date("End date of sale price, GMT."),
    "on_sale": _f("boolean", "Shows if the product is on sale.", ro=True),
    "purchasable": _f("boolean", "Shows if the product can be bought.", ro=True),
    "virtual": _f("boolean", "If the product is virtual."),
    "downloadable": _f("boolean", "If the product is downloadable."),
    "downloads": _DOWNLOAD,
    "download_limit": _f("integer", "Number of times downloadable files can be downloaded."),
    "download_expiry": _f("integer", "Number of days until access expires."),
    "tax_status": _f("string", "Tax status.", enum=["taxable", "shipping", "none"]),
    "tax_class": _f("string", "Tax class."),
    "manage_stock": _f("boolean", "Stock management at product level."),
    "stock_quantity": _f(["null", "integer"], "Stock quantity."),
    "stock_status": _f("string", "Stock status.", enum=["instock", "outofstock", "onbackorder"]),
    "backorders": _f(
        "string", "If managing stock, this controls if backorders are allowed.", enum=["no", "notify", "yes"]
    ),
    "backorders_allowed": _f("boolean", "Shows if backorders are allowed.", ro=True),
    "backordered": _f("boolean", "Shows if the product is on backordered.", ro=True),
    "low_stock_amount": _f(["null", "integer"], "Low Stock amount."),
    "weight": _f("string", "Product weight."),
    "dimensions": _DIMENSIONS,
    "shipping_class": _f("string", "Shipping class slug."),
    "shipping_class_id": _f("integer", "Shipping class ID.", ro=True),
    "menu_order": _f("integer", "Menu order, used to custom sort products."),
    "meta_data": _meta(),
}

PRODUCT: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "name": _f("string", "Product name."),
    "slug": _f("string", "Product slug."),
    "date_created": _date("The date the product was created, in the site's timezone."),
    "date_created_gmt": _date("The date the product was created, as GMT."),
    "date_modified": _date("The date the product was last modified, in the site's timezone.", ro=True),
    "date_modified_gmt": _date("The date the product was last modified, as GMT.", ro=True),
    "type": _f("string", "Product type.", enum=["simple", "grouped", "external", "variable"]),
    "status": _f(
        "string",
        "Product status (post status).",
        enum=["draft", "pending", "private", "publish", "future", "trash"],
    ),
    "featured": _f("boolean", "Featured product."),
    "catalog_visibility": _f(
        "string", "Catalog visibility.", enum=["visible", "catalog", "search", "hidden"]
    ),
    "description": _f("string", "Product description."),
    "short_description": _f("string", "Product short description."),
    "total_sales": _f("integer", "Amount of sales.", ro=True),
    "external_url": _f("string", "Product external URL. Only for external products.", format="uri"),
    "button_text": _f("string", "Product external button text. Only for external products."),
    "sold_individually": _f("boolean", "Allow one item to be bought in a single order."),
    "shipping_required": _f("boolean", "Shows if the product need to be shipped.", ro=True),
    "shipping_taxable": _f("boolean", "Shows whether or not the product shipping is taxable.", ro=True),
    "reviews_allowed": _f("boolean", "Allow reviews."),
    "average_rating": _f("string", "Reviews average rating.", ro=True),
    "rating_count": _f("integer", "Amount of reviews that the product have.", ro=True),
    "related_ids": _arr("List of related products IDs.", {"type": "integer"}, ro=True),
    "upsell_ids": _arr("List of up-sell products IDs.", {"type": "integer"}),
    "cross_sell_ids": _arr("List of cross-sell products IDs.", {"type": "integer"}),
    "parent_id": _f("integer", "Product parent ID."),
    "purchase_note": _f("string", "Optional note to send the customer after purchase."),
    "categories": _arr("List of categories.", _TERM),
    "tags": _arr("List of tags.", _TERM),
    "brands": _arr("List of brands.", _TERM),
    "images": _arr("List of images.", _IMAGE),
    "attributes": _arr(
        "List of attributes.",
        {
            "type": "object",
            "properties": {
                "id": _f("integer", "Attribute ID."),
                "name": _f("string", "Attribute name."),
                "slug": _f("string", "Attribute slug."),
                "position": _f("integer", "Attribute position."),
                "visible": _f("boolean", "Define if the attribute is visible on the product page."),
                "variation": _f("boolean", "Define if the attribute can be used as variation."),
                "options": _arr("List of available term names of the attribute.", {"type": "string"}),
            },
        },
    ),
    "default_attributes": _arr("Defaults variation attributes.", {"type": "object"}),
    "variations": _arr("List of variations IDs.", {"type": "integer"}, ro=True),
    "grouped_products": _arr("List of grouped products ID.", {"type": "integer"}),
    "price_html": _f("string", "Price formatted in HTML.", ro=True),
    "has_options": _f(
        "boolean", "Shows if the product needs to be configured before it can be bought.", ro=True
    ),
    "post_password": _f("string", "Post password."),
    **_STOCK_PRICE,
    "_links": _LINKS,
}

VARIATION: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "type": _f("string", "Product type.", ro=True),
    "name": _f("string", "Product parent name.", ro=True),
    "parent_id": _f("integer", "Product parent ID.", ro=True),
    "date_created": _date("The date the variation was created, in the site's timezone."),
    "date_created_gmt": _date("The date the variation was created, as GMT."),
    "date_modified": _date("The date the variation was last modified, in the site's timezone.", ro=True),
    "date_modified_gmt": _date("The date the variation was last modified, as GMT.", ro=True),
    "description": _f("string", "Variation description."),
    "status": _f("string", "Variation status.", enum=["draft", "pending", "private", "publish"]),
    "image": _f(["null", "object"], "Variation image data."),
    "attributes": _arr(
        "List of attributes.",
        {
            "type": "object",
            "properties": {
                "id": _f("integer", "Attribute ID."),
                "name": _f("string", "Attribute name."),
                "option": _f("string", "Selected attribute term name."),
            },
        },
    ),
    **_STOCK_PRICE,
    "_links": _LINKS,
}

CUSTOMER: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "date_created": _date("The date the customer was created, in the site's timezone.", ro=True),
    "date_created_gmt": _date("The date the customer was created, as GMT.", ro=True),
    "date_modified": _date("The date the customer was last modified, in the site's timezone.", ro=True),
    "date_modified_gmt": _date("The date the customer was last modified, as GMT.", ro=True),
    "email": _f("string", "The email address for the customer.", format="email"),
    "first_name": _f("string", "Customer first name."),
    "last_name": _f("string", "Customer last name."),
    "role": _f("string", "Customer role.", ro=True),
    "username": _f("string", "Customer login name."),
    "password": _f("string", "Customer password.", ctx=["edit"]),
    "billing": _address(False),
    "shipping": _address(True),
    "is_paying_customer": _f("boolean", "Is the customer a paying customer?", ro=True),
    "avatar_url": _f("string", "Avatar URL.", ro=True),
    "meta_data": _meta(),
    "_links": _LINKS,
}

_TAXES = _arr(
    "Taxes.",
    {
        "type": "object",
        "properties": {
            "id": _f("integer", "Tax rate ID.", ro=True),
            "total": _f("string", "Tax total.", ro=True),
            "subtotal": _f("string", "Tax subtotal.", ro=True),
        },
    },
    ro=True,
)

LINE_ITEM = {
    "type": "object",
    "properties": {
        "id": _f("integer", "Item ID.", ro=True),
        "name": _f(["integer", "string"], "Product name."),
        "parent_name": _f(["null", "string"], "Parent product name if the product is a variation.", ro=True),
        "product_id": _f(["integer", "string"], "Product ID."),
        "variation_id": _f(["integer", "string"], "Variation ID, if applicable."),
        "quantity": _f("integer", "Quantity ordered."),
        "tax_class": _f("string", "Tax class of product."),
        "subtotal": _f("string", "Line subtotal (before discounts)."),
        "subtotal_tax": _f("string", "Line subtotal tax (before discounts).", ro=True),
        "total": _f("string", "Line total (after discounts)."),
        "total_tax": _f("string", "Line total tax (after discounts).", ro=True),
        "taxes": _TAXES,
        "meta_data": _meta(),
        "sku": _f(["string", "null"], "Product SKU.", ro=True),
        "global_unique_id": _f("string", "Product GTIN, UPC, EAN or ISBN.", ro=True),
        "price": _f("number", "Product price.", ro=True),
        "image": _obj(
            "Properties of the main product image.",
            {"id": _f(["integer", "string"], "Image ID."), "src": _f("string", "Image URL.")},
            ro=True,
        ),
    },
}

ORDER: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "parent_id": _f("integer", "Parent order ID."),
    "number": _f("string", "Order number.", ro=True),
    "order_key": _f("string", "Order key.", ro=True),
    "created_via": _f("string", "Shows where the order was created.", ro=True),
    "version": _f("string", "Version of WooCommerce which last updated the order.", ro=True),
    "status": _f(
        "string",
        "Order status.",
        enum=[
            "auto-draft",
            "pending",
            "processing",
            "on-hold",
            "completed",
            "cancelled",
            "refunded",
            "failed",
            "checkout-draft",
            "trash",
        ],
    ),
    "currency": _f("string", "Currency the order was created with, in ISO format."),
    "date_created": _date("The date the order was created, in the site's timezone.", ro=True),
    "date_created_gmt": _date("The date the order was created, as GMT.", ro=True),
    "date_modified": _date("The date the order was last modified, in the site's timezone.", ro=True),
    "date_modified_gmt": _date("The date the order was last modified, as GMT.", ro=True),
    "discount_total": _f("string", "Total discount amount for the order.", ro=True),
    "discount_tax": _f("string", "Total discount tax amount for the order.", ro=True),
    "shipping_total": _f("string", "Total shipping amount for the order.", ro=True),
    "shipping_tax": _f("string", "Total shipping tax amount for the order.", ro=True),
    "cart_tax": _f("string", "Sum of line item taxes only.", ro=True),
    "total": _f("string", "Grand total.", ro=True),
    "total_tax": _f("string", "Sum of all taxes.", ro=True),
    "prices_include_tax": _f("boolean", "True the prices included tax during checkout.", ro=True),
    "customer_id": _f("integer", "User ID who owns the order. 0 for guests."),
    "customer_ip_address": _f("string", "Customer's IP address.", ro=True),
    "customer_user_agent": _f("string", "User agent of the customer.", ro=True),
    "customer_note": _f("string", "Note left by customer during checkout."),
    "billing": _address(False),
    "shipping": _address(True),
    "payment_method": _f("string", "Payment method ID."),
    "payment_method_title": _f("string", "Payment method title."),
    "transaction_id": _f("string", "Unique transaction ID."),
    "date_paid": _date("The date the order was paid, in the site's timezone.", ro=True),
    "date_paid_gmt": _date("The date the order was paid, as GMT.", ro=True),
    "date_completed": _date("The date the order was completed, in the site's timezone.", ro=True),
    "date_completed_gmt": _date("The date the order was completed, as GMT.", ro=True),
    "cart_hash": _f("string", "MD5 hash of cart items to ensure orders are not modified.", ro=True),
    "meta_data": _meta(),
    "line_items": _arr("Line items data.", LINE_ITEM),
    "tax_lines": _arr("Tax lines data.", {"type": "object"}, ro=True),
    "shipping_lines": _arr("Shipping lines data.", {"type": "object"}),
    "fee_lines": _arr("Fee lines data.", {"type": "object"}),
    "coupon_lines": _arr("Coupons line data.", {"type": "object"}),
    "refunds": _arr(
        "List of refunds.",
        {
            "type": "object",
            "properties": {
                "id": _f("integer", "Refund ID.", ro=True),
                "reason": _f("string", "Refund reason.", ro=True),
                "total": _f("string", "Refund total.", ro=True),
            },
        },
        ro=True,
    ),
    "payment_url": _f("string", "Order payment URL.", ro=True),
    "is_editable": _f("boolean", "Whether an order can be edited.", ro=True),
    "needs_payment": _f("boolean", "Whether an order needs payment.", ro=True),
    "needs_processing": _f(
        "boolean", "Whether an order needs processing before it can be completed.", ro=True
    ),
    "set_paid": _f("boolean", "Define if the order is paid.", ctx=["edit"]),
    "currency_symbol": _f("string", "Currency symbol.", ro=True),
    "_links": _LINKS,
}

REFUND: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "date_created": _date("The date the order refund was created, in the site's timezone.", ro=True),
    "date_created_gmt": _date("The date the order refund was created, as GMT.", ro=True),
    "amount": _f("string", "Refund amount."),
    "reason": _f("string", "Reason for refund."),
    "refunded_by": _f("integer", "User ID of user who created the refund."),
    "refunded_payment": _f("boolean", "If the payment was refunded via the API.", ro=True),
    "meta_data": _meta(),
    "line_items": _arr("Line items data.", {"type": "object"}),
    "shipping_lines": _arr("Shipping lines data.", {"type": "object"}),
    "tax_lines": _arr("Tax lines data.", {"type": "object"}, ro=True),
    "fee_lines": _arr("Fee lines data.", {"type": "object"}),
    "api_refund": _f(
        "boolean",
        "When true, the payment gateway API is used to generate the refund.",
        ctx=["edit"],
        default=True,
    ),
    "api_restock": _f("boolean", "When true, refunded items are restocked.", ctx=["edit"], default=True),
    "_links": _LINKS,
}

WEBHOOK: dict[str, Any] = {
    "id": _f("integer", "Unique identifier for the resource.", ro=True),
    "name": _f("string", "A friendly name for the webhook."),
    "status": _f("string", "Webhook status.", enum=["active", "paused", "disabled"], default="active"),
    "topic": _f("string", "Webhook topic."),
    "resource": _f("string", "Webhook resource.", ro=True),
    "event": _f("string", "Webhook event.", ro=True),
    "hooks": _arr("WooCommerce action names associated with the webhook.", {"type": "string"}, ro=True),
    "delivery_url": _f("string", "The URL where the webhook payload is delivered.", ro=True, format="uri"),
    "secret": _f("string", "Secret key used to generate a hash of the delivered webhook.", ctx=["edit"]),
    "date_created": _date("The date the webhook was created, in the site's timezone.", ro=True),
    "date_created_gmt": _date("The date the webhook was created, as GMT.", ro=True),
    "date_modified": _date("The date the webhook was last modified, in the site's timezone.", ro=True),
    "date_modified_gmt": _date("The date the webhook was last modified, as GMT.", ro=True),
    "_links": _LINKS,
}

SYSTEM_STATUS: dict[str, Any] = {
    k: _f("object", f"{k.replace('_', ' ').capitalize()}.", ro=True)
    for k in ("environment", "database", "settings", "security", "theme")
} | {
    k: _f("array", f"{k.replace('_', ' ').capitalize()}.", ro=True)
    for k in ("active_plugins", "inactive_plugins", "dropins_mu_plugins", "pages", "post_type_counts")
}


def _schema(title: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": title,
        "type": "object",
        "properties": props,
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "product": _schema("product", PRODUCT),
    "product_variation": _schema("product_variation", VARIATION),
    "customer": _schema("customer", CUSTOMER),
    "shop_order": _schema("shop_order", ORDER),
    "shop_order_refund": _schema("shop_order_refund", REFUND),
    "webhook": _schema("webhook", WEBHOOK),
    "system_status": _schema("system_status", SYSTEM_STATUS),
}

_PAGING: dict[str, Any] = {
    "context": {
        "description": "Scope under which the request is made; determines fields present in response.",
        "type": "string",
        "enum": ["view", "edit"],
        "default": "view",
        "required": False,
    },
    "page": {
        "description": "Current page of the collection.",
        "type": "integer",
        "default": 1,
        "minimum": 1,
        "required": False,
    },
    "per_page": {
        "description": "Maximum number of items to be returned in result set.",
        "type": "integer",
        "default": 10,
        "minimum": 1,
        "maximum": 100,
        "required": False,
    },
    "search": {
        "description": "Limit results to those matching a string.",
        "type": "string",
        "required": False,
    },
    "exclude": {
        "description": "Ensure result set excludes specific IDs.",
        "type": "array",
        "items": {"type": "integer"},
        "default": [],
        "required": False,
    },
    "include": {
        "description": "Limit result set to specific ids.",
        "type": "array",
        "items": {"type": "integer"},
        "default": [],
        "required": False,
    },
    "offset": {
        "description": "Offset the result set by a specific number of items.",
        "type": "integer",
        "required": False,
    },
}
_DATES: dict[str, Any] = {
    k: {"description": d, "type": "string", "format": "date-time", "required": False}
    for k, d in (
        ("after", "Limit response to resources published after a given ISO8601 compliant date."),
        ("before", "Limit response to resources published before a given ISO8601 compliant date."),
        ("modified_after", "Limit response to resources modified after a given ISO8601 compliant date."),
        ("modified_before", "Limit response to resources modified before a given ISO8601 compliant date."),
    )
} | {
    "dates_are_gmt": {
        "description": (
            "Whether to consider GMT post dates when limiting response by published or modified date."
        ),
        "type": "boolean",
        "default": False,
        "required": False,
    },
    "order": {
        "description": "Order sort attribute ascending or descending.",
        "type": "string",
        "default": "desc",
        "enum": ["asc", "desc"],
        "required": False,
    },
    "orderby": {
        "description": "Sort collection by object attribute.",
        "type": "string",
        "default": "date",
        "enum": ["date", "id", "include", "title", "slug", "modified"],
        "required": False,
    },
    "parent": {
        "description": "Limit result set to those of particular parent IDs.",
        "type": "array",
        "items": {"type": "integer"},
        "default": [],
        "required": False,
    },
}


def collection_args(kind: str) -> dict[str, Any]:
    """GET args of a collection route (what OPTIONS lists and what the stand-in validates)."""
    if kind == "customer":
        return _PAGING | {
            "order": {
                "description": "Order sort attribute ascending or descending.",
                "type": "string",
                "default": "asc",
                "enum": ["asc", "desc"],
                "required": False,
            },
            "orderby": {
                "description": "Sort collection by object attribute.",
                "type": "string",
                "default": "name",
                "enum": ["id", "include", "name", "registered_date"],
                "required": False,
            },
            "email": {
                "description": "Limit result set to resources with a specific email.",
                "type": "string",
                "format": "email",
                "required": False,
            },
            "role": {
                "description": "Limit result set to resources with a specific role.",
                "type": "string",
                "default": "customer",
                "enum": ["all", "administrator", "customer", "shop_manager"],
                "required": False,
            },
        }
    if kind == "webhook":
        return _PAGING | {
            "status": {
                "description": "Limit result set to webhooks assigned a specific status.",
                "type": "string",
                "default": "all",
                "enum": ["all", "active", "paused", "disabled"],
                "required": False,
            },
            "order": _DATES["order"],
            "orderby": _DATES["orderby"],
        }
    if kind == "refund":
        return _PAGING | {
            "dp": {
                "description": "Number of decimal points to use in each resource.",
                "type": "integer",
                "default": 2,
                "required": False,
            }
        }
    args = _PAGING | _DATES
    if kind == "product":
        args = args | {
            "status": {
                "description": "Limit result set to products assigned a specific status.",
                "type": "string",
                "default": "any",
                "enum": ["any", "future", "trash", "draft", "pending", "private", "publish"],
                "required": False,
            },
            "type": {
                "description": "Limit result set to products assigned a specific type.",
                "type": "string",
                "enum": ["simple", "grouped", "external", "variable"],
                "required": False,
            },
            "sku": {
                "description": "Limit result set to products with specific SKU(s). Use commas to separate.",
                "type": "string",
                "required": False,
            },
            "slug": {
                "description": "Limit result set to products with a specific slug.",
                "type": "string",
                "required": False,
            },
            "stock_status": {
                "description": "Limit result set to products with specified stock status.",
                "type": "string",
                "enum": ["instock", "outofstock", "onbackorder"],
                "required": False,
            },
            "category": {
                "description": "Limit result set to products assigned a specific category ID.",
                "type": "string",
                "required": False,
            },
        }
        args["orderby"] = dict(
            args["orderby"],
            enum=[
                "date",
                "id",
                "include",
                "title",
                "slug",
                "price",
                "popularity",
                "rating",
                "menu_order",
                "modified",
            ],
        )
    elif kind == "variation":
        args = args | {
            "status": {
                "description": "Limit result set to variations assigned a specific status.",
                "type": "string",
                "default": "any",
                "enum": ["any", "trash", "draft", "pending", "private", "publish"],
                "required": False,
            },
            "sku": {
                "description": "Limit result set to variations with specific SKU(s).",
                "type": "string",
                "required": False,
            },
        }
    elif kind == "order":
        args = args | {
            "status": {
                "description": "Limit result set to orders which have specific statuses.",
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": [
                        "any",
                        "trash",
                        "auto-draft",
                        "pending",
                        "processing",
                        "on-hold",
                        "completed",
                        "cancelled",
                        "refunded",
                        "failed",
                        "checkout-draft",
                    ],
                },
                "default": ["any"],
                "required": False,
            },
            "customer": {
                "description": "Limit result set to orders assigned a specific customer.",
                "type": "integer",
                "required": False,
            },
            "product": {
                "description": "Limit result set to orders assigned a specific product.",
                "type": "integer",
                "required": False,
            },
            "dp": {
                "description": "Number of decimal points to use in each resource.",
                "type": "integer",
                "default": 2,
                "required": False,
            },
        }
    return args


def item_args(kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": {"description": "Unique identifier for the resource.", "type": "integer", "required": False}
    }
    base["context"] = _PAGING["context"]
    return base
