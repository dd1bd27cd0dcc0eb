"""Refunds: created by `charge` or `payment_intent` (in full, or in part), retrieved, updated, listed.

Every refund lands in the ledger (`Ledger.add_refund`), whose refusals become Stripe's: more than remains is
400 on `amount` ("Refund amount ($X) is greater than unrefunded amount on charge ($Y)"), a charge with
nothing left is `charge_already_refunded`, a disputed one `charge_disputed`, a failed or uncaptured one the
400 Stripe answers for it.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import InvalidAmount, InvalidState, LedgerError, Refund, RefundExceedsRemaining

from . import events
from .charges import load_charge
from .encoding import format_amount
from .errors import StripeError, invalid_request, resource_missing
from .rendering import charge_json, find_intent_charges, intent_json, refund_json
from .rest import Req, check_params, get_enum, get_int, get_metadata, get_str, page, parse_created, render_one
from .store import State

__all__ = ["create_refund", "get_refund", "list_refunds", "update_refund"]

_REASONS = ["duplicate", "fraudulent", "requested_by_customer"]


def _load(st: State, refund_id: str) -> Refund:
    try:
        return st.ledger.refund("stripe", refund_id)
    except LedgerError:
        raise resource_missing(refund_id, noun="refund") from None


def _no_successful_charge(pi_id: str, param: str) -> StripeError:
    return invalid_request(
        f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.", param=param
    )


def create_refund(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "refunds.create")
    charge_id = get_str(req, "charge", empty_ok=False)
    pi_id = get_str(req, "payment_intent", empty_ok=False)
    amount = get_int(req, "amount")
    if amount is not None and amount < 1:
        raise invalid_request(
            "This value must be greater than or equal to 1.", param="amount", code="parameter_invalid_integer"
        )
    reason = get_enum(req, "reason", _REASONS)
    metadata = get_metadata(req) or {}
    currency = get_str(req, "currency")
    if not charge_id and not pi_id:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing",
        )
    if charge_id:
        c = load_charge(st, charge_id, param="charge")
        if pi_id and c.payment_intent_id != pi_id:
            raise invalid_request(f"Charge {c.id} does not belong to PaymentIntent {pi_id}.", param="charge")
    else:
        assert pi_id is not None
        if intent_json(st, pi_id) is None:
            raise resource_missing(pi_id, param="payment_intent")
        charges = [x for x in find_intent_charges(st, pi_id) if x.status != "failed"]
        if not charges:
            raise _no_successful_charge(pi_id, "payment_intent")
        c = charges[-1]
    if currency and currency.lower() != c.currency.lower():
        raise invalid_request(
            f"The currency of the refund ({currency.lower()}) must match the currency of the charge "
            f"({c.currency.lower()}).",
            param="currency",
        )
    req.begin()
    param = "payment_intent" if pi_id and not charge_id else "charge"
    before = charge_json(st, c)
    if amount is None and c.status == "succeeded" and c.captured and c.remaining_minor <= 0:
        raise invalid_request(f"Charge {c.id} has already been refunded.", code="charge_already_refunded")
    try:
        r = st.ledger.add_refund("stripe", c.id, amount, created=st.now(), reason=reason or "")
    except RefundExceedsRemaining as exc:
        if exc.remaining_minor <= 0:
            raise invalid_request(
                f"Charge {c.id} has already been refunded.", code="charge_already_refunded"
            ) from None
        raise invalid_request(
            f"Refund amount ({format_amount(exc.requested_minor, c.currency)}) is greater than unrefunded "
            f"amount on charge ({format_amount(exc.remaining_minor, c.currency)})",
            param="amount",
        ) from None
    except InvalidState as exc:
        if exc.code == "charge_disputed":
            raise invalid_request(
                f"Charge {c.id} has been charged back; cannot issue a refund.", code="charge_disputed"
            ) from None
        if exc.code == "charge_canceled":  # a released authorisation reads as refunded in full
            raise invalid_request(
                f"Charge {c.id} has already been refunded.", code="charge_already_refunded"
            ) from None
        if exc.code == "charge_not_captured":
            raise invalid_request(
                f"Charge {c.id} has not been captured. To release the authorization, cancel the "
                f"PaymentIntent ({c.payment_intent_id}) instead."
            ) from None
        raise _no_successful_charge(c.payment_intent_id or c.id, param) from None
    except InvalidAmount:
        raise invalid_request(
            "This value must be greater than or equal to 1.", param="amount", code="parameter_invalid_integer"
        ) from None
    st.refund_extra[r.id] = {"metadata": metadata, "reason": reason}
    st.record(
        "refund",
        id=r.id,
        charge=c.id,
        payment_intent=c.payment_intent_id or None,
        amount=r.amount_minor,
        currency=r.currency.lower(),
        metadata=dict(metadata),
        idempotency_key=req.idempotency_key,
        request_id=req.request_id,
        created=r.created,
    )
    obj = refund_json(st, r)
    events.emit(st, "refund.created", obj, req)
    after = charge_json(st, c)
    events.emit(
        st,
        "charge.refunded",
        after,
        req,
        {k: before[k] for k in ("amount_refunded", "refunded") if before[k] != after[k]},
    )
    return render_one(st, req, obj)


def get_refund(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    return render_one(st, req, refund_json(st, _load(st, req.path_params["id"])))


def update_refund(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "refunds.update")
    r = _load(st, req.path_params["id"])
    extra = st.refund_extra.setdefault(r.id, {})
    metadata = get_metadata(req, extra.get("metadata", {}))
    req.begin()
    before = refund_json(st, r)
    if metadata is not None:
        extra["metadata"] = metadata
    after = refund_json(st, r)
    if before["metadata"] != after["metadata"]:
        events.emit(st, "refund.updated", after, req, {"metadata": before["metadata"]})
    return render_one(st, req, after)


def list_refunds(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "refunds.list")
    created = parse_created(req)
    charge_id = get_str(req, "charge", empty_ok=False)
    pi_id = get_str(req, "payment_intent", empty_ok=False)
    if charge_id:
        items = [r for r in load_charge(st, charge_id, param="charge").refunds if r.created in created]
    elif pi_id:
        items = [r for c in find_intent_charges(st, pi_id) for r in c.refunds if r.created in created]
        items.sort(key=lambda r: r.created)
    else:
        items = st.ledger.refunds("stripe", created_gte=created.gte, created_lt=created.lt)
    items = list(reversed(items))

    def find(refund_id: str) -> Refund | None:
        try:
            return st.ledger.refund("stripe", refund_id)
        except LedgerError:
            return None

    return page(st, req, items, "/v1/refunds", lambda r: refund_json(st, r), find=find)
