"""The `woocommerce-sync` flow on a Prefect test server: blocks by name, artifacts, the shared rate limit,
reporting tables, targeted re-reads, the CLI, and runs that must end quickly with one clear error."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from deployments.cli import app
from flows.woocommerce_sync import SyncError, woocommerce_status, woocommerce_sync, woocommerce_sync_records
from hub.models import DashboardEvent, DashboardMetric, Product, SyncRun

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def store_name(block, hub_url, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    name = f"t-{uuid.uuid4().hex[:8]}"
    block.save(name)
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    return name


def _runs(engine) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(sa.select(SyncRun.__table__).order_by(SyncRun.__table__.c.id)).all()


@pytest.mark.postgres
def test_flow_run_reports_everywhere(store_name, engine, probe, sandbox) -> None:  # type: ignore[no-untyped-def]
    from prefect.artifacts import Artifact
    from prefect.client.orchestration import get_client

    from tasks.rate_budget import limit_name

    summary = asyncio.run(woocommerce_sync(store=store_name))

    assert summary["status"] == "completed"
    probe_hub = probe.hub(store_name)
    assert probe_hub == probe.store()
    (run,) = _runs(engine)
    assert run.status == "completed" and run.flow_run_id and run.counts["inserted"] == len(probe_hub)
    with engine.connect() as conn:
        metrics = set(conn.execute(sa.select(DashboardMetric.__table__.c.metric_name)).scalars())
        events = conn.execute(sa.select(DashboardEvent.__table__.c.event_type)).scalars().all()
    assert {"wc_sync_duration", "wc_records_per_second", "wc_records_fetched"} <= metrics
    assert events == ["wc_sync_completed"]

    table = Artifact.get(f"woocommerce-sync-{store_name}")
    assert table is not None and "inserted" in str(table.data)

    async def prefect_side() -> tuple[list, object]:
        async with get_client() as client:
            artifacts = await client.read_artifacts()
            limit = await client.read_global_concurrency_limit_by_name(
                limit_name(sandbox.urls["woocommerce"])
            )
            return artifacts, limit

    artifacts, limit = asyncio.run(prefect_side())
    progress = [a for a in artifacts if a.type == "progress" and str(a.flow_run_id) == run.flow_run_id]
    assert progress and progress[0].data == 100.0
    assert limit.limit == 3000 and limit.slot_decay_per_second == 1000.0  # 60,000 a minute; 3 s of burst

    status = woocommerce_status(store_name, engine)
    assert status["success"] is True
    assert status["data"]["stats"]["totalSyncs"] == 1 and status["data"]["stats"]["successfulSyncs"] == 1
    assert status["data"]["syncState"] == {
        "isRunning": False,
        "activeSyncs": 0,
        "lastFullSync": status["data"]["syncState"]["lastFullSync"],
    }
    assert status["data"]["config"] == {
        "realTimeEnabled": True,
        "batchSize": 10,
        "conflictResolution": "timestamp",
    }


def test_sync_records_rereads_what_a_webhook_names(store_name, engine, sandbox) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(woocommerce_sync(store=store_name, sync_type="products"))
    wc = sandbox.woocommerce
    changed, removed = sandbox.call(
        lambda: sorted(p.id for p in wc.records("product") if p.type == "simple" and p.status == "publish")[
            :2
        ]
    )
    sandbox.call(wc.update, "product", changed, {"name": "Renamed by webhook"})
    sandbox.call(wc.delete, "product", removed, force=True)

    summary = asyncio.run(
        woocommerce_sync_records(resource="products", ids=[changed, removed], store=store_name)
    )

    assert summary["status"] == "completed"
    t = Product.__table__
    with engine.connect() as conn:
        rows = {
            r.remote_id: r for r in conn.execute(sa.select(t).where(t.c.remote_id.in_([changed, removed])))
        }
    assert rows[changed].name == "Renamed by webhook"
    assert rows[removed].deleted_at is not None


def _fails_with(block, store_name, engine, expected: str) -> None:  # type: ignore[no-untyped-def]
    block.save(store_name, overwrite=True)
    with pytest.raises(SyncError, match=expected):
        asyncio.run(woocommerce_sync(store=store_name))
    (run,) = _runs(engine)
    assert run.status == "failed" and expected.lower() in run.error.lower()
    with engine.connect() as conn:
        events = {e.event_type: e for e in conn.execute(sa.select(DashboardEvent.__table__))}
    assert set(events) == {"wc_sync_failed", "operator_alert"}, "the failure is recorded and alerted"
    assert events["wc_sync_failed"].severity == "error"


def test_wrong_credentials_fail_once_with_a_clear_error(block, store_name, engine, probe) -> None:  # type: ignore[no-untyped-def]
    wrong = block.model_copy(update={"consumer_secret": "cs_wrong"})
    probe.reset_requests()
    _fails_with(wrong, store_name, engine, "consumer_secret")
    assert probe.requests() <= 3, "no retry storm on 401"


@pytest.fixture
def html_site() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html><body>Welcome to my blog</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_site_that_is_not_woocommerce(block, store_name, engine, html_site) -> None:  # type: ignore[no-untyped-def]
    _fails_with(block.model_copy(update={"site_url": html_site}), store_name, engine, "WooCommerce")


def test_store_that_is_down(block, store_name, engine) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _fails_with(
        block.model_copy(update={"site_url": f"http://127.0.0.1:{port}"}), store_name, engine, "127.0.0.1"
    )


def test_cli_sync_and_bad_block_name(store_name) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    ok = runner.invoke(app, ["sync", "woocommerce", "--type", "customers", "--store", store_name])
    assert ok.exit_code == 0, ok.output
    assert "completed" in ok.output and "inserted 25" in ok.output

    missing = runner.invoke(app, ["sync", "woocommerce", "--store", "no-such-store"])
    assert missing.exit_code == 2
    assert "no WooCommerce Store block named 'no-such-store'" in missing.output
    assert "Traceback" not in missing.output


def test_runs_left_running_by_a_dead_process_are_closed(store_name, engine) -> None:  # type: ignore[no-untyped-def]
    first = asyncio.run(woocommerce_sync(store=store_name, sync_type="customers"))
    with engine.begin() as conn:  # as if that run's process had been killed before closing its row
        conn.execute(
            sa.update(SyncRun.__table__).where(SyncRun.__table__.c.id == first["id"]).values(status="running")
        )
    assert woocommerce_status(store_name, engine)["data"]["syncState"]["isRunning"] is True

    asyncio.run(woocommerce_sync(store=store_name, sync_type="customers"))

    runs = _runs(engine)
    assert runs[0].status == "crashed" and "without closing this run" in runs[0].error
    assert runs[1].status == "completed"
    assert woocommerce_status(store_name, engine)["data"]["syncState"]["isRunning"] is False
