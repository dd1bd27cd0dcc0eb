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
            "10",
            "--latency-ms",
            "1",
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
        r = httpx.get(woo["api_url"] + "/products", auth=(woo["consumer_key"], woo["consumer_secret"]))
        assert r.status_code == 401  # Basic over plain http is refused, as WooCommerce does
        faults = httpx.get(woo["admin_url"] + "/faults").json()
        assert faults["latency_ms"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
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
