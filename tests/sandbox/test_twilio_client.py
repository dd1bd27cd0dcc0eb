"""`TwilioSMS.client()` against the Twilio stand-in: TLS with the block's CA bundle (also when
REQUESTS_CA_BUNDLE is set), a timeout, and retries that never repeat a send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import certifi
import pytest
import requests
from messaging_sandbox import DELIVERABLE, SIZES
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from blocks import TwilioSMS
from sandbox.server import Sandbox, run_sandbox


@pytest.fixture(scope="module")
def tls_sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("twilio",), tls=True, **SIZES) as sb:
        yield sb


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("twilio",), **SIZES) as sb:
        yield sb


def block_for(sb: Sandbox, **kwargs: Any) -> TwilioSMS:
    creds = sb.credentials["twilio"]
    return TwilioSMS(
        account_sid=creds["account_sid"],
        auth_token=creds["auth_token"],
        from_number=creds["from_number"],
        messaging_service_sid=creds["messaging_service_sid"],
        base_url=sb.urls["twilio"],
        **kwargs,
    )


@pytest.fixture
def no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_client_trusts_the_blocks_ca_bundle(tls_sb: Sandbox, no_ca_env: None) -> None:
    sms = block_for(tls_sb, ca_bundle=tls_sb.ca_file)
    m = sms.client().messages.create(to=DELIVERABLE, from_=sms.from_number, body="over https")
    assert tls_sb.urls["twilio"].startswith("https://") and m.status == "queued"


def test_ca_bundle_wins_over_requests_ca_bundle(tls_sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # a bundle without the sandbox's CA
    sms = block_for(tls_sb, ca_bundle=tls_sb.ca_file)
    assert sms.client().messages.create(to=DELIVERABLE, from_=sms.from_number, body="x").sid
    # What the block guards against: requests lets the variable replace a session's `verify`.
    plain = TwilioHttpClient(timeout=5)
    assert plain.session is not None
    plain.session.verify = tls_sb.ca_file
    creds = tls_sb.credentials["twilio"]
    naive = Client(creds["account_sid"], creds["auth_token"], http_client=plain)
    naive.api.base_url = tls_sb.urls["twilio"]
    with pytest.raises(requests.exceptions.SSLError):
        naive.messages.list(limit=1)


def test_without_the_ca_the_sandbox_is_not_trusted(tls_sb: Sandbox, no_ca_env: None) -> None:
    sms = block_for(tls_sb)
    with pytest.raises(requests.exceptions.SSLError):
        sms.client().messages.list(limit=1)


def test_timeout_applies(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["slow"], slow_ms=20_000)
    with pytest.raises(requests.exceptions.ReadTimeout):
        block_for(sb, timeout_ms=300, max_retries=0).client().messages.list(limit=1)


def test_a_timed_out_lookup_is_retried(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["slow"], slow_ms=20_000)
    assert block_for(sb, timeout_ms=300, max_retries=1).client().messages.list(limit=1) == []


def test_a_timed_out_send_is_not_retried(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["slow", "ok"], slow_ms=20_000)
    sms = block_for(sb, timeout_ms=300, max_retries=2)
    with pytest.raises(requests.exceptions.ReadTimeout):  # it may have arrived: the caller decides
        sms.client().messages.create(to=DELIVERABLE, from_=sms.from_number, body="once")
    assert sb.call(lambda: sb.twilio.faults.script) == ["ok"]  # no second request was made


def test_a_dropped_lookup_is_retried(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["drop"])
    sms = block_for(sb, max_retries=2)
    assert sms.client().messages.list(limit=1) == []  # the first attempt's connection was dropped


def test_a_dropped_send_is_not_retried(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["drop", "ok"])
    sms = block_for(sb, max_retries=2)
    with pytest.raises(requests.exceptions.ConnectionError):
        sms.client().messages.create(to=DELIVERABLE, from_=sms.from_number, body="once")
    assert sb.call(lambda: sb.twilio.faults.script) == ["ok"]  # one attempt: a retry could text twice


def test_no_retries_when_asked(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=["drop"])
    with pytest.raises(requests.exceptions.ConnectionError):
        block_for(sb, max_retries=0).client().messages.list(limit=1)
