"""`SendGridEmail.client()` against the SendGrid stand-in: TLS with the block's CA bundle through an SSL
context (the SDK's urllib client has no other way), a timeout, and the SDK's error classes kept."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest
from messaging_sandbox import SIZES
from python_http_client.exceptions import ForbiddenError
from sendgrid.helpers.mail import Mail

from blocks import SendGridEmail
from sandbox.server import Sandbox, run_sandbox


@pytest.fixture(scope="module")
def tls_sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("sendgrid",), tls=True, **SIZES) as sb:
        yield sb


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("sendgrid",), **SIZES) as sb:
        yield sb


@pytest.fixture(autouse=True)
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def block_for(sb: Sandbox, **kwargs: Any) -> SendGridEmail:
    creds = sb.credentials["sendgrid"]
    return SendGridEmail(
        api_key=creds["api_key"],
        from_email=creds["from_email"],
        verification_key=creds["verification_key"],
        base_url=sb.urls["sendgrid"],
        **kwargs,
    )


def mail(block: SendGridEmail, **kwargs: Any) -> Mail:
    return Mail(
        from_email=block.from_email,
        to_emails="ada@example.com",
        subject="Hi",
        plain_text_content="x",
        **kwargs,
    )


def test_client_trusts_the_blocks_ca_bundle(tls_sb: Sandbox) -> None:
    email = block_for(tls_sb, ca_bundle=tls_sb.ca_file)
    client = email.client()
    assert tls_sb.urls["sendgrid"].startswith("https://")
    assert client.send(mail(email)).status_code == 202
    # every path of the SDK's URL chain keeps the context, not only mail/send
    settings = client.client.user.webhooks.event.settings.signed.get()
    assert json.loads(settings.body) == {"public_key": email.verification_key}


def test_without_the_ca_the_sandbox_is_not_trusted(tls_sb: Sandbox) -> None:
    email = block_for(tls_sb)
    with pytest.raises(urllib.error.URLError) as exc:
        email.client().send(mail(email))
    assert "CERTIFICATE_VERIFY_FAILED" in str(exc.value.reason)


def test_sdk_error_classes_come_through(tls_sb: Sandbox) -> None:
    email = block_for(tls_sb, ca_bundle=tls_sb.ca_file)
    with pytest.raises(ForbiddenError) as exc:
        email.client().send(
            Mail(from_email="x@else.example", to_emails="a@example.com", subject="s", plain_text_content="x")
        )
    assert json.loads(exc.value.body)["errors"][0]["field"] == "from"


def test_timeout_applies(sb: Sandbox) -> None:
    sb.set_faults("sendgrid", script=["slow"], slow_ms=20_000)
    email = block_for(sb, timeout_ms=300)
    with pytest.raises(TimeoutError):
        email.client().send(mail(email))


def test_a_failed_send_is_not_retried(sb: Sandbox) -> None:
    sb.set_faults("sendgrid", script=[503, "ok"])
    email = block_for(sb)
    with pytest.raises(Exception) as exc:
        email.client().send(mail(email))
    assert getattr(exc.value, "status_code", None) == 503
    assert sb.call(lambda: sb.sendgrid.faults.script) == ["ok"]  # no second request: no second email


def test_client_headers_are_the_sdks(sb: Sandbox) -> None:
    client = block_for(sb).client()
    headers = client.client.request_headers
    assert headers["Authorization"] == f"Bearer {sb.credentials['sendgrid']['api_key']}"
    assert headers["User-Agent"].startswith("sendgrid/") and headers["Accept"] == "application/json"
    assert client.client.timeout == 30.0
