"""A store's request budget shared by every worker through a Prefect global concurrency limit.

The limit `woocommerce-<store>` has a capacity of one second of requests and decays at rpm/60 slots per
second, so all workers together stay under the store's rate. Taking slots from the Prefect server costs a
round trip (and far more when many tasks ask at once), so a process takes them a tenth of a second's worth
at a time and hands them out locally; the client's own token bucket still paces each request. (Asking for
the whole capacity at once was measured to wait 1.5-2 s per call: the server answers 423 until every slot
has decayed.)
"""

from __future__ import annotations

import asyncio


class SharedRateBudget:
    """Local hand-out of slots taken in bulk from one Prefect rate limit."""

    def __init__(self, limit_name: str, capacity: int) -> None:
        self.limit_name = limit_name
        self.capacity = max(1, capacity)
        self.chunk = max(1, -(-self.capacity // 10))
        self.tokens = 0
        self.acquisitions = 0
        self._lock = asyncio.Lock()

    async def take(self, requests: int) -> None:
        """Wait until `requests` slots are ours (taken from the server a tenth of a second's worth at a time)."""
        from prefect.concurrency.asyncio import rate_limit

        if requests <= 0:
            return
        async with self._lock:
            while self.tokens < requests:
                grab = min(self.capacity, max(self.chunk, requests - self.tokens))
                await rate_limit(self.limit_name, occupy=grab, strict=False)
                self.acquisitions += 1
                self.tokens += grab
            self.tokens -= requests
