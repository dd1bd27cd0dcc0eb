"""The blocks that point NXT at a running sandbox: one per stand-in, with its URL, keys and CA bundle.

`nxt sandbox up --save-blocks` and `nxt demo` save these, so flows run against the sandbox exactly as they
would against the real services, with only the blocks' URLs and keys different.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.blocks.core import Block

__all__ = ["blocks_for"]


def _woocommerce(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.woocommerce import WooCommerceStore

    return WooCommerceStore(
        site_url=sb.urls["woocommerce"],
        consumer_key=creds["consumer_key"],
        consumer_secret=creds["consumer_secret"],
        webhook_secret=creds["webhook_secret"],
        verify_tls=True,
        ca_bundle=sb.ca_file,
    )


def _stripe(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.stripe import StripeGateway

    return StripeGateway(
        secret_key=creds["api_key"],
        webhook_secret=creds["webhook_secret"],
        base_url=sb.urls["stripe"],
        ca_bundle=sb.ca_file,
    )


def _paypal(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.paypal import PayPalGateway

    return PayPalGateway(
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        webhook_id=creds["webhook_id"],
        environment="sandbox",
        base_url=sb.urls["paypal"],
        ca_bundle=sb.ca_file,
    )


def _square(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.square import SquareGateway

    return SquareGateway(
        access_token=creds["access_token"],
        location_ids=creds["location_ids"],
        environment="sandbox",
        base_url=sb.urls["square"],
        ca_bundle=sb.ca_file,
        webhook_signature_key=creds["webhook_signature_key"],
    )


def _authorizenet(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.authorizenet import AuthorizeNetGateway

    return AuthorizeNetGateway(
        api_login_id=creds["api_login_id"],
        transaction_key=creds["transaction_key"],
        signature_key=creds["signature_key"],
        environment="sandbox",
        base_url=sb.urls["authorizenet"],
        ca_bundle=sb.ca_file,
    )


def _twilio(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.twilio import TwilioSMS

    return TwilioSMS(
        account_sid=creds["account_sid"],
        auth_token=creds["auth_token"],
        from_number=creds["from_number"],
        messaging_service_sid=creds["messaging_service_sid"],
        base_url=sb.urls["twilio"],
        ca_bundle=sb.ca_file,
    )


def _sendgrid(sb: Any, creds: dict[str, Any]) -> Block:
    from blocks.sendgrid import SendGridEmail

    return SendGridEmail(
        api_key=creds["api_key"],
        from_email=creds["from_email"],
        verification_key=creds["verification_key"],
        base_url=sb.urls["sendgrid"],
        ca_bundle=sb.ca_file,
    )


_BUILDERS: dict[str, Callable[[Any, dict[str, Any]], Block]] = {
    "woocommerce": _woocommerce,
    "stripe": _stripe,
    "paypal": _paypal,
    "square": _square,
    "authorizenet": _authorizenet,
    "twilio": _twilio,
    "sendgrid": _sendgrid,
}


def blocks_for(sb: Any) -> dict[str, Block]:
    """{service: its block, not saved} for every stand-in a running `sandbox.server.Sandbox` serves."""
    creds = sb.credentials
    return {name: build(sb, creds[name]) for name, build in _BUILDERS.items() if name in sb.services}
