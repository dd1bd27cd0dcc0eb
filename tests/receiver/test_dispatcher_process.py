"""The dispatcher in a child process (the receiver's default): its flow runs happen there, it is restarted
when it dies, it exits at once when the receiver is killed (a new receiver's dispatcher resumes its rows),
and it stops gently when the receiver stops."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from receiver_harness import API_TOKEN, rows, save_sandbox_blocks, settings_for, start_receiver
from webhook_signing import woo_headers

pytestmark = pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # process mechanics only


def wait_for(what: Callable[[], Any], timeout_s: float = 90, message: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while not (got := what()):
        assert time.monotonic() < deadline, message or "timed out"
        time.sleep(0.1)
    return got


def deliver(http: httpx.Client, secret: str, product: int, note: str) -> int:
    body = f'{{"id": {product}, "note": "{note}"}}'.encode()
    resp = http.post(
        "/api/webhooks/woocommerce", content=body, headers=woo_headers(body, secret, "product.updated")
    )
    assert resp.status_code == 200, resp.text
    return int(resp.json()["data"]["id"])


def done(engine: sa.Engine, row_id: int) -> Any:
    row = next(r for r in rows(engine) if r.id == row_id)
    assert row.status != "failed", row.error
    return row if row.status == "done" else None


def test_the_child_runs_the_flows_is_restarted_and_stops_with_the_receiver(
    sandbox: Any, names: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = save_sandbox_blocks(names, sandbox)
    monkeypatch.setenv("NXT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    running = start_receiver(settings_for(names, dispatch_enabled=True, dispatch_process=True), engine)
    child = running.runtime.dispatcher
    product = sandbox.call(sandbox.woocommerce.ids, "product")[0]
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    try:
        with running.client() as http:
            # A webhook becomes a woocommerce-sync-records run, executed by the child process.
            first = wait_for(lambda: done(engine, deliver(http, creds["webhook_secret"], product, "a")))
            assert first.flow_run_id
            status = wait_for(
                lambda: (
                    (d := http.get("/api/integrations/status", headers=auth).json()["data"]["dispatcher"])
                    and d.get("dispatched")
                    and d
                ),
                message="the child's counters never reached /status",
            )
            pid = status["process"]["pid"]
            assert status["process"]["running"] and pid != os.getpid() and status["dispatched"] >= 1
            health = http.get("/api/integrations/health", headers=auth).json()["data"]["checks"]
            assert health["dispatcher"]["ok"] and health["dispatcher"]["process"]["pid"] == pid
            with engine.connect() as conn:
                synced = conn.execute(sa.text("SELECT count(*) FROM sync_runs")).scalar_one()
            assert synced >= 1

            # The receiver killed: the child's stdin ends without `q`. It exits at once (code 1) and,
            # since this receiver lives on, is started again and handles what arrives next.
            proc = child._proc

            async def receiver_gone() -> None:
                proc.stdin.close()

            running.call(receiver_gone())
            wait_for(lambda: proc.returncode is not None, 30, "the child outlived its receiver")
            assert proc.returncode == 1
            wait_for(lambda: child.snapshot()["process"]["running"] and child.restarts == 1, 60)
            assert child.snapshot()["process"]["pid"] != pid
            wait_for(lambda: done(engine, deliver(http, creds["webhook_secret"], product, "b")))
    finally:
        last = child._proc
        running.stop()
    assert last.returncode == 0  # stopped gently: `q`, then it finished what it held
