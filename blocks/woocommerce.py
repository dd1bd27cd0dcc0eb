"""The WooCommerce Store block: one WooCommerce site, its REST API keys and its sync settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

if TYPE_CHECKING:
    from clients.woocommerce import WooCommerceClient

ConflictResolution = Literal["timestamp", "manual", "wc_priority", "nxt_priority"]


class WooCommerceStore(CredentialsBlock):
    """A WooCommerce store: where it is, its REST API keys, and how to sync with it.

    `client()` builds a `clients.woocommerce.WooCommerceClient` aimed at `site_url`, so the same
    block can point at the real store, a staging copy or the local sandbox.

    Example:
        ```python
        from blocks import WooCommerceStore

        store = WooCommerceStore.load("BLOCK_NAME")
        client = store.client()
        ```
    """

    _block_type_name = "WooCommerce Store"
    _block_type_slug = "nxt-woocommerce-store"
    _logo_url = LOGOS["woocommerce"]
    _documentation_url = docs_url("woocommerce-store")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    site_url: HttpURL = Field(
        title="Site URL",
        description="Address of the store (or of the sandbox), e.g. https://yourstore.com.",
    )
    consumer_key: SecretStr = Field(description="REST API consumer key (ck_...).")
    consumer_secret: SecretStr = Field(description="REST API consumer secret (cs_...).")
    api_version: str = Field(
        default="wc/v3",
        title="API version",
        description="REST API namespace under /wp-json/.",
    )
    verify_tls: bool = Field(
        default=True,
        title="Verify TLS",
        description="Check the store's TLS certificate; turn off only for a local test store.",
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file for a store whose certificate comes from its own "
            "certificate authority; when empty, SSL_CERT_FILE is honoured."
        ),
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret the store signs its webhooks with (X-WC-Webhook-Signature).",
    )
    batch_size: int = Field(
        default=50, ge=1, le=100, description="Records per page and per batch push (1-100)."
    )
    max_retries: int = Field(default=3, ge=0, description="Retries of a failed request before giving up.")
    retry_delay_ms: int = Field(
        default=1000,
        ge=0,
        title="Retry delay (ms)",
        description="Delay before the first retry, in milliseconds; later retries back off.",
    )
    rate_limit_rpm: int = Field(
        default=600,
        ge=1,
        title="Rate limit (requests per minute)",
        description="Most requests per minute sent to the store.",
    )
    realtime_enabled: bool = Field(
        default=True,
        title="Real-time enabled",
        description="Turn the store's webhooks into sync runs as they arrive.",
    )
    conflict_resolution: ConflictResolution = Field(
        default="timestamp",
        description=(
            "What wins when a record changed on both sides: the newer timestamp, a person "
            "(manual), the store (wc_priority) or the hub (nxt_priority)."
        ),
    )
    max_concurrency: int = Field(default=4, ge=1, description="Most requests in flight to the store at once.")
    timeout_ms: int = Field(
        default=30_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description=(
            "How long to wait for the store to connect, accept or send data, in milliseconds "
            "(the old service's API_TIMEOUT); one attempt may take at most twice that, and at "
            "least 60 s, in all."
        ),
    )

    def client(self, *, before_request: Callable[[], Awaitable[None]] | None = None) -> WooCommerceClient:
        """Build the WooCommerce REST client for this store.

        Args:
            before_request: Awaited before every request (e.g. to take a slot of a rate limit shared with
                other workers).
        """
        from clients._config import RateLimit, RetryPolicy
        from clients.woocommerce import WooCommerceClient

        return WooCommerceClient(
            base_url=self.site_url,
            consumer_key=self.consumer_key.get_secret_value(),
            consumer_secret=self.consumer_secret.get_secret_value(),
            api_version=self.api_version,
            verify=self.ca_bundle or self.verify_tls,
            retry=RetryPolicy(max_retries=self.max_retries, base_delay=self.retry_delay_ms / 1000),
            rate_limit=RateLimit(rpm=self.rate_limit_rpm),
            max_concurrency=self.max_concurrency,
            timeout=self.timeout_ms / 1000,
            before_request=before_request,
        )

    def get_client(self) -> WooCommerceClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
