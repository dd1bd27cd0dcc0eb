"""`nxt sandbox up`: one JSON line when ready, serving until SIGTERM; clear errors for bad flags."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from deployments.commands import sandbox as cmd
from sandbox.server import SERVICES, run_sandbox

ROOT = Path(__file__).resolve().parents[2]


def test_up_json_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deployments.cli",
            "sandbox",
            "up",
            "--json",
            "--products",
            "20",
            "--customers",
            "5",
            "--orders",
            "200",
            "--latency-ms",
            "1",
            "--now",
            "2026-06-30T12:00:00+02:00",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        woo = info["woocommerce"]
        assert list(info) == list(SERVICES)  # every service by default
        assert info["stripe"]["api_key"].startswith("sk_test_")
        assert woo["consumer_key"].startswith("ck_") and woo["consumer_secret"].startswith("cs_")
        assert woo["api_url"] == woo["base_url"] + "/wp-json/wc/v3"
        # Every service by default, each with exactly its credential keys.
        common = {"base_url", "admin_url"}
        assert set(info["paypal"]) == common | {"client_id", "client_secret", "webhook_id"}
        assert set(info["authorizenet"]) == common | {
            "api_login_id",
            "transaction_key",
            "signature_key",
            "api_url",
        }
        assert info["authorizenet"]["api_url"] == info["authorizenet"]["base_url"] + "/xml/v1/request.api"
        r = httpx.get(woo["api_url"] + "/products", auth=(woo["consumer_key"], woo["consumer_secret"]))
        assert r.status_code == 401  # Basic over plain http is refused, as WooCommerce does
        # Every service by default, each with exactly its credential keys.
        square = info["square"]
        assert set(square) == {
            "base_url",
            "admin_url",
            "access_token",
            "location_ids",
            "webhook_signature_key",
        }
        r = httpx.get(
            square["base_url"] + "/v2/locations",
            headers={"Authorization": "Bearer " + square["access_token"]},
        )
        assert [loc["id"] for loc in r.json()["locations"]] == square["location_ids"]
        faults = httpx.get(woo["admin_url"] + "/faults").json()
        assert faults["latency_ms"] == 1
        # History ends at the pinned --now (10:00 UTC): the latest of 200 orders, seed 1, is days before it.
        info = httpx.get(woo["admin_url"] + "/woocommerce/orders/" + str(_latest_order(1, 200))).json()
        assert "2026-06-01T00:00:00" < info["date_created_gmt"] < "2026-06-30T10:00:00"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


def _latest_order(seed: int, orders: int) -> int:
    from sandbox.world import build_world

    w = build_world(seed=seed, products=20, customers=5, orders=orders, end=1_782_813_600)
    return max(w.orders.values(), key=lambda o: o.created).id


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "tomorrow"], "error: --now: 'tomorrow' is neither epoch seconds nor an ISO 8601 time"),
        (["--now", "2026-11-30T12:00:00"], "error: --now: '2026-11-30T12:00:00' has no time zone"),
        (["--discrepancy-rate", "1.5"], "error: --discrepancy-rate must be between 0 and 1"),
        (["--contact-flag-rate", "-1"], "error: --contact-flag-rate must be between 0 and 1"),
        (["--variable-share", "1.2"], "error: --variable-share must be between 0 and 1, got 1.2"),
        (["--error-rate", "2"], "error: --error-rate"),
        (["--services", "nope"], "error: --services: unknown nope"),
        (["--products", "-1"], "error: --products must be 0 or more"),
        (["--port", "70000"], "error: --port must be between"),
    ],
)
def test_bad_flags_fail_with_one_line(args, message) -> None:
    result = CliRunner().invoke(cmd.app, ["up", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_variable_share_reaches_the_world(monkeypatch) -> None:
    import sandbox.server

    seen = {}

    def start(**kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        raise RuntimeError("stopped before listening")

    monkeypatch.setattr(sandbox.server, "start_sandbox", start)
    result = CliRunner().invoke(cmd.app, ["up", "--products", "5000", "--variable-share", "0.1962"])
    assert result.exit_code == 2 and "stopped before listening" in result.output
    assert seen["variable_share"] == 0.1962 and seen["products"] == 5000
    monkeypatch.undo()
    with run_sandbox(products=40, customers=2, orders=2, variable_share=0.25) as sb:
        assert sum(p.type == "variable" for p in sb.world.products.values()) == 10


def test_save_blocks_builds_a_woocommerce_block(monkeypatch) -> None:
    from blocks.woocommerce import WooCommerceStore

    saved = {}
    monkeypatch.setattr(
        WooCommerceStore, "save", lambda self, name, overwrite=False: saved.update(block=self, name=name)
    )
    with run_sandbox(products=3, customers=2, orders=2, tls=True) as sb:
        lines = cmd._save_blocks(sb, "sandbox")
    block = saved["block"]
    assert saved["name"] == "sandbox" and lines == ["woocommerce: WooCommerceStore/sandbox"]
    assert str(block.site_url).rstrip("/") == sb.urls["woocommerce"]
    assert block.consumer_secret.get_secret_value() == sb.credentials["woocommerce"]["consumer_secret"]
    assert block.ca_bundle == sb.ca_file and block.verify_tls is True


def test_save_blocks_builds_the_messaging_blocks(monkeypatch) -> None:
    from blocks.sendgrid import SendGridEmail
    from blocks.twilio import TwilioSMS

    saved: dict[str, object] = {}
    for cls in (TwilioSMS, SendGridEmail):
        monkeypatch.setattr(
            cls, "save", lambda self, name, overwrite=False: saved.update({type(self).__name__: self})
        )
    with run_sandbox(services=("twilio", "sendgrid"), products=3, customers=2, orders=2, tls=True) as sb:
        lines = cmd._save_blocks(sb, "sandbox")
        assert lines == ["twilio: TwilioSMS/sandbox", "sendgrid: SendGridEmail/sandbox"]
        sms, email = saved["TwilioSMS"], saved["SendGridEmail"]
        assert isinstance(sms, TwilioSMS) and isinstance(email, SendGridEmail)
        creds = sb.credentials
        assert (sms.account_sid, sms.from_number, sms.messaging_service_sid) == (
            creds["twilio"]["account_sid"],
            creds["twilio"]["from_number"],
            creds["twilio"]["messaging_service_sid"],
        )
        assert sms.auth_token.get_secret_value() == creds["twilio"]["auth_token"]
        assert (sms.base_url, sms.ca_bundle) == (sb.urls["twilio"], sb.ca_file)
        assert email.api_key.get_secret_value() == creds["sendgrid"]["api_key"]
        assert (email.from_email, email.verification_key) == (
            creds["sendgrid"]["from_email"],
            creds["sendgrid"]["verification_key"],
        )
        assert (email.base_url, email.ca_bundle) == (sb.urls["sendgrid"], sb.ca_file)
        # the saved blocks work against the sandbox as they are
        assert sms.client().messages.list(limit=1) == []
        assert email.client().client.user.webhooks.event.settings.get().status_code == 200


def test_up_serves_every_service_by_default_and_prints_their_keys(monkeypatch) -> None:
    import deployments.commands.sandbox as module
    from sandbox import server

    started: dict[str, object] = {}

    def fake_start(**kwargs):
        started.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(server, "start_sandbox", fake_start)
    result = CliRunner().invoke(module.app, ["up", "--products", "1", "--customers", "1", "--orders", "1"])
    assert tuple(started["services"]) == tuple(server.SERVICES)
    assert "twilio" in started["services"] and "sendgrid" in started["services"]
    assert result.exit_code == 2
    monkeypatch.undo()
    with run_sandbox(services=("twilio", "sendgrid"), products=2, customers=2, orders=2) as sb:
        info = sb.describe()
    assert set(info["twilio"]) == {
        "base_url",
        "admin_url",
        "account_sid",
        "auth_token",
        "from_number",
        "messaging_service_sid",
    }
    assert set(info["sendgrid"]) == {"base_url", "admin_url", "api_key", "from_email", "verification_key"}


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2026-11-30T12:00:00Z", 1_796_040_000),
        ("2026-11-30T13:00:00+01:00", 1_796_040_000),
        ("1796040000", 1_796_040_000),
        (" 2026-11-30T12:00:00.9Z ", 1_796_040_000),
    ],
)
def test_now_accepts_iso_with_a_zone_or_epoch_seconds(text, epoch) -> None:
    assert cmd.parse_now(text) == epoch


def test_history_ends_when_the_sandbox_starts_unless_pinned() -> None:
    import time

    before = int(time.time())
    with run_sandbox(products=2, customers=2, orders=30) as sb:
        after = int(time.time())
        assert sb.world.now % 60 == 0 and before - 60 < sb.world.now <= after
        assert max(o.created for o in sb.world.orders.values()) < sb.world.now
    with run_sandbox(products=2, customers=2, orders=30, now=1_796_040_000, discrepancy_rate=0) as sb:
        assert sb.world.now == 1_796_040_000
        assert sb.world.ledger.answer_key() == []
