"""The Square Gateway block: access token, locations, webhook signature key, and the SDK client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from blocks._meta import LOGOS, FieldValueError, HttpURL, docs_url

if TYPE_CHECKING:
    from square import Square

SQUARE_BASE_URLS = {
    "sandbox": "https://connect.squareupsandbox.com",
    "production": "https://connect.squareup.com",
}


class SquareGateway(CredentialsBlock):
    """Square credentials for payments, refunds and payouts of the seller's locations.

    The API address follows `environment` unless `base_url` is given (the sandbox or a staging
    proxy). `client()` returns the official `square.Square` client aimed at it, with this block's
    timeout, retries and CA bundle.

    Example:
        ```python
        from blocks import SquareGateway

        gateway = SquareGateway.load("BLOCK_NAME")
        for payment in gateway.client().payments.list(location_id=gateway.location_ids[0]):
            print(payment.id, payment.total_money)
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
    location_ids: list[str] = Field(
        default_factory=list,
        title="Location IDs",
        description=(
            "Locations whose payments and payouts are read; empty means every location the token sees."
        ),
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
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file for an API address whose certificate comes from its own "
            "certificate authority (the sandbox with --tls); when empty, the public CAs (certifi) or "
            "SSL_CERT_FILE are trusted."
        ),
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
    timeout_ms: int = Field(
        default=30_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description=(
            "How long one request to Square may take, in milliseconds (the SDK's own default is 60 s)."
        ),
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description=(
            "Retries of a request Square answered 408, 409, 429 or 5xx, with backoff honouring Retry-After; "
            "safe for writes because every Square write carries an idempotency key."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _single_location_id(cls, data: Any) -> Any:
        """Documents saved before `location_ids` had one `location_id`: read it as a list of one."""
        if isinstance(data, dict) and "location_id" in data:
            data = dict(data)
            old = data.pop("location_id")
            if old and not data.get("location_ids"):
                data["location_ids"] = [old]
        return data

    @field_validator("location_ids")
    @classmethod
    def _clean_location_ids(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for raw in value:
            lid = raw.strip()
            if not lid or any(ch.isspace() for ch in lid):
                raise FieldValueError(raw, "is not a Square location ID (e.g. L88917AVBK2S5)")
            if lid not in out:
                out.append(lid)
        return out

    @property
    def api_base_url(self) -> str:
        """`base_url` when given, else Square's address for `environment`."""
        return self.base_url or SQUARE_BASE_URLS[self.environment]

    def client(self) -> Square:
        """Build the official Square client for this account.

        The `httpx` client under it trusts `ca_bundle` (when set), does not follow redirects, and
        times out after `timeout_ms`; every request the SDK sends is retried at most `max_retries`
        times (the SDK's default is 2 per request, set only through each call's `request_options`, so
        the block installs it as the client's default; a call's own `request_options` still win).
        """
        import ssl

        import httpx
        from square import Square

        timeout = self.timeout_ms / 1000
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else True
        )
        http = httpx.Client(verify=verify, timeout=timeout, follow_redirects=False)
        client = Square(
            token=self.access_token.get_secret_value(),
            base_url=self.api_base_url,
            httpx_client=http,
            timeout=timeout,
        )
        _default_max_retries(client, self.max_retries)
        return client

    def get_client(self) -> Square:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()


def _default_max_retries(client: Square, max_retries: int) -> None:
    """Make `max_retries` the default of every request `client` sends.

    squareup 46 reads retries only from each call's `request_options` (default 2); its sub-clients
    all send through `client._client_wrapper.httpx_client`, which is replaced by one that fills in the
    default. tests/sandbox/test_square_client.py counts the attempts, so an SDK that moves this fails
    there, not in production.
    """
    from square.core.http_client import HttpClient
    from square.core.request_options import RequestOptions

    wrapper = client._client_wrapper
    inner = wrapper.httpx_client

    class _DefaultRetries(HttpClient):
        def request(self, *args: Any, request_options: RequestOptions | None = None, **kwargs: Any) -> Any:
            options: RequestOptions = {"max_retries": max_retries, **(request_options or {})}
            return super().request(*args, request_options=options, **kwargs)

    wrapper.httpx_client = _DefaultRetries(
        httpx_client=inner.httpx_client,
        base_timeout=inner.base_timeout,
        base_headers=inner.base_headers,
        base_url=inner.base_url,
    )
