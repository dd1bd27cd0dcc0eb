"""`createTransactionRequest`: authCapture, authOnly, priorAuthCapture, refund and void.

Every transaction goes through the ledger (gateway `authorizenet`): an approved or declined charge is a
ledger `Charge` (its id is the transId), a capture captures the authorisation in place (same transId, as
the gateway keeps it), a void cancels it, a refund is a ledger `Refund` with a transId of its own.
Refunds need the original transId and the card's last four digits and only work on settled transactions
(an unsettled one must be voided: reason 54); more than remains is reason 55.

Declines and errors are answers, not HTTP errors: `messages.resultCode: "Error"`, `E00027`, and the reason
in `transactionResponse.errors`. Test triggers (as in the gateway's sandbox): billing ZIP `46282` declines;
card `4222222222222` answers the reason code equal to the dollar amount (e.g. 2.00 declines). The same
transaction (type, amount, card, invoice number) within the duplicate window (120 s, or the
`duplicateWindow` setting) is refused as reason 11.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.cards import card_brand, luhn_valid
from sandbox.ledger import Charge, InvalidState, LedgerError, NotFound, RefundExceedsRemaining

from .encoding import amount as money
from .rendering import account_type
from .settings import DUPLICATE_WINDOW, REASONS
from .state import AnetState, Recent
from .webhooks import emit

__all__ = ["create_transaction"]

_EXPIRY_FORMATS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[int, int]]], ...] = (
    (re.compile(r"^(\d{4})-(\d{2})$"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{2})/?(\d{2})$"), lambda m: (2000 + int(m[2]), int(m[1]))),
    (re.compile(r"^(\d{2})[/-]?(\d{4})$"), lambda m: (int(m[2]), int(m[1]))),
)
_EVENTS = {
    "authCaptureTransaction": "net.authorize.payment.authcapture.created",
    "authOnlyTransaction": "net.authorize.payment.authorization.created",
    "priorAuthCaptureTransaction": "net.authorize.payment.priorAuthCapture.created",
    "refundTransaction": "net.authorize.payment.refund.created",
    "voidTransaction": "net.authorize.payment.void.created",
}
_DECLINE_ZIP = "46282"
_REASON_CARD = "4222222222222"


class _Refusal(Exception):
    def __init__(self, reason: int, text: str | None = None, trans_id: str = "0", **logged: Any) -> None:
        super().__init__(reason)
        self.reason, self.text, self.trans_id, self.logged = reason, text, trans_id, logged


def _minor(value: Decimal | None) -> int:
    """Minor units of a transaction amount; reason 5 unless positive with at most two decimals."""
    if value is None or value <= 0:
        raise _Refusal(5)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise _Refusal(5)
    return int((value * 100).to_integral_value())


def _setting(tr: dict[str, Any], name: str) -> str | None:
    for s in (tr.get("transactionSettings") or {}).get("setting", []):
        if s.get("settingName") == name:
            return str(s.get("settingValue", ""))
    return None


def _response(
    st: AnetState,
    reason: int,
    *,
    trans_id: str = "0",
    ref_trans_id: str = "",
    last4: str = "",
    brand: str = "",
    auth_code: str = "",
    text: str | None = None,
) -> dict[str, Any]:
    code, default_text = REASONS.get(reason, ("3", "An error occurred during processing."))
    out: dict[str, Any] = {
        "responseCode": code,
        "authCode": auth_code,
        "avsResultCode": "Y" if code in ("1", "2") and not ref_trans_id else "P",
        "cvvResultCode": "P" if code in ("1", "2") and not ref_trans_id else "",
        "cavvResultCode": "2" if code in ("1", "2") and not ref_trans_id else "",
        "transId": trans_id,
        "refTransID": ref_trans_id,
        "transHash": "",
        "testRequest": "0",
        "accountNumber": f"XXXX{last4}" if last4 else "",
        "accountType": account_type(brand) if brand else "",
    }
    entry_text = text or default_text
    if code == "1":
        out["messages"] = [{"code": str(reason), "description": entry_text}]
    else:
        out["errors"] = [{"errorCode": str(reason), "errorText": entry_text}]
    out["transHashSha2"] = ""
    out["SupplementalDataQualificationIndicator"] = 0
    if code == "1" and trans_id != "0" and not ref_trans_id:
        out["networkTransId"] = st.network_trans_id()
    return out


def create_transaction(
    st: AnetState, request: dict[str, Any], ref_id: str | None
) -> tuple[dict[str, Any], bool]:
    """The `transactionResponse` and whether the request succeeded (resultCode Ok)."""
    tr = request["transactionRequest"]
    ttype = tr["transactionType"]
    st.settle()
    handlers = {
        "authCaptureTransaction": _charge,
        "authOnlyTransaction": _charge,
        "priorAuthCaptureTransaction": _prior_auth_capture,
        "refundTransaction": _refund,
        "voidTransaction": _void,
    }
    handler = handlers.get(ttype)
    if handler is None:
        resp = _response(st, 70)
        st.log(ttype, "0", ref_id=ref_id, response_code=resp["responseCode"], reason=70)
        return resp, False
    try:
        resp = handler(st, tr, ref_id)
    except _Refusal as exc:
        card = ((tr.get("payment") or {}).get("creditCard") or {}).get("cardNumber", "")
        resp = _response(
            st, exc.reason, trans_id=exc.trans_id, text=exc.text, last4=str(card)[-4:] if card else ""
        )
        st.log(
            ttype,
            exc.trans_id,
            ref_id=ref_id,
            response_code=resp["responseCode"],
            reason=exc.reason,
            **exc.logged,
        )
    ok = resp["responseCode"] == "1"
    return resp, ok


def _card(tr: dict[str, Any], now: float) -> tuple[str, str]:
    payment = tr.get("payment")
    if not payment:
        raise _Refusal(33)
    if "opaqueData" in payment:  # an Accept.js nonce: the sandbox treats it as its test Visa
        return "4111111111111111", "XXXX"
    card = payment.get("creditCard")
    if card is None:
        raise _Refusal(70, "The payment type is not supported by the sandbox.")
    number = str(card["cardNumber"])
    if not number.isdigit() or not 13 <= len(number) <= 16 or not luhn_valid(number):
        raise _Refusal(6)
    expiry = str(card["expirationDate"])
    parsed = None
    for pattern, pick in _EXPIRY_FORMATS:
        m = pattern.match(expiry)
        if m:
            parsed = pick(m)
            break
    if parsed is None or not 1 <= parsed[1] <= 12:
        raise _Refusal(7)
    today = datetime.fromtimestamp(now, UTC)
    if parsed < (today.year, today.month):
        raise _Refusal(8)
    return number, expiry


def _payload(
    t_id: str, response_code: int, auth_code: str, amount_minor: int, invoice: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "responseCode": response_code,
        "authCode": auth_code,
        "avsResponse": "Y",
        "authAmount": money(amount_minor),
    }
    if invoice:
        out["invoiceNumber"] = invoice
    out["entityName"] = "transaction"
    out["id"] = t_id
    return out


def _charge(st: AnetState, tr: dict[str, Any], ref_id: str | None) -> dict[str, Any]:
    now = st.now()
    ttype = tr["transactionType"]
    amount = _minor(tr.get("amount"))
    currency = tr.get("currencyCode")
    if currency and currency != st.ledger.currency:
        raise _Refusal(
            39,
            "The supplied currency code is either invalid, not supported, not allowed for this merchant or "
            "doesn't have an exchange rate.",
        )
    number, expiry = _card(tr, now)
    invoice = str((tr.get("order") or {}).get("invoiceNumber") or "")
    window = _setting(tr, "duplicateWindow")
    key = (ttype, str(amount), number, invoice)
    dup = st.duplicate(key, int(window) if window and window.isdigit() else DUPLICATE_WINDOW)
    if dup is not None:
        if window is not None:  # with duplicateWindow sent, the answer names the original transaction
            st.log(ttype, "0", ref_id=ref_id, response_code="3", reason=11, duplicate_of=dup.trans_id)
            return _response(st, 11, trans_id=dup.trans_id, last4=number[-4:], brand=card_brand(number))
        raise _Refusal(11, duplicate_of=dup.trans_id)
    bill = tr.get("billTo") or {}
    reason = 1
    if bill.get("zip") == _DECLINE_ZIP:
        reason = 2
    elif number == _REASON_CARD and amount % 100 == 0 and amount // 100 in REASONS:
        reason = amount // 100
    code = REASONS[reason][0]
    if code == "3":
        raise _Refusal(reason)
    customer = tr.get("customer") or {}
    name = " ".join(x for x in (bill.get("firstName"), bill.get("lastName")) if x)
    cid = str(customer.get("id") or "")
    try:
        c: Charge = st.ledger.add_charge(
            "authorizenet",
            amount_minor=amount,
            currency=st.ledger.currency,
            created=int(now),
            status="succeeded" if code == "1" else "failed",
            captured=ttype == "authCaptureTransaction",
            metadata={"invoiceNumber": invoice} if invoice else {},
            description=str((tr.get("order") or {}).get("description") or ""),
            customer_id=int(cid) if cid.isdigit() else 0,
            customer_email=str(customer.get("email") or bill.get("email") or ""),
            customer_name=name,
            card_brand=card_brand(number),
            card_last4=number[-4:],
            decline_code="do_not_honor" if code != "1" else "",
        )
    except LedgerError:
        raise _Refusal(5) from None
    st.expiry[c.id] = expiry
    auth_code = c.id[-6:] if code == "1" else ""
    resp = _response(st, reason, trans_id=c.id, last4=number[-4:], brand=c.card_brand, auth_code=auth_code)
    st.recent.append(Recent(key, now, c.id))
    st.log(
        ttype,
        c.id,
        ref_id=ref_id,
        response_code=code,
        reason=reason,
        amount=str(money(amount)),
        invoice=invoice,
    )
    emit(st, _EVENTS[ttype], _payload(c.id, int(code), auth_code, amount, invoice))
    return resp


def _original(st: AnetState, tr: dict[str, Any], missing: int = 33) -> Charge:
    ref = tr.get("refTransId")
    if not ref:
        raise _Refusal(missing, "A valid referenced transaction ID is required." if missing == 33 else None)
    try:
        return st.ledger.charge("authorizenet", str(ref))
    except NotFound:
        raise _Refusal(16 if missing == 33 else missing) from None


def _prior_auth_capture(st: AnetState, tr: dict[str, Any], ref_id: str | None) -> dict[str, Any]:
    c = _original(st, tr)
    if c.status == "succeeded" and c.captured:
        return _response(st, 311, trans_id=c.id, ref_trans_id=c.id, last4=c.card_last4, brand=c.card_brand)
    if c.status != "succeeded":
        raise _Refusal(16)
    amount = _minor(tr["amount"]) if tr.get("amount") is not None else None
    if amount is not None and amount > c.amount_minor:
        raise _Refusal(47)
    st.ledger.capture("authorizenet", c.id, at=int(st.now()), amount_minor=amount)
    invoice = c.metadata.get("invoiceNumber", "")
    st.log(
        "priorAuthCaptureTransaction",
        c.id,
        ref_id=ref_id,
        response_code="1",
        reason=1,
        amount=str(money(c.amount_captured_minor)),
    )
    emit(
        st,
        _EVENTS["priorAuthCaptureTransaction"],
        _payload(c.id, 1, c.id[-6:], c.amount_captured_minor, invoice),
    )
    return _response(
        st, 1, trans_id=c.id, ref_trans_id=c.id, last4=c.card_last4, brand=c.card_brand, auth_code=c.id[-6:]
    )


def _void(st: AnetState, tr: dict[str, Any], ref_id: str | None) -> dict[str, Any]:
    c = _original(st, tr)
    if c.status == "canceled":
        return _response(st, 310, trans_id=c.id, ref_trans_id=c.id, last4=c.card_last4, brand=c.card_brand)
    try:
        st.ledger.void("authorizenet", c.id, at=int(st.now()))
    except InvalidState:
        raise _Refusal(16) from None  # settled (refund it instead), declined, or already refunded
    invoice = c.metadata.get("invoiceNumber", "")
    st.log("voidTransaction", c.id, ref_id=ref_id, response_code="1", reason=1)
    emit(st, _EVENTS["voidTransaction"], _payload(c.id, 1, "", c.amount_minor, invoice))
    return _response(st, 1, trans_id=c.id, ref_trans_id=c.id, last4=c.card_last4, brand=c.card_brand)


def _refund(st: AnetState, tr: dict[str, Any], ref_id: str | None) -> dict[str, Any]:
    card = (tr.get("payment") or {}).get("creditCard")
    if card is None:
        raise _Refusal(33)
    c = _original(st, tr, missing=54)
    last4 = str(card["cardNumber"])[-4:]
    if last4 != c.card_last4 or c.status != "succeeded" or not c.captured or not c.batch_id:
        raise _Refusal(54)  # another card, not a captured payment, or not settled yet (void it instead)
    amount = _minor(tr.get("amount"))
    key = ("refundTransaction", str(amount), last4, c.id)
    if st.duplicate(key, DUPLICATE_WINDOW) is not None:
        raise _Refusal(11)
    try:
        r = st.ledger.add_refund("authorizenet", c.id, amount, created=int(st.now()), reason="refund")
    except RefundExceedsRemaining:
        raise _Refusal(55) from None
    except LedgerError:
        raise _Refusal(54) from None
    resp = _response(st, 1, trans_id=r.id, ref_trans_id=c.id, last4=c.card_last4, brand=c.card_brand)
    st.recent.append(Recent(key, st.now(), r.id))
    invoice = c.metadata.get("invoiceNumber", "")
    st.log(
        "refundTransaction",
        r.id,
        ref_id=ref_id,
        response_code="1",
        reason=1,
        amount=str(money(amount)),
        ref_trans_id=c.id,
    )
    emit(st, _EVENTS["refundTransaction"], _payload(r.id, 1, "", amount, invoice))
    return resp
