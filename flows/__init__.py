"""Prefect flows: what runs. The public Python API of NXT Integrations."""

from __future__ import annotations

from flows.woocommerce_sync import (
    woocommerce_status,
    woocommerce_sync,
    woocommerce_sync_history,
    woocommerce_sync_records,
)

__all__ = [
    "woocommerce_status",
    "woocommerce_sync",
    "woocommerce_sync_history",
    "woocommerce_sync_records",
]
