"""The route table of the PayPal REST API and the dispatcher.

Every route but the token endpoint, the certificate and the buyer's approval page needs a live access
token (`auth.authenticate`). Refusals raised anywhere (`PayPalError`, `OAuthError`) become PayPal's JSON
answers here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, Response

from . import orders, payments, reporting, webhooks
from .auth import authenticate, issue_token
from .errors import OAuthError, PayPalError
from .rest import Req
from .settings import ORDERS_DOCS, PAYMENTS_DOCS
from .state import PayPalState

__all__ = ["ROUTES", "Route", "handle"]

Handler = Callable[[PayPalState, Req], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True
    docs: str = ORDERS_DOCS


def _r(method: str, path: str, handler: Handler, *, auth: bool = True, docs: str = ORDERS_DOCS) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), handler, auth, docs)


def _checkout_page(st: PayPalState, req: Req) -> Response:
    """Where the `approve` link leads: the buyer logs in and approves (here at once, as a test buyer)."""
    token = req.arg("token") or ""
    try:
        orders.approve(st, token)
    except PayPalError as exc:
        return HTMLResponse(f"<html><body><h1>Sorry</h1><p>{exc.message}</p></body></html>", 404)
    return HTMLResponse(
        f"<html><body><h1>Order {token} approved</h1><p>You can close this page.</p></body></html>"
    )


ROUTES: list[Route] = [
    _r("POST", "/v1/oauth2/token", issue_token, auth=False),
    _r("POST", "/v2/checkout/orders", orders.create_order),
    _r("GET", "/v2/checkout/orders/{id}", orders.get_order),
    _r("POST", "/v2/checkout/orders/{id}/capture", orders.capture_order),
    _r("POST", "/v2/checkout/orders/{id}/authorize", orders.authorize_order),
    _r("GET", "/v2/payments/captures/{capture_id}", payments.get_capture, docs=PAYMENTS_DOCS),
    _r("POST", "/v2/payments/captures/{capture_id}/refund", payments.refund_capture, docs=PAYMENTS_DOCS),
    _r("GET", "/v2/payments/refunds/{refund_id}", payments.get_refund, docs=PAYMENTS_DOCS),
    _r(
        "GET",
        "/v2/payments/authorizations/{authorization_id}",
        payments.get_authorization,
        docs=PAYMENTS_DOCS,
    ),
    _r(
        "POST",
        "/v2/payments/authorizations/{authorization_id}/capture",
        payments.capture_authorization,
        docs=PAYMENTS_DOCS,
    ),
    _r(
        "POST",
        "/v2/payments/authorizations/{authorization_id}/void",
        payments.void_authorization,
        docs=PAYMENTS_DOCS,
    ),
    _r("GET", "/v1/reporting/transactions", reporting.search_transactions),
    _r("POST", "/v1/notifications/webhooks", webhooks.create_webhook),
    _r("GET", "/v1/notifications/webhooks", webhooks.list_webhooks),
    _r("GET", "/v1/notifications/webhooks/{id}", webhooks.get_webhook),
    _r("DELETE", "/v1/notifications/webhooks/{id}", webhooks.delete_webhook),
    _r("POST", "/v1/notifications/verify-webhook-signature", webhooks.verify_signature),
    _r("GET", "/v1/notifications/certs/{cert_id}", webhooks.get_certificate, auth=False),
    _r("GET", "/checkoutnow", _checkout_page, auth=False),
]


def handle(
    st: PayPalState, method: str, path: str, query: bytes, headers: dict[str, str], body: bytes
) -> Response:
    """Answer one request (every refusal in PayPal's shape)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    allowed = False
    for route in ROUTES:
        m = route.pattern.match(path)
        if m is None:
            continue
        if route.method != method:
            allowed = True
            continue
        req = Req(method, path, pairs, headers, body, params=m.groupdict(), docs=route.docs)
        try:
            if route.auth:
                authenticate(st, req)
            return route.handler(st, req)
        except (PayPalError, OAuthError) as exc:
            return exc.response()
    if allowed:
        return PayPalError(405, "METHOD_NOT_SUPPORTED").response()
    return PayPalError(404, "RESOURCE_NOT_FOUND", message="The specified resource does not exist.").response()
