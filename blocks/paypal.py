"""The PayPal Gateway block: REST app credentials and the webhook id."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

PAYPAL_BASE_URLS = {
    "sandbox": "https://api-m.sandbox.paypal.com",
    "production": "https://api-m.paypal.com",
}


class PayPalGateway(Block):
    """PayPal REST app credentials for orders, captures, refunds and transaction search.

    The API address follows `environment` unless `base_url` is given (the sandbox or a staging
    proxy). The client is built by a later issue.

    Example:
        ```python
        from blocks import PayPalGateway

        gateway = PayPalGateway.load("BLOCK_NAME")
        print(gateway.api_base_url)
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

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else PayPal's address for `environment`."""
        return self.base_url or PAYPAL_BASE_URLS[self.environment]
