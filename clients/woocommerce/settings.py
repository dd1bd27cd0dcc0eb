"""WooCommerce REST API constants (no logic).

Facts from WooCommerce's source, see `reference/vendor-protocols.md` section 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

API_PREFIX = "/wp-json"
DEFAULT_VERSION = "wc/v3"
PER_PAGE_MAX = 100  # larger values get 400 rest_invalid_param
BATCH_MAX = 100  # items summed over create+update+delete; more gets 413
TOTAL_HEADER = "X-WP-Total"
TOTAL_PAGES_HEADER = "X-WP-TotalPages"
# Most pages one paged read fetches: 10 million records at 100 per page. A larger (or
# inconsistent) X-WP-TotalPages is not believed, and a read without totals stops here.
MAX_TOTAL_PAGES = 100_000
NO_ROUTE_CODE = "rest_no_route"
# The 404 codes that say a record does not exist: `woocommerce_rest_<post type>_invalid_id`
# (`..._product_invalid_id`, `..._shop_order_invalid_id`, `..._product_variation_invalid_id`, ...) and,
# for customers, `wc_user_invalid_id` (current WooCommerce looks the user up with
# `Users::get_user_in_current_site` on GET, PUT and DELETE) or `woocommerce_rest_invalid_id` (older
# releases). Any other 404 (`rest_no_route`, a plugin's code, a bare HTML page) says nothing about
# the record.
GONE_CODE = re.compile(r"woocommerce_rest_(?:[a-z0-9]+(?:_[a-z0-9]+)*_)?invalid_id|wc_user_invalid_id")


@dataclass(frozen=True)
class Resource:
    """How one WooCommerce resource is read (incrementally, by ids) and written.

    Attributes:
        path: Collection path under the API root; `{parent_id}` is filled in by the caller.
        cursor_field: Field whose maximum is kept as the sync cursor.
        modified_after: Whether the collection accepts `modified_after` (with `dates_are_gmt`).
            Without it the whole collection is read and unchanged rows are skipped by hash.
        orderby: Sort that keeps paging stable for an incremental read (`modified` and `date`
            get `ID` appended as a tie-breaker by WooCommerce).
        mutable: Records change after creation, so they are merged on id, not appended.
        statuses: `status` values whose listings together show every record. WordPress's
            `any` leaves trashed records out, and an `any` in a list of statuses wins over the
            rest (`WC_REST_Orders_Controller::prepare_objects_query`), so trash is its own
            listing. Empty: the default listing shows every record.
        list_params: Fixed query parameters a listing needs to show every record (customers
            are listed with `role=customer` unless asked for `role=all`).
        batch_path: The batch endpoint (`{parent_id}` filled in by the caller), or None.
    """

    path: str
    cursor_field: str
    modified_after: bool
    orderby: str
    mutable: bool = True
    statuses: tuple[str, ...] = ()
    list_params: tuple[tuple[str, str], ...] = ()
    batch_path: str | None = None


RESOURCES: dict[str, Resource] = {
    "products": Resource(
        "products",
        "date_modified_gmt",
        True,
        "modified",
        statuses=("any", "trash"),
        batch_path="products/batch",
    ),
    "variations": Resource(
        "products/{parent_id}/variations",
        "date_modified_gmt",
        True,
        "modified",
        batch_path="products/{parent_id}/variations/batch",
    ),
    "orders": Resource(
        "orders",
        "date_modified_gmt",
        True,
        "modified",
        statuses=("any", "trash"),
        batch_path="orders/batch",
    ),
    "refunds": Resource(
        "orders/{parent_id}/refunds",
        "date_created_gmt",
        True,
        "date",
    ),
    # Customers have no modified filter; read in full, ordered by id (their default is asc).
    "customers": Resource(
        "customers",
        "date_modified_gmt",
        False,
        "id",
        list_params=(("role", "all"),),
        batch_path="customers/batch",
    ),
}
