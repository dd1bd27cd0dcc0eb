"""Pagination mechanics: the `Page` type, page totals, and ordered concurrent fetching."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import TOTAL_HEADER, TOTAL_PAGES_HEADER

__all__ = ["Page"]

UNKNOWN = -1


@dataclass(frozen=True)
class Page:
    """One page of a WooCommerce collection.

    Attributes:
        items: The records on this page, as WooCommerce sent them.
        page: 1-based page number.
        per_page: Page size asked for.
        total: Records in the whole collection (`X-WP-Total`), or -1 if the store did not say.
        total_pages: Pages in the collection (`X-WP-TotalPages`), or -1 if the store did not say.
    """

    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int
    total_pages: int

    @property
    def is_last(self) -> bool:
        """True when no page follows this one."""
        if self.total_pages >= 0:
            return self.page >= self.total_pages
        return len(self.items) < self.per_page


def read_totals(headers: Mapping[str, str]) -> tuple[int, int]:
    """(`X-WP-Total`, `X-WP-TotalPages`) from response headers; -1 for a missing/bad value."""

    def number(name: str) -> int:
        try:
            return max(0, int(headers.get(name, "")))
        except ValueError:
            return UNKNOWN

    return number(TOTAL_HEADER), number(TOTAL_PAGES_HEADER)


async def fetch_in_order(
    fetch: Callable[[int], Awaitable[Page]], first: int, last: int, window: int
) -> AsyncGenerator[Page, None]:
    """Fetch pages `first..last` with up to `window` requests in flight; yield them in order.

    The next requests are started before a page is yielded, so fetching goes on while the
    caller works on it; at most `window` fetched-or-in-flight pages are held besides the one
    the caller has. When the caller stops early or a page fails, the rest are cancelled.
    """
    pending: deque[asyncio.Task[Page]] = deque()
    following = first

    def refill() -> None:
        nonlocal following
        while following <= last and len(pending) < window:
            pending.append(asyncio.ensure_future(fetch(following)))
            following += 1

    try:
        refill()
        while pending:
            page = await pending.popleft()
            refill()
            yield page
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
