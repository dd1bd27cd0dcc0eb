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
from sandbox.server import run_sandbox

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
