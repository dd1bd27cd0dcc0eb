"""A faithful WooCommerce 9 store: the REST v3 API under `/wp-json/wc/v3`, its auth, and its webhooks.

It reads the shared `World` and renders it the way WooCommerce's controllers do: money as decimal strings
(but `line_items[].price` a number), dates without a zone (`*_gmt` is UTC, the others site time), PHP's
escaped slashes. Serialized records are cached per id and invalidated on write; list pages are joined from
cached bytes, and the sorted id list for a query is cached per resource version, so paging a
100,000-product store stays cheap. Where this differs from a real store is listed in docs/sandbox.md.

Layout (imports point down this list, never up):

    settings        constants: versions, limits, webhook topics
    schemas         the JSON Schemas `OPTIONS` returns and the validators read
    encoding        PHP/WordPress wire encoding: JSON, money, dates, query strings
    errors          `WooError` (a WP_Error) and the error tables
    validation      WordPress's schema checks on a dispatched request
    store           `Store`: the records, indexes, keys, webhooks and caches (the state)
    rendering       records as the controllers render them, and the byte cache
    rest            the REST envelope: parsed request, JSON responses, `_fields`, paging
    auth            REST authentication (Basic/query/OAuth 1.0a) and key permissions
    queries         listing filters, sorting and the GET handlers
    webhooks        topics, deliveries, the ping, and the webhook routes
    gateways        the payment plugins: refunds at the gateway (the world's ledger), paid orders
    writes          create/update/delete/trash/restore/touch and their REST handlers
    batch           the batch endpoints, item by item as WooCommerce runs them
    refunds         refunds and their routes
    system_status   the `/system_status` report
    routes          the route table and the dispatcher
    admin           the `/_sandbox/woocommerce` routes
    service         `WooCommerceService`, wiring it all into a `Service`
"""

from __future__ import annotations

from .encoding import php_json
from .errors import WooError
from .service import WooCommerceService
from .settings import API_PREFIX
from .webhooks import sign_webhook

__all__ = ["API_PREFIX", "WooCommerceService", "WooError", "php_json", "sign_webhook"]
