"""Batch mechanics: splitting create/update/delete into requests and reading per-item results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BatchResult"]

OPS = ("create", "update", "delete")
# Answer keys per op, and where successes are collected in BatchResult.
_TARGET = {"create": "created", "update": "updated", "delete": "deleted"}


@dataclass
class BatchResult:
    """What a `WooCommerceClient.batch` call did.

    Per-item failures never raise: they are listed in `errors`, each a dict
    `{"op", "index", "id", "code", "message", "status"}`, where `index` is the item's position
    in the `create`, `update` or `delete` argument and `id` is WooCommerce's id (None for a
    failed create).

    Attributes:
        created: Records WooCommerce created, in input order (failed items left out).
        updated: Records WooCommerce updated.
        deleted: Records WooCommerce deleted (permanently: batch delete uses force=true).
        errors: Per-item errors.
        requests: Batch requests sent.
    """

    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.errors

    def add_error(
        self, op: str, index: int, item_id: Any, code: str, message: str, status: int | None
    ) -> None:
        """Record one per-item error."""
        self.errors.append(
            {
                "op": op,
                "index": index,
                "id": item_id,
                "code": code,
                "message": message,
                "status": status,
            }
        )


Chunk = dict[str, list[tuple[int, Any]]]


def plan_chunks(
    create: Sequence[dict[str, Any]],
    update: Sequence[dict[str, Any]],
    delete: Sequence[int],
    size: int,
    result: BatchResult,
) -> list[Chunk]:
    """Split the items into requests of at most `size` items summed over the three ops.

    Items that cannot be sent (an update without an id, a delete id that is not an integer)
    become per-item errors in `result` instead.
    """
    queue: list[tuple[str, int, Any]] = []
    for index, item in enumerate(create):
        queue.append(("create", index, item))
    for index, item in enumerate(update):
        item_id = item.get("id") if isinstance(item, dict) else None
        if item_id in (None, "", 0):
            result.add_error("update", index, None, "nxt_missing_id", "update item has no id", 400)
            continue
        queue.append(("update", index, item))
    for index, raw in enumerate(delete):
        try:
            item_id = int(raw)
        except (TypeError, ValueError):
            result.add_error(
                "delete", index, raw, "nxt_invalid_id", f"delete id {raw!r} is not an integer", 400
            )
            continue
        queue.append(("delete", index, item_id))
    chunks: list[Chunk] = []
    for start in range(0, len(queue), size):
        chunk: Chunk = {op: [] for op in OPS}
        for op, index, item in queue[start : start + size]:
            chunk[op].append((index, item))
        chunks.append(chunk)
    return chunks


def chunk_body(chunk: Chunk) -> dict[str, list[Any]]:
    """The JSON body of one batch request."""
    return {op: [item for _, item in pairs] for op, pairs in chunk.items() if pairs}


def absorb(result: BatchResult, chunk: Chunk, answer: Any) -> None:
    """Add one batch answer to `result`; WooCommerce answers items in request order."""
    answer = answer if isinstance(answer, dict) else {}
    for op, pairs in chunk.items():
        if not pairs:
            continue
        got = answer.get(op)
        got = got if isinstance(got, list) else []
        target: list[dict[str, Any]] = getattr(result, _TARGET[op])
        for position, (index, sent) in enumerate(pairs):
            sent_id = sent if op == "delete" else sent.get("id")
            if position >= len(got) or not isinstance(got[position], dict):
                result.add_error(
                    op, index, sent_id, "nxt_no_answer", "WooCommerce did not answer this item", None
                )
                continue
            item = got[position]
            error = item.get("error")
            if isinstance(error, dict):
                data = error.get("data")
                status = data.get("status") if isinstance(data, dict) else None
                result.add_error(
                    op,
                    index,
                    item.get("id", sent_id) or sent_id,
                    str(error.get("code", "unknown")),
                    str(error.get("message", "")),
                    status if isinstance(status, int) else None,
                )
            else:
                target.append(item)
