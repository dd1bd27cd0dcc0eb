"""The shared rate budget hands out slots it took from the Prefect limit, ahead of need, in half-capacity
chunks, and waits out 423 answers (no Prefect server needed: the client call is faked)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tasks.rate_budget import SharedRateBudget


class FakeLimit:
    """A Prefect rate limit: `capacity` slots, refused (423) while they are all taken."""

    def __init__(self, capacity: int, refusals: int = 0) -> None:
        self.capacity = capacity
        self.refusals = refusals
        self.granted: list[int] = []

    async def increment(self, names: list[str], slots: int, mode: str) -> None:
        assert mode == "rate_limit" and names == ["woocommerce-s"]
        if self.refusals:
            self.refusals -= 1
            request = httpx.Request("POST", "http://prefect/api/v2/concurrency_limits/increment")
            response = httpx.Response(423, headers={"Retry-After": "0.01"}, request=request)
            raise httpx.HTTPStatusError("locked", request=request, response=response)
        assert slots <= self.capacity
        self.granted.append(slots)


@pytest.fixture
def budget_with(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def make(capacity: int, refusals: int = 0) -> tuple[SharedRateBudget, FakeLimit]:
        limit = FakeLimit(capacity, refusals)
        budget = SharedRateBudget("woocommerce-s", capacity)

        class Client:
            increment_concurrency_slots = staticmethod(limit.increment)

            async def __aexit__(self, *exc: object) -> None:
                pass

        budget._client = Client()
        return budget, limit

    return make


def test_slots_are_taken_in_half_capacity_chunks_ahead_of_need(budget_with) -> None:  # type: ignore[no-untyped-def]
    async def run() -> tuple[int, list[int]]:
        budget, limit = budget_with(30)
        await budget.ready()
        for _ in range(10):
            await budget.take(4)
        if budget._refill is not None:  # the refill that the last take started, to its end
            await budget._refill
        await budget.close()
        return budget.tokens, limit.granted

    tokens, granted = asyncio.run(run())
    assert set(granted) == {15}, "half the capacity per server call"
    assert sum(granted) >= 40, "every request was covered by slots from the shared limit"
    assert tokens == sum(granted) - 40


def test_a_423_is_waited_out(budget_with) -> None:  # type: ignore[no-untyped-def]
    async def run() -> list[int]:
        budget, limit = budget_with(10, refusals=3)
        await budget.take(3)
        await budget.close()
        return limit.granted

    assert asyncio.run(run())[0] == 5


def test_a_server_error_reaches_the_waiting_request(budget_with) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        budget, limit = budget_with(10)

        async def broken(names: list[str], slots: int, mode: str) -> None:
            raise RuntimeError("prefect server gone")

        budget._client.increment_concurrency_slots = broken
        try:
            await budget.take(1)
        finally:
            await budget.close()

    with pytest.raises(RuntimeError, match="prefect server gone"):
        asyncio.run(run())
