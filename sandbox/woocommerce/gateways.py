"""The payment plugins' part of a store: refunds at the gateway, and payments linked to their orders.

WooCommerce never talks to a payment provider itself; its gateway plugins do (WooCommerce Stripe Gateway,
WooCommerce PayPal Payments, WooCommerce Square, Authorize.Net CIM). In the sandbox the providers' records are
the world's `Ledger` (`sandbox.ledger`), which the gateway stand-ins serve, so:

- `refund_payment()` is `wc_refund_payment()` calling the plugin's `process_refund()`: it refunds, in the
  ledger, the charge the order's `transaction_id` names and returns the gateway's refund id. Anything
  the gateway refuses becomes the `WooError` the refunds controller answers:
  `woocommerce_rest_cannot_create_order_refund`, status 500, with the message `wc_refund_payment()`
  passes on (sources: `wc_create_refund`,
  `wc_refund_payment` in includes/wc-order-functions.php, `WC_REST_Order_Refunds_Controller`).
- `link_payment()`: marking an order paid (`set_paid`, or a status that sets `date_paid`) never calls a
  gateway, so it never creates a charge. When the order's `transaction_id` names a charge the ledger holds
  and that charge names no order, the sandbox records the order in the charge's metadata, as the plugin's
  checkout would have when it took the payment (see docs/sandbox.md, known differences).
"""

from __future__ import annotations

from sandbox.gateway_ids import METHOD_GATEWAY
from sandbox.ledger import InvalidState, LedgerError, NotFound, RefundExceedsRemaining
from sandbox.world import GATEWAYS, Order

from .errors import WooError
from .store import Store

__all__ = ["link_payment", "refund_payment"]

NO_GATEWAY = "The payment gateway for this order does not exist."
NO_REFUNDS = "The payment gateway for this order does not support automatic refunds."
#: `process_refund()` returned false (every card plugin does for an order without a transaction id).
GATEWAY_FAILED = "An error occurred while attempting to create the refund using the payment gateway API."

_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


def _money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    symbol = _SYMBOL.get(currency.upper())
    amount = f"{whole:,}.{cents:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency.upper()}"


def _refused(message: str) -> WooError:
    return WooError("woocommerce_rest_cannot_create_order_refund", message, 500)


def _gateway_message(gateway: str, txn: str, currency: str, exc: LedgerError) -> str:
    """What the plugin shows for a refusal: the vendor's own text (Stripe's plugin prefixes it)."""
    if gateway == "stripe":
        if isinstance(exc, NotFound):
            text = f"No such charge: '{txn}'"
        elif isinstance(exc, RefundExceedsRemaining) and exc.remaining_minor == 0:
            text = f"Charge {exc.charge_id} has already been refunded."
        elif isinstance(exc, RefundExceedsRemaining):
            text = (
                f"Refund amount ({_money(exc.requested_minor, currency)}) is greater than unrefunded "
                f"amount on charge ({_money(exc.remaining_minor, currency)})"
            )
        elif isinstance(exc, InvalidState) and exc.code == "charge_disputed":
            text = f"Charge {txn} has been charged back; cannot issue a refund."
        else:
            text = str(exc)
        return f"There was a problem initiating a refund: {text}"
    if gateway == "paypal":
        if isinstance(exc, NotFound):
            return "The specified resource does not exist."
        if isinstance(exc, RefundExceedsRemaining):
            if exc.remaining_minor == 0:
                return "The capture has already been fully refunded"
            return (
                "The refund amount must be less than or equal to the capture amount that has not yet "
                "been refunded."
            )
    if gateway == "square" and isinstance(exc, RefundExceedsRemaining):
        return "The requested refund amount exceeds the amount available to refund."
    if gateway == "authorizenet":
        if isinstance(exc, NotFound | InvalidState):
            return "The referenced transaction does not meet the criteria for issuing a credit."
        if isinstance(exc, RefundExceedsRemaining):
            return "The sum of credits against the referenced transaction would exceed original debit amount."
    return str(exc)


def refund_payment(st: Store, o: Order, amount_minor: int, reason: str, *, at: int) -> str:
    """Refund `amount_minor` of the order's payment at its gateway; the gateway's refund id.

    Raises the refunds controller's `WooError` when the store has no such gateway, the gateway cannot
    refund (bacs, cod), the order has no transaction id, or the gateway refuses (an unknown charge, more
    than remains on it, a failed or disputed charge).
    """
    if o.payment_method not in GATEWAYS:
        raise _refused(NO_GATEWAY)
    gateway = METHOD_GATEWAY.get(o.payment_method)
    if gateway is None:
        raise _refused(NO_REFUNDS)
    if not o.transaction_id:
        raise _refused(GATEWAY_FAILED)
    try:
        refund = st.world.ledger.add_refund(
            gateway, o.transaction_id, amount_minor, created=at, reason=reason
        )
    except LedgerError as exc:
        raise _refused(_gateway_message(gateway, o.transaction_id, o.currency, exc)) from None
    return refund.id


def link_payment(st: Store, o: Order, *, at: int) -> None:
    """After an order write: name the order in its charge's metadata when the charge names no order yet.

    Only for a paid order (`date_paid` set) of a card gateway whose `transaction_id` the ledger knows; a
    charge that already names an order (this one or another) is left as the gateway has it.
    """
    gateway = METHOD_GATEWAY.get(o.payment_method)
    if gateway is None or o.paid is None or not o.transaction_id:
        return
    charge = st.world.ledger.find_charge(gateway, o.transaction_id)
    if charge is not None and charge.order_id is None:
        st.world.ledger.link_order(gateway, charge.id, o.id, at=at)
