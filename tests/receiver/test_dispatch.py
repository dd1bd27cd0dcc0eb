"""The dispatcher: inbox rows become Prefect events and flow runs, once; bursts coalesce; failures retry
with backoff and end `failed`; unavailability is waited out; a restart resumes; a retry or a second
dispatcher never starts a second flow run."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prefect import flow
from receiver_harness import API_TOKEN, rows, save_sandbox_blocks, settings_for, start_receiver

from hub import inbox
from hub.inbox import InboxItem
from hub.models import utcnow
from receiver import dispatch
from receiver.dispatch import Batch, Dispatcher, FlowStarter, Handler, Ignore, Registry, Unavailable


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The Prefect events the dispatcher emits (recorded instead of sent)."""
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(dispatch, "emit_event", lambda name, **kw: seen.append({"event": name, **kw}))
    return seen


def store(engine: sa.Engine, *items: InboxItem) -> list[int]:
    with engine.begin() as conn:
        return [i for i, _ in inbox.insert_events(conn, items)]


def woo(n: int, kind: str = "product", account: str = "s1") -> InboxItem:
    return InboxItem(
        "woocommerce", uuid.uuid4().hex, f"{kind}.updated", {"id": n}, account=account, resource=f"{kind}.{n}"
    )


class Recorder:
    """A handler that records its calls and can be told to fail."""

    def __init__(self, fail: list[BaseException] | None = None) -> None:
        self.calls: list[tuple[list[int], str]] = []
        self.fail = list(fail or [])

    async def __call__(self, batch: Batch) -> str | None:
        self.calls.append(([r.id for r in batch.rows], batch.key))
        if self.fail:
            raise self.fail.pop(0)
        return f"run-{batch.key}"


def run_key(engine: sa.Engine, row_id: int) -> str:
    with engine.connect() as conn:
        row = inbox.get(conn, row_id)
    assert row is not None
    return dispatch.run_key_for([row])


def make_dispatcher(running: Any, registry: Registry, **settings: Any) -> Dispatcher:
    rt = running.runtime
    config = rt.settings.model_copy(update=settings)

    async def build() -> Dispatcher:
        return Dispatcher(
            config, rt.engine, rt.integrations, registry, FlowStarter(config), check_prefect=False
        )

    return running.call(build())  # type: ignore[no-any-return]


def test_bursts_coalesce_per_group_and_batches_are_capped(
    receiver: Any, engine: sa.Engine, events: list[dict[str, Any]]
) -> None:
    running = receiver()
    handler = Recorder()
    registry = Registry(
        [
            Handler(
                "woo",
                "woocommerce",
                handler,
                topics=("product.*",),
                group_by=lambda r: r.account,
                debounce_s=0.2,
                max_batch=3,
            )
        ]
    )
    ids = store(engine, *(woo(n) for n in range(1, 6)), woo(9, account="s2"), woo(7, kind="order"))
    d = make_dispatcher(running, registry)
    running.call(d.drain())
    calls = sorted(handler.calls)
    assert [c[0] for c in calls] == [ids[0:3], ids[3:5], [ids[5]]]
    assert [c[1] for c in calls] == [
        run_key(engine, ids[0]),
        run_key(engine, ids[3]),
        run_key(engine, ids[5]),
    ]
    done = {r.id: r for r in rows(engine)}
    assert all(r.status == "done" for r in done.values())
    assert (
        done[ids[0]].flow_run_id == f"run-{run_key(engine, ids[0])}" and done[ids[6]].flow_run_id is None
    )  # order: no handler
    # every row its event, named after source and topic, about its object, with an id derived from the row
    assert (
        sorted(e["event"] for e in events)
        == ["nxt.webhook.woocommerce.order.updated"] + ["nxt.webhook.woocommerce.product.updated"] * 6
    )
    first = next(e for e in events if e["payload"]["inbox_id"] == ids[0])
    assert first["resource"]["prefect.resource.id"] == "nxt.woocommerce.product.1"
    processed = [e for e in rows(engine, "dashboard_events") if e.event_type == "webhook_processed"]
    assert sorted(e.data["inbox_id"] for e in processed) == sorted(ids)


def test_a_failing_handler_is_retried_with_backoff_then_failed_then_replayed(
    receiver: Any, engine: sa.Engine, events: list[dict[str, Any]]
) -> None:
    running = receiver()  # the webhook block: max_retries=2, retry_delay_ms=50
    handler = Recorder(fail=[ValueError("bad payload")] * 3)
    registry = Registry([Handler("h", "stripe", handler)])
    (row_id,) = store(engine, InboxItem("stripe", "evt_1", "charge.refunded", {}, resource="charge.ch_1"))
    d = make_dispatcher(running, registry)
    running.call(d.drain())
    key = run_key(engine, row_id)
    assert key.startswith(f"inbox-{row_id}-") and [c[1] for c in handler.calls] == [key] * 3  # the same key
    (row,) = rows(engine)
    assert (row.status, row.attempts) == ("failed", 3) and "bad payload" in row.error
    failed = [e for e in rows(engine, "dashboard_events") if e.event_type == "webhook_failed"]
    assert len(failed) == 1 and failed[0].data["inbox_id"] == row_id
    with engine.begin() as conn:
        assert inbox.replay(conn, failed=True) == [row_id]
    running.call(d.drain())
    assert handler.calls[-1][1] == f"{key}-replay1"  # a replay is a new run
    assert rows(engine)[0].status == "done"
    # one event per delivery (retries do not re-send it: Prefect's SQLite event store fails on a batch of
    # events it already has) and one for the replay, with an id of its own
    assert len(events) == 2 and len({e["id"] for e in events}) == 2


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_unavailability_is_waited_out_without_spending_attempts(
    receiver: Any, engine: sa.Engine, events: Any
) -> None:
    running = receiver()
    handler = Recorder(fail=[Unavailable("prefect down")] * 4)
    (row_id,) = store(engine, InboxItem("stripe", "evt_2", "charge.succeeded", {}))
    d = make_dispatcher(running, Registry([Handler("h", "stripe", handler)]), retry_base_s=0.02)
    running.call(d.drain())
    (row,) = rows(engine)
    assert len(handler.calls) == 5 and row.status == "done" and row.attempts == 1


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_ignore_closes_rows_ignored(receiver: Any, engine: sa.Engine, events: Any) -> None:
    running = receiver()

    async def off(batch: Batch) -> str | None:
        raise Ignore("real-time sync is off")

    store(engine, InboxItem("stripe", "evt_3", "charge.succeeded", {}))
    running.call(make_dispatcher(running, Registry([Handler("h", "stripe", off)])).drain())
    (row,) = rows(engine)
    assert (row.status, row.error) == ("ignored", "real-time sync is off")


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_a_backlog_larger_than_a_pass_is_worked_off_without_waiting_for_the_poll(
    receiver: Any, engine: sa.Engine, events: Any
) -> None:
    """Each finished group wakes the dispatcher: rows beyond one pass's `dispatch_batch` are read at
    once, not at the next poll (60 s here); nothing else wakes it, since no new rows arrive."""
    running = receiver()
    store(engine, *(InboxItem("stripe", f"evt_b{i}", "t", {}) for i in range(6)))
    handler = Recorder()
    d = make_dispatcher(
        running,
        Registry([Handler("h", "stripe", handler)]),
        dispatch_batch=2,
        dispatch_concurrency=1,
        dispatch_poll_s=60,
    )

    async def start() -> asyncio.Task[None]:
        return asyncio.create_task(d.run_forever())

    task = running.call(start())
    try:
        deadline = time.monotonic() + 30
        while len(handler.calls) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(handler.calls) == 6, f"{len(handler.calls)} of 6 rows handled before the poll"
    finally:

        async def stop() -> None:
            task.cancel()
            await d.stop()

        running.call(stop())


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_rows_left_processing_resume_on_start_with_their_run_key(
    receiver: Any, engine: sa.Engine, events: Any
) -> None:
    running = receiver()
    ids = store(engine, InboxItem("stripe", "evt_4", "t", {}), InboxItem("stripe", "evt_5", "t", {}))
    owner = running.runtime.settings.owner
    with engine.begin() as conn:  # a receiver that died while holding them (same name: resumed at once) ...
        inbox.claim(
            conn, [ids[0]], owner=owner, lease_until=utcnow() + timedelta(hours=1), run_key="inbox-kept"
        )
        # ... and another receiver whose lease ran out
        inbox.claim(
            conn, [ids[1]], owner="elsewhere:4000", lease_until=utcnow() - timedelta(seconds=1), run_key="k2"
        )
    handler = Recorder()
    d = make_dispatcher(running, Registry([Handler("h", "stripe", handler)]))
    assert running.call(d.recover()) == 2
    running.call(d.drain())
    assert sorted(c[1] for c in handler.calls) == ["inbox-kept", "k2"]
    assert [r.status for r in rows(engine)] == ["done", "done"]


@pytest.mark.postgres
def test_two_dispatchers_never_handle_a_row_twice(receiver: Any, engine: sa.Engine, events: Any) -> None:
    running = receiver()
    store(engine, *(InboxItem("stripe", f"evt_{i}", "t", {}) for i in range(40)))
    handler = Recorder()
    registry = Registry([Handler("h", "stripe", handler)])
    one = make_dispatcher(running, registry, instance="one")
    two = make_dispatcher(running, registry, instance="two")

    async def both() -> None:
        await asyncio.gather(one.drain(), two.drain())

    running.call(both())
    handled = [i for ids, _ in handler.calls for i in ids]
    assert sorted(handled) == [r.id for r in rows(engine)] and len(handled) == 40


# --- flow runs, once ---------------------------------------------------------------------------------
RAN: list[str] = []


@flow(name="receiver-test-flow")
def _probe(tag: str) -> str:
    RAN.append(tag)
    return tag


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_in_process_runs_are_started_once_per_key(receiver: Any) -> None:
    running = receiver()
    starter = FlowStarter(running.runtime.settings)
    key = f"test-{uuid.uuid4()}"
    first = running.call(
        starter.start(_probe, deployment="receiver-test-flow/none", parameters={"tag": key}, key=key)
    )
    again = running.call(starter.start(_probe, deployment=None, parameters={"tag": key}, key=key))
    assert first == again and RAN.count(key) == 1


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_a_served_deployment_is_started_with_the_idempotency_key(receiver: Any) -> None:
    from prefect.client.orchestration import get_client

    running = receiver()
    name = f"d{uuid.uuid4().hex[:8]}"

    async def serve_it() -> str:
        from prefect.client.schemas.objects import DeploymentStatus

        deployment_id = await (await _probe.ato_deployment(name=name)).apply()
        async with get_client() as client:  # what a runner's poll does: the deployment becomes READY
            await client._client.post(
                "/deployments/get_scheduled_flow_runs", json={"deployment_ids": [str(deployment_id)]}
            )
            deadline = time.monotonic() + 60  # the server marks it READY in a background job
            while (await client.read_deployment(deployment_id)).status != DeploymentStatus.READY:
                assert time.monotonic() < deadline, "the deployment never became READY"
                await asyncio.sleep(0.05)
        return str(deployment_id)

    running.call(serve_it())
    starter = FlowStarter(running.runtime.settings)
    full = f"receiver-test-flow/{name}"
    assert running.call(starter.deployment_ready(full))
    key = f"inbox-{uuid.uuid4().hex}"
    first = running.call(
        starter.start(_probe, deployment=["nope/nope", full], parameters={"tag": "x"}, key=key)
    )
    again = running.call(starter.start(_probe, deployment=full, parameters={"tag": "x"}, key=key))
    assert first == again

    async def read() -> Any:
        async with get_client() as client:
            return await client.read_flow_run(uuid.UUID(first))

    run = running.call(read())
    assert run.idempotency_key == key and run.parameters == {"tag": "x"} and run.deployment_id is not None
    assert "x" not in RAN  # started through the deployment, not in this process


# --- end to end: the sandbox store -> receiver -> inbox -> woocommerce-sync-records -> hub ----------------
@pytest.mark.postgres
def test_store_webhooks_become_one_sync_run_per_resource(
    sandbox: Any, names: str, engine: sa.Engine, events: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = save_sandbox_blocks(names, sandbox)
    monkeypatch.setenv("NXT_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    running = start_receiver(settings_for(names, dispatch_enabled=True), engine)
    try:
        from woocommerce import API

        api = API(
            url=sandbox.urls["woocommerce"],
            consumer_key=creds["consumer_key"],
            consumer_secret=creds["consumer_secret"],
            version="wc/v3",
            timeout=30,
        )
        for topic in ("product.updated", "order.updated", "coupon.created"):
            assert (
                api.post(
                    "webhooks", {"topic": topic, "delivery_url": running.url + "/api/webhooks/woocommerce"}
                ).status_code
                == 201
            )
        products = sandbox.call(sandbox.woocommerce.ids, "product")[:3]
        order = sandbox.call(sandbox.woocommerce.ids, "order")[0]
        for step in range(2):  # a burst: every product twice
            sandbox.call(sandbox.woocommerce.touch, "product", products, at=int(time.time()) + step)
            sandbox.flush_webhooks()
        sandbox.call(sandbox.woocommerce.update, "order", order, {"customer_note": "leave at door"})
        sandbox.flush_webhooks()
        running.call(running.runtime.dispatcher.drain())
        stored = rows(engine)
        assert len(stored) == 7 and {r.status for r in stored} == {"done"}
        runs = {r.topic.split(".")[0]: r.flow_run_id for r in stored}
        product_runs = {r.flow_run_id for r in stored if r.topic == "product.updated"}
        assert len(product_runs) == 1 and runs["order"] not in product_runs  # one run per resource
        with engine.connect() as conn:
            mirrored = conn.execute(
                sa.text("SELECT remote_id, data FROM orders WHERE remote_id = :i"), {"i": order}
            ).one()
            got = {
                r
                for (r,) in conn.execute(
                    sa.text("SELECT remote_id FROM products WHERE store = :s"), {"s": names}
                )
            }
        data = mirrored.data if isinstance(mirrored.data, dict) else json.loads(mirrored.data)
        assert set(products) <= got and data["customer_note"] == "leave at door"
        assert sum(1 for e in events if e["event"] == "nxt.webhook.woocommerce.product.updated") == 6

        from prefect.client.orchestration import get_client

        async def states() -> list[Any]:
            async with get_client() as client:
                return [await client.read_flow_run(uuid.UUID(i)) for i in (*product_runs, runs["order"])]

        for run in running.call(states()):
            assert run.state.is_completed() and run.name.startswith("woocommerce-sync-records/")
        # the status API sees it all
        status = running.client().get(
            "/api/integrations/status", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert status.json()["data"]["inbox"]["done"] == 7
    finally:
        running.stop()


@pytest.mark.parametrize("hub_url", ["sqlite"], indirect=True)  # the check is the same on every backend
def test_a_store_with_realtime_off_ignores_its_webhooks(
    receiver: Any, engine: sa.Engine, events: Any
) -> None:
    running = receiver(block_kwargs={"realtime_enabled": False}, dispatch_enabled=True)
    store(engine, woo(5, account=running.runtime.settings.stores[0]))
    running.call(running.runtime.dispatcher.drain())
    (row,) = rows(engine)
    assert row.status == "ignored" and "realtime_enabled" in row.error


def test_run_keys_differ_between_hubs_for_the_same_vendor_event() -> None:
    """Two environments sharing a Prefect server receive the same Stripe event as their row 1: each hub
    gets its own run key (a shared one would let the second hub find the first hub's run and skip its own
    work); one hub's key is the same on every retry."""
    from datetime import UTC, datetime

    from hub.inbox import InboxRow
    from receiver.dispatch import run_key_for

    def row(received: datetime) -> InboxRow:
        return InboxRow(
            id=1, source="stripe", event_key="evt_1", topic="charge.refunded", account=None,
            resource="charge.ch_1", payload={}, status="pending", attempts=0, received_at=received,
            next_attempt_at=None, flow_run_id=None, run_key=None, replays=0, error=None, processed_at=None,
        )  # fmt: skip

    staging = row(datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC))
    production = row(datetime(2026, 11, 30, 8, 0, 0, 654321, tzinfo=UTC))
    assert run_key_for([staging]) == run_key_for([staging]) != run_key_for([production])
    assert run_key_for([staging]).startswith("inbox-1-")
