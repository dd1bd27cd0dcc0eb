"""The Third-Party Webhook Secrets block: signing secrets of other senders and delivery settings."""

from __future__ import annotations

from prefect.blocks.core import Block
from prefect.blocks.fields import SecretDict
from pydantic import ConfigDict, Field

from blocks._meta import LOGOS, docs_url


class ThirdPartyWebhookSecrets(Block):
    """Signing secrets for `/webhooks/third-party/{service}`, one per service, plus how webhooks
    are verified and delivered (the old service's WEBHOOK_* settings).

    Example:
        ```python
        from blocks import ThirdPartyWebhookSecrets

        webhooks = ThirdPartyWebhookSecrets.load("BLOCK_NAME")
        print(webhooks.signature_verification_enabled)
        ```
    """

    _block_type_name = "Third-Party Webhook Secrets"
    _block_type_slug = "nxt-third-party-webhook-secrets"
    _logo_url = LOGOS["webhook"]
    _documentation_url = docs_url("third-party-webhook-secrets")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    secrets: SecretDict = Field(
        default_factory=lambda: SecretDict({}),
        description="Signing secret per service, keyed by the {service} part of the URL.",
    )
    signature_verification_enabled: bool = Field(
        default=True,
        description="Reject webhooks whose signature does not match; turn off only for testing.",
    )
    max_retries: int = Field(
        default=5, ge=0, description="Retries of a webhook event whose processing failed."
    )
    retry_delay_ms: int = Field(
        default=1000,
        ge=0,
        title="Retry delay (ms)",
        description="Delay before retrying a failed webhook event, in milliseconds.",
    )
    timeout_ms: int = Field(
        default=15000,
        ge=1,
        title="Timeout (ms)",
        description="Longest time spent handling one webhook delivery, in milliseconds.",
    )
