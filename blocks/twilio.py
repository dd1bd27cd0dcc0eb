"""The Twilio SMS block: account credentials, the sender, and how the client reaches Twilio."""

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
    so it can talk to Twilio, or to the local sandbox in tests and demos. Its HTTP client has a timeout
    (the SDK's default waits forever), retries only what cannot send a message twice (connections that
    could not be made; reads of GETs), and trusts `ca_bundle` even when `REQUESTS_CA_BUNDLE` is set.

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
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description=(
            "Path to a CA certificate file to trust for base_url (a proxy or the sandbox with its own "
            "certificate authority); when empty, REQUESTS_CA_BUNDLE or the system's CAs are used."
        ),
    )
    timeout_ms: int = Field(
        default=30_000,
        ge=100,
        le=600_000,
        title="Timeout (ms)",
        description="How long to wait for Twilio to connect or answer, in milliseconds.",
    )
    messages_per_second: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        title="Messages per second",
        description=(
            "Most texts sent per second from this sender (Twilio: 1 for a US long code, 3 toll-free, 100 a "
            "short code, the sum of its numbers for a Messaging Service); sends are paced under it."
        ),
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description=(
            "Retries of a request whose connection failed, and of a failed read of a lookup; a send "
            "Twilio may have received is never retried here."
        ),
    )

    @property
    def sender(self) -> str:
        """The sender texts go from: the Messaging Service when one is set, else the number."""
        return self.messaging_service_sid or self.from_number

    def client(self) -> Client:
        """Build the official Twilio client for this account."""
        from twilio.rest import Client

        from clients._sdk import twilio_http_client

        http = twilio_http_client(
            timeout_s=self.timeout_ms / 1000, max_retries=self.max_retries, ca_bundle=self.ca_bundle
        )
        client = Client(self.account_sid, self.auth_token.get_secret_value(), http_client=http)
        client.api.base_url = self.base_url
        return client

    def get_client(self) -> Client:
        """Same as `client()` (the `CredentialsBlock` interface)."""
        return self.client()
