"""The gateways' side of the world: charges, refunds, disputes, balance movements, payouts, settled batches.

One vendor-neutral model that the Stripe, PayPal, Square and Authorize.Net stand-ins render in their wire
formats. `sandbox.history` fills it from the world's orders (with planted discrepancies); the stand-ins then
add charges, captures, refunds and disputes through the methods below, and every query sees those too.

Model (amounts are integers in minor units of `currency`; times are epoch seconds, UTC):

- `Charge`: one payment attempt at a gateway (Stripe charge, PayPal capture, Square payment, Authorize.Net
  transaction). `id` is the gateway's primary id, the one WooCommerce stores in `order.transaction_id`
  (Stripe orders may store the payment intent id instead: `payment_intent_id` shares the charge's suffix).
  `status` is `succeeded | failed | pending | canceled`; an authorisation is `succeeded` with
  `captured=False` until `capture`. `metadata` holds what the vendor carries the order in (Stripe
  `order_id`, PayPal `invoice_id`/`custom_id`, Square `reference_id`, Authorize.Net `invoiceNumber`) and
  `order_id` is that value parsed (None when absent). Fees: `fee_minor` in `settlement_currency`
  (`sandbox.fees`); `net_minor = settlement_amount_minor - fee_minor`.
- `Refund` (Authorize.Net: a refund transaction with its own transId), `Dispute` (open | won | lost).
- `BalanceEntry`: a movement of a Stripe or Square balance (charge, refund, dispute, dispute_reversal,
  payout) with amount, fee and net; Stripe's balance transactions, Square's payout entries.
- `Payout` (Stripe: daily automatic payout of the available balance, `available_on` = created + 2 days,
  arriving 2 days later; Square: daily payout of the previous days' entries per location, arriving the
  next day). `entries` are the movements it pays out.
- `Batch`: an Authorize.Net settlement batch, one per day at 23:00 UTC holding every transaction submitted
  (or captured, or voided) since the previous cutoff; later transactions are unsettled.

**Consistent** (what reconciliation checks, and what every unplanted record satisfies). Let G be the
gateway of order o's `payment_method` (`sandbox.gateway_ids.METHOD_GATEWAY`; bacs and cod have none),
s = `o.pre_trash_status or o.status` (trashed orders keep their gateway records), and "o's charges" the
charges at G whose `order_id == o.id` or whose `id` (Stripe: also `payment_intent_id`) equals
`o.transaction_id`:

1. o is *paid* when `o.paid` is set and `o.transaction_id` is not empty; then s is processing, completed,
   on-hold or refunded, and:
   a. exactly one of o's charges has status `succeeded`; call it P. `P.id == o.transaction_id`, or for
      Stripe `P.payment_intent_id == o.transaction_id`; `P.order_id == o.id`; `P.captured`;
   b. `P.amount_minor == o.total_cents` and `P.currency == o.currency`;
   c. P's succeeded refunds and `o.refunds` match one to one: `refund.id == gateway_refund_id` and equal
      amounts (so a `refunded` order's P is fully refunded, and any other P is not);
   d. P has no dispute, or a `won` one;
   e. o's other charges, if any, are `failed` (declined attempts before the successful one).
2. Stripe orders with s == failed and a transaction id: the charge it names exists with status `failed`
   (a decline code), amount and currency as the order's; no succeeded charge.
3. Every other order (pending, cancelled, failed without a transaction id, bacs, cod): no succeeded charge.
4. Every succeeded charge names an existing order (`order_id`) whose gateway is G: no orphans.
5. Every payout's `amount_minor == entries_net_minor - fee_minor`, its entries in its currency.

Threading: the sandbox runs every service on one event loop thread, so the ledger takes no locks. Call it
from that loop (tests use `Sandbox.call`), never from several threads at once.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Generic, TypeVar

from sandbox.fees import charge_fee, dispute_fee, refund_fee_returned
from sandbox.gateway_ids import GATEWAY_NAMES, authorizenet_batch_id, new_id
from sandbox.ledger_records import (
    CATEGORIES,
    CHARGE_STATUSES,
    DAY,
    DISPUTE_GATEWAYS,
    PAYOUT_GATEWAYS,
    REFUND_STATUSES,
    BalanceEntry,
    Batch,
    Charge,
    Dispute,
    DuplicateId,
    InvalidAmount,
    InvalidState,
    LedgerError,
    NotFound,
    Payout,
    Planted,
    Refund,
    RefundExceedsRemaining,
    order_id_from_metadata,
    order_metadata,
)

__all__ = [
    "CATEGORIES",
    "CHARGE_STATUSES",
    "DAY",
    "DISPUTE_GATEWAYS",
    "PAYOUT_GATEWAYS",
    "REFUND_STATUSES",
    "SETTLEMENT_CUTOFF",
    "SQUARE_PAYOUT_TRANSIT",
    "STRIPE_AVAILABLE_AFTER",
    "STRIPE_PAYOUT_TRANSIT",
    "BalanceEntry",
    "Batch",
    "Charge",
    "Dispute",
    "DuplicateId",
    "InvalidAmount",
    "InvalidState",
    "Ledger",
    "LedgerError",
    "NotFound",
    "Payout",
    "Planted",
    "Refund",
    "RefundExceedsRemaining",
    "order_id_from_metadata",
    "order_metadata",
]

#: Authorize.Net's default cutoff is 3:00 PM Pacific; the sandbox settles daily at 23:00 UTC (no DST).
SETTLEMENT_CUTOFF = 23 * 3600
STRIPE_AVAILABLE_AFTER = 2 * DAY
STRIPE_PAYOUT_TRANSIT = 2 * DAY
SQUARE_PAYOUT_TRANSIT = 1 * DAY
# Units of account currency per unit of another (two-decimal currencies only): Stripe converts a charge
# in a foreign currency into the account's balance at this rate.
_USD_PER = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CAD": Decimal("0.73"),
    "AUD": Decimal("0.66"),
}


# --- a time-ordered index ----------------------------------------------------------------------------------
T = TypeVar("T")


class _Timeline(Generic[T]):
    """Items in (time, insertion) order; sorted lazily, since history is added out of order once and
    runtime additions arrive almost in order."""

    __slots__ = ("_items", "_times", "_sorted", "_seq")

    def __init__(self) -> None:
        self._items: list[tuple[int, int, T]] = []
        self._times: list[int] = []
        self._sorted = True
        self._seq = 0

    def add(self, when: int, item: T) -> None:
        if self._items and when < self._items[-1][0]:
            self._sorted = False
        self._seq += 1
        self._items.append((when, self._seq, item))
        if self._sorted:
            self._times.append(when)

    def _ensure(self) -> None:
        if not self._sorted:
            self._items.sort(key=lambda t: (t[0], t[1]))
            self._times = [t[0] for t in self._items]
            self._sorted = True

    def range(self, gte: int | None = None, lt: int | None = None) -> list[T]:
        self._ensure()
        lo = 0 if gte is None else bisect.bisect_left(self._times, gte)
        hi = len(self._items) if lt is None else bisect.bisect_left(self._times, lt)
        return [t[2] for t in self._items[lo:hi]]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        self._ensure()
        return (t[2] for t in self._items)


def _day_start(t: int) -> int:
    return t - t % DAY


# --- the ledger --------------------------------------------------------------------------------------------
class Ledger:
    """Every gateway's records, with per-gateway id generation, queries and the mutations the stand-ins use.

    Queries return lists in creation order (time, then insertion); time windows are half-open
    `[created_gte, created_lt)`. Lookups raise `NotFound`. Mutations take the time they happen at
    (`created=`/`at=`, epoch seconds) so the ledger never reads a clock; call `advance(now)` before
    serving payouts or batches so the days since the last call are paid out and settled.
    """

    def __init__(self, *, seed: int, currency: str = "USD", now: int = 0) -> None:
        self.seed = seed
        self.currency = currency.upper()
        self.now = now
        self.planted: list[Planted] = []
        self._rngs = {g: random.Random(seed * 1_000_117 + i) for i, g in enumerate(GATEWAY_NAMES)}
        self._issued: dict[str, set[str]] = {g: set() for g in GATEWAY_NAMES}
        self._charges: dict[str, dict[str, Charge]] = {g: {} for g in GATEWAY_NAMES}
        self._aliases: dict[str, dict[str, list[Charge]]] = {g: {} for g in GATEWAY_NAMES}
        self._by_order: dict[str, dict[int, list[Charge]]] = {g: {} for g in GATEWAY_NAMES}
        self._refunds: dict[str, dict[str, Refund]] = {g: {} for g in GATEWAY_NAMES}
        self._disputes: dict[str, dict[str, Dispute]] = {g: {} for g in GATEWAY_NAMES}
        self._entries: dict[str, dict[str, BalanceEntry]] = {g: {} for g in PAYOUT_GATEWAYS}
        self._payouts: dict[str, dict[str, Payout]] = {g: {} for g in PAYOUT_GATEWAYS}
        self._batches: dict[str, Batch] = {}
        self._t_charges: dict[str, _Timeline[Charge]] = {g: _Timeline() for g in GATEWAY_NAMES}
        self._t_refunds: dict[str, _Timeline[Refund]] = {g: _Timeline() for g in GATEWAY_NAMES}
        self._t_disputes: dict[str, _Timeline[Dispute]] = {g: _Timeline() for g in GATEWAY_NAMES}
        self._t_entries: dict[str, _Timeline[BalanceEntry]] = {g: _Timeline() for g in PAYOUT_GATEWAYS}
        self._t_payouts: dict[str, _Timeline[Payout]] = {g: _Timeline() for g in PAYOUT_GATEWAYS}
        self._t_batches: _Timeline[Batch] = _Timeline()
        self._unpaid: dict[str, list[BalanceEntry]] = {g: [] for g in PAYOUT_GATEWAYS}
        self._unsettled: list[Charge | Refund] = []
        self._next_payout_day: dict[str, int | None] = dict.fromkeys(PAYOUT_GATEWAYS)
        self._next_cutoff: int | None = None
        self._in_transit: list[Payout] = []
        self._batch_base = 10_000_000 + self._rngs["authorizenet"].randrange(0, 60_000_000)
        sq = self._rngs["square"]
        #: Square locations; the first is the seller's main location (where WooCommerce payments go).
        self.square_location_ids = [new_id(sq, "square", "location") for _ in range(2)]

    # --- comparison and export ---
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ledger) and self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]

    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready, in creation order (for determinism checks and admin dumps)."""
        return {
            "seed": self.seed,
            "currency": self.currency,
            "now": self.now,
            "square_location_ids": list(self.square_location_ids),
            "charges": {g: [c.to_dict() for c in self._t_charges[g]] for g in GATEWAY_NAMES},
            "balance_entries": {g: [e.to_dict() for e in self._t_entries[g]] for g in PAYOUT_GATEWAYS},
            "payouts": {g: [p.to_dict() for p in self._t_payouts[g]] for g in PAYOUT_GATEWAYS},
            "batches": [b.to_dict() for b in self._t_batches],
            "planted": [p.to_key() for p in self.planted],
        }

    def answer_key(self) -> list[dict[str, Any]]:
        """The planted discrepancies, JSON-ready, in `CATEGORIES` order (contacts: `World.answer_key`)."""
        return [p.to_key() for p in self.planted]

    # --- ids ---
    def new_id(self, gateway: str, kind: str, *, parent: str = "") -> str:
        """A fresh id of `kind` at `gateway` (kinds: `sandbox.gateway_ids.new_id`), never issued before.

        Deterministic: the same seed and the same sequence of calls give the same ids.
        """
        g = self._gw(gateway)
        issued = self._issued[g]
        while True:
            candidate = new_id(self._rngs[g], g, kind, parent=parent)
            if candidate not in issued:
                issued.add(candidate)
                return candidate

    def _claim(self, g: str, record_id: str, table: Mapping[str, Any], *more: Mapping[str, Any]) -> None:
        if not record_id:
            raise LedgerError("an id must not be empty", code="invalid_id")
        if record_id in table or any(record_id in t for t in more):
            raise DuplicateId(f"{g} already has a record with id {record_id}")
        self._issued[g].add(record_id)

    @staticmethod
    def _gw(gateway: str) -> str:
        if gateway not in GATEWAY_NAMES:
            raise LedgerError(
                f"unknown gateway {gateway!r}; one of {', '.join(GATEWAY_NAMES)}", code="unknown_gateway"
            )
        return gateway

    # --- lookups and queries ---
    def charge(self, gateway: str, charge_id: str) -> Charge:
        try:
            return self._charges[self._gw(gateway)][charge_id]
        except KeyError:
            raise NotFound(f"no {gateway} charge {charge_id}") from None

    def find_charge(self, gateway: str, any_id: str) -> Charge | None:
        """The charge with this primary id, or the latest charge of this Stripe payment intent, PayPal order
        or Square order."""
        g = self._gw(gateway)
        found = self._charges[g].get(any_id)
        if found is not None:
            return found
        alias = self._aliases[g].get(any_id)
        return alias[-1] if alias else None

    def charges(
        self,
        gateway: str,
        *,
        created_gte: int | None = None,
        created_lt: int | None = None,
        status: str | None = None,
    ) -> list[Charge]:
        out = self._t_charges[self._gw(gateway)].range(created_gte, created_lt)
        return out if status is None else [c for c in out if c.status == status]

    def charges_for(self, gateway: str, any_id: str) -> list[Charge]:
        """Every charge of a Stripe payment intent, PayPal order or Square order (or the one with that id)."""
        g = self._gw(gateway)
        if any_id in self._charges[g]:
            return [self._charges[g][any_id]]
        return list(self._aliases[g].get(any_id, ()))

    def charges_for_order(self, gateway: str, order_id: int) -> list[Charge]:
        """Charges whose metadata names `order_id`, in creation order."""
        return list(self._by_order[self._gw(gateway)].get(order_id, ()))

    def refund(self, gateway: str, refund_id: str) -> Refund:
        try:
            return self._refunds[self._gw(gateway)][refund_id]
        except KeyError:
            raise NotFound(f"no {gateway} refund {refund_id}") from None

    def refunds(
        self, gateway: str, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> list[Refund]:
        return self._t_refunds[self._gw(gateway)].range(created_gte, created_lt)

    def dispute(self, gateway: str, dispute_id: str) -> Dispute:
        try:
            return self._disputes[self._gw(gateway)][dispute_id]
        except KeyError:
            raise NotFound(f"no {gateway} dispute {dispute_id}") from None

    def disputes(
        self, gateway: str, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> list[Dispute]:
        return self._t_disputes[self._gw(gateway)].range(created_gte, created_lt)

    def _payout_gw(self, gateway: str) -> str:
        g = self._gw(gateway)
        if g not in PAYOUT_GATEWAYS:
            raise LedgerError(f"{g} has no balance or payouts in the sandbox", code="unsupported")
        return g

    def balance_entry(self, gateway: str, entry_id: str) -> BalanceEntry:
        try:
            return self._entries[self._payout_gw(gateway)][entry_id]
        except KeyError:
            raise NotFound(f"no {gateway} balance entry {entry_id}") from None

    def balance_entries(
        self,
        gateway: str,
        *,
        created_gte: int | None = None,
        created_lt: int | None = None,
        payout_id: str | None = None,
    ) -> list[BalanceEntry]:
        """Balance movements (Stripe balance transactions, payouts' own included; Square payout entries)."""
        g = self._payout_gw(gateway)
        if payout_id is not None:
            p = self.payout(g, payout_id)
            out = [e for e in p.entries if (created_gte is None or e.created >= created_gte)]
            return [e for e in out if created_lt is None or e.created < created_lt]
        return self._t_entries[g].range(created_gte, created_lt)

    def payout(self, gateway: str, payout_id: str) -> Payout:
        try:
            return self._payouts[self._payout_gw(gateway)][payout_id]
        except KeyError:
            raise NotFound(f"no {gateway} payout {payout_id}") from None

    def payouts(
        self, gateway: str, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> list[Payout]:
        return self._t_payouts[self._payout_gw(gateway)].range(created_gte, created_lt)

    def batch(self, batch_id: str) -> Batch:
        try:
            return self._batches[batch_id]
        except KeyError:
            raise NotFound(f"no authorizenet batch {batch_id}") from None

    def batches(self, *, settled_gte: int | None = None, settled_lt: int | None = None) -> list[Batch]:
        """Authorize.Net settled batches by settlement time."""
        return self._t_batches.range(settled_gte, settled_lt)

    def unsettled(self) -> list[Charge | Refund]:
        """Authorize.Net transactions not in a batch yet (authorised, captured, declined, voided, refunds)."""
        out: list[Charge | Refund] = [c for c in self._t_charges["authorizenet"] if not c.batch_id]
        out += [r for r in self._t_refunds["authorizenet"] if not r.batch_id]
        out.sort(key=lambda t: (t.created, t.id))
        return out

    # --- mutations ---
    def add_charge(
        self,
        gateway: str,
        *,
        amount_minor: int,
        currency: str,
        created: int,
        order_id: int | None = None,
        status: str = "succeeded",
        captured: bool = True,
        charge_id: str | None = None,
        payment_intent_id: str | None = None,
        paypal_order_id: str | None = None,
        square_order_id: str | None = None,
        location_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        description: str = "",
        customer_id: int = 0,
        customer_email: str = "",
        customer_name: str = "",
        card_brand: str | None = None,
        card_last4: str | None = None,
        failure_code: str = "",
        decline_code: str = "",
        failure_message: str = "",
    ) -> Charge:
        """Record a payment attempt and, for a captured success, its fee and balance movement.

        Ids not given are generated (Stripe: the charge, its payment intent and balance transaction share one
        suffix; a given `payment_intent_id` alone names the charge after it). `metadata` defaults to the
        vendor's order reference for `order_id`; given `metadata` without `order_id` is parsed for it.
        A failed charge needs no codes but gets `card_declined`/`generic_decline` when none are given.
        """
        g = self._gw(gateway)
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
            raise InvalidAmount(f"amount_minor must be a positive integer, got {amount_minor!r}")
        cur = str(currency).upper()
        if len(cur) != 3 or not cur.isalpha():
            raise LedgerError(f"currency must be an ISO 4217 code, got {currency!r}", code="invalid_currency")
        if status not in CHARGE_STATUSES:
            raise LedgerError(f"status must be one of {', '.join(CHARGE_STATUSES)}", code="invalid_status")
        if metadata is None:
            meta = order_metadata(g, order_id) if order_id is not None else {}
        else:
            meta = {str(k): str(v) for k, v in metadata.items()}
            if order_id is None:
                order_id = order_id_from_metadata(g, meta)

        table = self._charges[g]
        c = Charge(
            gateway=g,
            id="",
            order_id=order_id,
            amount_minor=amount_minor,
            currency=cur,
            status=status,
            created=created,
            updated=created,
            captured=False,
            metadata=meta,
            description=description,
            customer_id=customer_id,
            customer_email=customer_email,
            customer_name=customer_name,
            # A PayPal capture is a wallet payment unless told otherwise; card gateways default to Visa.
            card_brand=card_brand if card_brand is not None else ("" if g == "paypal" else "visa"),
            card_last4=card_last4 if card_last4 is not None else ("" if g == "paypal" else "4242"),
            settlement_currency=cur,
        )
        if g == "stripe":
            if charge_id is None:
                if payment_intent_id is None:
                    charge_id = self.new_id(g, "charge")
                    payment_intent_id = "pi_" + charge_id[3:]
                else:
                    derived = "ch_" + payment_intent_id[3:]
                    charge_id = derived if derived not in table else self.new_id(g, "charge")
            elif payment_intent_id is None:
                payment_intent_id = "pi_" + charge_id[3:] if charge_id.startswith("ch_") else ""
            c.payment_intent_id = payment_intent_id or ""
        elif g == "paypal":
            charge_id = charge_id or self.new_id(g, "charge")
            c.paypal_order_id = paypal_order_id or self.new_id(g, "order")
        elif g == "square":
            charge_id = charge_id or self.new_id(g, "charge")
            c.square_order_id = square_order_id or self.new_id(g, "order")
            c.location_id = location_id or self.square_location_ids[0]
        else:
            charge_id = charge_id or self.new_id(g, "charge")
        self._claim(g, charge_id, table, self._refunds[g])
        c.id = charge_id
        table[charge_id] = c
        for alias in (c.payment_intent_id, c.paypal_order_id, c.square_order_id):
            if alias:
                self._aliases[g].setdefault(alias, []).append(c)
        if order_id is not None:
            self._by_order[g].setdefault(order_id, []).append(c)
        self._t_charges[g].add(created, c)

        if status == "failed":
            c.failure_code = failure_code or "card_declined"
            c.decline_code = decline_code or ("generic_decline" if c.failure_code == "card_declined" else "")
            c.failure_message = failure_message or "Your card was declined."
            self._queue_settlement(c)
        elif status == "canceled":
            self._queue_settlement(c)
        elif status == "succeeded" and captured:
            self._capture(c, amount_minor, created)
        return c

    def update_metadata(
        self, gateway: str, charge_id: str, metadata: Mapping[str, str], *, at: int
    ) -> Charge:
        """Replace a charge's metadata (a vendor API's update); the order it names follows it."""
        c = self._require(gateway, charge_id)
        g = c.gateway
        old = c.order_id
        c.metadata = {str(k): str(v) for k, v in metadata.items()}
        c.order_id = order_id_from_metadata(g, c.metadata)
        if c.order_id != old:
            if old is not None:
                siblings = self._by_order[g].get(old, [])
                if c in siblings:
                    siblings.remove(c)
            if c.order_id is not None:
                self._by_order[g].setdefault(c.order_id, []).append(c)
                self._by_order[g][c.order_id].sort(key=lambda x: x.created)
        c.updated = at
        return c

    def capture(self, gateway: str, charge_id: str, *, at: int, amount_minor: int | None = None) -> Charge:
        """Capture an authorisation (or complete a pending charge), in full or for less."""
        c = self._require(gateway, charge_id)
        if c.captured:
            raise InvalidState(f"charge {c.id} is already captured", code="already_captured")
        if c.status not in ("succeeded", "pending"):
            raise InvalidState(f"charge {c.id} is {c.status}", code=f"charge_{c.status}")
        amount = c.amount_minor if amount_minor is None else amount_minor
        if not isinstance(amount, int) or amount <= 0 or amount > c.amount_minor:
            raise InvalidAmount(f"capture amount must be 1..{c.amount_minor}, got {amount_minor!r}")
        c.status = "succeeded"
        self._capture(c, amount, at)
        return c

    def cancel(self, gateway: str, charge_id: str, *, at: int) -> Charge:
        """Void an uncaptured authorisation or a pending charge."""
        c = self._require(gateway, charge_id)
        if c.captured or c.status not in ("succeeded", "pending"):
            raise InvalidState(f"charge {c.id} cannot be canceled ({c.status})", code="cannot_cancel")
        c.status, c.updated = "canceled", at
        self._queue_settlement(c)
        return c

    def void(self, gateway: str, charge_id: str, *, at: int) -> Charge:
        """Void a transaction before it settles: an authorisation (as `cancel` does) or, at Authorize.Net, a
        captured charge that is in no batch yet and has no refunds (its capture is undone)."""
        c = self._require(gateway, charge_id)
        if not c.captured:
            return self.cancel(gateway, charge_id, at=at)
        if c.gateway != "authorizenet" or c.status != "succeeded" or c.batch_id or c.refunds:
            raise InvalidState(f"charge {c.id} cannot be voided ({c.status})", code="cannot_void")
        c.status, c.updated, c.captured = "canceled", at, False
        c.amount_captured_minor = c.settlement_amount_minor = c.fee_minor = 0
        return c  # already waiting for the next cutoff: `_capture` queued it

    def fail(self, gateway: str, charge_id: str, *, at: int, decline_code: str = "generic_decline") -> Charge:
        """A pending charge that did not go through."""
        c = self._require(gateway, charge_id)
        if c.status != "pending":
            raise InvalidState(f"charge {c.id} is {c.status}, not pending", code="not_pending")
        c.status, c.updated = "failed", at
        c.failure_code, c.decline_code, c.failure_message = (
            "card_declined",
            decline_code,
            "Your card was declined.",
        )
        self._queue_settlement(c)
        return c

    def link_order(self, gateway: str, charge_id: str, order_id: int, *, at: int) -> Charge:
        """Name `order_id` in the metadata of a charge that names no order (any id `find_charge` knows).

        What a WooCommerce plugin's checkout would have written had it taken the payment; the store calls it
        when an order is marked paid with the charge's id (`sandbox.woocommerce.gateways`). A charge already
        naming `order_id` is left as it is; one naming another order raises `InvalidState`.
        """
        c = self._require(gateway, charge_id)
        if c.order_id == order_id:
            return c
        if c.order_id is not None:
            raise InvalidState(f"charge {c.id} names order {c.order_id}", code="order_mismatch")
        g = c.gateway
        c.metadata = {**c.metadata, **order_metadata(g, order_id)}
        c.order_id, c.updated = order_id, max(c.updated, at)
        self._by_order[g].setdefault(order_id, []).append(c)
        for r in c.refunds:
            r.order_id = order_id
        if c.dispute is not None:
            c.dispute.order_id = order_id
        if g in PAYOUT_GATEWAYS:
            for e in self._entries[g].values():
                if e.charge_id == c.id:
                    e.order_id = order_id
        return c

    def _require(self, gateway: str, any_id: str) -> Charge:
        c = self.find_charge(gateway, any_id)
        if c is None:
            raise NotFound(f"no {gateway} charge {any_id}")
        return c

    def _rate(self, cur: str) -> Decimal | None:
        if cur == self.currency or cur not in _USD_PER or self.currency not in _USD_PER:
            return None
        return _USD_PER[cur] / _USD_PER[self.currency]

    @staticmethod
    def _convert(amount: int, rate: Decimal | None) -> int:
        if rate is None:
            return amount
        return int((Decimal(amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _capture(self, c: Charge, amount: int, at: int) -> None:
        g = c.gateway
        c.captured, c.captured_at, c.amount_captured_minor, c.updated = True, at, amount, at
        if g == "stripe":
            c.exchange_rate = self._rate(c.currency)
            c.settlement_currency = self.currency if c.exchange_rate is not None else c.currency
        c.settlement_amount_minor = self._convert(amount, c.exchange_rate)
        c.fee_minor = charge_fee(g, c.settlement_amount_minor)
        if g == "stripe":
            c.balance_transaction_id = self._entry(
                c,
                "charge",
                c.id,
                c.settlement_amount_minor,
                c.fee_minor,
                at,
                at + STRIPE_AVAILABLE_AFTER,
                entry_id="txn_" + c.id[3:] if c.id.startswith("ch_") else None,
            ).id
        elif g == "square":
            self._entry(c, "charge", c.id, c.settlement_amount_minor, c.fee_minor, at, at)
        self._queue_settlement(c)

    def _entry(
        self,
        c: Charge,
        kind: str,
        source_id: str,
        amount: int,
        fee: int,
        created: int,
        available_on: int,
        *,
        entry_id: str | None = None,
    ) -> BalanceEntry:
        g = c.gateway
        if entry_id is None or entry_id in self._entries[g]:
            entry_id = self.new_id(g, "balance_transaction" if g == "stripe" else "payout_entry")
        self._issued[g].add(entry_id)
        e = BalanceEntry(
            gateway=g,
            id=entry_id,
            type=kind,
            source_id=source_id,
            charge_id=c.id,
            order_id=c.order_id,
            amount_minor=amount,
            fee_minor=fee,
            currency=c.settlement_currency,
            created=created,
            available_on=available_on,
            exchange_rate=c.exchange_rate,
        )
        self._entries[g][entry_id] = e
        self._t_entries[g].add(created, e)
        self._unpaid[g].append(e)
        return e

    def _queue_settlement(self, t: Charge | Refund) -> None:
        if t.gateway == "authorizenet":
            self._unsettled.append(t)

    def add_refund(
        self,
        gateway: str,
        charge_id: str,
        amount_minor: int | None = None,
        *,
        created: int,
        reason: str = "",
        refund_id: str | None = None,
        status: str = "succeeded",
    ) -> Refund:
        """Refund a captured charge (any id `find_charge` knows), in full (`amount_minor=None`) or in part.

        Raises `RefundExceedsRemaining` above what remains, `InvalidAmount` for zero or less, and
        `InvalidState` for a charge that failed, is not captured, or is under an open dispute.
        """
        c = self._require(gateway, charge_id)
        g = c.gateway
        if c.status != "succeeded":
            raise InvalidState(
                f"charge {c.id} is {c.status} and cannot be refunded", code=f"charge_{c.status}"
            )
        if not c.captured:
            raise InvalidState(
                f"charge {c.id} is not captured; cancel it instead", code="charge_not_captured"
            )
        if c.dispute is not None and c.dispute.status == "open":
            raise InvalidState(f"charge {c.id} has an open dispute", code="charge_disputed")
        if status not in REFUND_STATUSES:
            raise LedgerError(f"status must be one of {', '.join(REFUND_STATUSES)}", code="invalid_status")
        amount = c.remaining_minor if amount_minor is None else amount_minor
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise InvalidAmount(f"refund amount must be a positive integer, got {amount_minor!r}")
        if amount > c.remaining_minor:
            raise RefundExceedsRemaining(c.id, amount, c.remaining_minor)
        if refund_id is None:
            refund_id = self.new_id(g, "refund", parent=c.id)
        self._claim(g, refund_id, self._refunds[g], self._charges[g])
        already = sum(r.fee_returned_minor for r in c.refunds)
        r = Refund(
            gateway=g,
            id=refund_id,
            charge_id=c.id,
            order_id=c.order_id,
            amount_minor=amount,
            currency=c.currency,
            created=created,
            status=status,
            reason=reason,
        )
        c.refunds.append(r)
        c.updated = created
        self._refunds[g][refund_id] = r
        self._t_refunds[g].add(created, r)
        if status == "failed":
            return r
        r.fee_returned_minor = refund_fee_returned(g, amount, c.amount_captured_minor, already)
        r.settlement_amount_minor = self._convert(amount, c.exchange_rate)
        if g in PAYOUT_GATEWAYS:
            fee_back = self._convert(r.fee_returned_minor, c.exchange_rate)
            e = self._entry(
                c,
                "refund",
                r.id,
                -r.settlement_amount_minor,
                -fee_back,
                created,
                created,
                entry_id="txn_" + r.id[3:] if g == "stripe" and r.id.startswith("re_") else None,
            )
            if g == "stripe":
                r.balance_transaction_id = e.id
        self._queue_settlement(r)
        return r

    def complete_refund(self, gateway: str, refund_id: str, *, at: int) -> Refund:
        """A `pending` refund went through (Square's PENDING -> COMPLETED); its money already left."""
        r = self.refund(gateway, refund_id)
        if r.status != "pending":
            raise InvalidState(f"refund {r.id} is {r.status}, not pending", code="not_pending")
        r.status = "succeeded"
        self._charges[r.gateway][r.charge_id].updated = at
        return r

    def fail_payout(self, gateway: str, payout_id: str) -> Payout:
        """The bank refused a payout still in transit (Square's FAILED); its entries stay attached to it."""
        p = self.payout(gateway, payout_id)
        if p.status != "in_transit":
            raise InvalidState(f"payout {p.id} is {p.status}, not in transit", code="not_in_transit")
        p.status = "failed"
        self._in_transit = [x for x in self._in_transit if x.id != p.id]
        return p

    def add_dispute(
        self,
        gateway: str,
        charge_id: str,
        *,
        created: int,
        reason: str = "fraudulent",
        amount_minor: int | None = None,
        dispute_id: str | None = None,
        evidence_due_by: int | None = None,
    ) -> Dispute:
        """Open a dispute (chargeback) on a captured charge; the disputed amount leaves the balance now."""
        c = self._require(gateway, charge_id)
        g = c.gateway
        if g not in DISPUTE_GATEWAYS:
            raise InvalidState(f"{g} has no disputes in its API", code="unsupported")
        if c.status != "succeeded" or not c.captured:
            raise InvalidState(f"charge {c.id} is not a captured payment", code="charge_not_captured")
        if c.dispute is not None:
            raise InvalidState(f"charge {c.id} is already disputed", code="already_disputed")
        amount = c.amount_captured_minor if amount_minor is None else amount_minor
        if not isinstance(amount, int) or amount <= 0 or amount > c.amount_captured_minor:
            raise InvalidAmount(f"dispute amount must be 1..{c.amount_captured_minor}, got {amount_minor!r}")
        dispute_id = dispute_id or self.new_id(g, "dispute")
        self._claim(g, dispute_id, self._disputes[g])
        d = Dispute(
            gateway=g,
            id=dispute_id,
            charge_id=c.id,
            order_id=c.order_id,
            amount_minor=amount,
            currency=c.currency,
            reason=reason,
            created=created,
            evidence_due_by=evidence_due_by if evidence_due_by is not None else created + 21 * DAY,
            fee_minor=dispute_fee(g),
        )
        c.dispute = d
        c.updated = created
        self._disputes[g][dispute_id] = d
        self._t_disputes[g].add(created, d)
        if g in PAYOUT_GATEWAYS:
            e = self._entry(
                c, "dispute", d.id, -self._convert(amount, c.exchange_rate), d.fee_minor, created, created
            )
            d.balance_transaction_ids.append(e.id)
        return d

    def resolve_dispute(self, gateway: str, dispute_id: str, status: str, *, at: int) -> Dispute:
        """Close a dispute as `won` (the amount comes back; the dispute fee is kept) or `lost`."""
        d = self.dispute(gateway, dispute_id)
        if status not in ("won", "lost"):
            raise LedgerError("a dispute is resolved as won or lost", code="invalid_status")
        if d.status != "open":
            raise InvalidState(f"dispute {d.id} is already {d.status}", code="dispute_closed")
        d.status, d.closed = status, at
        c = self._charges[d.gateway][d.charge_id]
        c.updated = at
        if status == "won" and d.gateway in PAYOUT_GATEWAYS:
            e = self._entry(
                c, "dispute_reversal", d.id, self._convert(d.amount_minor, c.exchange_rate), 0, at, at
            )
            d.balance_transaction_ids.append(e.id)
        return d

    # --- the passing of days: payouts and settlement ---
    def advance(self, now: int) -> None:
        """Pay out and settle every day that ended by `now`, and move arrived payouts to `paid`.

        Stripe: at each midnight UTC, the entries available by then are paid out, per currency, when they
        add up to more than zero. Square: at each midnight UTC, the previous days' entries are paid out per
        location and currency. Authorize.Net: at each 23:00 UTC cutoff, every transaction since the last
        cutoff is settled into one batch. Idempotent; going back in time does nothing.
        """
        for g in PAYOUT_GATEWAYS:
            self._run_payouts(g, now)
        self._run_settlement(now)
        self.now = max(self.now, now)
        if self._in_transit:
            for p in self._in_transit:
                if p.arrival <= now:
                    p.status = "paid"
            self._in_transit = [p for p in self._in_transit if p.status == "in_transit"]

    def _run_payouts(self, g: str, now: int) -> None:
        pending = self._unpaid[g]
        if not pending:
            return

        def ready_at(e: BalanceEntry) -> int:  # Stripe pays out what became available; the others, a day on
            return int(e.available_on) if g == "stripe" else e.created + 1

        pending.sort(key=lambda e: (ready_at(e), e.created, e.id))
        day = self._next_payout_day[g]
        if day is None:
            day = _day_start(ready_at(pending[0]) - 1) + DAY
        last = _day_start(now)
        carry: dict[tuple[str, str], list[BalanceEntry]] = {}
        i = 0
        while day <= last and (i < len(pending) or any(carry.values())):
            while i < len(pending) and ready_at(pending[i]) <= day:
                e = pending[i]
                loc = self._charges[g][e.charge_id].location_id if e.charge_id in self._charges[g] else ""
                carry.setdefault((e.currency, loc), []).append(e)
                i += 1
            for key, entries in carry.items():
                if entries and sum(e.net_minor for e in entries) > 0:
                    self._make_payout(g, key[0], key[1], entries, day, now)
                    carry[key] = []
            day += DAY
        if day <= last:
            day = last + DAY
        self._next_payout_day[g] = day
        self._unpaid[g] = [e for es in carry.values() for e in es] + pending[i:]

    def _make_payout(
        self, g: str, cur: str, location: str, entries: list[BalanceEntry], day: int, now: int
    ) -> None:
        total = sum(e.net_minor for e in entries)
        transit = STRIPE_PAYOUT_TRANSIT if g == "stripe" else SQUARE_PAYOUT_TRANSIT
        pid = self.new_id(g, "payout")
        p = Payout(
            gateway=g,
            id=pid,
            amount_minor=total,
            currency=cur,
            created=day,
            arrival=day + transit,
            status="paid" if day + transit <= now else "in_transit",
            entries=list(entries),
            location_id=location,
        )
        for e in entries:
            e.payout_id = pid
            src = e.source_id
            if e.type == "charge" and src in self._charges[g]:
                self._charges[g][src].payout_id = pid
            elif e.type == "refund" and src in self._refunds[g]:
                self._refunds[g][src].payout_id = pid
        if g == "stripe":
            bt = self.new_id(g, "balance_transaction")
            own = BalanceEntry(
                gateway=g,
                id=bt,
                type="payout",
                source_id=pid,
                charge_id="",
                order_id=None,
                amount_minor=-total,
                fee_minor=0,
                currency=cur,
                created=day,
                available_on=day,
                payout_id=pid,
            )
            self._entries[g][bt] = own
            self._t_entries[g].add(day, own)
            p.balance_transaction_id = bt
        self._payouts[g][pid] = p
        self._t_payouts[g].add(day, p)
        if p.status == "in_transit":
            self._in_transit.append(p)

    def _run_settlement(self, now: int) -> None:
        def when(t: Charge | Refund) -> int:
            return (t.captured_at or t.updated) if isinstance(t, Charge) else t.created

        # Authorisations wait for their capture or void before they can settle.
        ready: list[Charge | Refund] = []
        waiting: list[Charge | Refund] = []
        for t in self._unsettled:
            held = isinstance(t, Charge) and t.status in ("succeeded", "pending") and not t.captured
            (waiting if held else ready).append(t)
        if not ready:
            return
        ready.sort(key=lambda t: (when(t), t.created, t.id))
        cutoff = self._next_cutoff
        if cutoff is None:
            first = when(ready[0])
            cutoff = _day_start(first) + SETTLEMENT_CUTOFF
            if cutoff < first:
                cutoff += DAY
        i = 0
        while cutoff <= now and i < len(ready):
            j = i
            while j < len(ready) and when(ready[j]) <= cutoff:
                j += 1
            if j > i:
                self._make_batch(ready[i:j], cutoff)
                i = j
            cutoff += DAY
        last_cutoff = _day_start(now) + SETTLEMENT_CUTOFF
        if last_cutoff > now:
            last_cutoff -= DAY
        self._next_cutoff = max(cutoff, last_cutoff + DAY)
        self._unsettled = ready[i:] + waiting

    def _make_batch(self, txs: Iterable[Charge | Refund], cutoff: int) -> None:
        bid = authorizenet_batch_id(self._batch_base - 10_000_000 + len(self._batches))
        b = Batch(id=bid, settlement_time=cutoff)
        for t in txs:
            t.batch_id = bid
            (b.charges if isinstance(t, Charge) else b.refunds).append(t)  # type: ignore[arg-type]
        self._batches[bid] = b
        self._t_batches.add(cutoff, b)
