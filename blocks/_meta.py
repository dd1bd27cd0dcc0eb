"""What every NXT block shares: docs and logo URLs, and the validators of non-secret fields.

A validator raises `FieldValueError`, which keeps the bare reason apart from the value, so that
`blocks.from_env` can report `VARIABLE=value <reason>` while direct use reads `'value' <reason>`.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, HttpUrl

__all__ = [
    "DOCS_URL",
    "E164Phone",
    "EmailAddress",
    "FieldValueError",
    "HttpURL",
    "LOGOS",
    "circuit_state",
    "docs_url",
]

# Where docs/blocks.md is published; every block's `_documentation_url` points into it.
DOCS_URL = "https://github.com/nxt-integrations/nxt-integrations/blob/main/docs/blocks.md"

# Square logos shown by the Prefect UI next to each block type.
LOGOS = {
    "woocommerce": HttpUrl("https://cdn.simpleicons.org/woocommerce"),
    "stripe": HttpUrl("https://cdn.simpleicons.org/stripe"),
    "paypal": HttpUrl("https://cdn.simpleicons.org/paypal"),
    "square": HttpUrl("https://cdn.simpleicons.org/square"),
    "authorizenet": HttpUrl("https://cdn.simpleicons.org/visa"),
    "twilio": HttpUrl("https://cdn.simpleicons.org/twilio"),
    "sendgrid": HttpUrl("https://cdn.simpleicons.org/twilio"),
    "database": HttpUrl("https://cdn.simpleicons.org/sqlalchemy"),
    "notifications": HttpUrl("https://cdn.simpleicons.org/minutemailer"),
    # Prefect's own "Webhook" block logo.
    "webhook": HttpUrl(
        "https://cdn.sanity.io/images/3ugk85nk/production/c7247cb359eb6cf276734d4b1fbf00fb8930e89e-250x250.png"
    ),
}


# Block type names must not equal a Prefect built-in's: the server's create_block_type looks the new
# type up by name, so "Twilio SMS" came back as Prefect's own twilio-sms type (prefect 3.9.1).


def docs_url(anchor: str) -> HttpUrl:
    """The URL of one block's section in docs/blocks.md."""
    return HttpUrl(f"{DOCS_URL}#{anchor}")


class FieldValueError(ValueError):
    """A field value that is not acceptable; `reason` reads well after the value."""

    def __init__(self, value: object, reason: str, *, secret: bool = False) -> None:
        self.reason = reason
        super().__init__(f"the secret value {reason}" if secret else f"{value!r} {reason}")


def _http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise FieldValueError(
            value, "is not an http(s) URL; give the full address, e.g. https://yourstore.com"
        )
    return value.rstrip("/")


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _e164(value: str) -> str:
    value = value.strip()
    if not _E164.match(value):
        raise FieldValueError(
            value,
            "is not an E.164 phone number; write it as + country code number, e.g. +15551234567",
        )
    return value


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise FieldValueError(value, "is not an email address; use e.g. noreply@yourcompany.com")
    return value


HttpURL = Annotated[str, AfterValidator(_http_url)]
"""An absolute http:// or https:// URL, kept as text without a trailing slash."""

E164Phone = Annotated[str, AfterValidator(_e164)]
"""A phone number in E.164 form (`+15551234567`)."""

EmailAddress = Annotated[str, AfterValidator(_email)]
"""A plain email address (`noreply@yourcompany.com`)."""


def circuit_state(base_url: str) -> dict[str, object]:
    """The circuit breaker of the service at `base_url` in this process: `{"state", "failures"}`.

    `closed` with 0 failures when no client of this process has called the service yet.
    """
    from clients import breaker_state

    found = breaker_state(base_url)
    state, failures = found if found is not None else ("closed", 0)
    return {"state": state, "failures": failures}
