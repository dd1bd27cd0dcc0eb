"""The Square Gateway block: access token, location and webhook signature key."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

SQUARE_BASE_URLS = {
    "sandbox": "https://connect.squareupsandbox.com",
    "production": "https://connect.squareup.com",
}


class SquareGateway(Block):
    """Square credentials for payments, refunds and payouts of one location.

    The API address follows `environment` unless `base_url` is given (the sandbox or a staging
    proxy). The client is built by a later issue.

    Example:
        ```python
        from blocks import SquareGateway

        gateway = SquareGateway.load("BLOCK_NAME")
        print(gateway.api_base_url, gateway.location_id)
        ```
    """

    _block_type_name = "Square Gateway"
    _block_type_slug = "nxt-square-gateway"
    _logo_url = LOGOS["square"]
    _documentation_url = docs_url("square-gateway")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    access_token: SecretStr = Field(description="Access token of the Square application.")
    application_id: str | None = Field(
        default=None, title="Application ID", description="ID of the Square application."
    )
    location_id: str | None = Field(
        default=None,
        title="Location ID",
        description="Location whose payments are read; empty means the main location.",
    )
    environment: Literal["sandbox", "production"] = Field(
        default="production",
        description="Square environment: sandbox (test money) or production (live).",
    )
    base_url: HttpURL | None = Field(
        default=None,
        title="Base URL",
        description="API address; leave empty to use the environment's Square address.",
    )
    webhook_signature_key: SecretStr | None = Field(
        default=None,
        description="Signature key of the webhook subscription, used to verify Square's events.",
    )
    notification_url: HttpURL | None = Field(
        default=None,
        title="Notification URL",
        description="Public URL Square posts webhooks to, exactly as in the subscription.",
    )

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else Square's address for `environment`."""
        return self.base_url or SQUARE_BASE_URLS[self.environment]
