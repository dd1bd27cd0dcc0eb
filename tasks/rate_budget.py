"""A store's request budget shared by every worker through a Prefect global concurrency limit.

The limit `woocommerce-<store host and path>` is named after the store's URL (two blocks for one store share
it), is created on first use and never overwritten (an operator may tune it in the UI). It decays at rpm/60
slots per second, so all workers together stay under the store's rate on average; its capacity holds three
seconds of requests so that a worker can take slots ahead of need. Every request of a run takes a slot: the
budget is the WooCommerce client's `before_request` hook. This process keeps a reserve of up to one
capacity, refilled in the background half a capacity at a time, and hands the slots out locally; the
client's own token bucket (one second of burst) still paces each request. Requests wait only when the
reserve is empty.

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
import math
import re
from typing import Any

import httpx

CAPACITY_SECONDS = 3  # the limit holds this many seconds of requests, so slots can be taken ahead of need


def limit_name(store_url: str) -> str:
    """The limit's name for a store: derived from its URL, so every block naming one store shares it."""
    host_path = re.sub(r"^[a-z]+://", "", store_url.strip().lower()).rstrip("/")
    return "woocommerce-" + re.sub(r"[^a-z0-9]+", "-", host_path).strip("-")


async def ensure_limit(name: str, rpm: int) -> int:
    """Create the store's rate limit if it does not exist yet, and return its capacity.

    An existing limit is used as it is: an operator may have tuned it in the UI, and a run must not undo
    that. Two first runs may race to create it; the loser reads the winner's.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    per_second = rpm / 60
    capacity = max(1, math.ceil(per_second * CAPACITY_SECONDS))
    async with get_client() as client:
        try:
            return int((await client.read_global_concurrency_limit_by_name(name)).limit)
        except ObjectNotFound:
            pass
        try:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=capacity, slot_decay_per_second=per_second)
            )
        except ObjectAlreadyExists:
            return int((await client.read_global_concurrency_limit_by_name(name)).limit)
    return capacity


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

    @classmethod
    async def open(cls, store_url: str, rpm: int) -> SharedRateBudget:
        """The budget of the store at `store_url`, its limit created when missing, first slots taken."""
        name = limit_name(store_url)
        budget = cls(name, await ensure_limit(name, rpm))
        try:
            await budget.ready()
        except BaseException:
            await budget.close()
            raise
        return budget

    async def take_one(self) -> None:
        """One request's slot (the client's `before_request` hook)."""
        await self.take(1)

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
