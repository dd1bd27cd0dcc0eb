"""A store's request budget shared by every worker through a Prefect global concurrency limit.

The limit `woocommerce-<store>` decays at rpm/60 slots per second, so all workers together stay under the
store's rate on average; its capacity holds three seconds of requests so that a worker can take slots ahead
of need. This process keeps a reserve of up to one capacity, refilled in the background half a capacity at
a time, and hands the slots out locally; the client's own token bucket (one second of burst) still paces
each request. Requests wait only when the reserve is empty.

Slots are taken with the Prefect client's `increment_concurrency_slots` (the call behind
`prefect.concurrency.asyncio.rate_limit`), waiting out 423 answers by their `Retry-After`. Measured on
Prefect 3.9.1 with its SQLite server (docs/performance.md): while the server records task-run states, one
slot request takes about 2 s instead of 0.02 s, which is why refills run ahead of need rather than in
line with the requests, and why a refill asks for half the capacity (a request for all of it waits
until every slot has decayed).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx


class SharedRateBudget:
    """Local hand-out of slots taken ahead of need from one Prefect rate limit."""

    def __init__(self, limit_name: str, capacity: int) -> None:
        self.limit_name = limit_name
        self.capacity = max(1, capacity)
        self.chunk = max(1, self.capacity // 2)
        self.tokens = 0
        self.waiting = 0  # slots asked for by requests that are waiting
        self.acquisitions = 0
        self._changed = asyncio.Condition()
        self._refill: asyncio.Task[None] | None = None
        self._client: Any = None
        self._error: BaseException | None = None

    async def ready(self) -> None:
        """Take the first slots before any task starts (the server answers fastest then)."""
        self.prime()
        async with self._changed:
            while self.tokens < 1 and self._error is None:
                await self._changed.wait()
            if self._error is not None:
                raise self._error

    def prime(self) -> None:
        """Start filling the reserve now (before the first request needs it)."""
        if self._refill is None or self._refill.done():
            self._error = None
            self._refill = asyncio.ensure_future(self._fill())

    async def take(self, requests: int) -> None:
        """Wait until `requests` slots are ours."""
        if requests <= 0:
            return
        async with self._changed:
            self.waiting += requests
            try:
                self.prime()
                while self.tokens < requests:
                    if self._error is not None:
                        raise self._error
                    await self._changed.wait()
            finally:
                self.waiting -= requests
            self.tokens -= requests
        self.prime()

    async def close(self) -> None:
        if self._refill is not None:
            self._refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refill
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None

    async def _fill(self) -> None:
        try:
            while self.tokens < self.capacity + self.waiting:
                await self._increment(self.chunk)
                async with self._changed:
                    self.acquisitions += 1
                    self.tokens += self.chunk
                    self._changed.notify_all()
        except Exception as exc:  # waiting requests see it; a later take() tries again
            async with self._changed:
                self._error = exc
                self._changed.notify_all()

    async def _increment(self, slots: int) -> None:
        from prefect.client.orchestration import get_client

        if self._client is None:
            self._client = get_client()
            await self._client.__aenter__()
        while True:
            try:
                await self._client.increment_concurrency_slots(
                    names=[self.limit_name], slots=slots, mode="rate_limit"
                )
                return
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 423:  # 423 Locked: no free slots yet
                    raise
                await asyncio.sleep(float(exc.response.headers.get("Retry-After", "0.5")))
