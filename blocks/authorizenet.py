"""The Authorize.Net Gateway block: API login, transaction key, signature key, and how to reach the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

if TYPE_CHECKING:
    from clients.authorizenet import AuthorizeNetClient

API_PATH = "/xml/v1/request.api"

AUTHORIZENET_BASE_URLS = {
    "sandbox": "https://apitest.authorize.net",
    "production": "https://api.authorize.net",
}


class AuthorizeNetGateway(CredentialsBlock):
    """Authorize.Net merchant credentials for transactions and settlement reports.

    Requests go to `<api address>/xml/v1/request.api`; the address follows `environment` unless
    `base_url` is given (the sandbox or a staging proxy). `client()` builds a
    `clients.authorizenet.AuthorizeNetClient` aimed at it.

    Example:
        ```python
        from blocks import AuthorizeNetGateway

        gateway = AuthorizeNetGateway.load("BLOCK_NAME")
        client = gateway.client()
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
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description=(
            "ISO 4217 currency of the merchant account (an Authorize.Net account settles in one currency, "
            "and its reports do not name it)."
        ),
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
        description="How long to wait for Authorize.Net to connect, accept or send data, in milliseconds.",
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        description=(
            "Retries of a request that failed for a passing reason; a transaction is retried only when it "
            "never reached Authorize.Net."
        ),
    )

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else Authorize.Net's address for `environment`."""
        return self.base_url or AUTHORIZENET_BASE_URLS[self.environment]

    @property
    def api_url(self) -> str:
        """The full request URL (`<api address>/xml/v1/request.api`)."""
        base = self.api_base_url
        return base if base.endswith(API_PATH) else base + API_PATH

    def client(self) -> AuthorizeNetClient:
        """Build the Authorize.Net client for this merchant (the only place the key is unwrapped)."""
        from clients._config import RetryPolicy
        from clients.authorizenet import AuthorizeNetClient

        return AuthorizeNetClient(
            api_url=self.api_url,
            api_login_id=self.api_login_id,
            transaction_key=self.transaction_key.get_secret_value(),
            verify=self.ca_bundle or True,
            timeout=self.timeout_ms / 1000,
            retry=RetryPolicy(max_retries=self.max_retries),
        )

    def get_client(self) -> AuthorizeNetClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
