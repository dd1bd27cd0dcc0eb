"""Resource-level read mechanics: records by ids, and the ids of a listing.

The client methods (`fetch_by_ids`, `list_ids`, `variations`) are thin wrappers over these; the
rules about which listings show which records live in `settings.RESOURCES`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidConfig, NotFound
from ._pages import Page
from .settings import PER_PAGE_MAX, RESOURCES, Resource

__all__ = ["FetchResult"]

ListPage = Callable[[str, Mapping[str, Any]], Awaitable[Page]]
GetOne = Callable[[str], Awaitable[dict[str, Any]]]


@dataclass
class FetchResult:
    """What `WooCommerceClient.fetch_by_ids` found.

    Attributes:
        found: The records the store has, by id (trashed ones included, with their status).
        gone: Ids the store says it does not have (a 404 with a `*_invalid_id` code), in the
            order they were asked for.
    """

    found: dict[int, dict[str, Any]] = field(default_factory=dict)
    gone: list[int] = field(default_factory=list)


def resolve(resource: str, parent_id: int | None) -> tuple[Resource, str]:
    """(the resource's settings, its collection path) for a `RESOURCES` name."""
    spec = RESOURCES.get(resource)
    if spec is None:
        known = ", ".join(sorted(RESOURCES))
        raise InvalidConfig(f"unknown WooCommerce resource {resource!r}; use one of {known}")
    needs_parent = "{parent_id}" in spec.path
    if needs_parent and parent_id is None:
        raise InvalidConfig(f"{resource} belong to a parent: pass parent_id (the {spec.path} of which one?)")
    if not needs_parent and parent_id is not None:
        raise InvalidConfig(f"{resource} have no parent; parent_id={parent_id!r} is not used")
    if parent_id is not None:
        parent_id = check_id(parent_id, "parent_id")
    return spec, spec.path.format(parent_id=parent_id)


def check_id(value: Any, what: str = "id") -> int:
    """`value` as a record id (a positive int, not a bool), or InvalidConfig."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidConfig(f"{what} {value!r} is not a WooCommerce record id (a positive integer)")
    return value


def unique_ids(ids: Iterable[Any]) -> list[int]:
    """The ids, checked, without repeats, in first-seen order."""
    return list(dict.fromkeys(check_id(i) for i in ids))


async def bounded(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    """Run `jobs` with at most `limit` at once; the first failure cancels the rest and is raised."""
    gate = asyncio.Semaphore(max(1, limit))

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(run(job))
    except BaseExceptionGroup as failed:
        # One error, the first, as callers expect from a plain await (not an ExceptionGroup).
        raise failed.exceptions[0] from None


async def fetch_by_ids(
    list_page: ListPage,
    get_one: GetOne,
    spec: Resource,
    path: str,
    ids: Sequence[int],
    concurrency: int,
) -> FetchResult:
    """Read `ids` of the collection at `path`: listed 100 at a time, then one by one.

    Each chunk of up to `PER_PAGE_MAX` ids is asked for with `include=` in the listing of each
    of `spec.statuses` in turn (only the ids not found yet), with `spec.list_params`. Ids that
    no listing shows (variations outside their listing, records hidden by a plugin) are then
    read one by one; a 404 whose code says the record does not exist puts the id in `gone`,
    any other error is raised.
    """
    result = FetchResult()
    chunks = [ids[start : start + PER_PAGE_MAX] for start in range(0, len(ids), PER_PAGE_MAX)]
    fixed = dict(spec.list_params)

    def listed(chunk: Sequence[int]) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            missing = set(chunk)
            for status in spec.statuses or (None,):
                if not missing:
                    return
                params: dict[str, Any] = {**fixed, "include": sorted(missing)}
                if status is not None:
                    params["status"] = status
                page = await list_page(path, params)
                for item in page.items:
                    item_id = item.get("id") if isinstance(item, dict) else None
                    if item_id in missing and isinstance(item_id, int):
                        result.found[item_id] = item
                        missing.discard(item_id)

        return job

    await bounded([listed(chunk) for chunk in chunks], concurrency)

    unlisted = [i for i in ids if i not in result.found]
    gone: set[int] = set()

    def single(item_id: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            try:
                result.found[item_id] = await get_one(f"{path}/{item_id}")
            except NotFound as exc:
                if not exc.gone:
                    raise
                gone.add(item_id)

        return job

    await bounded([single(i) for i in unlisted], concurrency)
    result.gone = [i for i in ids if i in gone]
    # Keep the caller's order: found records in the order their ids were asked for.
    result.found = {i: result.found[i] for i in ids if i in result.found}
    return result


def ids_of(items: Iterable[Any], field_name: str) -> dict[int, str | None]:
    """{id: the record's `field_name` as text, or None} for the records of a `_fields` listing."""
    out: dict[int, str | None] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        item_id = item.get("id")
        if isinstance(item_id, int) and not isinstance(item_id, bool):
            value = item.get(field_name)
            out[item_id] = str(value) if value not in (None, "") else None
    return out
