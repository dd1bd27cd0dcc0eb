"""The SendGrid Email block: API key, sender, the Event Webhook's verification key, and transport."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.abstract import CredentialsBlock
from pydantic import AliasChoices, ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, EmailAddress, HttpURL, docs_url

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient


class SendGridEmail(CredentialsBlock):
    """SendGrid API key and the sender address for email.

    `client()` returns the official `sendgrid.SendGridAPIClient` aimed at `base_url`, so it can
    talk to SendGrid, or to the local sandbox in tests and demos. Its requests time out (urllib's
    default waits forever) and trust `ca_bundle`. They are not retried: Mail Send has no idempotency
    key, so whether a failed send may be repeated is the caller's decision.

    Example:
        ```python
        from blocks import SendGridEmail

        email = SendGridEmail.load("BLOCK_NAME")
        client = email.client()
        ```
    """

    _block_type_name = "SendGrid Email Provider"
    _block_type_slug = "nxt-sendgrid-email"
    _logo_url = LOGOS["sendgrid"]
    _documentation_url = docs_url("sendgrid-email-provider")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    api_key: SecretStr = Field(title="API key", description="API key (SG....) allowed to send mail.")
    from_email: EmailAddress = Field(description="Sender address, e.g. noreply@yourcompany.com.")
    base_url: HttpURL = Field(
        default="https://api.sendgrid.com",
        title="Base URL",
        description=("SendGrid API address: https://api.eu.sendgrid.com for EU subusers, or the sandbox."),
    )
    verification_key: str | None = Field(
        default=None,
        # documents saved before the rename carry `event_webhook_public_key`
        validation_alias=AliasChoices("verification_key", "event_webhook_public_key"),
        description=(
            "Verification key of the signed Event Webhook (the base64 public key SendGrid shows), used "
            "to verify events."
        ),
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file to trust for base_url (a proxy or the sandbox with its own "
            "certificate authority); when empty, SSL_CERT_FILE or the system's CAs are used."
        ),
    )
    timeout_ms: int = Field(
        default=30_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description="How long to wait for SendGrid to connect or answer, in milliseconds.",
    )

    def client(self) -> SendGridAPIClient:
        """Build the official SendGrid client for this account."""
        import ssl

        from sendgrid import SendGridAPIClient

        from clients._sdk import SendGridHttpClient

        sg = SendGridAPIClient(api_key=self.api_key.get_secret_value(), host=self.base_url)
        context = ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else None
        # The SDK's own client has no timeout and no way to take a CA: replace it, as the SDK itself
        # does when it changes region (`set_sendgrid_data_residency`), keeping its headers.
        sg.client = SendGridHttpClient(
            ssl_context=context,
            host=self.base_url,
            request_headers=dict(sg.client.request_headers),
            version=3,
            timeout=self.timeout_ms / 1000,
        )
        return sg

    def get_client(self) -> SendGridAPIClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
