"""Outgoing deliveries every stand-in shares: background posts, one HTTP client, retry timers, the log.

What a stand-in sends on its own (webhooks, Twilio's status callbacks, SendGrid's Event Webhook) leaves
through one `Courier`, which the `Service` base makes and the stand-in's state holds:

    courier.schedule(coro)                      run a delivery in the background on the server's loop
    await courier.post(url, body, headers, rec)  one POST; its outcome, status and timing go into `rec`
    courier.retry_later(d, delay, attempt)      the next attempt of a retried delivery, on a timer
    courier.keep_failed(again) / redeliver()     failures kept until a test asks for them again
    await courier.deliver_now(waiting, attempt)  every waiting retry at once (tests do not wait minutes)
    await courier.flush()                       wait until what is under way has been attempted
    await courier.shutdown()                    cancel timers and tasks, close the client

What differs between vendors stays in their `webhooks.py`: the body, the headers and signature, what
counts as success (WooCommerce: any status up to 302), the retry schedule (`next_delay` reads it) and when
to give up, and the vendor's fields in each log record. A record is the vendor's fields, then what
`post` adds: `response_body` (its first 1,000 characters) or `error`, `status_code` (0 without an
answer), `duration_ms`, `success`.

`Worker` is the other background shape: one long-lived loop per stand-in (Twilio's status clock,
SendGrid's batching) that sleeps until woken.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

__all__ = ["Courier", "DeliveryLog", "Outcome", "Retried", "Worker", "is_2xx", "next_delay"]

R = TypeVar("R")
Job = Coroutine[Any, Any, Any]


class DeliveryLog:
    """Outgoing deliveries (webhooks, callbacks) a stand-in emitted, newest last."""

    def __init__(self, size: int = 10_000) -> None:
        self.items: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, record: dict[str, Any]) -> None:
        self.items.append(record)

    def list(self, **match: Any) -> list[dict[str, Any]]:
        return [d for d in self.items if all(d.get(k) == v for k, v in match.items())]

    def clear(self) -> None:
        self.items.clear()


def is_2xx(status: int) -> bool:
    return 200 <= status < 300


def next_delay(schedule: Sequence[float], attempts: int) -> float | None:
    """Seconds before the attempt after `attempts` attempts, or None once the schedule is spent."""
    return schedule[attempts - 1] if 0 < attempts <= len(schedule) else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one POST went: the status (0 without an answer), whether the vendor counts it a success, and
    the transport error when there was no answer."""

    status: int
    ok: bool
    error: httpx.HTTPError | None = None

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, httpx.TimeoutException)


class Retried(Protocol):
    """A delivery that is retried on a timer: the attempts made so far and the pending timer."""

    attempts: int
    timer: asyncio.TimerHandle | None


D = TypeVar("D", bound=Retried)


class Courier:
    """A stand-in's outgoing deliveries: tracked background tasks, one lazily made client, retry timers.

    Args:
        log: Where every attempt's record goes (the service's `deliveries`).
        timeout: Seconds a receiver has to answer, unless `post` is given its own (a runtime setting).
    """

    def __init__(self, log: DeliveryLog | None = None, *, timeout: float = 10.0) -> None:
        self.log = log if log is not None else DeliveryLog()
        self.timeout = timeout
        # The server's event loop (set by the server): deliveries queued from other threads run there.
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._http: httpx.AsyncClient | None = None
        self._failed: list[Callable[[], Job | None]] = []

    # --- running in the background ---------------------------------------------------------------
    def schedule(self, coro: Job) -> asyncio.Task[Any] | None:
        """Run `coro` as a tracked task (`flush` waits for it); from another thread, on the server's loop.

        Returns the task when called on a running loop. With no loop to run on (a stand-in used outside a
        server) nothing can be delivered, and the coroutine is closed.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self._spawn, coro)
            else:
                coro.close()
            return None
        return self._spawn(coro, loop)

    def _spawn(self, coro: Job, loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Task[Any]:
        task = (loop or asyncio.get_running_loop()).create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def busy(self) -> int:
        """Deliveries under way (retries waiting on a timer not counted)."""
        return len(self._tasks)

    # --- posting ---------------------------------------------------------------------------------
    def client(self) -> httpx.AsyncClient:
        # Receivers are called as the vendors call them: no redirects followed.
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False, timeout=self.timeout)
        return self._http

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        record: dict[str, Any],
        *,
        timeout: float | None = None,
        success: Callable[[int], bool] = is_2xx,
    ) -> Outcome:
        """POST `body` to `url` once and complete `record` (the caller adds it to the log when done)."""
        started = time.monotonic()
        status, error = 0, None
        try:
            resp = await self.client().post(
                url, content=body, headers=headers, timeout=self.timeout if timeout is None else timeout
            )
            status = resp.status_code
            record["response_body"] = resp.text[:1000]
        except httpx.HTTPError as exc:
            error = exc
            record["error"] = f"{type(exc).__name__}: {exc}"
        ok = success(status)
        record["status_code"] = status
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        record["success"] = ok
        return Outcome(status, ok, error)

    # --- retries ---------------------------------------------------------------------------------
    def retry_later(self, d: Retried, delay: float, attempt: Callable[[], Job]) -> None:
        """Run `attempt()` in the background after `delay` seconds (call on the server's loop)."""

        def fire() -> None:
            self._timers.discard(handle)
            d.timer = None
            self.schedule(attempt())

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)
        d.timer = handle

    def cancel_retry(self, d: Retried) -> None:
        if d.timer is not None:
            d.timer.cancel()
            self._timers.discard(d.timer)
            d.timer = None

    async def deliver_now(
        self, waiting: Callable[[], Iterable[D]], attempt: Callable[[D], Awaitable[R | None]]
    ) -> list[R]:
        """Attempt every delivery `waiting()` lists (read once what is under way has finished) now, one
        after another, instead of on its timer; returns the attempts' results."""
        await self.flush()
        results: list[R] = []
        for d in list(waiting()):
            self.cancel_retry(d)
            result = await attempt(d)
            if result is not None:
                results.append(result)
        return results

    # --- manual redelivery (vendors whose days of retries the stand-in leaves to a test) -----------
    def keep_failed(self, again: Callable[[], Job | None]) -> None:
        """Keep a failed delivery for `redeliver()`: `again()` makes its next attempt, or returns None
        when there is nothing to deliver to any more (its subscription was removed)."""
        self._failed.append(again)

    @property
    def failed(self) -> int:
        """Failed deliveries kept for `redeliver()`."""
        return len(self._failed)

    async def redeliver(self) -> list[Any]:
        """Attempt every kept failure again now, one after another, once what is under way has finished
        (a failure there is redelivered too); returns the attempts' results."""
        await self.flush()
        kept, self._failed = self._failed, []
        results = []
        for again in kept:
            job = again()
            if job is not None:
                results.append(await job)
        return results

    # --- waiting and stopping ------------------------------------------------------------------------
    async def flush(self) -> None:
        """Wait until every delivery under way has been attempted (retries on a timer keep waiting)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self) -> None:
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class Worker:
    """A long-lived background loop that sleeps until woken (Twilio's status clock, SendGrid's batches).

    `wake(run)` starts `run(event)` on the running loop if it is not running yet, else sets `event`; with
    no running loop (records built in a unit test) it does nothing.
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._event: asyncio.Event | None = None

    def wake(self, run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is None or self._task.done():
            self._event = asyncio.Event()
            self._task = loop.create_task(run(self._event))
        elif self._event is not None:
            self._event.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
