"""Shared helpers of the Twilio and SendGrid stand-in tests: sandbox sizes, SDK clients, flagged contacts."""

from __future__ import annotations

from typing import Any

import httpx
from sendgrid import SendGridAPIClient
from twilio.rest import Client

from sandbox.server import Sandbox
from sandbox.world import DEFAULT_END

__all__ = ["DELIVERABLE", "SIZES", "flagged", "sendgrid_client", "twilio_client", "twilio_raw"]

#: A small world whose contacts include every flag (the sandbox plants at least one of each).
SIZES: dict[str, Any] = {"products": 10, "customers": 40, "orders": 60, "seed": 5, "now": DEFAULT_END}

#: A well-formed number no contact has: Twilio delivers to it.
DELIVERABLE = "+14155550142"


def flagged(sb: Sandbox, channel: str, flag: str) -> str:
    """A recipient the world flags `flag` on `channel`."""
    return next(f.recipient for f in sb.world.contacts.flagged() if f.channel == channel and f.flag == flag)


def twilio_client(sb: Sandbox, **kwargs: Any) -> Client:
    """The official SDK aimed at the sandbox, with the account's credentials."""
    creds = sb.credentials["twilio"]
    client = Client(creds["account_sid"], creds["auth_token"], **kwargs)
    client.api.base_url = sb.urls["twilio"]
    return client


def twilio_raw(sb: Sandbox) -> httpx.Client:
    """httpx with Basic auth on the account's API root, to read the JSON exactly as sent."""
    creds = sb.credentials["twilio"]
    base = f"{sb.urls['twilio']}/2010-04-01/Accounts/{creds['account_sid']}"
    return httpx.Client(base_url=base, auth=(creds["account_sid"], creds["auth_token"]))


def sendgrid_client(sb: Sandbox, api_key: str | None = None) -> SendGridAPIClient:
    """The official SDK aimed at the sandbox (plain http), with the account's key."""
    return SendGridAPIClient(
        api_key=api_key or sb.credentials["sendgrid"]["api_key"], host=sb.urls["sendgrid"]
    )
