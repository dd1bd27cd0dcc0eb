"""The answer key, served by every stand-in at `GET <admin_url>/answer-key`.

A stand-in adds the route to its admin routes:

    def admin_routes(self) -> list[Route]:
        return [..., answer_key_route(self.world)]

`GET /_sandbox/answer-key` answers `answer_key_document(world)`; the query parameters `category`,
`gateway` and `channel` (each repeatable or comma-separated) narrow `items`. Unknown values are a 400.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.gateway_ids import GATEWAY_NAMES
from sandbox.ledger import CATEGORIES

if TYPE_CHECKING:
    from sandbox.world import World

__all__ = ["answer_key_document", "answer_key_route"]

_ALLOWED = {
    "category": (*CATEGORIES, "contact"),
    "gateway": GATEWAY_NAMES,
    "channel": ("sms", "email"),
}


def _wanted(values: Iterable[str] | None, name: str) -> set[str] | None:
    if values is None:
        return None
    out = {v.strip() for raw in values for v in raw.split(",") if v.strip()}
    unknown = sorted(out - set(_ALLOWED[name]))
    if unknown:
        raise ValueError(f"unknown {name} {', '.join(unknown)}; one of {', '.join(_ALLOWED[name])}")
    return out or None


def answer_key_document(
    world: World,
    *,
    category: Iterable[str] | None = None,
    gateway: Iterable[str] | None = None,
    channel: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The answer key with what it was planted from: `seed`, `now` (epoch and ISO), `discrepancy_rate`,
    `counts` per category (of all items) and `items` (`World.answer_key()`, narrowed by the filters; a
    gateway filter keeps only discrepancies, a channel filter only contacts). Raises `ValueError` for an
    unknown filter value."""
    cats, gws, chans = _wanted(category, "category"), _wanted(gateway, "gateway"), _wanted(channel, "channel")
    items = world.answer_key()
    counts = Counter(k["category"] for k in items)
    if cats is not None:
        items = [k for k in items if k["category"] in cats]
    if gws is not None:
        items = [k for k in items if k.get("gateway") in gws]
    if chans is not None:
        items = [k for k in items if k.get("channel") in chans]
    return {
        "seed": world.seed,
        "now": world.now,
        "now_iso": datetime.fromtimestamp(world.now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "discrepancy_rate": world.discrepancy_rate,
        "counts": {c: counts.get(c, 0) for c in _ALLOWED["category"]},
        "items": items,
    }


def answer_key_route(world: World, path: str = "/answer-key") -> Route:
    """A starlette route (for a stand-in's admin router) answering the answer-key document."""

    async def endpoint(request: Request) -> Response:
        q = request.query_params
        try:
            doc = answer_key_document(
                world,
                category=q.getlist("category") or None,
                gateway=q.getlist("gateway") or None,
                channel=q.getlist("channel") or None,
            )
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(doc)

    return Route(path, endpoint, methods=["GET"])
