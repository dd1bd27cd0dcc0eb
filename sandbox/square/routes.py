"""The route table of Square's `/v2` API and the dispatcher: parse, authenticate, resolve the version,
run the handler, and render any `SquareError` as Square's error body.

A path or method Square does not have here is 404 `NOT_FOUND` with Square's wording.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import request_headers

from . import disputes, locations, payments, payouts, refunds, webhooks
from .auth import authenticate, resolve_version
from .errors import SquareError
from .rest import Req
from .state import SquareState

__all__ = ["Route", "build_routes", "handle"]

Handler = Callable[[SquareState, Req], Any]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]


def build_routes() -> list[Route]:
    def rt(pattern: str, **handlers: Handler) -> Route:
        return Route(re.compile("^" + pattern + "$"), handlers)

    ident = r"(?P<id>[^/]+)"
    return [
        rt("/v2/locations", GET=locations.list_locations),
        rt(f"/v2/locations/{ident}", GET=locations.get_location),
        rt("/v2/payments", GET=payments.list_payments, POST=payments.create_payment),
        rt("/v2/payments/cancel", POST=payments.cancel_by_idempotency_key),
        rt(f"/v2/payments/{ident}", GET=payments.get_payment),
        rt(f"/v2/payments/{ident}/complete", POST=payments.complete_payment),
        rt(f"/v2/payments/{ident}/cancel", POST=payments.cancel_payment),
        rt("/v2/refunds", GET=refunds.list_refunds, POST=refunds.create_refund),
        rt(f"/v2/refunds/{ident}", GET=refunds.get_refund),
        rt("/v2/payouts", GET=payouts.list_payouts),
        rt(f"/v2/payouts/{ident}", GET=payouts.get_payout),
        rt(f"/v2/payouts/{ident}/payout-entries", GET=payouts.list_entries),
        rt("/v2/disputes", GET=disputes.list_disputes),
        rt(f"/v2/disputes/{ident}", GET=disputes.get_dispute),
        rt("/v2/webhooks/event-types", GET=webhooks.list_event_types),
        rt("/v2/webhooks/subscriptions", GET=webhooks.list_subscriptions, POST=webhooks.create_subscription),
        rt(
            f"/v2/webhooks/subscriptions/{ident}",
            GET=webhooks.get_subscription,
            PUT=webhooks.update_subscription,
            DELETE=webhooks.delete_subscription,
        ),
        rt(f"/v2/webhooks/subscriptions/{ident}/signature-key", POST=webhooks.rotate_signature_key),
    ]


def _request(scope: Scope, body: bytes) -> Req:
    query: dict[str, str] = {}
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query[k] = v  # a repeated parameter: the last one counts
    headers = request_headers(scope)
    return Req(method=scope["method"], path=scope["path"], query=query, headers=headers, body=body)


async def handle(st: SquareState, routes: list[Route], scope: Scope, body: bytes) -> Response:
    req = _request(scope, body)
    try:
        authenticate(st, req)
        resolve_version(st, req)
        payouts.maybe_advance(st)
        for route in routes:
            m = route.pattern.match(req.path)
            if m is None:
                continue
            handler = route.handlers.get(req.method)
            if handler is None:  # e.g. GET /v2/payments/cancel is GetPayment of a payment `cancel`
                continue
            req.params = {k: v for k, v in m.groupdict().items() if v is not None}
            result = handler(st, req)
            if asyncio.iscoroutine(result):
                result = await result
            return result  # type: ignore[no-any-return]
        raise SquareError(
            404,
            "NOT_FOUND",
            f"API endpoint for URL path `{req.path}` and HTTP method `{req.method}` is not found.",
        )
    except SquareError as exc:
        return exc.response({"Square-Version": req.version or st.default_version})
