"""The PayPal Gateway block: REST app credentials, the webhook id, and how to reach the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

if TYPE_CHECKING:
    from clients.paypal import PayPalClient

PAYPAL_BASE_URLS = {
    "sandbox": "https://api-m.sandbox.paypal.com",
    "production": "https://api-m.paypal.com",
}


class PayPalGateway(CredentialsBlock):
    """PayPal REST app credentials for orders, captures, refunds and transaction search.

    The API address follows `environment` unless `base_url` is given (the sandbox or a staging
    proxy). `client()` builds a `clients.paypal.PayPalClient` aimed at it.

    Example:
        ```python
        from blocks import PayPalGateway

        gateway = PayPalGateway.load("BLOCK_NAME")
        client = gateway.client()
        ```
    """

    _block_type_name = "PayPal Gateway"
    _block_type_slug = "nxt-paypal-gateway"
    _logo_url = LOGOS["paypal"]
    _documentation_url = docs_url("paypal-gateway")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    client_id: str = Field(title="Client ID", description="Client ID of the PayPal REST app.")
    client_secret: SecretStr = Field(description="Secret of the PayPal REST app.")
    environment: Literal["sandbox", "production"] = Field(
        default="production",
        description="PayPal environment: sandbox (test money) or production (live).",
    )
    base_url: HttpURL | None = Field(
        default=None,
        title="Base URL",
        description="API address; leave empty to use the environment's PayPal address.",
    )
    webhook_id: str | None = Field(
        default=None,
        title="Webhook ID",
        description="ID of the webhook subscription, needed to verify PayPal's signatures.",
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file for an API address whose certificate comes from its own "
            "certificate authority (the sandbox with --tls); when empty, SSL_CERT_FILE is honoured."
        ),
    )
    timeout_ms: int = Field(
        default=30_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description="How long to wait for PayPal to connect, accept or send data, in milliseconds.",
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        description=(
            "Retries of a request that failed for a passing reason (timeouts, 429, 5xx); payment "
            "requests are retried with the same PayPal-Request-Id, so PayPal never does them twice."
        ),
    )

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else PayPal's address for `environment`."""
        return self.base_url or PAYPAL_BASE_URLS[self.environment]

    def client(self) -> PayPalClient:
        """Build the PayPal REST client for this app (the only place the secret is unwrapped)."""
        from clients._config import RetryPolicy
        from clients.paypal import PayPalClient

        return PayPalClient(
            base_url=self.api_base_url,
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
            verify=self.ca_bundle or True,
            timeout=self.timeout_ms / 1000,
            retry=RetryPolicy(max_retries=self.max_retries),
        )

    def get_client(self) -> PayPalClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
