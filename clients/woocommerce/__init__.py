"""WooCommerce REST API v3 client: `WooCommerceClient`, `Page`, `BatchResult`.

Mechanics live in private modules (`_auth`, `_pages`, `_reads`, `_batch`), constants in `settings`.
"""

from __future__ import annotations

from ._batch import BatchResult
from ._client import WooCommerceClient
from ._pages import Page
from ._reads import FetchResult

__all__ = ["BatchResult", "FetchResult", "Page", "WooCommerceClient"]
