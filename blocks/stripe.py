"""The Stripe Gateway block: Stripe API keys and webhook secret."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, HttpURL, docs_url

if TYPE_CHECKING:
    import stripe


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

    def client(self) -> stripe.StripeClient:
        """Build the official Stripe client for this account."""
        import stripe

        return stripe.StripeClient(self.secret_key.get_secret_value(), base_addresses={"api": self.base_url})

    def get_client(self) -> stripe.StripeClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
