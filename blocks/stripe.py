"""The Stripe Gateway block: Stripe API keys and webhook secret, and the `stripe.StripeClient` they build."""

from __future__ import annotations

import functools
import os
import ssl
from typing import TYPE_CHECKING, Any

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url
from clients import InvalidConfig

if TYPE_CHECKING:
    import stripe


@functools.lru_cache(maxsize=16)
def _ca_context(path: str) -> ssl.SSLContext:
    """A TLS context trusting the CA bundle at `path` (cached: loading one costs tens of milliseconds)."""
    if not os.path.isfile(path):
        raise InvalidConfig(f"ca_bundle={path!r} is not a file; give the path of a CA certificate file (PEM)")
    try:
        return ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise InvalidConfig(f"{path} is not a CA bundle (PEM certificates): {exc.reason or exc}") from None


@functools.cache
def _http_client_class() -> type[Any]:
    """`stripe.HTTPXClient`, made to trust one CA bundle and to send its form bodies as content.

    The SDK builds its httpx clients from the process-wide `stripe.ca_bundle_path`; changing that would
    change every Stripe client in the process, so this client replaces its own two httpx clients instead
    (sync and async, so `*_async` calls trust the bundle too). It also hands httpx the SDK's encoded form
    body as `content=` (httpx deprecates `data=<str>`, one warning per request).
    """
    import stripe

    class _HTTPXClient(stripe.HTTPXClient):  # type: ignore[misc]
        def __init__(self, *, timeout: Any, verify: ssl.SSLContext | None) -> None:
            super().__init__(timeout=timeout, allow_sync_methods=True)
            if verify is not None:
                if self._client is not None:
                    self._client.close()
                self._client = self.httpx.Client(verify=verify)
                self._client_async = self.httpx.AsyncClient(verify=verify)

        def _get_request_args_kwargs(self, method: str, url: str, headers: Any, post_data: Any) -> list[Any]:
            args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
            data = kwargs.pop("data", None)
            if data:
                kwargs["content"] = data
            return [args, kwargs]

    return _HTTPXClient


class StripeGateway(CredentialsBlock):
    """Stripe keys for charges, refunds, payouts and the balance ledger.

    `client()` returns the official `stripe.StripeClient` aimed at `base_url`, so it can talk to
    Stripe, or to the local sandbox in tests and demos.

    Example:
        ```python
        from blocks import StripeGateway

        gateway = StripeGateway.load("BLOCK_NAME")
        balance = gateway.client().v1.balance.retrieve()
        ```
    """

    _block_type_name = "Stripe Gateway"
    _block_type_slug = "nxt-stripe-gateway"
    _logo_url = LOGOS["stripe"]
    _documentation_url = docs_url("stripe-gateway")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    secret_key: SecretStr = Field(description="Secret API key (sk_live_... or sk_test_...).")
    publishable_key: str | None = Field(
        default=None,
        description="Publishable key (pk_...) handed to browsers; not a secret.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Signing secret of the webhook endpoint (whsec_...).",
    )
    base_url: HttpURL = Field(
        default="https://api.stripe.com",
        title="Base URL",
        description="Stripe API address; point it at the sandbox or a proxy for tests.",
    )
    max_network_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        title="Max network retries",
        description=(
            "Times the Stripe SDK retries a request that could not connect, timed out, or was answered "
            "409 or 5xx; retries reuse the request's idempotency key, so a payment is never made twice."
        ),
    )
    timeout_ms: int = Field(
        default=60_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description="How long to wait for Stripe to connect, accept or send data, in milliseconds.",
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file to trust instead of the SDK's own (a TLS-inspecting proxy, or the "
            "sandbox with --tls); when empty, the Stripe SDK's bundled certificates are used."
        ),
    )

    def client(self) -> stripe.StripeClient:
        """Build the official Stripe client for this account.

        Raises:
            clients.InvalidConfig: `ca_bundle` is not a file of PEM certificates.
        """
        import httpx
        import stripe

        verify = _ca_context(self.ca_bundle) if self.ca_bundle else None
        http_client = _http_client_class()(timeout=httpx.Timeout(self.timeout_ms / 1000), verify=verify)
        return stripe.StripeClient(
            self.secret_key.get_secret_value(),
            base_addresses={"api": self.base_url},
            max_network_retries=self.max_network_retries,
            http_client=http_client,
        )

    def get_client(self) -> stripe.StripeClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
