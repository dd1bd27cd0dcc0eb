"""Matching one gateway's ledger to the store's orders and classifying what disagrees: pure pandas, set-wise.

Matching (each charge belongs to at most one order; each order of the gateway gets its charges):
1. by the order's `transaction_id`: a charge whose id or alternate id (Stripe payment intent, PayPal or
   Square order) it is;
2. by the order id the gateway carries in its metadata;
3. by amount and time: a charge naming no order, unclaimed, succeeded, same currency and amount as an
   order that expects a payment and has no charge, created within `match_tolerance` of the order's
   payment (the nearest one; a charge two orders would take is left alone).
An order's payment P is its best charge: succeeded and captured first, then an uncaptured authorisation,
then pending, then failed; among equals the one its `transaction_id` names, then the earliest.

The order side: s is the order's status (`trash` and statuses plugins add are "unknown": WooCommerce's API
does not say what a trashed order was, and trashed orders keep their payments); an order is *paid* when it
has `date_paid` and a `transaction_id`; it *expects* a payment when paid and s is processing, completed,
on-hold, refunded or unknown. What the gateway returned on a charge is the larger of its refunded amount
and its succeeded or pending refunds, plus disputes lost; a charge is *fully returned* when that reaches
its amount.

Categories (the answer key's `gateway_id` in brackets):
- `missing_order` [the charge]: a succeeded, captured charge no order of this gateway claims, not fully
  returned.
- `missing_payment` [the order's transaction id]: an order that expects a payment and has no charge, or
  only declined ones its transaction id does not name.
- `status_mismatch` [the charge]: an order that expects a payment whose transaction id names a failed or
  cancelled charge, or whose P is an uncaptured authorisation or still pending; an order in processing,
  completed or on-hold whose P is fully returned; a refunded order whose P is not; an order that does not
  expect a payment (pending, failed, cancelled, or open but not marked paid) whose P succeeded and was
  not returned.
- `currency_mismatch` [the charge]: P's currency is not the order's. Otherwise `amount_mismatch` [the
  charge]: P's amount is not the order total.
- `refund_not_mirrored`: the gateway's refunds of P and the order's refunds are paired one to one by
  amount; a gateway refund without a partner [the refund], or an order refund without one [P, keyed with
  the WooCommerce refund id] (unless P lost a dispute, which returns money without a gateway refund).
  Not reported where a `status_mismatch` above already covers P.
- `duplicate_charge` [the extra charge]: another succeeded, captured charge of the order, not fully
  returned.
- `open_dispute` [the dispute]: an open dispute on a charge in scope. Won disputes are not discrepancies.
- `payout_mismatch` [the payout]: a payout whose amount is not the net of its entries minus its fee, or
  with entries in another currency.

Scope: an item is reported when what it is about (its *anchor*: a charge; the order for
`missing_payment`; the payout) is in the window: a charge created in it, or with a refund or dispute
created or updated in it, or belonging to an order of the window; an order paid (else created) or
modified in it; a payout created in it. `occurred_at` is the anchor's time; `evidence_at` the time of the
newest record involved (gateway records, the order's payment). An item whose evidence is younger than the
gateway's grace window is `pending`, else `open` (a break).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from hub.ledger import CURRENCY_EXPONENTS
from hub.reconciliation._read import NO_ORDER, NO_TIME, Sides
from hub.reconciliation.settings import SEVERITY, ReconciliationSettings, Window

OPEN = ("processing", "completed", "on-hold")
UNPAID = ("pending", "failed", "cancelled", "checkout-draft", "draft", "auto-draft")
ITEM_COLUMNS = [
    "item_key",
    "category",
    "severity",
    "status",
    "gateway",
    "store",
    "order_id",
    "gateway_id",
    "related_id",
    "anchor_id",
    "expected_minor",
    "actual_minor",
    "currency",
    "order_currency",
    "message",
    "occurred_at",
    "evidence_at",
]


@dataclass
class Classified:
    """What one gateway window holds: its findings, the anchors it covered, and what it read."""

    items: pd.DataFrame  # ITEM_COLUMNS; times in epoch seconds; order_id NO_ORDER for none
    extra_anchors: list[str]  # anchors in scope whose time lies outside the window (auto-resolve covers them)
    stats: dict[str, int] = field(default_factory=dict)


def _epoch(t: datetime) -> int:
    return int(t.timestamp())


def _money(amount: pd.Series | np.ndarray, currency: pd.Series | np.ndarray) -> pd.Series:
    """`12.34 USD` for each amount in minor units, with its currency's decimals."""
    amount = pd.Series(np.asarray(amount, dtype=np.int64))
    currency = pd.Series(np.asarray(currency, dtype=object))
    exps = currency.map(lambda c: CURRENCY_EXPONENTS.get(c, 2)).astype(np.int64)
    mag = amount.abs()
    text = pd.Series("", index=amount.index, dtype=object)
    for exp in exps.unique():
        rows = (exps == exp).to_numpy()
        m = mag[rows]
        scale = 10 ** int(exp)
        text[rows] = (
            m.astype(str)
            if exp == 0
            else (m // scale).astype(str) + "." + (m % scale).astype(str).str.zfill(int(exp))
        )
    sign = pd.Series(np.where(amount < 0, "-", ""), dtype=object)
    return sign + text + " " + currency


def _s(values: pd.Series) -> pd.Series:
    return values.astype(str)


def classify(
    sides: Sides,
    *,
    gateway: str,
    store: str,
    window: Window,
    settings: ReconciliationSettings,
    now: datetime,
) -> Classified:
    """Match `sides` and return the discrepancies of `gateway`'s `window` (see the module docstring)."""
    ws, we, now_s = _epoch(window.start), _epoch(window.end), _epoch(now)
    grace = int(settings.grace.get(gateway, pd.Timedelta(0)).total_seconds())
    tol = int(settings.match_tolerance.total_seconds())

    charges = sides.charges.reset_index(drop=True)
    n_charges = len(charges)
    cidx = np.arange(n_charges)
    c_id = charges["id"].to_numpy(dtype=object)
    c_status = charges["status"].to_numpy(dtype=object)
    c_ok = (c_status == "succeeded") & charges["captured"].to_numpy(dtype=bool)
    c_amount = charges["amount"].to_numpy(dtype=np.int64)
    c_created = charges["created"].to_numpy(dtype=np.int64)
    c_order = charges["order_id"].to_numpy(dtype=np.int64)
    c_rank = np.select(
        [c_ok, (c_status == "succeeded"), (c_status == "pending")], [0, 1, 2], default=3
    ).astype(np.int8)

    orders = sides.orders
    og = orders.loc[orders["gateway"] == gateway].reset_index(drop=True)
    t_o = np.where(og["t_paid"].to_numpy() != NO_TIME, og["t_paid"].to_numpy(), og["t_created"].to_numpy())
    og["t_o"] = t_o
    status = og["status"]
    is_open = status.isin(OPEN).to_numpy()
    is_refunded = (status == "refunded").to_numpy()
    is_unpaid = status.isin(UNPAID).to_numpy()
    known = is_open | is_refunded | is_unpaid
    paid = (og["t_paid"].to_numpy() != NO_TIME) & (og["txn"].to_numpy(dtype=object) != "")
    expects = paid & ~is_unpaid
    t_mod = og["t_modified"].to_numpy()
    o_in_window = (t_o >= ws) & (t_o < we)
    o_scope = o_in_window | ((t_mod >= ws) & (t_mod < we))
    og["expects"] = expects
    og["scope"] = o_scope

    # --- 1 and 2: by transaction id, then by the order the gateway carries -------------------------------
    ids = pd.DataFrame({"cidx": cidx, "key": c_id})
    alts = pd.DataFrame({"cidx": cidx, "key": charges["alt"].to_numpy(dtype=object)})
    alts = alts[alts["key"] != ""]
    with_txn = og.loc[og["txn"] != "", ["order_id", "txn"]].rename(columns={"txn": "key"})
    by_txn = pd.concat([with_txn.merge(ids, on="key"), with_txn.merge(alts, on="key")], ignore_index=True)
    by_txn["pri"] = np.where(c_order[by_txn["cidx"].to_numpy()] == by_txn["order_id"].to_numpy(), 0, 1)
    named = pd.DataFrame({"cidx": cidx[c_order != NO_ORDER], "order_id": c_order[c_order != NO_ORDER]})
    by_meta = named.merge(og[["order_id"]], on="order_id")
    by_meta["pri"] = 2
    pairs = pd.concat([by_txn[["order_id", "cidx", "pri"]], by_meta], ignore_index=True)
    pairs = _one_order_per_charge(pairs)

    # --- 3: by amount and time, for orders that expect a payment and have none ---------------------------
    claimed = np.zeros(n_charges, dtype=bool)
    claimed[pairs["cidx"].to_numpy()] = True
    needy = og.loc[
        expects & ~og["order_id"].isin(pairs["order_id"]).to_numpy(), ["order_id", "currency", "total", "t_o"]
    ]
    free = (c_order == NO_ORDER) & c_ok & ~claimed
    if len(needy) and free.any():
        left = needy.rename(columns={"total": "amount", "t_o": "t"}).sort_values("t")
        right = pd.DataFrame(
            {
                "cidx": cidx[free],
                "currency": charges["currency"].to_numpy(dtype=object)[free],
                "amount": c_amount[free],
                "t": c_created[free],
            }
        ).sort_values("t")
        near = pd.merge_asof(
            left, right, on="t", by=["currency", "amount"], tolerance=tol, direction="nearest"
        ).dropna(subset=["cidx"])
        near["cidx"] = near["cidx"].astype(np.int64)
        near = near[~near["cidx"].duplicated(keep=False)]
        if len(near):
            near = near[["order_id", "cidx"]].assign(pri=3)
            pairs = pd.concat([pairs, near], ignore_index=True)
            claimed[near["cidx"].to_numpy()] = True

    # --- each order's payment P ---------------------------------------------------------------------------
    pc = pairs["cidx"].to_numpy()
    pairs["rank"] = c_rank[pc]
    pairs["via_txn"] = pairs["pri"].to_numpy() <= 1
    pairs["created"] = c_created[pc]
    best = _first_per_order(pairs)
    og = og.merge(best.rename(columns={"cidx": "p", "via_txn": "p_via_txn"}), on="order_id", how="left")
    has_p = og["p"].notna().to_numpy()
    p = og["p"].fillna(0).astype(np.int64).to_numpy()
    p_via_txn = og["p_via_txn"].fillna(False).astype(bool).to_numpy()
    p_rank = np.where(has_p, c_rank[p], 9)

    # --- what came back on each charge --------------------------------------------------------------------
    kids = sides.children
    id_to_cidx = pd.Series(cidx, index=c_id)
    kids = kids.assign(pc=kids["parent"].map(id_to_cidx)).dropna(subset=["pc"])
    kids["pc"] = kids["pc"].astype(np.int64)
    refunds = kids[(kids["kind"] == "refund") & (kids["status"] != "failed")]
    disputes = kids[kids["kind"] == "dispute"]
    lost = disputes[disputes["status"] == "lost"]
    ref_sum = np.bincount(refunds["pc"], weights=refunds["amount"], minlength=n_charges).astype(np.int64)
    lost_sum = np.bincount(lost["pc"], weights=lost["amount"], minlength=n_charges).astype(np.int64)
    ref_last = np.full(n_charges, NO_TIME, dtype=np.int64)
    np.maximum.at(ref_last, refunds["pc"].to_numpy(), refunds["created"].to_numpy())
    np.maximum.at(ref_last, lost["pc"].to_numpy(), lost["created"].to_numpy())
    returned = np.maximum(charges["refunded"].to_numpy(dtype=np.int64), ref_sum) + lost_sum
    full = (returned >= c_amount) & (c_amount > 0)

    # --- scope ---------------------------------------------------------------------------------------------
    c_scope = (c_created >= ws) & (c_created < we)
    touched = kids[
        ((kids["created"] >= ws) & (kids["created"] < we))
        | ((kids["updated"] >= ws) & (kids["updated"] < we))
    ]
    c_scope[touched["pc"].to_numpy()] = True
    scoped_orders = og.loc[o_scope, "order_id"]
    c_scope[pairs.loc[pairs["order_id"].isin(scoped_orders), "cidx"].to_numpy()] = True

    # Order-level arrays, aligned with og (P's values where it has one).
    o_id = og["order_id"].to_numpy()
    o_txn = og["txn"].to_numpy(dtype=object)
    o_cur = og["currency"].to_numpy(dtype=object)
    o_total = og["total"].to_numpy()
    o_status = og["status"].to_numpy(dtype=object)
    p_id = np.where(has_p, c_id[p], "")
    p_cur = np.where(has_p, charges["currency"].to_numpy(dtype=object)[p], "")
    p_amount = np.where(has_p, c_amount[p], 0)
    p_created = np.where(has_p, c_created[p], NO_TIME)
    p_full = has_p & full[p]
    p_scope = has_p & c_scope[p]
    p_status = np.where(has_p, c_status[p], "")
    p_decline = np.where(has_p, charges["decline"].to_numpy(dtype=object)[p], "")
    p_ref_last = np.where(has_p, ref_last[p], NO_TIME)

    found: list[pd.DataFrame] = []

    def add(
        category: str,
        rows: np.ndarray,
        *,
        order_id: np.ndarray,
        gateway_id: np.ndarray,
        anchor_id: np.ndarray,
        occurred: np.ndarray,
        evidence: np.ndarray,
        message: pd.Series | np.ndarray,
        related_id: np.ndarray | None = None,
        expected: np.ndarray | None = None,
        actual: np.ndarray | None = None,
        currency: np.ndarray | None = None,
        order_currency: np.ndarray | None = None,
        key_extra: np.ndarray | None = None,
    ) -> None:
        """Items of `category` for the rows of `rows` (a mask); every array is aligned with the mask."""
        n = int(rows.sum())
        if n == 0:
            return

        def pick(values: np.ndarray | pd.Series | None, default: object) -> np.ndarray:
            if values is None:
                return np.full(n, default, dtype=object)
            return np.asarray(values, dtype=object if default in ("", None) else None)[rows]

        found.append(
            pd.DataFrame(
                {
                    "category": category,
                    "order_id": pick(order_id, NO_ORDER).astype(np.int64),
                    "gateway_id": pick(gateway_id, ""),
                    "related_id": pick(related_id, ""),
                    "anchor_id": pick(anchor_id, ""),
                    "expected_minor": pick(expected, None),
                    "actual_minor": pick(actual, None),
                    "currency": pick(currency, ""),
                    "order_currency": pick(order_currency, ""),
                    "message": pick(message, ""),
                    "occurred_at": pick(occurred, NO_TIME).astype(np.int64),
                    "evidence_at": pick(evidence, NO_TIME).astype(np.int64),
                    "extra": pick(key_extra, ""),
                }
            )
        )

    oid_s = pd.Series(o_id.astype(str))
    status_s = pd.Series(o_status)
    order_anchor = np.array([f"order:{store}:"], dtype=object) + oid_s.to_numpy(dtype=object)
    evidence_po = np.maximum(p_created, t_o)

    # missing_payment, and status_mismatch where the payment did not go through.
    no_charge = expects & ~has_p
    only_declines = expects & has_p & (p_rank == 3) & ~p_via_txn
    rows = (no_charge | only_declines) & o_scope
    add(
        "missing_payment",
        rows,
        order_id=o_id,
        gateway_id=o_txn,
        anchor_id=order_anchor,
        occurred=t_o,
        evidence=t_o,
        expected=o_total,
        order_currency=o_cur,
        currency=o_cur,
        message="order "
        + oid_s
        + " is "
        + status_s
        + ", paid with transaction "
        + pd.Series(o_txn)
        + "; "
        + gateway
        + " has no such charge",
    )
    failed = expects & has_p & (p_rank == 3) & p_via_txn
    uncaptured = expects & has_p & (p_rank == 1)
    pending = expects & has_p & (p_rank == 2)
    decline = pd.Series(np.where(p_decline != "", " (" + p_decline.astype(object) + ")", ""))
    pid_s = pd.Series(p_id)
    add(
        "status_mismatch",
        (failed | uncaptured | pending) & p_scope,
        order_id=o_id,
        gateway_id=p_id,
        anchor_id=p_id,
        occurred=p_created,
        evidence=evidence_po,
        expected=o_total,
        actual=p_amount,
        currency=p_cur,
        order_currency=o_cur,
        message="order "
        + oid_s
        + " is "
        + status_s
        + ", but charge "
        + pid_s
        + pd.Series(
            np.select(
                [failed, uncaptured],
                [" " + pd.Series(p_status) + decline, " is authorised and not captured"],
                default=" is still pending",
            )
        ),
    )

    ok = has_p & (p_rank == 0)
    # currency and amount
    cur_mis = ok & expects & (p_cur != o_cur)
    amt_mis = ok & expects & ~cur_mis & (p_amount != o_total)
    total_s = _money(pd.Series(o_total), pd.Series(o_cur))
    charged_s = _money(pd.Series(p_amount), pd.Series(np.where(has_p, p_cur, o_cur)))
    for category, rows in (("currency_mismatch", cur_mis), ("amount_mismatch", amt_mis)):
        add(
            category,
            rows & p_scope,
            order_id=o_id,
            gateway_id=p_id,
            anchor_id=p_id,
            occurred=p_created,
            evidence=evidence_po,
            expected=o_total,
            actual=p_amount,
            currency=p_cur,
            order_currency=o_cur,
            message="order " + oid_s + " total " + total_s + ", charged " + charged_s + " (" + pid_s + ")",
        )

    # status against what the gateway returned
    open_full = ok & expects & is_open & p_full
    refunded_short = ok & expects & is_refunded & ~p_full
    unexpected = ok & ~expects & known & ~p_full
    returned_s = _money(pd.Series(np.where(has_p, returned[p], 0)), pd.Series(np.where(has_p, p_cur, o_cur)))
    add(
        "status_mismatch",
        (open_full | refunded_short | unexpected) & p_scope,
        order_id=o_id,
        gateway_id=p_id,
        anchor_id=p_id,
        occurred=p_created,
        evidence=np.maximum(evidence_po, p_ref_last),
        expected=o_total,
        actual=p_amount,
        currency=p_cur,
        order_currency=o_cur,
        message="order "
        + oid_s
        + " is "
        + status_s
        + pd.Series(
            np.select(
                [open_full, refunded_short],
                [
                    ", but charge " + pid_s + " was returned in full at " + gateway,
                    ", but " + gateway + " returned " + returned_s + " of charge " + pid_s,
                ],
                default=" (not paid), but charge " + pid_s + " succeeded and was not returned",
            )
        ),
    )

    # refunds, paired one to one by amount
    pairing = ok & expects & ~open_full & ~refunded_short & p_scope
    if pairing.any():
        found_refunds = _unpaired_refunds(
            og.loc[pairing, ["order_id", "t_o"]].assign(p=p[pairing]),
            refunds,
            sides.order_refunds,
        )
        gw_side, store_side = found_refunds
        if len(gw_side):
            pcs = gw_side["p"].to_numpy()
            cur = charges["currency"].to_numpy(dtype=object)[pcs]
            add(
                "refund_not_mirrored",
                np.ones(len(gw_side), dtype=bool),
                order_id=gw_side["order_id"].to_numpy(),
                gateway_id=gw_side["id"].to_numpy(dtype=object),
                related_id=c_id[pcs],
                anchor_id=c_id[pcs],
                occurred=c_created[pcs],
                evidence=np.maximum(gw_side["created"].to_numpy(), gw_side["t_o"].to_numpy()),
                actual=gw_side["amount"].to_numpy(),
                currency=cur,
                message=gateway
                + " refunded "
                + _money(gw_side["amount"].reset_index(drop=True), pd.Series(cur))
                + " of "
                + pd.Series(c_id[pcs])
                + "; order "
                + _s(gw_side["order_id"].reset_index(drop=True))
                + " does not show it",
            )
        store_side = (
            store_side[~(lost_sum[store_side["p"].to_numpy()] > 0)] if len(store_side) else store_side
        )
        if len(store_side):
            pcs = store_side["p"].to_numpy()
            cur = charges["currency"].to_numpy(dtype=object)[pcs]
            rid = _s(store_side["refund_id"].reset_index(drop=True))
            add(
                "refund_not_mirrored",
                np.ones(len(store_side), dtype=bool),
                order_id=store_side["order_id"].to_numpy(),
                gateway_id=c_id[pcs],
                anchor_id=c_id[pcs],
                occurred=c_created[pcs],
                evidence=np.maximum(store_side["t_created"].to_numpy(), store_side["t_o"].to_numpy()),
                expected=store_side["amount"].to_numpy(),
                currency=cur,
                key_extra=("wc-refund:" + rid).to_numpy(dtype=object),
                message="order "
                + _s(store_side["order_id"].reset_index(drop=True))
                + " shows refund #"
                + rid
                + " of "
                + _money(store_side["amount"].reset_index(drop=True), pd.Series(cur))
                + "; "
                + gateway
                + " has no such refund of "
                + pd.Series(c_id[pcs]),
            )

    # duplicates: the order's other successful charges
    others = pairs.merge(best[["order_id", "cidx"]].rename(columns={"cidx": "p"}), on="order_id")
    others = others[(others["cidx"] != others["p"])]
    oc = others["cidx"].to_numpy()
    others = others[c_ok[oc] & ~full[oc] & c_scope[oc]]
    if len(others):
        oc = others["cidx"].to_numpy()
        t_of = pd.Series(t_o, index=o_id)
        add(
            "duplicate_charge",
            np.ones(len(others), dtype=bool),
            order_id=others["order_id"].to_numpy(),
            gateway_id=c_id[oc],
            related_id=c_id[others["p"].to_numpy()],
            anchor_id=c_id[oc],
            occurred=c_created[oc],
            evidence=np.maximum(c_created[oc], t_of.reindex(others["order_id"]).to_numpy()),
            actual=c_amount[oc],
            currency=charges["currency"].to_numpy(dtype=object)[oc],
            message="order "
            + _s(others["order_id"].reset_index(drop=True))
            + " was charged twice: "
            + pd.Series(c_id[others["p"].to_numpy()])
            + " and "
            + pd.Series(c_id[oc]),
        )

    # open disputes
    open_disputes = disputes[(disputes["status"] == "open") & c_scope[disputes["pc"].to_numpy()]]
    if len(open_disputes):
        dc = open_disputes["pc"].to_numpy()
        owner = pd.Series(pairs["order_id"].to_numpy(), index=pairs["cidx"].to_numpy())
        order_of = owner.reindex(dc).fillna(-1).astype(np.int64).to_numpy()
        order_of = np.where(order_of >= 0, order_of, c_order[dc])
        cur = charges["currency"].to_numpy(dtype=object)[dc]
        add(
            "open_dispute",
            np.ones(len(open_disputes), dtype=bool),
            order_id=order_of,
            gateway_id=open_disputes["id"].to_numpy(dtype=object),
            related_id=c_id[dc],
            anchor_id=c_id[dc],
            occurred=c_created[dc],
            evidence=open_disputes["created"].to_numpy(),
            actual=open_disputes["amount"].to_numpy(),
            currency=cur,
            message=gateway
            + " dispute "
            + open_disputes["id"].reset_index(drop=True)
            + " on "
            + pd.Series(c_id[dc])
            + " ("
            + _money(open_disputes["amount"].reset_index(drop=True), pd.Series(cur))
            + ") is open",
        )

    # charges no order of this gateway claims
    orphan = c_ok & ~claimed & ~full & c_scope
    if orphan.any():
        oc = np.flatnonzero(orphan)
        named_order = c_order[oc]
        elsewhere = orders.drop_duplicates("order_id").set_index("order_id")["method"]
        method = elsewhere.reindex(named_order).fillna("").to_numpy(dtype=object)
        named_text = named_order.astype(str).astype(object)
        why = np.where(
            named_order == NO_ORDER,
            "names no order",
            np.where(
                method != "",
                "names order " + named_text + ", paid through " + method,
                "names order " + named_text + ", which does not exist",
            ),
        )
        cur = charges["currency"].to_numpy(dtype=object)[oc]
        add(
            "missing_order",
            np.ones(len(oc), dtype=bool),
            order_id=named_order,
            gateway_id=c_id[oc],
            anchor_id=c_id[oc],
            occurred=c_created[oc],
            evidence=c_created[oc],
            actual=c_amount[oc],
            currency=cur,
            message=gateway
            + " charge "
            + pd.Series(c_id[oc])
            + " of "
            + _money(c_amount[oc], cur)
            + " "
            + pd.Series(why, dtype=object),
        )

    # payouts
    payouts = sides.payouts
    if len(payouts):
        expected = payouts["entries_net"].to_numpy() - payouts["fee"].to_numpy()
        bad = (expected != payouts["amount"].to_numpy()) | (payouts["foreign"].to_numpy() > 0)
        if bad.any():
            pay = payouts[bad].reset_index(drop=True)
            exp_bad = expected[bad]
            add(
                "payout_mismatch",
                np.ones(len(pay), dtype=bool),
                order_id=np.full(len(pay), NO_ORDER),
                gateway_id=pay["id"].to_numpy(dtype=object),
                anchor_id=pay["id"].to_numpy(dtype=object),
                occurred=pay["created"].to_numpy(),
                evidence=pay["created"].to_numpy(),
                expected=exp_bad,
                actual=pay["amount"].to_numpy(),
                currency=pay["currency"].to_numpy(dtype=object),
                message="payout "
                + pay["id"]
                + " pays "
                + _money(pay["amount"], pay["currency"])
                + ", its "
                + _s(pay["entries"])
                + " entries net "
                + _money(pd.Series(exp_bad), pay["currency"])
                + pd.Series(np.where(pay["foreign"] > 0, " (some in another currency)", "")),
            )

    items = _finish(found, gateway=gateway, store=store, now=now_s, grace=grace)
    in_window_anchor = (c_created >= ws) & (c_created < we)
    extra = list(c_id[c_scope & ~in_window_anchor]) + list(order_anchor[o_scope & ~o_in_window])
    stats = {
        "orders": int(len(og)),
        "orders_in_scope": int(o_scope.sum()),
        "charges": int(n_charges),
        "charges_in_scope": int(c_scope.sum()),
        "refunds": int((kids["kind"] == "refund").sum()),
        "disputes": int(len(disputes)),
        "payouts": int(len(payouts)),
        "matched": int((ok & o_scope).sum()),
    }
    return Classified(items=items, extra_anchors=extra, stats=stats)


def _one_order_per_charge(pairs: pd.DataFrame) -> pd.DataFrame:
    """A charge several orders could claim goes to the best claim (lowest `pri`, then lowest order id).
    Only the contested charges are sorted: nearly every charge has exactly one claim."""
    pairs = pairs.drop_duplicates(["order_id", "cidx", "pri"])
    contested = pairs["cidx"].duplicated(keep=False).to_numpy()
    if not contested.any():
        return pairs.reset_index(drop=True)
    winners = pairs[contested].sort_values(["cidx", "pri", "order_id"]).drop_duplicates("cidx")
    return pd.concat([pairs[~contested], winners], ignore_index=True)


def _first_per_order(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each order's payment: best rank, then the one its transaction id names, then the earliest."""
    several = pairs["order_id"].duplicated(keep=False).to_numpy()
    single = pairs.loc[~several, ["order_id", "cidx", "via_txn"]]
    if not several.any():
        return single.reset_index(drop=True)
    multi = pairs[several].assign(not_txn=~pairs.loc[several, "via_txn"])
    multi = multi.sort_values(["order_id", "rank", "not_txn", "created", "cidx"]).drop_duplicates("order_id")
    return pd.concat([single, multi[["order_id", "cidx", "via_txn"]]], ignore_index=True)


def _unpaired_refunds(
    orders: pd.DataFrame, refunds: pd.DataFrame, order_refunds: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gateway refunds of each order's P and the order's own refunds, paired by amount (the k-th refund of
    an amount with the k-th of the same amount); the ones left over on each side."""
    gw = refunds[refunds["pc"].isin(orders["p"])].merge(orders.rename(columns={"p": "pc"}), on="pc")
    gw = gw.sort_values(["order_id", "amount", "created", "id"])
    gw["k"] = gw.groupby(["order_id", "amount"]).cumcount()
    st = order_refunds[order_refunds["order_id"].isin(orders["order_id"])].merge(orders, on="order_id")
    st = st.sort_values(["order_id", "amount", "refund_id"])
    st["k"] = st.groupby(["order_id", "amount"]).cumcount()
    both = gw[["order_id", "amount", "k", "id", "created", "pc", "t_o"]].merge(
        st[["order_id", "amount", "k", "refund_id", "t_created", "p", "t_o"]],
        on=["order_id", "amount", "k"],
        how="outer",
        indicator=True,
        suffixes=("", "_st"),
    )
    gw_only = both[both["_merge"] == "left_only"].copy()
    gw_only["p"] = gw_only["pc"].astype(np.int64)
    gw_only["created"] = gw_only["created"].astype(np.int64)
    gw_only["t_o"] = gw_only["t_o"].astype(np.int64)
    st_only = both[both["_merge"] == "right_only"].copy()
    st_only["p"] = st_only["p"].astype(np.int64)
    st_only["t_o"] = st_only["t_o_st"].astype(np.int64)
    st_only["t_created"] = st_only["t_created"].astype(np.int64)
    st_only["refund_id"] = st_only["refund_id"].astype(np.int64)
    return gw_only.reset_index(drop=True), st_only.reset_index(drop=True)


def _finish(found: list[pd.DataFrame], *, gateway: str, store: str, now: int, grace: int) -> pd.DataFrame:
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})
    items = pd.concat(found, ignore_index=True)
    items["gateway"] = gateway
    items["store"] = store
    items["severity"] = items["category"].map(SEVERITY)
    items["status"] = np.where(items["evidence_at"].to_numpy() > now - grace, "pending", "open")
    order_text = pd.Series(np.where(items["order_id"] == NO_ORDER, "", items["order_id"].astype(str)))
    items["item_key"] = (
        items["category"]
        + "|"
        + gateway
        + "|"
        + store
        + "|"
        + order_text
        + "|"
        + items["gateway_id"]
        + pd.Series(np.where(items["extra"] != "", "|" + items["extra"], ""))
    )
    items = items.drop_duplicates("item_key")
    return items[ITEM_COLUMNS].reset_index(drop=True)
