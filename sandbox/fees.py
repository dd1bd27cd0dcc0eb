"""Processing fees per gateway, rounded the way each vendor rounds them.

The rules are the US list prices the sandbox models (a percentage plus a fixed fee in minor units):

| gateway | fee | rounding | on refunds | dispute fee |
|---|---|---|---|---|
| stripe | 2.9 % + 30 | half up ("0.025 rounds to 0.03", Stripe support) | kept | 1500 |
| paypal | 3.49 % + 49 | half up | the percentage part is returned pro rata, the fixed part kept | 0 |
| square | 2.9 % + 30 | half even (Square's "Understanding Fee Rounding") | kept (since 2023) | 0 |
| authorizenet | 2.9 % + 30 | half up | kept | 0 |

Authorize.Net bills its fees monthly instead of netting them from settlements: its `fee_minor` is what the
merchant is billed for the transaction, and settled batches carry gross amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

__all__ = ["FEE_RULES", "FeeRule", "charge_fee", "dispute_fee", "refund_fee_returned"]


@dataclass(frozen=True, slots=True)
class FeeRule:
    percent: Decimal
    fixed_minor: int
    rounding: str  # a decimal rounding mode
    returns_percentage_on_refund: bool
    dispute_fee_minor: int

    def variable(self, amount_minor: int) -> int:
        return int((Decimal(amount_minor) * self.percent).quantize(Decimal(1), rounding=self.rounding))


FEE_RULES: dict[str, FeeRule] = {
    "stripe": FeeRule(Decimal("0.029"), 30, ROUND_HALF_UP, False, 1500),
    "paypal": FeeRule(Decimal("0.0349"), 49, ROUND_HALF_UP, True, 0),
    "square": FeeRule(Decimal("0.029"), 30, ROUND_HALF_EVEN, False, 0),
    "authorizenet": FeeRule(Decimal("0.029"), 30, ROUND_HALF_UP, False, 0),
}


def charge_fee(gateway: str, amount_minor: int) -> int:
    """The fee on a captured charge of `amount_minor` (never more than the amount itself)."""
    rule = FEE_RULES[gateway]
    return min(amount_minor, rule.variable(amount_minor) + rule.fixed_minor) if amount_minor > 0 else 0


def refund_fee_returned(gateway: str, refund_minor: int, charge_minor: int, already_returned: int) -> int:
    """Fee the gateway gives back for a refund of `refund_minor` (PayPal only: the percentage part).

    Partial refunds return the percentage of their own amount; the total returned never exceeds the
    percentage part of the charge's fee.
    """
    rule = FEE_RULES[gateway]
    if not rule.returns_percentage_on_refund:
        return 0
    cap = rule.variable(charge_minor) - already_returned
    return max(0, min(cap, rule.variable(refund_minor)))


def dispute_fee(gateway: str) -> int:
    return FEE_RULES[gateway].dispute_fee_minor
