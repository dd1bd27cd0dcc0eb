"""`sandbox._delivery`: the courier every stand-in's webhooks leave through, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox._delivery import Courier, DeliveryLog, Worker, next_delay
from sandbox.testing import WebhookReceiver


@dataclass
class _Job:
    """A retried delivery as a stand-in keeps one."""

    name: str
    attempts: int = 0
    timer: asyncio.TimerHandle | None = None


@pytest.fixture
def rx() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()  # nothing listens there now: connecting is refused
    return port


@asynccontextmanager
async def _silent_server() -> AsyncIterator[str]:
    """A server that accepts the request and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.Event().wait()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
    finally:
        server.close()


# --- post ------------------------------------------------------------------------------------------
def test_post_sends_the_body_and_completes_the_record(rx: WebhookReceiver) -> None:
    async def go() -> tuple[Any, dict[str, Any]]:
        courier = Courier(timeout=5)
        record: dict[str, Any] = {"kind": "event"}
        try:
            outcome = await courier.post(rx.url, b'{"a":1}', {"X-Sig": "s1"}, record)
        finally:
            await courier.shutdown()
        return outcome, record

    outcome, record = asyncio.run(go())
    (got,) = rx.wait_for(1)
    assert (got.body, got.headers["x-sig"]) == (b'{"a":1}', "s1")
    assert (outcome.status, outcome.ok, outcome.error) == (200, True, None)
    assert list(record) == ["kind", "response_body", "status_code", "duration_ms", "success"]
    assert (record["response_body"], record["status_code"], record["success"]) == ("ok", 200, True)
    assert record["duration_ms"] >= 0


def test_what_counts_as_success_is_the_vendors(rx: WebhookReceiver) -> None:
    rx.status = 302

    async def go() -> list[bool]:
        courier = Courier(timeout=5)
        try:
            plain = await courier.post(rx.url, b"", {}, {})
            woo = await courier.post(rx.url, b"", {}, {}, success=lambda code: 200 <= code < 303)
        finally:
            await courier.shutdown()
        return [plain.ok, woo.ok]

    assert asyncio.run(go()) == [False, True]


def test_no_answer_is_status_0_with_the_error() -> None:
    async def go() -> tuple[Any, dict[str, Any]]:
        courier = Courier(timeout=5)
        record: dict[str, Any] = {}
        try:
            return await courier.post(f"http://127.0.0.1:{_closed_port()}/", b"x", {}, record), record
        finally:
            await courier.shutdown()

    outcome, record = asyncio.run(go())
    assert (outcome.status, outcome.ok, outcome.timed_out) == (0, False, False)
    assert record["error"].startswith("ConnectError") and "response_body" not in record
    assert (record["status_code"], record["success"]) == (0, False)


def test_a_post_times_out_after_its_own_timeout() -> None:
    async def go() -> tuple[Any, dict[str, Any]]:
        courier = Courier(timeout=60)
        record: dict[str, Any] = {}
        async with _silent_server() as url:
            try:
                return await courier.post(url, b"x", {}, record, timeout=0.2), record
            finally:
                await courier.shutdown()

    outcome, record = asyncio.run(go())
    assert outcome.timed_out and not outcome.ok
    assert record["error"].startswith("ReadTimeout")


# --- background tasks -------------------------------------------------------------------------------
def test_flush_waits_for_what_was_scheduled() -> None:
    async def go() -> tuple[list[int], int, int]:
        courier = Courier()
        done: list[int] = []
        gate = asyncio.Event()

        async def job(n: int) -> None:
            await gate.wait()
            done.append(n)
            if n == 1:  # a job that schedules another: flush waits for that one too
                courier.schedule(job(3))

        courier.schedule(job(1))
        courier.schedule(job(2))
        busy = courier.busy
        asyncio.get_running_loop().call_soon(gate.set)
        await courier.flush()
        await courier.shutdown()
        return sorted(done), busy, courier.busy

    assert asyncio.run(go()) == ([1, 2, 3], 2, 0)


def test_without_a_loop_nothing_runs_and_nothing_leaks() -> None:
    ran: list[bool] = []

    async def job() -> None:
        ran.append(True)

    coro = job()
    assert Courier().schedule(coro) is None
    assert ran == [] and coro.cr_frame is None  # closed: no "never awaited" warning either


def test_from_another_thread_it_runs_on_the_servers_loop() -> None:
    async def go() -> tuple[str, int]:
        courier = Courier()
        courier.loop = asyncio.get_running_loop()
        seen: list[str] = []
        started = asyncio.Event()

        async def job() -> None:
            started.set()
            seen.append(threading.current_thread().name)

        thread = threading.Thread(target=lambda: courier.schedule(job()), name="test-thread")
        thread.start()
        await asyncio.to_thread(thread.join)
        await asyncio.wait_for(started.wait(), 5)
        await courier.flush()
        return seen[0], courier.busy

    name, busy = asyncio.run(go())
    assert name == threading.main_thread().name and busy == 0


# --- retries ---------------------------------------------------------------------------------------
def test_next_delay_reads_the_schedule() -> None:
    schedule = (1.0, 5.0, 25.0)
    assert [next_delay(schedule, n) for n in (1, 2, 3, 4)] == [1.0, 5.0, 25.0, None]
    assert next_delay((), 1) is None
    assert next_delay((60, 120), 2) == 120  # the schedule's own values (ints stay ints)


def test_a_retry_runs_when_its_timer_fires() -> None:
    async def go() -> tuple[list[int], bool]:
        courier = Courier()
        job = _Job("a")
        fired = asyncio.Event()
        attempts: list[int] = []

        async def attempt() -> None:
            job.attempts += 1
            attempts.append(job.attempts)
            fired.set()

        courier.retry_later(job, 0.0, attempt)
        await asyncio.wait_for(fired.wait(), 5)
        await courier.flush()
        await courier.shutdown()
        return attempts, job.timer is None

    assert asyncio.run(go()) == ([1], True)


def test_deliver_now_attempts_every_waiting_one_at_once_in_order() -> None:
    async def go() -> tuple[list[str], list[Any]]:
        courier = Courier()
        jobs = [_Job("a"), _Job("b"), _Job("c")]
        order: list[str] = []

        async def attempt(job: _Job) -> str | None:
            order.append(job.name)
            return None if job.name == "b" else job.name  # None: nothing to report for it

        for job in jobs:
            courier.retry_later(job, 3600, lambda job=job: attempt(job))
        results = await courier.deliver_now(lambda: jobs, attempt)
        timers = [job.timer for job in jobs]
        await courier.shutdown()
        return order + results, timers

    seen, timers = asyncio.run(go())
    assert seen == ["a", "b", "c", "a", "c"]
    assert timers == [None, None, None]  # cancelled: the hour-long wait does not fire later


def test_cancel_retry_stops_the_timer() -> None:
    async def go() -> list[str]:
        courier = Courier()
        job = _Job("a")
        ran: list[str] = []

        async def attempt() -> None:
            ran.append("ran")

        courier.retry_later(job, 0.0, attempt)
        courier.cancel_retry(job)
        courier.cancel_retry(job)  # twice is harmless
        await asyncio.sleep(0)  # one turn of the loop: a live zero-delay timer would fire now
        await courier.flush()
        return ran

    assert asyncio.run(go()) == []


def test_shutdown_cancels_timers_and_tasks() -> None:
    async def go() -> tuple[list[str], bool]:
        courier = Courier()
        ran: list[str] = []
        hang = asyncio.Event()

        async def attempt() -> None:
            ran.append("timer")

        async def stuck() -> None:
            await hang.wait()
            ran.append("task")

        courier.retry_later(_Job("a"), 0.0, attempt)
        courier.schedule(stuck())
        await courier.shutdown()
        await asyncio.sleep(0)
        hang.set()
        await asyncio.sleep(0)
        return ran, courier.busy == 0

    assert asyncio.run(go()) == ([], True)


def test_kept_failures_are_attempted_again_only_on_redeliver(rx: WebhookReceiver) -> None:
    async def go() -> tuple[int, list[int], int, list[Any]]:
        courier = Courier(timeout=5)
        gone = {"b"}

        async def deliver(name: str) -> int:
            outcome = await courier.post(rx.url, name.encode(), {}, {})
            if not outcome.ok:
                courier.keep_failed(lambda: None if name in gone else deliver(name))
            return outcome.status

        rx.status = 500
        for name in ("a", "b", "c"):
            courier.schedule(deliver(name))
        await courier.flush()  # every first attempt failed and was kept; none retried on its own
        kept = courier.failed
        rx.status = 200
        again = await courier.redeliver()  # "b" lost its subscription: nothing to deliver to
        left, nothing = courier.failed, await courier.redeliver()
        await courier.shutdown()
        return kept, again, left, nothing

    kept, again, left, nothing = asyncio.run(go())
    assert (kept, again, left, nothing) == (3, [200, 200], 0, [])
    assert sorted(r.body for r in rx.received) == [b"a", b"a", b"b", b"c", b"c"]


def test_the_log_keeps_the_newest_and_filters() -> None:
    log = DeliveryLog(size=2)
    for n in range(3):
        log.add({"kind": "event" if n else "ping", "n": n})
    assert [d["n"] for d in log.items] == [1, 2]
    assert log.list(kind="event", n=2) == [{"kind": "event", "n": 2}]
    log.clear()
    assert log.list() == []


# --- the worker ------------------------------------------------------------------------------------
def test_a_worker_starts_once_and_is_woken() -> None:
    async def go() -> list[str]:
        worker = Worker()
        seen: list[str] = []
        woken = asyncio.Event()

        async def run(wake: asyncio.Event) -> None:
            seen.append("started")
            while True:
                await wake.wait()
                wake.clear()
                seen.append("woken")
                woken.set()

        worker.wake(run)
        await asyncio.sleep(0)  # let it start
        worker.wake(run)  # running: this only wakes it
        await asyncio.wait_for(woken.wait(), 5)
        await worker.stop()
        await worker.stop()  # twice is harmless
        return seen

    assert asyncio.run(go()) == ["started", "woken"]


def test_a_worker_without_a_loop_does_nothing() -> None:
    made: list[bool] = []

    async def run(wake: asyncio.Event) -> None:
        return None

    def factory(wake: asyncio.Event) -> Any:
        made.append(True)
        return run(wake)

    Worker().wake(factory)
    assert made == []  # no coroutine was even made
