"""Constants of the WooCommerce stand-in: the versions it claims, its limits, and WooCommerce's own tables.

Constants only (no logic), so every other module can import it.
"""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "BATCH_LIMIT",
    "JSON_CT",
    "KINDS",
    "MAX_FAILURES",
    "OAUTH_WINDOW",
    "SCHEMA_NAMES",
    "TOPIC_HOOKS",
    "VALID_TOPICS",
    "WC_VERSION",
    "WP_VERSION",
]

API_PREFIX = "/wp-json/wc/v3"
WC_VERSION = "9.4.2"
WP_VERSION = "6.7.1"
OAUTH_WINDOW = 15 * 60
BATCH_LIMIT = 100
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures

JSON_CT = "application/json; charset=UTF-8"

#: The record kinds of the world the API serves, and the schema (WooCommerce post type) of each.
KINDS = ("product", "variation", "customer", "order")
SCHEMA_NAMES = {
    "product": "product",
    "variation": "product_variation",
    "customer": "customer",
    "order": "shop_order",
}

#: Webhook topics: the action each resource's topics hang on, and every topic a webhook may take.
TOPIC_HOOKS = {
    "coupon": "woocommerce_process_shop_coupon_meta",
    "customer": "user_register",
    "order": "woocommerce_new_order",
    "product": "woocommerce_new_product",
}
VALID_TOPICS = {f"{r}.{e}" for r in TOPIC_HOOKS for e in ("created", "updated", "deleted", "restored")}
VALID_TOPICS.discard("customer.restored")
VALID_TOPICS.add("product.published")
