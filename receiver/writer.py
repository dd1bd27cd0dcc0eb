"""Group commit: one writer stores the events of many concurrent requests in one transaction.

A webhook is acknowledged only after its inbox row is committed. Committing each request on its own
caps SQLite at a few hundred commits a second and makes every request wait for the one before; here each
request queues its items and awaits a future, and one writer task takes everything queued (up to
`write_batch_max`), inserts it with one statement in one transaction on a worker thread, and resolves
every future when the commit returns. While one batch commits the next one gathers, so batches grow with
the load and latency stays about one commit. Dashboard rows (rejections, metric aggregates) ride along
in the same transactions.

If the transaction fails (the hub is down, locked past its timeout), every request of the batch gets
`HubUnavailable` (503) and nothing of the batch is stored; the next batch tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hub.inbox import InboxItem, insert_events
from hub.models import DashboardEvent, DashboardMetric, utcnow
from receiver.errors import HubUnavailable

__all__ = ["GroupWriter", "Stored"]

logger = logging.getLogger("nxt.receiver")
LOCK_RETRY_S = 0.002


@dataclass(frozen=True)
class Stored:
    """What happened to one item: its row id, and whether it was already there."""

    id: int
    duplicate: bool


@dataclass
class _Job:
    items: Sequence[InboxItem]
    future: asyncio.Future[list[Stored]] | None
    extra: Sequence[tuple[str, dict[str, Any]]] = field(default_factory=tuple)  # dashboard rows


class GroupWriter:
    """Batches inbox inserts (and dashboard rows) from concurrent requests into shared transactions.

    Args:
        engine: The hub.
        max_batch: Most items per transaction.
        on_commit: Called (on the event loop) after a batch that stored new rows commits; the
            dispatcher uses it to wake up.
        on_loop: SQLite: commit on the event loop (else on the writer's thread).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 500,
        on_commit: Callable[[], None] | None = None,
        on_loop: bool = True,
    ) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.on_commit = on_commit
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        # Its own thread: on the loop's shared pool a commit could wait behind in-process flow runs and
        # dispatcher reads; one thread is also what a single SQLite writer wants.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nxt-receiver-writer")
        # SQLite: commit on the event loop itself, on a connection of the writer's own. A commit in WAL
        # mode with synchronous=NORMAL writes the WAL and does not fsync (about a millisecond), and the
        # Python half of it holds the GIL anyway: on a thread, every batch cost two thread hand-offs and
        # a GIL ping-pong with the loop, which on a busy machine turned into stalls of 100-300 ms.
        self.inline = on_loop and engine.dialect.name == "sqlite"
        self._conn: Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._checkpointer: asyncio.Task[None] | None = None
        self._dirty = False
        self.batches = 0
        self.items = 0
        self.failures = 0
        self.lock_wait_s = 5.0  # SQLite: then the batch waits on the thread under the hub's busy timeout
        self.lock_retries = 0  # SQLite: commits on the loop that found the write lock taken

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="nxt-receiver-writer")
        if self.engine.dialect.name == "sqlite":
            self._checkpointer = asyncio.create_task(self._checkpoints(), name="nxt-receiver-checkpoint")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        for task in (self._task, self._checkpointer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._checkpointer = None
        self._drop_connection()
        self._thread.shutdown(wait=True)

    async def flush(self) -> None:
        """Wait until everything queued so far has been written (or refused)."""
        await self._queue.join()

    async def store(self, items: Sequence[InboxItem]) -> list[Stored]:
        """Store `items` (in one transaction with others); returns once committed.

        Raises:
            HubUnavailable: the transaction failed; nothing of it was stored.
        """
        future: asyncio.Future[list[Stored]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(items, future))
        return await future

    def record(self, table: str, row: dict[str, Any]) -> None:
        """Queue one dashboard row (`events` or `metrics`) without waiting for it."""
        self._queue.put_nowait(_Job((), None, ((table, row),)))

    async def _run(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            count = self._gather(jobs, len(jobs[0].items))
            started = time.perf_counter()
            try:
                results = None
                if self.inline:
                    # The write lock taken (a flow, the dispatcher, another process): try again every
                    # few ms without blocking the loop (SQLite's own busy handler sleeps up to 100 ms
                    # at a time, long after the lock is free), taking in what arrives meanwhile.
                    deadline = time.monotonic() + self.lock_wait_s
                    while (results := self._commit_inline(jobs)) is None and time.monotonic() < deadline:
                        await asyncio.sleep(LOCK_RETRY_S)
                        count = self._gather(jobs, count)
                if results is None:
                    results = await asyncio.get_running_loop().run_in_executor(
                        self._thread, self._commit, jobs
                    )
            except SQLAlchemyError as exc:
                self.failures += 1
                reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0][:200]
                logger.error("the hub refused a batch of %d events: %s", count, reason)
                for job in jobs:
                    if job.future is not None and not job.future.done():
                        job.future.set_exception(HubUnavailable(f"the hub is unavailable ({reason})"))
            except BaseException as exc:  # a bug: fail the requests, keep the writer alive
                logger.exception("the inbox writer failed")
                for job in jobs:
                    if job.future is not None and not job.future.done():
                        job.future.set_exception(
                            HubUnavailable(f"the inbox writer failed ({type(exc).__name__})")
                        )
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                took = time.perf_counter() - started
                if took > 0.1:
                    logger.warning("slow hub commit: %d events took %.0f ms", count, took * 1000)
                self.batches += 1
                self.items += count
                self._dirty = True
                fresh = False
                for job, stored in zip(jobs, results, strict=True):
                    fresh = fresh or any(not s.duplicate for s in stored)
                    if job.future is not None and not job.future.done():
                        job.future.set_result(stored)
                if fresh and self.on_commit is not None:
                    self.on_commit()
            finally:
                for _ in jobs:
                    self._queue.task_done()

    async def _checkpoints(self, every_s: float = 1.0) -> None:
        """SQLite: checkpoint the WAL on another connection (PASSIVE: never blocks the writer)."""

        def checkpoint() -> None:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

        while True:
            await asyncio.sleep(every_s)
            if not self._dirty:
                continue
            self._dirty = False
            try:
                await asyncio.to_thread(checkpoint)
            except SQLAlchemyError as exc:
                logger.warning("WAL checkpoint failed: %s", exc)

    def _gather(self, jobs: list[_Job], count: int) -> int:
        """Add queued jobs to `jobs` up to `max_batch` items; returns the item count."""
        while count < self.max_batch and not self._queue.empty():
            job = self._queue.get_nowait()
            jobs.append(job)
            count += len(job.items)
        return count

    def _connection(self) -> Connection:
        """SQLite: the writer's own connection for commits on the loop, opened once (again after a
        failure). It never waits for a lock (busy_timeout 0): the loop must not block."""
        if self._conn is None:
            conn = self.engine.connect()
            _no_autocheckpoint(conn)
            conn.exec_driver_sql("PRAGMA busy_timeout=0")
            conn.commit()
            self._conn = conn
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.close()
            self._conn = None

    def _commit_inline(self, jobs: Sequence[_Job]) -> list[list[Stored]] | None:
        """SQLite: commit on the loop when the write lock is free; None when another connection holds
        it (a flow, the dispatcher, another process): the batch then waits for it on the writer's
        thread, under the hub's busy timeout, and the loop keeps serving."""
        try:
            conn = self._connection()
            with conn.begin():
                return self._write(conn, jobs)
        except OperationalError as exc:
            text = str(exc.orig).lower()
            if "locked" in text or "busy" in text:
                self.lock_retries += 1
                return None
            self._drop_connection()
            raise
        except SQLAlchemyError:
            self._drop_connection()
            raise

    def _commit(self, jobs: Sequence[_Job]) -> list[list[Stored]]:
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                _no_autocheckpoint(conn)
            return self._write(conn, jobs)

    def _write(self, conn: Connection, jobs: Sequence[_Job]) -> list[list[Stored]]:
        items = [item for job in jobs for item in job.items]
        extra = [row for job in jobs for row in job.extra]
        stored = insert_events(conn, items) if items else []
        if extra:
            _insert_extra(conn, extra)
        out: list[list[Stored]] = []
        at = 0
        for job in jobs:
            n = len(job.items)
            out.append([Stored(i, d) for i, d in stored[at : at + n]])
            at += n
        return out


def _no_autocheckpoint(conn: Connection) -> None:
    """The commit that crosses SQLite's checkpoint threshold copies the WAL into the database and fsyncs
    it (hundreds of ms): every request of the next batches would wait. The writer's connections never
    checkpoint; `GroupWriter._checkpoints` does it beside them, on another connection."""
    if not conn.info.get("nxt_no_autocheckpoint"):
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        conn.info["nxt_no_autocheckpoint"] = True


def _insert_extra(conn: Connection, rows: Sequence[tuple[str, dict[str, Any]]]) -> None:
    now = utcnow()
    events = [r | {"timestamp": r.get("timestamp", now)} for t, r in rows if t == "events"]
    metrics = [r | {"timestamp": r.get("timestamp", now)} for t, r in rows if t == "metrics"]
    if events:
        conn.execute(sa.insert(DashboardEvent.__table__), events)
    if metrics:
        conn.execute(sa.insert(DashboardMetric.__table__), metrics)
