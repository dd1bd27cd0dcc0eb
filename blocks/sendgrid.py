"""The SendGrid Email block: API key, sender and event-webhook key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, EmailAddress, HttpURL, docs_url

if TYPE_CHECKING:
    from sendgrid import SendGridAPIClient


class SendGridEmail(CredentialsBlock):
    """SendGrid API key and the sender address for email.

    `client()` returns the official `sendgrid.SendGridAPIClient` aimed at `base_url`, so it can
    talk to SendGrid, or to the local sandbox in tests and demos.

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
    event_webhook_public_key: str | None = Field(
        default=None,
        description="Public key (base64) of the signed Event Webhook, used to verify events.",
    )

    def client(self) -> SendGridAPIClient:
        """Build the official SendGrid client for this account."""
        from sendgrid import SendGridAPIClient

        return SendGridAPIClient(api_key=self.api_key.get_secret_value(), host=self.base_url)

    def get_client(self) -> SendGridAPIClient:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
