"""What Prefect users see of a sync: retries that really fire, readable run names and tags, the finishing
event, and state hooks that close the run's `sync_runs` row."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from flows.woocommerce_sync import SyncError, woocommerce_sync
from hub.models import SyncRun
from hub.sync_runs import start_run

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def store_name(block, hub_url, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    name = f"t-{uuid.uuid4().hex[:8]}"
    # One client attempt and one client retry per request: a page that fails twice fails its task.
    block.model_copy(update={"max_retries": 1, "retry_delay_ms": 0}).save(name)
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    return name


async def _task_runs(flow_run_id: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(flow_run_id)]))
        )


def _flow_run_id(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.select(SyncRun.__table__.c.flow_run_id)).scalar_one())


def test_a_page_failing_past_the_client_retries_is_retried_by_prefect(store_name, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    # The credentials check passes; then the first product page answers 502 to the client's attempt and to its
    # one retry, so the task fails with ServerError; Prefect's retry of the task then reads it.
    sandbox.set_faults(paths=("/products",), script=["ok", 502, 502])

    summary = asyncio.run(woocommerce_sync(store=store_name, sync_type="products"))

    assert summary["status"] == "completed"
    runs = asyncio.run(_task_runs(_flow_run_id(engine)))
    first_page = [r for r in runs if r.name == "products page 1"]
    assert len(first_page) == 1 and first_page[0].run_count == 2, [(r.name, r.run_count) for r in runs]
    assert first_page[0].state.is_completed()


def test_a_permanent_failure_is_not_retried(store_name, sandbox, engine) -> None:  # type: ignore[no-untyped-def]
    sandbox.set_faults(paths=("/products",), script=["ok", 400])

    with pytest.raises(SyncError, match="400"):
        asyncio.run(woocommerce_sync(store=store_name, sync_type="products"))

    runs = asyncio.run(_task_runs(_flow_run_id(engine)))
    first_page = [r for r in runs if r.name == "products page 1"]
    assert len(first_page) == 1 and first_page[0].run_count == 1


def test_runs_are_named_tagged_and_announced(store_name, engine) -> None:  # type: ignore[no-untyped-def]
    from prefect.client.orchestration import get_client

    asyncio.run(woocommerce_sync(store=store_name, sync_type="customers"))
    flow_run_id = _flow_run_id(engine)

    async def prefect_side() -> tuple[Any, list[Any], list[dict[str, Any]]]:
        async with get_client() as client:
            run = await client.read_flow_run(uuid.UUID(flow_run_id))
            tasks = await _task_runs(flow_run_id)
            events: list[dict[str, Any]] = []
            for _ in range(50):  # the event persister writes in the background
                response = await client.request(
                    "POST",
                    "/events/filter",
                    json={
                        "filter": {
                            "event": {"prefix": ["nxt.woocommerce.sync."]},
                            "any_resource": {"id": [f"nxt.woocommerce.store.{store_name}"]},
                        }
                    },
                )
                events = response.json()["events"]
                if events:
                    break
                await asyncio.sleep(0.1)
            return run, tasks, events

    run, tasks, events = asyncio.run(prefect_side())
    assert run.name == f"woocommerce-sync/{store_name}/customers"
    assert {f"store:{store_name}", "sync:customers", "direction:pull"} <= set(run.tags)
    assert {t.name for t in tasks} >= {"customers page 1", "customers pages 2-3"}
    assert [e["event"] for e in events] == ["nxt.woocommerce.sync.completed"]
    assert events[0]["payload"]["counts"]["inserted"] == 25
    related = {r["prefect.resource.id"] for r in events[0]["related"]}
    assert f"prefect.flow-run.{flow_run_id}" in related


def test_crash_and_cancel_hooks_close_the_runs_row(engine, hub_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flows.woocommerce_sync import _close_interrupted_run

    hooks = woocommerce_sync.on_crashed_hooks + woocommerce_sync.on_cancellation_hooks
    assert hooks == [_close_interrupted_run, _close_interrupted_run]
    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    flow_run_id = str(uuid.uuid4())
    with engine.begin() as conn:
        mine = start_run(conn, store="s", sync_type="full", direction="pull", flow_run_id=flow_run_id)
        other = start_run(conn, store="s", sync_type="full", direction="pull", flow_run_id=str(uuid.uuid4()))

    run = SimpleNamespace(id=flow_run_id, parameters={"store": "s", "hub": None})
    state = SimpleNamespace(name="Crashed", message="Execution was interrupted by SIGTERM")
    asyncio.run(_close_interrupted_run(woocommerce_sync, run, state))

    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(SyncRun.__table__))}
    assert rows[mine].status == "crashed" and "SIGTERM" in rows[mine].error
    assert rows[other].status == "running"


def test_a_second_sync_of_a_store_waits_skips_or_refuses(store_name, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import flows.woocommerce_sync as sync_module
    from flows.woocommerce_sync import SyncBusy
    from hub import locks

    lease = locks.store_sync_lock(store_name)
    assert locks.acquire(engine, lease, "flow run 1234 (another sync)", ttl_s=60)

    skipped = asyncio.run(woocommerce_sync(store=store_name, sync_type="customers", if_busy="skip"))
    assert skipped["status"] == "skipped"
    monkeypatch.setattr(sync_module, "BUSY_WAIT_S", 0.5)
    monkeypatch.setattr(sync_module, "LEASE_POLL_S", 0.1)
    with pytest.raises(SyncBusy, match=r"being synced: flow run 1234 \(another sync\) has held it since"):
        asyncio.run(woocommerce_sync(store=store_name, sync_type="customers"))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(SyncRun.__table__)).scalar() == 0

    assert locks.release(engine, lease, "flow run 1234 (another sync)")
    done = asyncio.run(woocommerce_sync(store=store_name, sync_type="customers"))
    assert done["status"] == "completed"
    assert locks.holder(engine, lease) is None, "the lease is released when the run ends"
