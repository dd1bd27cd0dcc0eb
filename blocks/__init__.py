"""Prefect blocks: credentials and settings per service; each builds its client."""

from __future__ import annotations

from prefect.blocks.core import Block

from blocks._load import BlockNotFound, aload_block, load_block
from blocks._meta import circuit_state
from blocks.authorizenet import AuthorizeNetGateway
from blocks.hub import HubBlockError, HubDatabase, ahub_engine_options, hub_engine_options
from blocks.notifications import NotificationSettings
from blocks.paypal import PayPalGateway
from blocks.receiver import ReceiverAPI
from blocks.sendgrid import SendGridEmail
from blocks.square import SquareGateway
from blocks.stripe import StripeGateway
from blocks.twilio import TwilioSMS
from blocks.webhooks import ThirdPartyWebhookSecrets
from blocks.woocommerce import WooCommerceStore

__all__ = [
    "AuthorizeNetGateway",
    "BLOCK_TYPES",
    "BlockNotFound",
    "HubBlockError",
    "HubDatabase",
    "NotificationSettings",
    "PayPalGateway",
    "ReceiverAPI",
    "SendGridEmail",
    "SquareGateway",
    "StripeGateway",
    "ThirdPartyWebhookSecrets",
    "TwilioSMS",
    "WooCommerceStore",
    "ahub_engine_options",
    "aload_block",
    "circuit_state",
    "hub_engine_options",
    "load_block",
]

BLOCK_TYPES: tuple[type[Block], ...] = (
    WooCommerceStore,
    StripeGateway,
    PayPalGateway,
    SquareGateway,
    AuthorizeNetGateway,
    TwilioSMS,
    SendGridEmail,
    HubDatabase,
    ThirdPartyWebhookSecrets,
    NotificationSettings,
    ReceiverAPI,
)
"""Every block type of this project, in the order commands list them."""
