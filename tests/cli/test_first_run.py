"""The README's first command as a new user meets it: a fresh HOME and PREFECT_HOME, no Prefect server, no
configuration. The real `nxt` runs in a subprocess, so nothing of this test process (a warmed-up Prefect,
a test harness, settings) can hide a first-run failure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _nxt(
    home: Path, *args: str, api_url: str | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(HOME=str(home), PREFECT_HOME=str(home / ".prefect"), XDG_DATA_HOME=str(home / ".local/share"))
    env["XDG_STATE_HOME"] = str(home / ".local/state")
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [sys.executable, "-m", "deployments.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


DEMO = ("demo", "--products", "30", "--customers", "10", "--orders", "40")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_demo_works_twice_in_a_row(tmp_path: Path) -> None:
    """The README's first command on a fresh machine, then again on the same machine."""
    first = _nxt(tmp_path, *DEMO, timeout=500)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    assert "Traceback" not in output
    assert "first start on this machine" in output, "the slow first start is announced"
    assert "FAILED" not in output and output.count(" ok ") >= 5, output  # every step's row says ok
    assert "INFO" not in output, "Prefect's per-run log lines stay out of the terminal"

    again = _nxt(tmp_path, *DEMO, timeout=300)  # the same machine: a fresh sandbox and demo hub again
    assert again.returncode == 0, again.stdout + again.stderr
    assert "first start on this machine" not in again.stderr
    assert "FAILED" not in again.stdout and "Traceback" not in again.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_a_failing_sync_prints_one_line(tmp_path: Path) -> None:
    # This session's Prefect test server (the demo test covers the temporary one a fresh machine gets).
    from prefect.settings import PREFECT_API_URL

    prefect_server = PREFECT_API_URL.value()
    with socket.socket() as s:  # a port nobody listens on: the store is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env_file = tmp_path / "old.env"
    env_file.write_text(
        f"WOOCOMMERCE_SITE_URL=http://127.0.0.1:{port}\n"
        "WOOCOMMERCE_CONSUMER_KEY=ck_test\nWOOCOMMERCE_CONSUMER_SECRET=cs_test\n"
    )
    saved = _nxt(
        tmp_path, "blocks", "from-env", "--env-file", str(env_file), "--overwrite", api_url=prefect_server
    )
    assert saved.returncode == 0, saved.stdout + saved.stderr

    result = _nxt(tmp_path, "sync", "woocommerce", "--type", "customers", api_url=prefect_server)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0], result.stderr
    assert result.stdout == ""
