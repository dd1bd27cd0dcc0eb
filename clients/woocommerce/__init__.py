"""WooCommerce REST API v3 client: `WooCommerceClient`, `Page`, `BatchResult`.

Mechanics live in private modules (`_auth`, `_pages`, `_batch`), constants in `settings`.
"""

from __future__ import annotations

from ._batch import BatchResult
from ._client import WooCommerceClient
from ._pages import Page

__all__ = ["BatchResult", "Page", "WooCommerceClient"]
