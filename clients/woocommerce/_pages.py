"""Pagination mechanics: the `Page` type, page totals, and ordered concurrent fetching."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import MAX_TOTAL_PAGES, TOTAL_HEADER, TOTAL_PAGES_HEADER

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
    """(`X-WP-Total`, `X-WP-TotalPages`) as sent; -1 for a missing, unreadable or negative value.

    The values are not checked against each other here: see `trusted_totals`.
    """

    def number(name: str) -> int:
        try:
            value = int(headers.get(name, "").strip())
        except ValueError:
            return UNKNOWN
        return value if value >= 0 else UNKNOWN

    return number(TOTAL_HEADER), number(TOTAL_PAGES_HEADER)


def trusted_totals(total: int, total_pages: int, per_page: int) -> tuple[int, int, str | None]:
    """(total, total_pages, problem): the totals if they can be believed, else (-1, -1, why).

    WooCommerce sends `X-WP-TotalPages = ceil(X-WP-Total / per_page)`. A pair that disagrees,
    one header without the other, or more than `MAX_TOTAL_PAGES` pages comes from a plugin,
    a cache or a proxy, not from the store's query: believing it could mean millions of
    requests, so the totals count as unknown and the caller reads until a short page.
    Neither header (a proxy stripped both) is unknown without a problem to report.
    """
    if total < 0 and total_pages < 0:
        return UNKNOWN, UNKNOWN, None
    if total < 0 or total_pages < 0:
        shown = {TOTAL_HEADER: total, TOTAL_PAGES_HEADER: total_pages}
        missing = [name for name, value in shown.items() if value < 0]
        return UNKNOWN, UNKNOWN, f"{missing[0]} is missing or unreadable while the other is sent"
    expected = -(-total // per_page)
    if total_pages != expected:
        return (
            UNKNOWN,
            UNKNOWN,
            f"{TOTAL_PAGES_HEADER}: {total_pages} does not match {TOTAL_HEADER}: {total} at "
            f"{per_page} per page ({expected} pages)",
        )
    if total_pages > MAX_TOTAL_PAGES:
        return (
            UNKNOWN,
            UNKNOWN,
            f"{TOTAL_PAGES_HEADER}: {total_pages} is more than the {MAX_TOTAL_PAGES} pages one read may take",
        )
    return total, total_pages, None


async def fetch_sequential(
    fetch: Callable[[int], Awaitable[Page]], first: Page, too_many: Callable[[int], Exception]
) -> AsyncGenerator[Page, None]:
    """Pages after `first` one by one until a short page (for a listing without totals).

    Raises `too_many(MAX_TOTAL_PAGES)` instead of fetching a page past `MAX_TOTAL_PAGES`, so a
    server that answers every page full cannot keep a read going for ever.
    """
    current = first
    while not current.is_last:
        if current.page >= MAX_TOTAL_PAGES:
            raise too_many(MAX_TOTAL_PAGES)
        current = await fetch(current.page + 1)
        yield current


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
