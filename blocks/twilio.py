"""The Twilio SMS block: account credentials and the sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect.blocks.abstract import CredentialsBlock
from pydantic import ConfigDict, Field, SecretStr

from blocks._meta import LOGOS, E164Phone, HttpURL, docs_url

if TYPE_CHECKING:
    from twilio.rest import Client


class TwilioSMS(CredentialsBlock):
    """Twilio account credentials and the sender for text messages.

    `client()` returns the official `twilio.rest.Client` with its API domain aimed at `base_url`,
    so it can talk to Twilio, or to the local sandbox in tests and demos.

    Example:
        ```python
        from blocks import TwilioSMS

        sms = TwilioSMS.load("BLOCK_NAME")
        sms.client().messages.create(to="+15551234567", from_=sms.from_number, body="Hi")
        ```
    """

    _block_type_name = "Twilio SMS Provider"
    _block_type_slug = "nxt-twilio-sms"
    _logo_url = LOGOS["twilio"]
    _documentation_url = docs_url("twilio-sms-provider")
    model_config = ConfigDict(hide_input_in_errors=True)  # never echo secrets in errors

    account_sid: str = Field(title="Account SID", description="Account SID (AC...).")
    auth_token: SecretStr = Field(description="Auth token; also the key of Twilio's webhook signatures.")
    from_number: E164Phone = Field(
        description="Number texts are sent from, in E.164 form, e.g. +15551234567."
    )
    messaging_service_sid: str | None = Field(
        default=None,
        title="Messaging Service SID",
        description="Messaging Service (MG...) to send through instead of the from number.",
    )
    base_url: HttpURL = Field(
        default="https://api.twilio.com",
        title="Base URL",
        description="Twilio API address; point it at the sandbox or a proxy for tests.",
    )

    def client(self) -> Client:
        """Build the official Twilio client for this account."""
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token.get_secret_value())
        client.api.base_url = self.base_url
        return client

    def get_client(self) -> Client:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
