"""The route table of `/v1` and the dispatcher: authenticate, parse, replay or execute, answer.

`handle()` answers one request in Stripe's order: the key (`Authorization: Bearer` or Basic), the
`Stripe-Version` and `Stripe-Account` headers, the route (`Unrecognized request URL` otherwise), the form
and query parameters, then, for a POST with an `Idempotency-Key`, the saved response if there is one. The
answer carries `Request-Id` and `Stripe-Version` (and `Idempotency-Key`/`Original-Request` on POST);
errors are Stripe's JSON with the status that picks the SDK's exception class.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from sandbox._framework import request_headers

from . import (
    balance,
    charges,
    customers,
    disputes,
    events,
    payment_intents,
    payment_methods,
    refunds,
    webhooks,
)
from .auth import authenticate, check_account, check_version
from .encoding import FormError, dumps, parse_form
from .errors import StripeError
from .idempotency import check_key, replay, save
from .rest import Req
from .settings import ACCOUNT_API_VERSION, JSON_CT
from .store import State

__all__ = ["Route", "build_routes", "handle"]

Handler = Callable[[State, Req], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def build_routes() -> list[Route]:
    table: list[tuple[str, str, Handler]] = [
        ("GET", "/v1/balance", balance.get_balance),
        ("GET", "/v1/balance_transactions", balance.list_balance_transactions),
        ("GET", "/v1/balance_transactions/{id}", balance.get_balance_transaction),
        ("GET", "/v1/charges", charges.list_charges),
        ("GET", "/v1/charges/{id}", charges.get_charge),
        ("POST", "/v1/charges/{id}", charges.update_charge),
        ("POST", "/v1/customers", customers.create_customer),
        ("GET", "/v1/customers", customers.list_customers),
        ("GET", "/v1/customers/{id}", customers.get_customer),
        ("POST", "/v1/customers/{id}", customers.update_customer),
        ("DELETE", "/v1/customers/{id}", customers.delete_customer),
        ("GET", "/v1/customers/{id}/payment_methods", payment_methods.customer_payment_methods),
        ("POST", "/v1/payment_methods", payment_methods.create_payment_method),
        ("GET", "/v1/payment_methods", payment_methods.list_payment_methods),
        ("GET", "/v1/payment_methods/{id}", payment_methods.get_payment_method),
        ("POST", "/v1/payment_methods/{id}", payment_methods.update_payment_method),
        ("POST", "/v1/payment_methods/{id}/attach", payment_methods.attach_payment_method),
        ("POST", "/v1/payment_methods/{id}/detach", payment_methods.detach_payment_method),
        ("POST", "/v1/payment_intents", payment_intents.create_intent),
        ("GET", "/v1/payment_intents", payment_intents.list_intents),
        ("GET", "/v1/payment_intents/{id}", payment_intents.get_intent),
        ("POST", "/v1/payment_intents/{id}", payment_intents.update_intent),
        ("POST", "/v1/payment_intents/{id}/confirm", payment_intents.confirm_intent),
        ("POST", "/v1/payment_intents/{id}/capture", payment_intents.capture_intent),
        ("POST", "/v1/payment_intents/{id}/cancel", payment_intents.cancel_intent),
        ("POST", "/v1/refunds", refunds.create_refund),
        ("GET", "/v1/refunds", refunds.list_refunds),
        ("GET", "/v1/refunds/{id}", refunds.get_refund),
        ("POST", "/v1/refunds/{id}", refunds.update_refund),
        ("GET", "/v1/payouts", balance.list_payouts),
        ("GET", "/v1/payouts/{id}", balance.get_payout),
        ("GET", "/v1/disputes", disputes.list_disputes),
        ("GET", "/v1/disputes/{id}", disputes.get_dispute),
        ("POST", "/v1/disputes/{id}", disputes.update_dispute),
        ("POST", "/v1/disputes/{id}/close", disputes.close_dispute),
        ("GET", "/v1/events", events.list_events),
        ("GET", "/v1/events/{id}", events.get_event),
        ("POST", "/v1/webhook_endpoints", webhooks.create_endpoint),
        ("GET", "/v1/webhook_endpoints", webhooks.list_endpoints),
        ("GET", "/v1/webhook_endpoints/{id}", webhooks.get_endpoint),
        ("POST", "/v1/webhook_endpoints/{id}", webhooks.update_endpoint),
        ("DELETE", "/v1/webhook_endpoints/{id}", webhooks.delete_endpoint),
    ]
    return [Route(m, re.compile("^" + p.replace("{id}", "(?P<id>[^/]+)") + "/?$"), h) for m, p, h in table]


def _match(routes: list[Route], method: str, path: str) -> tuple[Route, dict[str, str]]:
    for r in routes:
        if r.method == method:
            m = r.pattern.match(path)
            if m:
                return r, m.groupdict()
    raise StripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def _params(scope: Scope, method: str, body: bytes) -> dict[str, Any]:
    try:
        params = parse_form(scope.get("query_string", b"").decode("utf-8", "replace"))
        if method == "POST" and body:
            params.update(parse_form(body.decode("utf-8", "replace")))
    except FormError as exc:
        raise StripeError(400, str(exc), param=exc.param) from None
    return params


def handle(
    st: State,
    routes: list[Route],
    scope: Scope,
    body: bytes,
    on_crash: Callable[[], None] | None = None,
) -> Response:
    method = scope["method"].upper()
    path = scope["path"]
    headers = request_headers(scope)
    request_id = st.request_id()
    version = headers.get("stripe-version")
    out_headers: dict[str, str] = {"Request-Id": request_id, "Stripe-Version": version or ACCOUNT_API_VERSION}
    req: Req | None = None
    account = ""
    try:
        account = authenticate(st, headers.get("authorization"))
        check_version(version)
        check_account(st, headers.get("stripe-account"))
        route, path_params = _match(routes, method, path)
        key = headers.get("idempotency-key") if method == "POST" else None
        if key is not None:
            check_key(key)
            out_headers["Idempotency-Key"] = key
            out_headers["Original-Request"] = request_id
        req = Req(
            method=method,
            path=path.rstrip("/") or "/",
            params=_params(scope, method, body),
            headers=headers,
            request_id=request_id,
            idempotency_key=key or None,
            api_version=version,
            path_params=path_params,
        )
        saved = replay(st, account, req)
        if saved is not None:
            replayed = dict(saved.headers)
            replayed.update(
                {
                    "Request-Id": request_id,
                    "Idempotent-Replayed": "true",
                    "Original-Request": saved.request_id,
                    "Idempotency-Key": saved.key,
                }
            )
            return Response(saved.body, saved.status, headers=replayed, media_type=JSON_CT)
        payload = dumps(route.handler(st, req))
        status = 200
    except StripeError as exc:
        status = exc.status
        out_headers.update(exc.headers)
        payload = dumps(exc.body(request_id))
    except Exception:  # a bug in the stand-in: Stripe's 500, and the traceback in /_sandbox/errors
        if on_crash is not None:
            on_crash()
        status = 500
        payload = dumps(StripeError(500, "An unknown error occurred", type="api_error").body(request_id))
    if req is not None and req.idempotency_key and (status == 200 or req.executing):
        save(st, account, req, status, payload, {k: v for k, v in out_headers.items() if k != "Request-Id"})
    return Response(payload, status, headers=out_headers, media_type=JSON_CT)
