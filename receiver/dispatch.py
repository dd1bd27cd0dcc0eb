"""The dispatcher: pending inbox rows become Prefect events and flow runs, through a handler registry.

How a row is handled
--------------------
1. A pass reads the due pending rows (`hub.inbox.due`), finds each row's handler (`Registry.find`: the
   first registered handler whose source matches and one of whose topic patterns matches), and groups
   rows by (handler, the handler's `group_by` key, the row's run key). A handler with `debounce_s`
   waits until its group has been quiet that long (or `max_wait_s` passed since its oldest row), so a
   burst about one resource becomes one run.
2. The group is claimed (`processing`, under a lease renewed while it runs) and gets its run key:
   `inbox-<smallest row id>-<digest of its event key>` (plus `-replay<N>` after `nxt webhooks replay`),
   kept across retries.
3. For every row, on its first attempt, a Prefect event `nxt.webhook.<source>.<topic>` is emitted about
   the object (`nxt.<source>.<resource>`, e.g. `nxt.stripe.charge.ch_...`), with an id derived from the
   row, so users can hang automations on any webhook. Rows without a handler are done after their event.
4. The handler runs: `await handler.run(batch)` returns the id of the flow run it started (or None).
   `batch.run_flow(...)` starts a flow the one right way: through its deployment with
   `run_deployment(..., timeout=0, idempotency_key=batch.key)` when the deployment is being served
   (status READY), else in this process as a flow run created with the same idempotency key; a retry
   therefore finds the same run and never starts a second one.
5. The rows are closed `done` with the flow run id, each with a `webhook_processed` dashboard row.

Failures: Prefect API or hub unavailable (`TRANSIENT`) -> the rows go back to pending with backoff, and
the attempt is not counted (unavailability is waited out). Any other exception -> retried with backoff
(`retry_base_s`, doubling, capped), and after `max_attempts` the rows are `failed` (`nxt webhooks
replay`). `raise Ignore("why")` closes the rows `ignored`. On start, rows this receiver held before a
restart, and rows whose lease ran out, are pending again.

Adding a handler (payments, notifications, ...)
-----------------------------------------------
Write `receiver/handlers/<area>.py` with a module-level `HANDLERS` tuple and add the module to
`receiver.handlers.HANDLER_MODULES`:

    from receiver.dispatch import Batch, Handler
    from flows.payment_ledger import payment_ledger_update   # your flow

    async def ledger_update(batch: Batch) -> str | None:
        ids = [row.resource for row in batch.rows]            # e.g. "charge.ch_123"
        return await batch.run_flow(
            payment_ledger_update,
            deployment="payment-ledger-update/webhook",       # served? -> run_deployment; else in-process
            parameters={"gateway": "stripe", "objects": ids},
        )

    HANDLERS = (
        Handler(
            name="stripe-ledger",
            source="stripe",
            topics=("charge.*", "payment_intent.*", "payout.*"),
            run=ledger_update,
            group_by=lambda row: "stripe",                    # coalesce all due rows into one run
            debounce_s=2.0,
            max_batch=200,
        ),
    )

Handlers must be idempotent per `batch.key` (a retry calls them again with the same key and rows) and
should only start work (a flow run), not do it: the dispatcher holds the rows while the handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

# Imported here, not where used: the receiver's loop must not stall on a first import (~40 ms each).
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import FlowCreate, FlowRunCreate
from prefect.client.schemas.objects import DeploymentStatus, FlowRun, StateType
from prefect.deployments import arun_deployment
from prefect.events import emit_event
from prefect.exceptions import ObjectNotFound
from prefect.flow_engine import run_flow
from prefect.states import Scheduled, to_state_create
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hub import inbox
from hub.inbox import InboxRow
from hub.models import utcnow
from receiver.credentials import Integrations, Loaded
from receiver.settings import ReceiverSettings

__all__ = [
    "Batch",
    "Dispatcher",
    "FlowStarter",
    "Handler",
    "Ignore",
    "Registry",
    "TRANSIENT",
    "Unavailable",
    "event_name",
    "run_key_for",
]

logger = logging.getLogger("nxt.receiver")
_EVENT_NS = uuid.UUID("6b0f3a52-5d0e-4c53-9a56-3f7c1d2e8a10")
EVENT_PAYLOAD_MAX = 32 * 1024
MIN_PASS_INTERVAL_S = 0.2


class Ignore(Exception):
    """Raised by a handler: close the rows as `ignored` with this reason (e.g. real-time sync is off)."""


class Unavailable(Exception):
    """Raised by a handler: a service it needs is down; retry later without spending an attempt."""


class FlowRunFailed(RuntimeError):
    """An in-process flow run ended in a failed state; the rows are retried (the same run again)."""


TRANSIENT: tuple[type[BaseException], ...] = (
    Unavailable,
    httpx.TransportError,
    OperationalError,
    TimeoutError,
    ConnectionError,
)
"""Exceptions that mean "unavailable, wait and retry", not "this event failed"."""


@dataclass(frozen=True)
class Handler:
    """What to do with inbox rows of one source and some topics.

    Attributes:
        name: Stable name, shown in logs and `nxt webhooks list`.
        source: The webhook source (`woocommerce`, `stripe`, `paypal`, `square`, `authorizenet`,
            `twilio`, `sendgrid`, `third-party`).
        topics: `fnmatch` patterns on the row's topic (`charge.*`, `order.updated`, `*`).
        run: `async (batch) -> flow run id | None`; starts the work for `batch.rows`.
        group_by: Rows with the same key (and run key) go to one `run` call, up to `max_batch`; None
            handles each row alone.
        debounce_s: Wait until a group has been quiet this long before running it (coalesces bursts).
        max_wait_s: ...but never wait longer than this after its oldest row arrived.
        max_batch: Most rows per `run` call.
    """

    name: str
    source: str
    run: Callable[[Batch], Awaitable[str | None]]
    topics: tuple[str, ...] = ("*",)
    group_by: Callable[[InboxRow], str | None] | None = None
    debounce_s: float = 0.0
    max_wait_s: float = 30.0
    max_batch: int = 100

    def matches(self, row: InboxRow) -> bool:
        return row.source == self.source and any(fnmatch.fnmatchcase(row.topic, p) for p in self.topics)


class Registry:
    """Handlers in order; the first match handles a row."""

    def __init__(self, handlers: Sequence[Handler] = ()) -> None:
        self._handlers: list[Handler] = []
        for h in handlers:
            self.add(h)

    def add(self, handler: Handler) -> Handler:
        if any(h.name == handler.name for h in self._handlers):
            raise ValueError(f"a handler named {handler.name!r} is already registered")
        self._handlers.append(handler)
        return handler

    def find(self, row: InboxRow) -> Handler | None:
        return next((h for h in self._handlers if h.matches(row)), None)

    def __iter__(self) -> Any:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


# --------------------------------------------------------------------------------------------------
# Starting flows


class FlowStarter:
    """Starts a flow for a run key: through its deployment when served, else in this process."""

    def __init__(self, settings: ReceiverSettings) -> None:
        self.settings = settings
        self._ready: dict[str, tuple[float, bool]] = {}
        self._executing: dict[str, str] = {}  # key -> flow run id being executed in this process
        # In-process flow runs get threads of their own, not the loop's shared pool (which the inbox
        # reads and writes use): a long run must not make a webhook wait for a thread.
        self._flow_threads = ThreadPoolExecutor(
            max_workers=settings.dispatch_concurrency + 2, thread_name_prefix="nxt-receiver-flow"
        )
        self.background: set[asyncio.Task[Any]] = set()
        self._client: PrefectClient | None = None  # opened on first use, on the receiver's loop
        self._opening = asyncio.Lock()

    async def client(self) -> PrefectClient:
        """The Prefect client of the receiver's loop, opened once. A client per call would build an SSL
        context each time (Prefect loads the CA bundle even for http://): 20-80 ms on the loop, measured as
        the receiver's longest stalls under load."""
        async with self._opening:  # concurrent first callers share one client
            if self._client is None:
                client = get_client()
                await client.__aenter__()
                self._client = client
        return self._client

    async def close(self) -> None:
        """Close the Prefect client (the receiver's shutdown)."""
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)

    async def deployment_ready(self, name: str) -> bool:
        """Whether deployment `flow/name` exists and something polls it (status READY); cached briefly."""
        cached = self._ready.get(name)
        if cached and time.monotonic() - cached[0] < self.settings.deployment_check_s:
            return cached[1]
        try:
            deployment = await (await self.client()).read_deployment_by_name(name)
            ready = deployment.status == DeploymentStatus.READY and not deployment.paused
        except ObjectNotFound:
            ready = False
        self._ready[name] = (time.monotonic(), ready)
        return ready

    async def start(
        self,
        flow: Any,
        *,
        deployment: str | Sequence[str] | None,
        parameters: Mapping[str, Any],
        key: str,
        tags: Sequence[str] = (),
        wait: bool = True,
    ) -> str:
        """Start `flow` for idempotency `key`; returns the flow run id.

        `deployment` names (tried in order) are used when one is READY: `run_deployment(timeout=0)`.
        Otherwise a flow run is created here with the same key and executed in this process: awaited
        when `wait` (a failed run raises `FlowRunFailed`), else in the background.
        """
        names = [deployment] if isinstance(deployment, str) else list(deployment or ())
        for name in names:
            if await self.deployment_ready(name):
                run = await arun_deployment(
                    name,
                    client=await self.client(),
                    parameters=dict(parameters),
                    timeout=0,
                    idempotency_key=key,
                    tags=list(tags),
                    as_subflow=False,
                )
                return str(run.id)
        return await self._in_process(flow, parameters, key, tags, wait=wait)

    async def _in_process(
        self, flow: Any, parameters: Mapping[str, Any], key: str, tags: Sequence[str], *, wait: bool
    ) -> str:
        if key in self._executing:  # the same key asked again while its run executes here
            return self._executing[key]
        client = await self.client()
        response = await client.request(
            "POST", "/flows/", json=FlowCreate(name=flow.name).model_dump(mode="json")
        )
        flow_id = response.json()["id"]
        create = FlowRunCreate(
            flow_id=flow_id,
            flow_version=flow.version,
            parameters=dict(parameters),
            tags=list(tags),
            idempotency_key=key,
            state=to_state_create(Scheduled()),
        )
        response = await client.request(
            "POST", "/flow_runs/", json=create.model_dump(mode="json", exclude_unset=True)
        )
        run = FlowRun.model_validate(response.json())
        state = run.state.type if run.state else None
        if state == StateType.COMPLETED:
            return str(run.id)  # an earlier attempt finished it
        if state not in (StateType.SCHEDULED, StateType.PENDING, None):
            # An earlier attempt of this key ran and did not finish it (failed, crashed, or left it
            # running when its process died; a run executing in this process was answered above):
            # run the same flow run again, as a Prefect retry does, rather than a second one.
            await client.set_flow_run_state(run.id, Scheduled(), force=True)
            run = await client.read_flow_run(run.id)

        self._executing[key] = str(run.id)

        async def execute() -> str:
            try:
                return await _execute()
            finally:
                self._executing.pop(key, None)

        async def _execute() -> str:
            # On a worker thread (its own event loop for an async flow): a flow run's engine work must
            # not hold up the receiver's loop, which acknowledges webhooks meanwhile.
            def execute_here() -> Any:
                result = run_flow(flow, flow_run=run, parameters=dict(parameters), return_type="state")
                return asyncio.run(result) if asyncio.iscoroutine(result) else result

            final = await asyncio.get_running_loop().run_in_executor(self._flow_threads, execute_here)
            if final is not None and not final.is_completed():
                raise FlowRunFailed(f"flow run {run.id} ended {final.name}: {(final.message or '')[:300]}")
            return str(run.id)

        if wait:
            return await execute()
        task = asyncio.create_task(execute())
        self.background.add(task)
        task.add_done_callback(self._forget)
        return str(run.id)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("background flow run failed: %s", task.exception())


@dataclass
class Batch:
    """What a handler gets: the rows (one group), their run key, the blocks, and `run_flow`."""

    handler: Handler
    rows: Sequence[InboxRow]
    key: str
    settings: ReceiverSettings
    blocks: Loaded
    starter: FlowStarter

    async def run_flow(
        self,
        flow: Any,
        *,
        parameters: Mapping[str, Any],
        deployment: str | Sequence[str] | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        """Start `flow` for these rows (idempotency key `self.key`); returns the flow run id."""
        return await self.starter.start(
            flow,
            deployment=deployment,
            parameters=parameters,
            key=self.key,
            tags=["webhook", f"webhook:{self.handler.source}", *tags],
        )


# --------------------------------------------------------------------------------------------------
# Events


def event_name(row: InboxRow) -> str:
    """`nxt.webhook.<source>.<topic>`, lower case (`nxt.webhook.stripe.charge.refunded`)."""
    return f"nxt.webhook.{row.source}.{row.topic.lower()}"


def emit_webhook_event(row: InboxRow) -> None:
    """The Prefect event about `row`, with an id derived from the row and its replay count.

    Sent on a row's first attempt only (a retry after an uncounted failure may send it again; the id makes
    it the same event). Not on every retry: Prefect 3.9's SQLite event store fails a write whose events all
    exist already (it issues an INSERT with no rows), then retries that batch, with whatever else it holds,
    until it drops it.
    """
    resource_id = f"nxt.{row.source}.{row.resource}" if row.resource else f"nxt.{row.source}.inbox.{row.id}"
    payload: dict[str, Any] = {
        "inbox_id": row.id,
        "source": row.source,
        "topic": row.topic,
        "event_key": row.event_key,
        "account": row.account,
    }
    body = orjson.dumps(row.payload)
    if len(body) <= EVENT_PAYLOAD_MAX:
        payload["body"] = row.payload
    else:
        payload["body_omitted"] = f"{len(body)} bytes; read inbox row {row.id}"
    related = [{"prefect.resource.id": f"nxt.webhook.inbox.{row.id}", "prefect.resource.role": "inbox-event"}]
    if row.account:
        related.append(
            {
                "prefect.resource.id": f"nxt.{row.source}.account.{row.account}",
                "prefect.resource.role": "account",
            }
        )
    emit_event(
        event_name(row),
        resource={"prefect.resource.id": resource_id, "prefect.resource.name": row.resource or row.topic},
        related=related,
        payload=payload,
        occurred=row.received_at,
        id=uuid.uuid5(_EVENT_NS, f"{row.source}:{row.event_key}:{row.replays}"),
    )


def _emit_all(rows: Sequence[InboxRow]) -> None:
    for row in rows:
        emit_webhook_event(row)


# --------------------------------------------------------------------------------------------------
# The dispatcher


@dataclass
class _Group:
    handler: Handler | None
    rows: list[InboxRow]
    key: str = ""


@dataclass
class DispatchStats:
    dispatched: int = 0
    failed: int = 0
    retried: int = 0
    ignored: int = 0
    passes: int = 0
    last_error: str | None = None
    in_flight: int = 0


@dataclass
class Dispatcher:
    """Turns due inbox rows into events and flow runs (see the module docstring)."""

    settings: ReceiverSettings
    engine: Engine
    integrations: Integrations
    registry: Registry
    starter: FlowStarter | None = None
    check_prefect: bool = True
    stats: DispatchStats = field(default_factory=DispatchStats)

    def __post_init__(self) -> None:
        self.flow_starter = self.starter or FlowStarter(self.settings)
        self._wake = asyncio.Event()
        self._gate = asyncio.Semaphore(self.settings.dispatch_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._transient = 0
        self._prefect_ok_at = 0.0
        self._next_ready: float | None = None
        self._pass_lock = asyncio.Lock()  # one pass at a time (the loop's, a drain's)

    @property
    def owner(self) -> str:
        return self.settings.owner

    def wake(self) -> None:
        self._wake.set()

    # --- retry policy ----------------------------------------------------------------------------
    def max_attempts(self) -> int:
        if self.settings.max_attempts:
            return self.settings.max_attempts
        webhooks = self.integrations.current.webhooks
        return (webhooks.max_retries if webhooks is not None else 5) + 1

    def retry_base_s(self) -> float:
        if self.settings.retry_base_s:
            return self.settings.retry_base_s
        webhooks = self.integrations.current.webhooks
        return max((webhooks.retry_delay_ms if webhooks is not None else 1000) / 1000, 0.05)

    # --- loop ------------------------------------------------------------------------------------
    async def recover(self) -> int:
        """Rows held before a restart, or whose lease ran out, become pending again."""

        def run() -> int:
            with self.engine.begin() as conn:
                return inbox.recover(conn, owner=self.owner)

        n = await asyncio.to_thread(run)
        if n:
            logger.info("resuming %d webhook events left processing", n)
        return n

    async def run_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self.recover()
                break
            except SQLAlchemyError as exc:
                self.stats.last_error = f"hub unavailable: {_line(exc)}"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
        while True:
            started = time.monotonic()
            self._wake.clear()  # before the pass: a wake-up during it means another pass
            try:
                await self.pass_once()
                backoff = 0.5
                wait = self.settings.dispatch_poll_s
                if self._next_ready is not None:
                    wait = max(0.01, min(wait, self._next_ready - time.time()))
            except SQLAlchemyError as exc:  # the hub is down: wait it out
                self.stats.last_error = f"hub unavailable: {_line(exc)}"
                logger.warning("dispatcher: hub unavailable (%s); retrying in %.1fs", _line(exc), backoff)
                wait, backoff = backoff, min(backoff * 2, 30.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            # Under load every group commit wakes the dispatcher (hundreds a second): a pass at most
            # every MIN_PASS_INTERVAL_S, which is well under any handler's debounce.
            await asyncio.sleep(max(0.0, started + MIN_PASS_INTERVAL_S - time.monotonic()))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def drain(self, *, timeout_s: float = 60.0) -> None:
        """Run passes until nothing is due and nothing is in flight (tests, `nxt webhooks replay`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            started = await self.pass_once()
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                continue
            if not started and self._next_ready is None:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("webhook events still pending after the drain timeout")
            if not started:
                await asyncio.sleep(max(0.01, min(0.5, (self._next_ready or time.time()) - time.time())))

    async def pass_once(self) -> int:
        """One pass: read due rows, plan groups, claim and start them. Returns groups started."""
        async with self._pass_lock:
            return await self._pass()

    async def _pass(self) -> int:
        self.stats.passes += 1
        now = utcnow()

        def read() -> tuple[list[InboxRow], datetime | None]:
            with self.engine.connect() as conn:
                return inbox.due(conn, now=now, limit=self.settings.dispatch_batch), inbox.next_due_at(conn)

        rows, later = await asyncio.to_thread(read)
        held = {r.id for t in self._tasks for r in getattr(t, "nxt_rows", ())}
        rows = [r for r in rows if r.id not in held]
        groups, next_ready = self._plan(rows, now)
        if later is not None and later > now:  # a retry waiting for its backoff
            next_ready = min(next_ready or later.timestamp(), later.timestamp())
        self._next_ready = next_ready
        started = 0
        for group in groups:
            await self._gate.acquire()
            try:
                claimed = await asyncio.to_thread(self._claim, group)
            except BaseException:
                self._gate.release()
                raise
            if not claimed.rows:
                self._gate.release()
                continue
            task = asyncio.create_task(self._process(claimed))
            task.nxt_rows = claimed.rows  # type: ignore[attr-defined]
            self._tasks.add(task)
            task.add_done_callback(self._done)
            started += 1
        return started

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._gate.release()
        # A backlog (more due rows than one pass reads) is taken on at once, not at the next poll.
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("dispatcher task failed: %s", task.exception())

    def _plan(self, rows: Sequence[InboxRow], now: datetime) -> tuple[list[_Group], float | None]:
        buckets: dict[tuple[Any, ...], _Group] = {}
        for row in rows:
            handler = self.registry.find(row)
            if handler is None:
                gkey: tuple[Any, ...] = ("", "events-only", row.run_key)
            elif handler.group_by is None:
                gkey = (handler.name, f"row:{row.id}", row.run_key)
            else:
                gkey = (handler.name, handler.group_by(row), row.run_key)
            buckets.setdefault(gkey, _Group(handler, [])).rows.append(row)
        groups: list[_Group] = []
        next_ready: float | None = None
        for group in buckets.values():
            h = group.handler
            if h is not None and h.debounce_s > 0 and group.rows[0].run_key is None:
                newest = max(r.received_at for r in group.rows)
                oldest = min(r.received_at for r in group.rows)
                ready = min(
                    newest + timedelta(seconds=h.debounce_s), oldest + timedelta(seconds=h.max_wait_s)
                )
                if ready > now:
                    at = ready.timestamp()
                    next_ready = at if next_ready is None else min(next_ready, at)
                    continue
            size = h.max_batch if h is not None else self.settings.dispatch_batch
            for i in range(0, len(group.rows), size):
                groups.append(_Group(h, group.rows[i : i + size]))
        return groups, next_ready

    def _claim(self, group: _Group) -> _Group:
        key = group.rows[0].run_key or run_key_for(group.rows)
        lease = utcnow() + timedelta(seconds=self.settings.lease_s)
        with self.engine.begin() as conn:
            got = set(
                inbox.claim(
                    conn, [r.id for r in group.rows], owner=self.owner, lease_until=lease, run_key=key
                )
            )
        return _Group(group.handler, [r for r in group.rows if r.id in got], key)

    async def _process(self, group: _Group) -> None:
        rows, handler = group.rows, group.handler
        renew = asyncio.create_task(self._renew(rows))
        status, flow_run_id, note = "done", None, None
        try:
            await self._prefect_available()
            # Once per delivery and per replay (see emit_webhook_event). Off the loop: building a Prefect
            # event is ~0.2 ms of pydantic and settings lookups, and a group may hold a thousand rows.
            fresh = [row for row in rows if row.attempts == 0]
            if fresh:
                await asyncio.to_thread(_emit_all, fresh)
            if handler is not None:
                batch = Batch(
                    handler, rows, group.key, self.settings, self.integrations.current, self.flow_starter
                )
                flow_run_id = await handler.run(batch)
        except Ignore as exc:
            status, note = "ignored", str(exc) or "ignored by its handler"
        except TRANSIENT as exc:
            await self._retry(rows, exc, counted=False)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._retry(rows, exc, counted=True)
            return
        finally:
            renew.cancel()
        self._transient = 0

        def close() -> None:
            with self.engine.begin() as conn:
                inbox.complete(
                    conn, rows, owner=self.owner, flow_run_id=flow_run_id, status=status, note=note
                )

        try:
            await asyncio.to_thread(close)
        except SQLAlchemyError as exc:  # the lease runs out and the rows are taken again (same key)
            logger.warning("could not close %d webhook events: %s", len(rows), _line(exc))
            return
        if status == "ignored":
            self.stats.ignored += len(rows)
        else:
            self.stats.dispatched += len(rows)

    async def _retry(self, rows: Sequence[InboxRow], exc: BaseException, *, counted: bool) -> None:
        reason = f"{type(exc).__name__}: {_line(exc)}"
        self.stats.last_error = reason
        attempts = rows[0].attempts + 1
        if counted and attempts >= self.max_attempts():

            def fail() -> None:
                with self.engine.begin() as conn:
                    inbox.fail(conn, rows, owner=self.owner, error=reason)

            with contextlib.suppress(SQLAlchemyError):
                await asyncio.to_thread(fail)
            self.stats.failed += len(rows)
            logger.error("%d webhook events failed after %d attempts: %s", len(rows), attempts, reason)
            return
        if counted:
            at = inbox.retry_at(attempts, base_s=self.retry_base_s(), cap_s=self.settings.retry_cap_s)
        else:
            self._transient += 1
            at = inbox.retry_at(self._transient, base_s=self.retry_base_s(), cap_s=self.settings.retry_cap_s)
        logger.warning("webhook events %s retry at %s: %s", [r.id for r in rows][:5], at.isoformat(), reason)

        def release() -> None:
            with self.engine.begin() as conn:
                inbox.release(
                    conn,
                    [r.id for r in rows],
                    owner=self.owner,
                    next_attempt_at=at,
                    error=reason,
                    count_attempt=counted,
                )

        with contextlib.suppress(SQLAlchemyError):  # else the lease runs out and they are taken again
            await asyncio.to_thread(release)
        self.stats.retried += len(rows)

    async def _renew(self, rows: Sequence[InboxRow]) -> None:
        ids = [r.id for r in rows]
        while True:
            await asyncio.sleep(self.settings.lease_s / 3)

            def run() -> None:
                with self.engine.begin() as conn:
                    inbox.renew(
                        conn,
                        ids,
                        owner=self.owner,
                        lease_until=utcnow() + timedelta(seconds=self.settings.lease_s),
                    )

            with contextlib.suppress(SQLAlchemyError):
                await asyncio.to_thread(run)

    async def _prefect_available(self) -> None:
        """Raise `Unavailable` when the Prefect API does not answer (checked at most every 5 s)."""
        if not self.check_prefect or time.monotonic() - self._prefect_ok_at < 5.0:
            return
        problem = await (await self.flow_starter.client()).api_healthcheck()
        if problem is not None:
            raise Unavailable(f"the Prefect API is unavailable ({_line(problem)})")
        self._prefect_ok_at = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        return {
            "dispatched": self.stats.dispatched,
            "failed": self.stats.failed,
            "retried": self.stats.retried,
            "ignored": self.stats.ignored,
            "inFlight": len(self._tasks),
            "lastError": self.stats.last_error,
            "handlers": [h.name for h in self.registry],
        }


def run_key_for(rows: Sequence[InboxRow]) -> str:
    """`inbox-<smallest row id>-<12 hex of its source, event key and receive time>[-replay<N>]`.

    The row id alone would repeat across hubs that share one Prefect server (two environments, a test
    hub): the digest of the row's own dedupe key keeps the key unique to this event, and its receive time
    (stored with the row, so the same on every retry) to this hub: a vendor that delivers the same event
    (the same Stripe event id, Twilio message SID) to two environments gets a run in each.
    """
    first = min(rows, key=lambda r: r.id)
    received = first.received_at.isoformat() if first.received_at else ""
    digest = hashlib.sha256(f"{first.source}:{first.event_key}:{received}".encode()).hexdigest()[:12]
    return f"inbox-{first.id}-{digest}" + (f"-replay{first.replays}" if first.replays else "")


def _line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
