"""docs/python-api.md stays true: its `python` snippets run, in order, in one fresh Python process against
the sandbox, a real Prefect server and a fresh hub (snippets fenced `python skip` need real services)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python-api.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def snippets() -> list[str]:
    return FENCE.findall(DOC.read_text())


def test_the_doc_has_runnable_snippets_for_every_flow() -> None:
    text = "\n".join(snippets())
    for name in (
        "woocommerce_sync(",
        "woocommerce_sync_records(",
        "reconcile_payments(",
        "dispatch_notifications(",
        "send_operator_alert(",
        "run_deployment(",
        "load_block(",
    ):
        assert name in text, f"{name} has no snippet that runs"


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_the_python_api_snippets_run(prefect_server: str, sandbox: Any, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.definitions import DEPLOYMENTS
    from deployments.sandbox_blocks import blocks_for
    from deployments.serving import runner_deployments

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        for block in blocks_for(sandbox).values():
            block.save("default", overwrite=True)
        incremental = [d for d in DEPLOYMENTS if d.full_name == "woocommerce-sync/incremental"]
        runner_deployments(incremental)[0].apply()  # exists for run_deployment (served or deployed)

    script = tmp_path / "python_api.py"
    script.write_text("\n\n".join(snippets()))
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(
        PREFECT_API_URL=prefect_server,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        NXT_DATABASE_URL=hub_url,
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert f"store: {sandbox.urls['woocommerce']}" in out
    assert "no WooCommerce Store block named 'no-such-store'" in out
    assert "sync: completed" in out and "records: completed" in out
    assert "reconciliation: completed" in out and "dispatch: completed" in out
    assert "Scheduled" in out.split("deployment run:")[1]
    engine = sa.create_engine(hub_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one() > 0
    engine.dispose()
