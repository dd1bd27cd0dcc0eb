"""The Authorize.Net Gateway block: API login, transaction key and signature key."""

from __future__ import annotations

from typing import Literal

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

AUTHORIZENET_BASE_URLS = {
    "sandbox": "https://apitest.authorize.net",
    "production": "https://api.authorize.net",
}


class AuthorizeNetGateway(Block):
    """Authorize.Net merchant credentials for transactions and settlement reports.

    Requests go to `<api address>/xml/v1/request.api`; the address follows `environment` unless
    `base_url` is given (the sandbox or a staging proxy). The client is built by a later issue.

    Example:
        ```python
        from blocks import AuthorizeNetGateway

        gateway = AuthorizeNetGateway.load("BLOCK_NAME")
        print(gateway.api_base_url)
        ```
    """

    _block_type_name = "Authorize.Net Gateway"
    _block_type_slug = "nxt-authorizenet-gateway"
    _logo_url = LOGOS["authorizenet"]
    _documentation_url = docs_url("authorizenet-gateway")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    api_login_id: str = Field(title="API login ID", description="API login ID of the merchant.")
    transaction_key: SecretStr = Field(description="Transaction key of the merchant.")
    signature_key: SecretStr | None = Field(
        default=None,
        description="Signature key, used to verify webhooks (X-ANET-Signature).",
    )
    environment: Literal["sandbox", "production"] = Field(
        default="production",
        description="Authorize.Net environment: sandbox (apitest) or production (live).",
    )
    base_url: HttpURL | None = Field(
        default=None,
        title="Base URL",
        description="API address; leave empty to use the environment's Authorize.Net address.",
    )

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else Authorize.Net's address for `environment`."""
        return self.base_url or AUTHORIZENET_BASE_URLS[self.environment]
