"""`GET /system_status`: the environment report a WooCommerce 9 site gives (versions, plugins, settings).

Fixed values describing a plausible nginx/PHP 8.2 host with the gateway plugins this project talks to;
only the URLs, currency, counts and `secure_connection` come from the store and the request.
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from sandbox.world import ORDER_STATUSES

from .rest import Req, json_response
from .settings import WC_VERSION, WP_VERSION
from .store import Store

__all__ = ["system_status"]


def system_status(st: Store, req: Req) -> Response:
    w = st.world
    counts = dict.fromkeys(ORDER_STATUSES, 0)
    for o in w.orders.values():
        counts[o.status] = counts.get(o.status, 0) + 1
    data = {
        "environment": {
            "home_url": st.base_url,
            "site_url": st.base_url,
            "store_id": hashlib.md5(f"store-{st.seed}".encode()).hexdigest(),
            "version": WC_VERSION,
            "log_directory": "/var/www/html/wp-content/uploads/wc-logs/",
            "log_directory_writable": True,
            "wp_version": WP_VERSION,
            "wp_multisite": False,
            "wp_memory_limit": 268435456,
            "wp_debug_mode": False,
            "wp_cron": True,
            "language": "en_US",
            "external_object_cache": None,
            "server_info": "nginx/1.25.3",
            "php_version": "8.2.15",
            "php_post_max_size": 67108864,
            "php_max_execution_time": 30,
            "php_max_input_vars": 1000,
            "curl_version": "8.5.0, OpenSSL/3.0.13",
            "suhosin_installed": False,
            "max_upload_size": 67108864,
            "mysql_version": "8.0.36",
            "mysql_version_string": "8.0.36",
            "default_timezone": "UTC",
            "fsockopen_or_curl_enabled": True,
            "soapclient_enabled": True,
            "domdocument_enabled": True,
            "gzip_enabled": True,
            "mbstring_enabled": True,
            "remote_post_successful": True,
            "remote_post_response": 200,
            "remote_get_successful": True,
            "remote_get_response": 200,
        },
        "database": {
            "wc_database_version": WC_VERSION,
            "database_prefix": "wp_",
            "maxmind_geoip_database": "",
            "database_tables": {"woocommerce": {}, "other": {}},
            "database_size": {"data": 42.1, "index": 12.3},
        },
        "active_plugins": [
            {
                "plugin": "woocommerce/woocommerce.php",
                "name": "WooCommerce",
                "version": WC_VERSION,
                "version_latest": WC_VERSION,
                "url": "https://woocommerce.com/",
                "author_name": "Automattic",
                "author_url": "https://woocommerce.com",
                "network_activated": False,
            },
            {
                "plugin": "woocommerce-gateway-stripe/woocommerce-gateway-stripe.php",
                "name": "WooCommerce Stripe Gateway",
                "version": "8.9.0",
                "version_latest": "8.9.0",
                "url": "https://woocommerce.com/products/stripe/",
                "author_name": "Stripe",
                "author_url": "https://woocommerce.com/",
                "network_activated": False,
            },
            {
                "plugin": "woocommerce-paypal-payments/woocommerce-paypal-payments.php",
                "name": "WooCommerce PayPal Payments",
                "version": "2.9.4",
                "version_latest": "2.9.4",
                "url": "https://woocommerce.com/products/woocommerce-paypal-payments/",
                "author_name": "WooCommerce",
                "author_url": "https://woocommerce.com",
                "network_activated": False,
            },
            {
                "plugin": "woocommerce-square/woocommerce-square.php",
                "name": "WooCommerce Square",
                "version": "4.8.3",
                "version_latest": "4.8.3",
                "url": "https://woocommerce.com/products/square/",
                "author_name": "WooCommerce",
                "author_url": "https://woocommerce.com/",
                "network_activated": False,
            },
            {
                "plugin": "woocommerce-gateway-authorize-net-cim/woocommerce-gateway-authorize-net-cim.php",
                "name": "WooCommerce Authorize.Net Gateway",
                "version": "3.10.6",
                "version_latest": "3.10.6",
                "url": "https://woocommerce.com/products/authorize-net/",
                "author_name": "SkyVerge",
                "author_url": "https://woocommerce.com/",
                "network_activated": False,
            },
        ],
        "inactive_plugins": [],
        "dropins_mu_plugins": {"dropins": [], "mu_plugins": []},
        "theme": {
            "name": "Storefront",
            "version": "4.6.0",
            "version_latest": "4.6.0",
            "author_url": "https://woocommerce.com/",
            "is_child_theme": False,
            "has_woocommerce_support": True,
            "has_woocommerce_file": False,
            "has_outdated_templates": False,
            "overrides": [],
            "parent_name": "",
            "parent_version": "",
            "parent_version_latest": "",
            "parent_author_url": "",
        },
        "settings": {
            "api_enabled": True,
            "force_ssl": False,
            "currency": w.currency,
            "currency_symbol": "&#36;" if w.currency == "USD" else w.currency,
            "currency_position": "left",
            "thousand_separator": ",",
            "decimal_separator": ".",
            "number_of_decimals": 2,
            "geolocation_enabled": False,
            "taxonomies": {
                "external": "external",
                "grouped": "grouped",
                "simple": "simple",
                "variable": "variable",
            },
            "product_visibility_terms": {
                "exclude-from-catalog": "exclude-from-catalog",
                "exclude-from-search": "exclude-from-search",
                "featured": "featured",
                "outofstock": "outofstock",
            },
            "woocommerce_com_connected": "no",
            "enforce_approved_download_dirs": True,
            "order_datastore": "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore",
            "HPOS_enabled": True,
            "HPOS_sync_enabled": False,
        },
        "security": {"secure_connection": req.https, "hide_errors": True},
        "pages": [
            {
                "page_name": "Shop base",
                "page_id": "5",
                "page_set": True,
                "page_exists": True,
                "page_visible": True,
                "shortcode": "",
                "block": "",
                "shortcode_required": False,
                "shortcode_present": False,
                "block_present": False,
                "block_required": False,
            },
            {
                "page_name": "Cart",
                "page_id": "6",
                "page_set": True,
                "page_exists": True,
                "page_visible": True,
                "shortcode": "[woocommerce_cart]",
                "block": "woocommerce/cart",
                "shortcode_required": False,
                "shortcode_present": False,
                "block_present": True,
                "block_required": True,
            },
            {
                "page_name": "Checkout",
                "page_id": "7",
                "page_set": True,
                "page_exists": True,
                "page_visible": True,
                "shortcode": "[woocommerce_checkout]",
                "block": "woocommerce/checkout",
                "shortcode_required": False,
                "shortcode_present": False,
                "block_present": True,
                "block_required": True,
            },
        ],
        "post_type_counts": [
            {"type": "product", "count": str(len(w.products))},
            {"type": "product_variation", "count": str(len(w.variations))},
            {"type": "shop_order_placehold", "count": str(len(w.orders))},
        ],
        "logging": {
            "logging_enabled": True,
            "default_handler": "Automattic\\WooCommerce\\Internal\\Admin\\Logging\\LogHandlerFileV2",
            "retention_period_days": 30,
            "level_threshold": "none",
            "log_directory_size": "0 B",
        },
    }
    return json_response(data)
