"""What each gateway's ids look like, and the gateway names the sandbox uses.

WooCommerce names a gateway by its plugin's payment method id (`ppcp-gateway`); the ledger and the stand-ins
name it by the vendor (`paypal`). Ids are drawn from a `random.Random` so a seeded world repeats them, and
their shapes follow what each vendor returns, so a client's validation or a reconciliation's parsing meets
the same strings it meets in production:

- Stripe: `ch_3`/`pi_3`/`txn_3` + 23 characters, one suffix shared by a payment intent, its first charge and
  that charge's balance transaction (as Stripe does since 2022); `re_3`, `du_1`, `po_1` likewise.
- PayPal: 17 uppercase alphanumerics for captures, orders and refunds; disputes `PP-D-` + digits.
- Square: payments 29 alphanumerics, refunds `<payment id>_<29 more>`, orders 27, locations `L` + 12,
  payouts `po_` + a UUID, payout entries `poe_` + 26.
- Authorize.Net: transIds are 11-digit numbers (refunds are transactions too), batch ids 8 digits.
"""

from __future__ import annotations

import random
import string

__all__ = [
    "GATEWAY_NAMES",
    "METHOD_GATEWAY",
    "authorizenet_batch_id",
    "gateway_refund_id",
    "gateway_transaction_id",
    "method_for",
    "new_id",
]

#: WooCommerce payment method id -> the gateway's name in the ledger and the stand-ins.
METHOD_GATEWAY: dict[str, str] = {
    "stripe": "stripe",
    "ppcp-gateway": "paypal",
    "square_credit_card": "square",
    "authorize_net_cim_credit_card": "authorizenet",
}
GATEWAY_NAMES: tuple[str, ...] = ("stripe", "paypal", "square", "authorizenet")
_METHOD_OF = {g: m for m, g in METHOD_GATEWAY.items()}

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits
_HEX = "0123456789abcdef"


def _rid(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def _gateway(name: str) -> str:
    """Accept either naming (`ppcp-gateway` or `paypal`); return the ledger's."""
    return METHOD_GATEWAY.get(name, name)


def gateway_transaction_id(rng: random.Random, gateway: str) -> str:
    """A transaction id shaped like the gateway's real ids (what WooCommerce stores on the order)."""
    g = _gateway(gateway)
    if g == "stripe":
        # The Stripe plugin stores the charge id; orders paid through newer flows keep the intent id.
        prefix = "ch_3" if rng.random() < 0.8 else "pi_3"
        return prefix + _rid(rng, _ALNUM, 23)
    if g == "paypal":
        return _rid(rng, _UPPER_ALNUM, 17)  # PayPal capture id
    if g == "square":
        return _rid(rng, _ALNUM, 27) + rng.choice(("eY", "gY", "KY", "hY"))  # Square payment id
    if g == "authorizenet":
        return str(rng.randrange(40_000_000_000, 80_000_000_000))  # Authorize.Net transId
    return ""


def gateway_refund_id(rng: random.Random, gateway: str) -> str:
    """The gateway's id for a refund of a payment (Square's starts with the payment id: see `new_id`)."""
    g = _gateway(gateway)
    if g == "stripe":
        return "re_3" + _rid(rng, _ALNUM, 23)
    if g == "paypal":
        return _rid(rng, _UPPER_ALNUM, 17)
    if g == "square":
        return _rid(rng, _ALNUM, 29) + "_" + _rid(rng, _ALNUM, 29)
    if g == "authorizenet":
        return str(rng.randrange(40_000_000_000, 80_000_000_000))
    return ""


def authorizenet_batch_id(n: int) -> str:
    """Batch ids are one increasing 8-digit sequence per merchant."""
    return str(10_000_000 + n)


def new_id(rng: random.Random, gateway: str, kind: str, *, parent: str = "") -> str:
    """A fresh id of `kind` for `gateway`.

    Kinds: `charge`, `payment_intent`, `balance_transaction`, `refund`, `dispute`, `payout` (Stripe);
    `charge` (a capture), `order`, `refund`, `dispute` (PayPal); `charge` (a payment), `order`, `refund`
    (pass `parent=` the payment id), `dispute`, `payout`, `payout_entry`, `location` (Square); `charge`
    and `refund` (transIds) (Authorize.Net). Raises `ValueError` for a kind the gateway does not have.
    """
    g = _gateway(gateway)
    if g == "stripe":
        prefixes = {
            "charge": "ch_3",
            "payment_intent": "pi_3",
            "balance_transaction": "txn_3",
            "refund": "re_3",
            "dispute": "du_1",
            "payout": "po_1",
        }
        if kind in prefixes:
            return prefixes[kind] + _rid(rng, _ALNUM, 23)
    elif g == "paypal":
        if kind in ("charge", "order", "refund"):
            return _rid(rng, _UPPER_ALNUM, 17)
        if kind == "dispute":
            return f"PP-D-{rng.randrange(10_000, 999_999)}"
    elif g == "square":
        if kind == "charge":
            return gateway_transaction_id(rng, g)
        if kind == "order":
            return _rid(rng, _ALNUM, 27)
        if kind == "refund":
            return (parent or _rid(rng, _ALNUM, 29)) + "_" + _rid(rng, _ALNUM, 29)
        if kind == "dispute":
            return _rid(rng, _ALNUM, 22)
        if kind == "payout":
            h = _rid(rng, _HEX, 32)
            return f"po_{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
        if kind == "payout_entry":
            return "poe_" + _rid(rng, _ALNUM, 26)
        if kind == "location":
            return "L" + _rid(rng, _UPPER_ALNUM, 12)
    elif g == "authorizenet":
        if kind in ("charge", "refund"):
            return str(rng.randrange(40_000_000_000, 80_000_000_000))
    raise ValueError(f"{gateway} has no ids of kind {kind!r}")


def method_for(gateway: str) -> str:
    """The WooCommerce payment method id of a ledger gateway name (`paypal` -> `ppcp-gateway`)."""
    return _METHOD_OF[gateway]
