"""Ledger records as Authorize.Net's reporting API renders them, in the XSD's element order.

A transaction is a ledger `Charge` (authCapture, authOnly; a capture keeps the authorisation's transId) or
`Refund` (its own transId, `refTransId` the charge). Statuses follow the gateway: `authorizedPendingCapture`,
`capturedPendingSettlement`, `settledSuccessfully`, `refundPendingSettlement`, `refundSettledSuccessfully`,
`declined`, `voided`. Money is printed as JSON numbers with two decimals.
"""

from __future__ import annotations

from typing import Any

from sandbox.ledger import Batch, Charge, Refund

from .encoding import amount, iso_local, iso_utc
from .settings import ACCOUNT_TYPES
from .state import AnetState

__all__ = [
    "account_type",
    "render_batch",
    "render_details",
    "render_summary",
    "status_of",
    "type_of",
]

Txn = Charge | Refund


def account_type(brand: str) -> str:
    return ACCOUNT_TYPES.get(brand, brand.capitalize() or "Visa")


def _charge_of(st: AnetState, t: Txn) -> Charge:
    return t if isinstance(t, Charge) else st.ledger.charge("authorizenet", t.charge_id)


def status_of(t: Txn) -> str:
    if isinstance(t, Refund):
        if t.status == "failed":
            return "declined"
        return "refundSettledSuccessfully" if t.batch_id else "refundPendingSettlement"
    if t.status == "failed":
        return "declined"
    if t.status == "canceled":
        return "voided"
    if not t.captured:
        return "authorizedPendingCapture"
    return "settledSuccessfully" if t.batch_id else "capturedPendingSettlement"


def type_of(t: Txn) -> str:
    if isinstance(t, Refund):
        return "refundTransaction"
    if t.status == "succeeded" and not t.captured:
        return "authOnlyTransaction"
    if t.captured_at is not None and t.captured_at != t.created:
        return "authOnlyTransaction"  # captured later by a priorAuthCaptureTransaction
    if t.status == "canceled" and t.captured_at is None:
        return "authOnlyTransaction"
    return "authCaptureTransaction"


def _settle_amount(t: Txn) -> int:
    if isinstance(t, Refund):
        return t.amount_minor if t.status != "failed" else 0
    return t.amount_captured_minor if t.status == "succeeded" and t.captured else 0


def _names(c: Charge) -> tuple[str, str]:
    first, _, last = (c.customer_name or "").partition(" ")
    return first, last


def render_summary(st: AnetState, t: Txn) -> dict[str, Any]:
    """A `transactionSummaryType` (getTransactionList, getUnsettledTransactionList)."""
    c = _charge_of(st, t)
    first, last = _names(c)
    out: dict[str, Any] = {
        "transId": t.id,
        "submitTimeUTC": iso_utc(t.created),
        "submitTimeLocal": iso_local(t.created),
        "transactionStatus": status_of(t),
    }
    if c.metadata.get("invoiceNumber"):
        out["invoiceNumber"] = c.metadata["invoiceNumber"]
    if first:
        out["firstName"] = first
    if last:
        out["lastName"] = last
    out["accountType"] = account_type(c.card_brand)
    out["accountNumber"] = "XXXX" + (c.card_last4 or "0000")
    out["settleAmount"] = amount(_settle_amount(t))
    out["marketType"] = "eCommerce"
    out["product"] = "Card Not Present"
    out["hasReturnedItems"] = False
    return out


def _batch_of(st: AnetState, batch_id: str) -> dict[str, Any]:
    b = st.ledger.batch(batch_id)
    return {
        "batchId": b.id,
        "settlementTimeUTC": iso_utc(b.settlement_time),
        "settlementTimeLocal": iso_local(b.settlement_time),
        "settlementState": b.settlement_state,
        "marketType": "eCommerce",
        "product": "Card Not Present",
    }


def render_details(st: AnetState, t: Txn) -> dict[str, Any]:
    """A `transactionDetailsType` (getTransactionDetails)."""
    c = _charge_of(st, t)
    first, last = _names(c)
    status = status_of(t)
    declined = status == "declined"
    out: dict[str, Any] = {"transId": t.id}
    if isinstance(t, Refund):
        out["refTransId"] = t.charge_id
    out["submitTimeUTC"] = iso_utc(t.created)
    out["submitTimeLocal"] = iso_local(t.created)
    out["transactionType"] = type_of(t)
    out["transactionStatus"] = status
    out["responseCode"] = 2 if declined else 1
    out["responseReasonCode"] = 2 if declined else 1
    out["responseReasonDescription"] = "This transaction has been declined." if declined else "Approval"
    if not declined and isinstance(t, Charge):
        out["authCode"] = (t.id[-6:]).upper()
        out["AVSResponse"] = "Y"
        out["cardCodeResponse"] = "P"
    elif isinstance(t, Refund):
        out["AVSResponse"] = "P"
    if t.batch_id:
        out["batch"] = _batch_of(st, t.batch_id)
    order: dict[str, Any] = {}
    if c.metadata.get("invoiceNumber"):
        order["invoiceNumber"] = c.metadata["invoiceNumber"]
    if c.description:
        order["description"] = c.description[:255]
    if order:
        out["order"] = order
    out["authAmount"] = amount(t.amount_minor)
    out["settleAmount"] = amount(_settle_amount(t))
    out["taxExempt"] = False
    out["payment"] = {
        "creditCard": {
            "cardNumber": "XXXX" + (c.card_last4 or "0000"),
            "expirationDate": "XXXX",
            "cardType": account_type(c.card_brand),
        }
    }
    customer: dict[str, Any] = {"type": "individual"}
    if c.customer_id:
        customer["id"] = str(c.customer_id)
    if c.customer_email:
        customer["email"] = c.customer_email
    out["customer"] = customer
    bill: dict[str, Any] = {}
    if first:
        bill["firstName"] = first
    if last:
        bill["lastName"] = last
    if bill:
        out["billTo"] = bill
    out["recurringBilling"] = False
    out["product"] = "Card Not Present"
    out["marketType"] = "eCommerce"
    return out


def render_batch(b: Batch, *, statistics: bool) -> dict[str, Any]:
    """A `batchDetailsType` (getSettledBatchList), with its per-card-type statistics when asked."""
    out: dict[str, Any] = {
        "batchId": b.id,
        "settlementTimeUTC": iso_utc(b.settlement_time),
        "settlementTimeLocal": iso_local(b.settlement_time),
        "settlementState": b.settlement_state,
        "paymentMethod": "creditCard",
        "marketType": "eCommerce",
        "product": "Card Not Present",
    }
    if statistics:
        out["statistics"] = [
            {
                "accountType": account_type(s["card_brand"]),
                "chargeAmount": amount(s["charge_amount_minor"]),
                "chargeCount": s["charge_count"],
                "refundAmount": amount(s["refund_amount_minor"]),
                "refundCount": s["refund_count"],
                "voidCount": s["void_count"],
                "declineCount": s["decline_count"],
                "errorCount": s["error_count"],
            }
            for s in b.statistics()
        ]
    return out
