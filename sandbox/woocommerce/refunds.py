"""Refunds: creating one (through the order's gateway unless `api_refund` is false) and the refund routes.

A refund is stored on its order (`Order.refunds`): a full refund makes the order `refunded`, and every
refund bumps the order's `date_modified` and fires `order.updated`.
"""

from __future__ import annotations

import random
from typing import Any

from starlette.responses import Response

from sandbox.world import GATEWAYS, Order, Refund, gateway_refund_id

from .encoding import as_int, cents, php_json
from .errors import WooError
from .rendering import render_refund
from .rest import Req, json_response, paged
from .store import Store
from .webhooks import emit

__all__ = ["create_refund", "delete_refund", "get_refund", "list_refunds", "post_refund"]


def create_refund(st: Store, o: Order, body: dict[str, Any]) -> Refund:
    amount = cents(body.get("amount"))
    if amount is None and isinstance(body.get("line_items"), list):
        amount = sum(cents(li.get("refund_total")) or 0 for li in body["line_items"] if isinstance(li, dict))
    if amount is None or amount < 0:
        raise WooError(
            "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400
        )
    remaining = o.total_cents - o.refunded_cents
    if amount <= 0 or amount > remaining:
        raise WooError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
    api_refund = body.get("api_refund", True) not in (False, "false", "0", 0)
    gw_id = ""
    if api_refund:
        if o.payment_method not in GATEWAYS or o.payment_method in ("bacs", "cod") or not o.transaction_id:
            raise WooError(
                "woocommerce_rest_cannot_create_order_refund",
                "The payment gateway for this order does not support automatic refunds.",
                500,
            )
        gw_id = gateway_refund_id(
            random.Random(f"{st.seed}-refund-{o.id}-{len(o.refunds)}"), o.payment_method
        )
    now = st.now()
    rf = Refund(st.world.new_post_id(), o.id, amount, str(body.get("reason") or ""), now, gw_id)
    o.refunds.append(rf)
    if o.refunded_cents >= o.total_cents:
        o.status = "refunded"
    o.modified = now
    st.touched("order", o.id)
    emit(st, "order", "updated", o.id)
    return rf


# --- REST routes -----------------------------------------------------------------------------------
def _order_for(st: Store, req: Req) -> Order:
    o = st.world.orders.get(as_int(req.params.get("order_id")))
    if o is None:
        raise WooError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
    return o


def list_refunds(st: Store, req: Req) -> Response:
    o = _order_for(st, req)
    refunds = sorted(o.refunds, key=lambda r: (r.created, r.id), reverse=True)
    by_id = {r.id: r for r in refunds}
    return paged(
        st,
        req,
        f"/orders/{o.id}/refunds",
        [r.id for r in refunds],
        lambda i: php_json(render_refund(st, by_id[i])),
    )


def _refund(st: Store, req: Req) -> tuple[Order, Refund]:
    o = _order_for(st, req)
    rid = as_int(req.params.get("id"))
    for rf in o.refunds:
        if rf.id == rid:
            return o, rf
    raise WooError("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)


def get_refund(st: Store, req: Req) -> Response:
    return json_response(render_refund(st, _refund(st, req)[1]))


async def delete_refund(st: Store, req: Req) -> Response:
    o, rf = _refund(st, req)
    if str(req.query.get("force", "")).lower() not in ("true", "1"):
        raise WooError("woocommerce_rest_trash_not_supported", "Refunds do not support trashing.", 501)
    data = render_refund(st, rf)
    o.refunds.remove(rf)
    o.modified = st.now()
    st.touched("order", o.id)
    emit(st, "order", "updated", o.id)
    return json_response(data)


async def post_refund(st: Store, req: Req) -> Response:
    o = _order_for(st, req)
    body = req.params_json()
    rf = create_refund(st, o, body)
    return json_response(render_refund(st, rf), 201, {"Location": st.api(f"/orders/{o.id}/refunds/{rf.id}")})
