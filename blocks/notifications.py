"""The Notification Settings block: who is told what, on which channel, and how the dispatch behaves.

Settings only, no credential: the providers' keys live in the `Twilio SMS Provider` and `SendGrid Email
Provider` blocks. Without a saved block named `default`, the dispatch uses these defaults.
"""

from __future__ import annotations

import re
from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, field_validator

from blocks._meta import LOGOS, E164Phone, EmailAddress, FieldValueError, HttpURL, docs_url

Channel = Literal["email", "sms"]
CustomerEvent = Literal["order-confirmation", "order-completed", "refund-issued", "payment-failed"]
_BLOCK_REF = re.compile(r"^[a-z0-9][a-z0-9-]*/[^/\s][^/]*$")


class NotificationSettings(Block):
    """How NXT notifies customers and operators: channels, events, templates, fallback, operator alerts.

    The `notification-dispatch` flow reads it (parameter `settings`, default `default`); so do operator
    alerts from failing syncs and reconciliation.

    Example:
        ```python
        from blocks import NotificationSettings

        settings = NotificationSettings.load("BLOCK_NAME")
        settings.operator_notification_blocks  # e.g. ["slack-webhook/ops-alerts"]
        ```
    """

    _block_type_name = "Notification Settings"
    _block_type_slug = "nxt-notification-settings"
    _logo_url = LOGOS["notifications"]
    _documentation_url = docs_url("notification-settings")

    shop_name: str = Field(
        default="Our shop",
        min_length=1,
        max_length=100,
        description="Shop name the messages are signed with.",
    )
    shop_url: HttpURL | None = Field(
        default=None, title="Shop URL", description="Shop address shown at the foot of emails."
    )
    templates_folder: str | None = Field(
        default=None,
        description=(
            "Folder of Jinja2 templates that replace the shipped ones file by file "
            "(<event>.sms.j2, <event>.subject.j2, <event>.txt.j2, <event>.html.j2)."
        ),
    )
    default_region: str = Field(
        default="US",
        min_length=2,
        max_length=2,
        description="Country (ISO 3166 code) of customer phone numbers written without a country code.",
    )
    customer_channels: list[Channel] = Field(
        default_factory=lambda: list[Channel](["email", "sms"]),
        description="Channels customers are told about their orders on (each when they have that contact).",
    )
    customer_events: list[CustomerEvent] = Field(
        default_factory=lambda: list[CustomerEvent](
            ["order-confirmation", "order-completed", "refund-issued", "payment-failed"]
        ),
        description="Order events customers are told about; others are recorded as cancelled.",
    )
    fallback_to_email: bool = Field(
        default=True,
        description="Send the email version when a text fails for good and the customer has an email.",
    )
    operator_emails: list[EmailAddress] = Field(
        default_factory=list, description="Email addresses that receive operator alerts."
    )
    operator_phones: list[E164Phone] = Field(
        default_factory=list, description="Phone numbers (E.164) that receive operator alerts by text."
    )
    operator_notification_blocks: list[str] = Field(
        default_factory=list,
        description=(
            "Prefect notification blocks (Slack, Microsoft Teams, email, ...) that also receive operator "
            "alerts, as type-slug/name, e.g. slack-webhook/ops-alerts."
        ),
    )
    status_callback_url: HttpURL | None = Field(
        default=None,
        title="Status callback URL",
        description=(
            "Public URL of the receiver's Twilio status callback, e.g. "
            "https://hooks.example.com/api/webhooks/twilio; empty sends no callback."
        ),
    )
    max_attempts: int = Field(
        default=8, ge=1, le=100, description="Provider calls a message gets before it is marked failed."
    )
    retry_base_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        title="Retry base (s)",
        description="Wait before the first retry of a message the provider did not take; doubles each time.",
    )
    retry_max_s: float = Field(
        default=3600.0, ge=0, le=86400, title="Retry max (s)", description="Longest wait between retries."
    )
    email_event_window_s: int = Field(
        default=3600,
        ge=0,
        le=7 * 86400,
        title="Email event window (s)",
        description=(
            "How long an email whose send is in doubt waits for a SendGrid event naming it before it is "
            "marked unknown for a person to decide."
        ),
    )
    sms_check_window_s: int = Field(
        default=86400,
        ge=0,
        le=7 * 86400,
        title="SMS check window (s)",
        description=(
            "How long the dispatch keeps asking Twilio about a text whose send is in doubt before it is "
            "marked unknown for a person to decide."
        ),
    )

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.strip().upper()
        if not (len(value) == 2 and value.isalpha()):
            raise FieldValueError(value, "is not a two-letter country code, e.g. US or GB")
        return value

    @field_validator("operator_notification_blocks")
    @classmethod
    def _block_refs(cls, value: list[str]) -> list[str]:
        refs = [v.strip() for v in value]
        for ref in refs:
            if not _BLOCK_REF.match(ref):
                raise FieldValueError(
                    ref, "is not a block reference; write type-slug/name, e.g. slack-webhook/ops"
                )
        return refs

    def retry_delay(self, attempts: int) -> float:
        """Seconds before retry number `attempts` (1-based): base * 2**(attempts-1), capped."""
        return float(min(self.retry_max_s, self.retry_base_s * (2 ** max(0, attempts - 1))))
