"""The gateways' history: a `Ledger` generated from the world's orders, with planted discrepancies.

**Natural records** (consistent by the definition in `sandbox.ledger`):

- every paid order at a card gateway has one succeeded charge: its id is the order's `transaction_id`
  (a Stripe order holding a `pi_` id gets the charge of that payment intent), created at `order.paid`,
  for the order total in the order currency, with the vendor's order reference in its metadata;
- the order's refunds are mirrored one to one (same ids, amounts and times);
- about 4 % of paid orders at Stripe, Square and Authorize.Net were declined once before they were paid:
  a `failed` charge naming the same order (for Stripe, on the same payment intent);
- Stripe orders that `failed` with a transaction id have that `failed` charge (with a decline code);
- about 1 % of older unrefunded charges at Stripe, PayPal and Square were disputed, and the dispute `won`;
- then `Ledger.advance(world.now)`: Stripe and Square payouts, Authorize.Net settled batches.

**Planted discrepancies.** `discrepancy_rate` of the paid orders (default 3 %) get exactly one problem each;
a positive rate plants at least one of every category at every gateway that has it (then the rest by
turns), so even the 300-order demo world has each everywhere. Everything planted, and the order it
concerns, is older than three days (so a grace window of up to 72 h sees a break), trashed orders are
never picked, and only `currency_mismatch` at Square and Authorize.Net changes an order (those accounts
hold one currency, so the order is the side that is wrong):

- `missing_order` (all gateways): a succeeded charge whose metadata names a deleted order, or no order.
  Key `gateway_id`: the charge.
- `missing_payment` (all): the paid order's charge is absent. Key: the order's transaction id.
- `amount_mismatch` (all): the charge's amount differs from the order total. Key: the charge.
- `currency_mismatch` (all): Stripe and PayPal charge in another currency; at Square and Authorize.Net the
  order is in another currency. Key: the charge.
- `status_mismatch` (all): the order is processing/completed/on-hold while its charge failed, or was fully
  refunded at the gateway; or the order is refunded and the gateway has no refund. Key: the charge.
- `refund_not_mirrored` (all): a partial refund at the gateway that the order does not show. Key: the refund.
- `duplicate_charge` (all): a second succeeded charge for the order, minutes later. Key: the second charge.
- `open_dispute` (stripe, paypal, square): an open dispute on the order's charge. Key: the dispute.
- `payout_mismatch` (stripe, square): a payout whose amount differs from the net of its entries (an order
  is not involved: `order_id` None). Key: the payout.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox.gateway_ids import GATEWAY_NAMES, METHOD_GATEWAY
from sandbox.ledger import (
    CATEGORIES,
    DAY,
    DISPUTE_GATEWAYS,
    PAYOUT_GATEWAYS,
    Charge,
    Ledger,
    Planted,
)

if TYPE_CHECKING:
    from sandbox.world import Order, World

__all__ = ["DEFAULT_DISCREPANCY_RATE", "PLANT_MIN_AGE", "build_history"]

DEFAULT_DISCREPANCY_RATE = 0.03
#: Planted problems are at least this old when the world's history ends.
PLANT_MIN_AGE = 3 * DAY
_OPEN_STATUSES = frozenset({"processing", "completed", "on-hold"})
_GATEWAYS_FOR = {c: GATEWAY_NAMES for c in CATEGORIES} | {
    "open_dispute": DISPUTE_GATEWAYS,
    "payout_mismatch": PAYOUT_GATEWAYS,
}
_CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
_BRAND_CUM_WEIGHTS = (55, 83, 95, 100)  # visa 55 %, mastercard 28 %, amex 12 %, discover 5 %
_DECLINES = (
    ("card_declined", "generic_decline", "Your card was declined."),
    ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    ("card_declined", "do_not_honor", "Your card was declined."),
    ("card_declined", "lost_card", "Your card was declined."),
    ("expired_card", "expired_card", "Your card has expired."),
    ("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
)
_DISPUTE_REASONS = ("fraudulent", "product_not_received", "product_unacceptable", "duplicate", "unrecognized")
_CURRENCIES = ("USD", "EUR", "GBP", "CAD")


def _money(minor: int, currency: str) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"


def _between(rng: random.Random, lo: int, hi: int) -> int:
    return lo if hi <= lo else rng.randrange(lo, hi)


class _Builder:
    def __init__(self, world: World, rate: float) -> None:
        self.world = world
        self.now = world.now
        self.rng = random.Random(world.seed * 1_000_159 + 3)
        self.ledger = Ledger(seed=world.seed, currency=world.currency, now=world.now)
        self.rate = rate
        self.plans: dict[int, tuple[str, str]] = {}  # order id -> (category, variant)
        self.extra: list[tuple[str, str]] = []  # (category, gateway) not tied to an order

    # --- which orders get which problem -------------------------------------------------------------
    def plan(self, paid: list[Order]) -> None:
        if self.rate <= 0:
            return
        rng = self.rng
        latest = self.now - PLANT_MIN_AGE - DAY  # leaves a day to place refunds and disputes after payment
        pools: dict[tuple[str, str], list[Order]] = {}
        for o in paid:
            if o.status == "trash" or o.paid is None or o.paid > latest:
                continue
            g = METHOD_GATEWAY[o.payment_method]
            if o.status in _OPEN_STATUSES and not o.refunds:
                pools.setdefault((g, "open"), []).append(o)
            elif o.status == "refunded":
                pools.setdefault((g, "refunded"), []).append(o)
        for pool in pools.values():
            rng.shuffle(pool)
        # Each item goes to the gateway with the fewest items so far that has the category and an eligible
        # order (ties in a seeded rotation), so the gateways share the items evenly.
        start = rng.randrange(len(GATEWAY_NAMES))
        used = dict.fromkeys(GATEWAY_NAMES, 0)
        # First one of every category at every gateway that has it (when it has an eligible order), so a
        # reconciler is tested on every category everywhere whatever the seed; then the rest by turns.
        pairs = [(cat, g) for cat in CATEGORIES for g in _GATEWAYS_FOR[cat]]
        rng.shuffle(pairs)
        for cat, g in pairs:
            if self._plan_one(cat, g, pools):
                used[g] += 1
        n = max(round(self.rate * len(paid)) - sum(used.values()), 0)
        order = list(CATEGORIES)
        for i in range(n):
            if i % len(order) == 0:
                rng.shuffle(order)
            cat = order[i % len(order)]
            ranked = sorted(
                _GATEWAYS_FOR[cat],
                key=lambda g: (used[g], (GATEWAY_NAMES.index(g) - start - i) % len(GATEWAY_NAMES)),
            )
            for g in ranked:
                if self._plan_one(cat, g, pools):
                    used[g] += 1
                    break

    def _plan_one(self, cat: str, g: str, pools: dict[tuple[str, str], list[Order]]) -> bool:
        if cat in ("missing_order", "payout_mismatch"):
            self.extra.append((cat, g))
            return True
        open_pool, refunded_pool = pools.get((g, "open"), []), pools.get((g, "refunded"), [])
        variant = ""
        if cat == "status_mismatch":
            variants = (["failed", "gateway_refunded"] if open_pool else []) + (
                ["order_refunded"] if refunded_pool else []
            )
            if not variants:
                return False
            variant = self.rng.choice(variants)
            pool = refunded_pool if variant == "order_refunded" else open_pool
        else:
            pool = open_pool
        if not pool:
            return False
        self.plans[pool.pop().id] = (cat, variant)
        return True

    # --- generation --------------------------------------------------------------------------------------
    def build(self) -> Ledger:
        w = self.world
        paid = [o for o in w.orders.values() if o.paid is not None and o.transaction_id]
        self.plan([o for o in paid if o.payment_method in METHOD_GATEWAY])
        for o in w.orders.values():
            g = METHOD_GATEWAY.get(o.payment_method)
            if g is None or not o.transaction_id:
                continue
            if o.paid is not None:
                self.paid_order(o, g)
            elif o.effective_status == "failed":
                self.charge(o, g, status="failed", created=o.created + self.rng.randrange(5, 120))
        for cat, g in self.extra:
            if cat == "missing_order":
                self.missing_order(g)
        self.ledger.advance(self.now)
        used: set[str] = set()
        for cat, g in self.extra:
            if cat == "payout_mismatch":
                self.payout_mismatch(g, used)
        rank = {c: i for i, c in enumerate(CATEGORIES)}
        grank = {g: i for i, g in enumerate(GATEWAY_NAMES)}
        self.ledger.planted.sort(
            key=lambda p: (rank[p.category], grank[p.gateway], p.order_id or 0, p.gateway_id)
        )
        return self.ledger

    def plant(self, cat: str, g: str, order_id: int | None, gateway_id: str, detail: str) -> None:
        self.ledger.planted.append(Planted(cat, g, order_id, gateway_id, detail))

    def charge(
        self,
        o: Order,
        g: str,
        *,
        status: str = "succeeded",
        created: int,
        amount: int | None = None,
        currency: str | None = None,
        attempt: bool = False,
        duplicate: bool = False,
    ) -> Charge:
        """A charge for order `o`: the one its transaction id names, a declined attempt before it, or a
        duplicate after it (both with ids of their own)."""
        rng = self.rng
        kwargs: dict[str, object] = {}
        txn = o.transaction_id
        if g == "stripe":
            if attempt:
                kwargs = {"charge_id": self.ledger.new_id(g, "charge"), "payment_intent_id": "pi_" + txn[3:]}
            elif not duplicate:
                kwargs = {"payment_intent_id": txn} if txn.startswith("pi_") else {"charge_id": txn}
        elif not (attempt or duplicate):
            kwargs = {"charge_id": txn}
        if status == "failed":
            code, decline, message = rng.choice(_DECLINES)
            kwargs |= {"failure_code": code, "decline_code": decline, "failure_message": message}
        brand = rng.choices(_CARD_BRANDS, cum_weights=_BRAND_CUM_WEIGHTS)[0]
        return self.ledger.add_charge(
            g,
            amount_minor=o.total_cents if amount is None else amount,
            currency=currency or o.currency,
            created=created,
            order_id=o.id,
            status=status,
            description=f"Order #{o.id}",
            customer_id=o.customer_id,
            customer_email=o.billing_email,
            customer_name=f"{o.billing_first} {o.billing_last}",
            card_brand="" if g == "paypal" else brand,
            card_last4="" if g == "paypal" else f"{rng.randrange(10_000):04d}",
            **kwargs,  # type: ignore[arg-type]
        )

    def paid_order(self, o: Order, g: str) -> None:
        assert o.paid is not None
        rng, now = self.rng, self.now
        cat, variant = self.plans.get(o.id, ("", ""))
        status_word = o.status
        if cat == "missing_payment":
            self.plant(
                cat,
                g,
                o.id,
                o.transaction_id,
                f"order {o.id} is {status_word}, paid with transaction {o.transaction_id}; "
                f"{g} has no such charge",
            )
            return
        if not cat and g != "paypal" and rng.random() < 0.04:
            self.charge(o, g, status="failed", created=_between(rng, o.created, o.paid), attempt=True)
        amount, currency = o.total_cents, o.currency
        if cat == "amount_mismatch":
            deltas = [d for d in (o.shipping_cents, o.cart_tax_cents, 100, 1) if 0 < d]
            delta = rng.choice(deltas)
            amount += delta if rng.random() < 0.5 or delta >= amount else -delta
        elif cat == "currency_mismatch":
            other = rng.choice([c for c in _CURRENCIES if c != self.world.currency])
            if g in ("stripe", "paypal"):
                currency = other
            else:  # a single-currency account: the order is the side that is wrong
                o.currency = other
        status = "failed" if (cat, variant) == ("status_mismatch", "failed") else "succeeded"
        c = self.charge(o, g, status=status, created=o.paid, amount=amount, currency=currency)
        if (cat, variant) != ("status_mismatch", "order_refunded"):
            for r in o.refunds:
                self.ledger.add_refund(
                    g, c.id, r.amount_cents, created=r.created, reason=r.reason, refund_id=r.gateway_refund_id
                )
        after = _between(rng, o.paid + 3600, now - PLANT_MIN_AGE)
        total = _money(o.total_cents, o.currency)
        if cat == "amount_mismatch":
            self.plant(
                cat, g, o.id, c.id, f"order total {total}, charged {_money(c.amount_minor, c.currency)}"
            )
        elif cat == "currency_mismatch":
            self.plant(
                cat, g, o.id, c.id, f"order total {total}, charged {_money(c.amount_minor, c.currency)}"
            )
        elif cat == "status_mismatch":
            if variant == "failed":
                detail = f"order {o.id} is {status_word}, but charge {c.id} failed ({c.decline_code})"
            elif variant == "gateway_refunded":
                rf = self.ledger.add_refund(g, c.id, None, created=after, reason="requested_by_customer")
                detail = f"order {o.id} is {status_word}, but charge {c.id} was fully refunded ({rf.id})"
            else:
                detail = f"order {o.id} is refunded, but {g} has no refund of charge {c.id}"
            self.plant(cat, g, o.id, c.id, detail)
        elif cat == "refund_not_mirrored":
            part = max(1, c.amount_minor * rng.randrange(10, 60) // 100)
            rf = self.ledger.add_refund(g, c.id, part, created=after, reason="requested_by_customer")
            self.plant(
                cat,
                g,
                o.id,
                rf.id,
                f"{g} refunded {_money(part, c.currency)} of {c.id}; order {o.id} shows none",
            )
        elif cat == "duplicate_charge":
            dup = self.charge(o, g, created=o.paid + rng.randrange(5, 600), duplicate=True)
            self.plant(cat, g, o.id, dup.id, f"order {o.id} was charged twice: {c.id} and {dup.id}")
        elif cat == "open_dispute":
            d = self.ledger.add_dispute(
                g,
                c.id,
                created=_between(rng, o.paid + DAY, now - PLANT_MIN_AGE),
                reason=rng.choice(_DISPUTE_REASONS),
            )
            self.plant(cat, g, o.id, d.id, f"{g} dispute {d.id} ({d.reason}) on {c.id} is open")
        elif (
            not cat
            and g != "authorizenet"
            and not o.refunds
            and o.paid <= now - 75 * DAY
            and rng.random() < 0.01
        ):
            opened = o.paid + rng.randrange(5 * DAY, 20 * DAY)
            d = self.ledger.add_dispute(g, c.id, created=opened, reason=rng.choice(_DISPUTE_REASONS))
            self.ledger.resolve_dispute(g, d.id, "won", at=opened + rng.randrange(10 * DAY, 45 * DAY))

    def missing_order(self, g: str) -> None:
        rng, w = self.rng, self.world
        created = _between(
            rng, max(self.now - 365 * DAY, w.now - w.history_days * DAY), self.now - PLANT_MIN_AGE - 3600
        )
        deleted = rng.random() < 0.5
        order_id = w.new_post_id() if deleted else None  # a post id no order will ever have again
        c = self.ledger.add_charge(
            g,
            amount_minor=rng.randrange(1_500, 25_000),
            currency=w.currency,
            created=created,
            order_id=order_id,
            metadata=None if deleted else {},
            description=f"Order #{order_id}" if deleted else "",
            customer_email=f"buyer{rng.randrange(1000, 9999)}@example.org",
            card_brand="" if g == "paypal" else rng.choices(_CARD_BRANDS, cum_weights=_BRAND_CUM_WEIGHTS)[0],
            card_last4="" if g == "paypal" else f"{rng.randrange(10_000):04d}",
        )
        why = f"names order {order_id}, which does not exist" if deleted else "names no order"
        self.plant(
            "missing_order",
            g,
            order_id,
            c.id,
            f"{g} charge {c.id} of {_money(c.amount_minor, c.currency)} {why}",
        )

    def payout_mismatch(self, g: str, used: set[str]) -> None:
        rng = self.rng
        for gw in (g, *(x for x in PAYOUT_GATEWAYS if x != g)):
            candidates = [
                p for p in self.ledger.payouts(gw, created_lt=self.now - PLANT_MIN_AGE) if p.id not in used
            ]
            if candidates:
                break
        else:
            return
        p = rng.choice(candidates)
        used.add(p.id)
        delta = rng.choice((1, 1, 100, 500, max(1, p.amount_minor // 20)))
        p.amount_minor += delta if rng.random() < 0.5 or delta >= p.amount_minor else -delta
        if p.balance_transaction_id:
            self.ledger.balance_entry(gw, p.balance_transaction_id).amount_minor = -p.amount_minor
        self.plant(
            "payout_mismatch",
            gw,
            None,
            p.id,
            f"payout {p.id} pays {_money(p.amount_minor, p.currency)}, its entries net "
            f"{_money(p.entries_net_minor - p.fee_minor, p.currency)}",
        )


def build_history(world: World, *, discrepancy_rate: float = DEFAULT_DISCREPANCY_RATE) -> Ledger:
    """The gateways' records for `world`'s orders, with planted discrepancies listed in `ledger.planted`.

    Deterministic from the world's seed and `now`. Allocates one post id per planted order-less
    `missing_order` charge that names a deleted order, and may change planted orders' currency.
    """
    return _Builder(world, discrepancy_rate).build()
