"""Refunds: creating one (through the order's gateway unless `api_refund` is false) and the refund routes.

`create_refund()` follows `wc_create_refund()`: the amount is checked against what the order has left to
refund, the refund is saved (taking the next post id), and with `api_refund` (the default) the gateway is
asked through `gateways.refund_payment()`. If the gateway refuses, the refund is deleted again (its id stays
used, as WordPress never reuses a post id) and the request fails with the gateway's message. A refund is
stored on its order (`Order.refunds`): a full refund makes the order `refunded`, and every refund bumps the
order's `date_modified` and fires `order.updated`. Deleting a refund never touches the gateway.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.world import Order, Refund

from .encoding import as_int, cents, php_json
from .errors import WooError
from .gateways import refund_payment
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
    reason = str(body.get("reason") or "")
    now = st.now()
    refund_id = st.world.new_post_id()  # saved before the gateway is asked
    gw_id = refund_payment(st, o, amount, reason, at=now) if api_refund else ""
    rf = Refund(refund_id, o.id, amount, reason, now, gw_id)
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
