"""Clients on the sandbox's Stripe stand-in: the official SDK as the Stripe Gateway block builds it, and raw
httpx for what the SDK hides (headers, Basic auth, malformed requests)."""

from __future__ import annotations

from typing import Any

import httpx
import stripe

from blocks.stripe import StripeGateway


def stripe_sdk(
    sb: Any, *, retries: int = 0, timeout_ms: int = 10_000, key: str | None = None
) -> stripe.StripeClient:
    """`StripeGateway(...).client()` aimed at the sandbox (trusting its CA with tls=True)."""
    creds = sb.credentials["stripe"]
    return StripeGateway(
        secret_key=key or creds["api_key"],
        webhook_secret=creds["webhook_secret"],
        base_url=sb.urls["stripe"],
        ca_bundle=sb.ca_file,
        max_network_retries=retries,
        timeout_ms=timeout_ms,
    ).client()


def stripe_http(sb: Any, **kwargs: Any) -> httpx.Client:
    """httpx on the stand-in with the secret key as a Bearer token."""
    creds = sb.credentials["stripe"]
    kwargs.setdefault("headers", {"Authorization": f"Bearer {creds['api_key']}"})
    if sb.ca_file:
        kwargs.setdefault("verify", sb.ssl_context())
    return httpx.Client(base_url=sb.urls["stripe"], timeout=10, **kwargs)
