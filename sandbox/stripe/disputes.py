"""Disputes: the ledger's Stripe disputes, retrieved, listed, updated with evidence (and submitted), closed.

Closing a dispute accepts it: the ledger resolves it `lost`. `open_dispute` and `resolve_dispute` are what the
card network does (the sandbox admin drives them): a dispute opened on a charge, and one decided.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import Dispute, LedgerError

from . import events
from .charges import load_charge
from .errors import invalid_request, resource_missing, unknown_param
from .rendering import charge_json, dispute_json, dispute_status
from .rest import Req, check_params, get_bool, get_metadata, get_str, page, parse_created, render_one
from .store import State

__all__ = [
    "close_dispute",
    "get_dispute",
    "list_disputes",
    "open_dispute",
    "resolve_dispute",
    "update_dispute",
]

_EVIDENCE = frozenset(
    """access_activity_log billing_address cancellation_policy cancellation_policy_disclosure
    cancellation_rebuttal customer_communication customer_email_address customer_name customer_purchase_ip
    customer_signature duplicate_charge_documentation duplicate_charge_explanation duplicate_charge_id
    product_description receipt refund_policy refund_policy_disclosure refund_refusal_explanation service_date
    service_documentation shipping_address shipping_carrier shipping_date shipping_documentation
    shipping_tracking_number uncategorized_file uncategorized_text""".split()
)


def _load(st: State, dispute_id: str) -> Dispute:
    try:
        return st.ledger.dispute("stripe", dispute_id)
    except LedgerError:
        raise resource_missing(dispute_id, noun="dispute") from None


def get_dispute(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "retrieve")
    return render_one(st, req, dispute_json(st, _load(st, req.path_params["id"])))


def _evidence(req: Req) -> dict[str, Any] | None:
    raw = req.params.get("evidence")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_request("Invalid object", param="evidence")
    for key, value in raw.items():
        if key not in _EVIDENCE:
            raise unknown_param(f"evidence[{key}]")
        if not isinstance(value, str):
            raise invalid_request("Invalid string", param=f"evidence[{key}]")
    return {k: (v or None) for k, v in raw.items()}


def update_dispute(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "disputes.update")
    d = _load(st, req.path_params["id"])
    extra = st.dispute_extra.setdefault(d.id, {})
    evidence = _evidence(req)
    metadata = get_metadata(req, extra.get("metadata", {}))
    submit = get_bool(req, "submit")
    req.begin()
    if d.status != "open" and (evidence or submit):
        raise invalid_request(
            f"This dispute is already closed. You can't update the evidence of a dispute ({d.id}) that is "
            f"{d.status}."
        )
    before = dispute_json(st, d)
    if evidence:
        extra.setdefault("evidence", {}).update(evidence)
    if metadata is not None:
        extra["metadata"] = metadata
    if submit is None or submit:  # Stripe submits the evidence unless told `submit=false`
        if evidence or submit:
            extra["submitted"] = True
            extra["submission_count"] = int(extra.get("submission_count", 0)) + 1
    after = dispute_json(st, d)
    previous = {k: before[k] for k in ("evidence", "metadata", "status") if before[k] != after[k]}
    if previous:
        events.emit(st, "charge.dispute.updated", after, req, previous)
    return render_one(st, req, after)


def close_dispute(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "disputes.close")
    d = _load(st, req.path_params["id"])
    req.begin()
    if d.status != "open":
        raise invalid_request(f"This dispute ({d.id}) is already closed: it was {d.status}.")
    status = dispute_status(st, d)
    st.ledger.resolve_dispute("stripe", d.id, "lost", at=st.now())
    obj = dispute_json(st, d)
    events.emit(st, "charge.dispute.closed", obj, req, {"status": status})
    return render_one(st, req, obj)


def list_disputes(st: State, req: Req) -> dict[str, Any]:
    check_params(req, "disputes.list")
    created = parse_created(req)
    charge_id = get_str(req, "charge", empty_ok=False)
    pi_id = get_str(req, "payment_intent", empty_ok=False)
    items = st.ledger.disputes("stripe", created_gte=created.gte, created_lt=created.lt)
    if charge_id:
        items = [d for d in items if d.charge_id == charge_id]
    if pi_id:
        items = [d for d in items if st.ledger.charge("stripe", d.charge_id).payment_intent_id == pi_id]
    items.reverse()

    def find(dispute_id: str) -> Dispute | None:
        try:
            return st.ledger.dispute("stripe", dispute_id)
        except LedgerError:
            return None

    return page(st, req, items, "/v1/disputes", lambda d: dispute_json(st, d), find=find)


# --- what the card network does (sandbox admin) -------------------------------------------------------
def open_dispute(
    st: State, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None
) -> Dispute:
    """A cardholder disputes a charge: `charge.dispute.created` and `charge.dispute.funds_withdrawn`."""
    c = load_charge(st, charge_id, param="charge")
    d = st.ledger.add_dispute("stripe", c.id, created=st.now(), reason=reason, amount_minor=amount)
    obj = dispute_json(st, d)
    events.emit(st, "charge.dispute.created", obj)
    events.emit(st, "charge.dispute.funds_withdrawn", obj)
    return d


def resolve_dispute(st: State, dispute_id: str, outcome: str) -> Dispute:
    """The network decides: `won` (funds reinstated) or `lost`; `charge.dispute.closed`."""
    d = _load(st, dispute_id)
    status = dispute_status(st, d)
    st.ledger.resolve_dispute("stripe", d.id, outcome, at=st.now())
    obj = dispute_json(st, d)
    events.emit(st, "charge.dispute.closed", obj, None, {"status": status})
    if outcome == "won":
        events.emit(st, "charge.dispute.funds_reinstated", obj)
    c = st.ledger.charge("stripe", d.charge_id)
    events.emit(st, "charge.updated", charge_json(st, c))
    return d
