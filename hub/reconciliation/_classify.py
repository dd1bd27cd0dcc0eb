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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from hub.ledger import CURRENCY_EXPONENTS
from hub.reconciliation._read import NO_ORDER, NO_TIME, RANK_STATUS, Sides
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


def _money(amount: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """`12.34 USD` for each amount in minor units, with its currency's decimals (for messages)."""
    amount = np.asarray(amount, dtype=np.int64)
    currency = np.asarray(currency, dtype=object)
    exps = pd.Series(currency, dtype=object).map(lambda c: CURRENCY_EXPONENTS.get(c, 2)).to_numpy(np.int64)
    mag = np.abs(amount)
    text = np.empty(len(amount), dtype=object)
    for exp in np.unique(exps):
        rows = exps == exp
        whole = mag[rows] // 10 ** int(exp)
        part = pd.Series(mag[rows] % 10 ** int(exp)).astype(str).str.zfill(int(exp)).to_numpy(dtype=object)
        whole_s = pd.Series(whole).astype(str).to_numpy(dtype=object)
        text[rows] = whole_s if exp == 0 else whole_s + "." + part
    return np.where(amount < 0, "-", "").astype(object) + text + " " + currency


def _text(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).astype(str).to_numpy(dtype=object)


def _cat(*parts: object) -> np.ndarray:
    """Element-wise concatenation of strings and object arrays (of one length)."""
    n = next(len(p) for p in parts if isinstance(p, np.ndarray))
    out = np.full(n, "", dtype=object)
    for part in parts:
        out = out + part
    return out


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

    # The gateway's charges as arrays, indexed by position (cidx), with one empty slot after the last:
    # an order without a payment points there, so gathers by position need no special case.
    charges = sides.charges
    n_charges = len(charges)
    cidx = np.arange(n_charges)

    def column(name: str, dtype: Any, empty: Any) -> np.ndarray:
        return np.append(charges[name].to_numpy(dtype=dtype), np.array([empty], dtype=dtype))

    c_id = column("id", object, "")
    c_rank = column("rank", np.int64, 9)
    c_status = np.append(RANK_STATUS[c_rank[:-1]], "")
    c_cur = column("currency", object, "")
    c_decline = column("decline", object, "")
    c_ok = c_rank == 0
    c_amount = column("amount", np.int64, 0)
    c_created = column("created", np.int64, NO_TIME)
    c_order = column("order_id", np.int64, NO_ORDER)
    c_refunded = column("refunded", np.int64, 0)

    # The store's orders paid through this gateway, as arrays indexed by position.
    orders = sides.orders
    og = orders.loc[orders["gateway"].to_numpy(dtype=object) == gateway]
    o_id = og["order_id"].to_numpy(dtype=np.int64)
    o_status = og["status"].to_numpy(dtype=object)
    o_txn = og["txn"].to_numpy(dtype=object)
    o_cur = og["currency"].to_numpy(dtype=object)
    o_txn_k = og["txn_k"].to_numpy(dtype=np.int64)
    o_total = og["total"].to_numpy(dtype=np.int64)
    t_o = og["t_o"].to_numpy(dtype=np.int64)
    is_open = np.isin(o_status, OPEN)
    is_refunded = o_status == "refunded"
    is_unpaid = np.isin(o_status, UNPAID)
    known = is_open | is_refunded | is_unpaid
    expects = og["paid"].to_numpy(dtype=bool) & (o_txn != "") & ~is_unpaid
    o_in_window = (t_o >= ws) & (t_o < we)
    o_scope = o_in_window | og["touched"].to_numpy(dtype=bool)
    n_orders = len(o_id)
    opos = np.arange(n_orders)

    # --- 1 and 2: by transaction id, then by the order the gateway carries -------------------------------
    # Codes of charge ids, alternate ids and transaction ids share one key space (`_read._codes`).
    id_k = charges["id_k"].to_numpy(dtype=np.int64)
    alt_k = charges["alt_k"].to_numpy(dtype=np.int64)
    n_keys = int(max(id_k.max(initial=-1), alt_k.max(initial=-1), o_txn_k.max(initial=-1))) + 1
    charge_of_key = np.full(n_keys + 1, -1, dtype=np.int64)  # key -1 (none) lands on the last slot
    charge_of_key[id_k] = cidx
    by_id = charge_of_key[o_txn_k]
    hit = (o_txn_k >= 0) & (by_id >= 0)
    by_txn = pd.DataFrame({"opos": opos[hit], "cidx": by_id[hit]})
    with_alt = alt_k >= 0
    if with_alt.any():  # several charges may share a payment intent (a declined attempt, then the payment)
        by_alt = pd.DataFrame({"opos": opos[o_txn_k >= 0], "key": o_txn_k[o_txn_k >= 0]}).merge(
            pd.DataFrame({"cidx": cidx[with_alt], "key": alt_k[with_alt]}), on="key"
        )
        by_txn = pd.concat([by_txn, by_alt[["opos", "cidx"]]], ignore_index=True)
    by_txn["pri"] = np.where(c_order[by_txn["cidx"].to_numpy()] == o_id[by_txn["opos"].to_numpy()], 0, 1)
    pos_of_order = pd.Series(opos, index=o_id)
    named = np.flatnonzero(c_order != NO_ORDER)  # never the empty slot
    meta_pos = pos_of_order.reindex(c_order[named]).to_numpy()
    found_meta = ~np.isnan(meta_pos)
    by_meta = pd.DataFrame(
        {"opos": meta_pos[found_meta].astype(np.int64), "cidx": named[found_meta], "pri": 2}
    )
    pairs = _one_order_per_charge(pd.concat([by_txn, by_meta], ignore_index=True))

    # --- 3: by amount and time, for orders that expect a payment and have none ---------------------------
    claimed = np.zeros(n_charges + 1, dtype=bool)
    claimed[pairs["cidx"].to_numpy()] = True
    has_pair = np.zeros(n_orders, dtype=bool)
    has_pair[pairs["opos"].to_numpy()] = True
    needy = expects & ~has_pair
    free = np.flatnonzero((c_order == NO_ORDER) & c_ok & ~claimed)  # never the empty slot (not ok)
    if needy.any() and len(free):
        left = pd.DataFrame(
            {"opos": opos[needy], "currency": o_cur[needy], "amount": o_total[needy], "t": t_o[needy]}
        ).sort_values("t")
        right = pd.DataFrame(
            {"cidx": free, "currency": c_cur[free], "amount": c_amount[free], "t": c_created[free]}
        ).sort_values("t")
        near = pd.merge_asof(
            left, right, on="t", by=["currency", "amount"], tolerance=tol, direction="nearest"
        ).dropna(subset=["cidx"])
        near = near.assign(cidx=near["cidx"].astype(np.int64))
        near = near[~near["cidx"].duplicated(keep=False)]
        if len(near):
            pairs = pd.concat([pairs, near[["opos", "cidx"]].assign(pri=3)], ignore_index=True)
            claimed[near["cidx"].to_numpy()] = True

    # --- each order's payment P ---------------------------------------------------------------------------
    pc = pairs["cidx"].to_numpy()
    pairs["rank"] = c_rank[pc]
    pairs["not_txn"] = pairs["pri"].to_numpy() > 1
    pairs["created"] = c_created[pc]
    best = _first_per_order(pairs)
    p = np.full(n_orders, -1, dtype=np.int64)
    p[best["opos"].to_numpy()] = best["cidx"].to_numpy()
    has_p = p >= 0
    p_via_txn = np.zeros(n_orders, dtype=bool)
    p_via_txn[best["opos"].to_numpy()] = ~best["not_txn"].to_numpy(dtype=bool)
    pp = np.where(has_p, p, n_charges)  # no payment: the empty slot
    p_rank = np.where(has_p, c_rank[pp], 9)  # 3 failed and 4 canceled count as not through

    # --- what came back on each charge --------------------------------------------------------------------
    kids = sides.children
    k_pos = charge_of_key[kids["parent_k"].to_numpy(dtype=np.int64)]
    k_ok = k_pos >= 0
    k_pc = k_pos[k_ok]
    k_kind = kids["kind"].to_numpy(dtype=object)[k_ok]
    k_status = kids["status"].to_numpy(dtype=object)[k_ok]
    k_amount = kids["amount"].to_numpy(dtype=np.int64)[k_ok]
    k_created = kids["created"].to_numpy(dtype=np.int64)[k_ok]
    k_updated = kids["updated"].to_numpy(dtype=np.int64)[k_ok]
    k_id = kids["id"].to_numpy(dtype=object)[k_ok]
    is_refund = (k_kind == "refund") & (k_status != "failed")
    is_dispute = k_kind == "dispute"
    is_lost = is_dispute & (k_status == "lost")
    slots = n_charges + 1
    ref_sum = np.bincount(k_pc[is_refund], weights=k_amount[is_refund], minlength=slots).astype(np.int64)
    lost_sum = np.bincount(k_pc[is_lost], weights=k_amount[is_lost], minlength=slots).astype(np.int64)
    back_last = np.full(slots, NO_TIME, dtype=np.int64)
    np.maximum.at(back_last, k_pc[is_refund | is_lost], k_created[is_refund | is_lost])
    returned = np.maximum(c_refunded, ref_sum) + lost_sum
    full = (returned >= c_amount) & (c_amount > 0)

    # --- scope ---------------------------------------------------------------------------------------------
    c_in_window = (c_created >= ws) & (c_created < we)
    c_scope = c_in_window.copy()
    k_touch = ((k_created >= ws) & (k_created < we)) | ((k_updated >= ws) & (k_updated < we))
    c_scope[k_pc[k_touch]] = True
    scoped_pairs = o_scope[pairs["opos"].to_numpy()]
    c_scope[pairs["cidx"].to_numpy()[scoped_pairs]] = True
    p_scope = has_p & c_scope[pp]
    p_created = np.where(has_p, c_created[pp], NO_TIME)
    evidence_po = np.maximum(p_created, t_o)

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
        message: Callable[[np.ndarray], np.ndarray],
        related_id: np.ndarray | None = None,
        expected: np.ndarray | None = None,
        actual: np.ndarray | None = None,
        currency: np.ndarray | None = None,
        order_currency: np.ndarray | None = None,
        key_extra: np.ndarray | None = None,
    ) -> None:
        """Items of `category` for the positions where `rows` is true; every array is aligned with it, and
        `message` builds the texts for the selected positions only."""
        r = np.flatnonzero(rows)
        if not len(r):
            return

        def pick(values: np.ndarray | None, default: object) -> np.ndarray:
            if values is None:
                return np.full(len(r), default, dtype=object)
            return np.asarray(values)[r]

        found.append(
            pd.DataFrame(
                {
                    "category": category,
                    "order_id": pick(order_id, NO_ORDER).astype(np.int64),
                    "gateway_id": pick(gateway_id, "").astype(object),
                    "related_id": pick(related_id, "").astype(object),
                    "anchor_id": pick(anchor_id, "").astype(object),
                    "expected_minor": pick(expected, None).astype(object),
                    "actual_minor": pick(actual, None).astype(object),
                    "currency": pick(currency, "").astype(object),
                    "order_currency": pick(order_currency, "").astype(object),
                    "message": message(r),
                    "occurred_at": pick(occurred, NO_TIME).astype(np.int64),
                    "evidence_at": pick(evidence, NO_TIME).astype(np.int64),
                    "extra": pick(key_extra, "").astype(object),
                }
            )
        )

    # Order-level views of P (valid where has_p).
    p_id = c_id[pp]
    p_cur = c_cur[pp]
    p_amount = c_amount[pp]
    p_full = has_p & full[pp]

    def order_anchor(r: np.ndarray) -> np.ndarray:
        return _cat(f"order:{store}:", _text(o_id[r]))

    anchors_o = np.empty(n_orders, dtype=object)
    in_scope_orders = np.flatnonzero(o_scope)
    anchors_o[in_scope_orders] = order_anchor(in_scope_orders) if len(in_scope_orders) else anchors_o[:0]

    # missing_payment: no charge, or only declined ones the transaction id does not name.
    no_charge = expects & ~has_p
    only_declines = expects & has_p & (p_rank >= 3) & ~p_via_txn
    add(
        "missing_payment",
        (no_charge | only_declines) & o_scope,
        order_id=o_id,
        gateway_id=o_txn,
        anchor_id=anchors_o,
        occurred=t_o,
        evidence=t_o,
        expected=o_total,
        currency=o_cur,
        order_currency=o_cur,
        message=lambda r: _cat(
            "order ",
            _text(o_id[r]),
            " is ",
            o_status[r],
            ", paid with transaction ",
            o_txn[r],
            "; ",
            gateway,
            " has no such charge",
        ),
    )

    # status_mismatch: the payment the order names did not go through.
    failed = expects & has_p & (p_rank >= 3) & p_via_txn
    uncaptured = expects & has_p & (p_rank == 1)
    pending = expects & has_p & (p_rank == 2)

    def why_not(r: np.ndarray) -> np.ndarray:
        decline = c_decline[pp[r]]
        failed_text = _cat(" ", c_status[pp[r]], np.where(decline != "", _cat(" (", decline, ")"), ""))
        return np.where(
            failed[r],
            failed_text,
            np.where(uncaptured[r], " is authorised and not captured", " is still pending"),
        )

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
        message=lambda r: _cat(
            "order ", _text(o_id[r]), " is ", o_status[r], ", but charge ", p_id[r], why_not(r)
        ),
    )

    ok = has_p & (p_rank == 0)
    cur_mis = ok & expects & (c_cur[pp] != o_cur)
    amt_mis = ok & expects & ~cur_mis & (p_amount != o_total)
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
            message=lambda r: _cat(
                "order ",
                _text(o_id[r]),
                " total ",
                _money(o_total[r], o_cur[r]),
                ", charged ",
                _money(p_amount[r], p_cur[r]),
                " (",
                p_id[r],
                ")",
            ),
        )

    # status_mismatch: the order's status against what the gateway returned.
    open_full = ok & expects & is_open & p_full
    refunded_short = ok & expects & is_refunded & ~p_full
    unexpected = ok & ~expects & known & ~p_full

    def status_text(r: np.ndarray) -> np.ndarray:
        return np.where(
            open_full[r],
            _cat(", but charge ", p_id[r], " was returned in full at ", gateway),
            np.where(
                refunded_short[r],
                _cat(
                    ", but ", gateway, " returned ", _money(returned[pp[r]], p_cur[r]), " of charge ", p_id[r]
                ),
                _cat(" (not paid), but charge ", p_id[r], " succeeded and was not returned"),
            ),
        )

    add(
        "status_mismatch",
        (open_full | refunded_short | unexpected) & p_scope,
        order_id=o_id,
        gateway_id=p_id,
        anchor_id=p_id,
        occurred=p_created,
        evidence=np.maximum(evidence_po, np.where(has_p, back_last[pp], NO_TIME)),
        expected=o_total,
        actual=p_amount,
        currency=p_cur,
        order_currency=o_cur,
        message=lambda r: _cat("order ", _text(o_id[r]), " is ", o_status[r], status_text(r)),
    )

    # refund_not_mirrored: refunds paired one to one by amount, leftovers on either side.
    pairing = ok & expects & ~open_full & ~refunded_short & p_scope
    if pairing.any():
        gw_side, store_side = _unpaired_refunds(
            pd.DataFrame({"order_id": o_id[pairing], "t_o": t_o[pairing], "p": p[pairing]}),
            pd.DataFrame(
                {
                    "pc": k_pc[is_refund],
                    "id": k_id[is_refund],
                    "amount": k_amount[is_refund],
                    "created": k_created[is_refund],
                }
            ),
            sides.order_refunds,
        )
        if len(gw_side):
            gpc = gw_side["p"].to_numpy()
            g_amount = gw_side["amount"].to_numpy(dtype=np.int64)
            g_order = gw_side["order_id"].to_numpy(dtype=np.int64)
            everything = np.ones(len(gw_side), dtype=bool)
            add(
                "refund_not_mirrored",
                everything,
                order_id=g_order,
                gateway_id=gw_side["id"].to_numpy(dtype=object),
                related_id=c_id[gpc],
                anchor_id=c_id[gpc],
                occurred=c_created[gpc],
                evidence=np.maximum(gw_side["created"].to_numpy(), gw_side["t_o"].to_numpy()),
                actual=g_amount,
                currency=c_cur[gpc],
                message=lambda r: _cat(
                    gateway,
                    " refunded ",
                    _money(g_amount[r], c_cur[gpc[r]]),
                    " of ",
                    c_id[gpc[r]],
                    "; order ",
                    _text(g_order[r]),
                    " does not show it",
                ),
            )
        if len(store_side):
            store_side = store_side[lost_sum[store_side["p"].to_numpy()] == 0]
        if len(store_side):
            spc = store_side["p"].to_numpy()
            s_amount = store_side["amount"].to_numpy(dtype=np.int64)
            s_order = store_side["order_id"].to_numpy(dtype=np.int64)
            s_refund = _text(store_side["refund_id"].to_numpy())
            add(
                "refund_not_mirrored",
                np.ones(len(store_side), dtype=bool),
                order_id=s_order,
                gateway_id=c_id[spc],
                anchor_id=c_id[spc],
                occurred=c_created[spc],
                evidence=np.maximum(store_side["t_created"].to_numpy(), store_side["t_o"].to_numpy()),
                expected=s_amount,
                currency=c_cur[spc],
                key_extra=_cat("wc-refund:", s_refund),
                message=lambda r: _cat(
                    "order ",
                    _text(s_order[r]),
                    " shows refund #",
                    s_refund[r],
                    " of ",
                    _money(s_amount[r], c_cur[spc[r]]),
                    "; ",
                    gateway,
                    " has no such refund of ",
                    c_id[spc[r]],
                ),
            )

    # duplicate_charge: the order's other successful charges.
    others = pairs[pairs["cidx"].to_numpy() != p[pairs["opos"].to_numpy()]]
    oc = others["cidx"].to_numpy()
    keep = c_ok[oc] & ~full[oc] & c_scope[oc]
    oc, opo = oc[keep], others["opos"].to_numpy()[keep]
    add(
        "duplicate_charge",
        np.ones(len(oc), dtype=bool),
        order_id=o_id[opo],
        gateway_id=c_id[oc],
        related_id=c_id[p[opo]],
        anchor_id=c_id[oc],
        occurred=c_created[oc],
        evidence=np.maximum(c_created[oc], t_o[opo]),
        actual=c_amount[oc],
        currency=c_cur[oc],
        message=lambda r: _cat(
            "order ", _text(o_id[opo[r]]), " was charged twice: ", c_id[p[opo[r]]], " and ", c_id[oc[r]]
        ),
    )

    # open_dispute: open disputes on charges in scope.
    od = is_dispute & (k_status == "open") & c_scope[k_pc]
    dpc = k_pc[od]
    owner = np.full(n_charges + 1, NO_ORDER, dtype=np.int64)
    owner[pairs["cidx"].to_numpy()] = o_id[pairs["opos"].to_numpy()]
    d_order = np.where(owner[dpc] != NO_ORDER, owner[dpc], c_order[dpc])
    d_id, d_amount = k_id[od], k_amount[od]
    add(
        "open_dispute",
        np.ones(len(dpc), dtype=bool),
        order_id=d_order,
        gateway_id=d_id,
        related_id=c_id[dpc],
        anchor_id=c_id[dpc],
        occurred=c_created[dpc],
        evidence=k_created[od],
        actual=d_amount,
        currency=c_cur[dpc],
        message=lambda r: _cat(
            gateway,
            " dispute ",
            d_id[r],
            " on ",
            c_id[dpc[r]],
            " (",
            _money(d_amount[r], c_cur[dpc[r]]),
            ") is open",
        ),
    )

    # missing_order: successful charges no order of this gateway claims (not returned in full).
    orphan = np.flatnonzero(c_ok & ~claimed & ~full & c_scope)
    if len(orphan):
        named_order = c_order[orphan]
        elsewhere = orders.drop_duplicates("order_id").set_index("order_id")["method"]
        method = elsewhere.reindex(named_order).fillna("").to_numpy(dtype=object)
        named_text = _text(named_order)
        why = np.where(
            named_order == NO_ORDER,
            "names no order",
            np.where(
                method != "",
                _cat("names order ", named_text, ", paid through ", method),
                _cat("names order ", named_text, ", which does not exist"),
            ),
        )
        add(
            "missing_order",
            np.ones(len(orphan), dtype=bool),
            order_id=named_order,
            gateway_id=c_id[orphan],
            anchor_id=c_id[orphan],
            occurred=c_created[orphan],
            evidence=c_created[orphan],
            actual=c_amount[orphan],
            currency=c_cur[orphan],
            message=lambda r: _cat(
                gateway,
                " charge ",
                c_id[orphan[r]],
                " of ",
                _money(c_amount[orphan[r]], c_cur[orphan[r]]),
                " ",
                why[r],
            ),
        )

    # payout_mismatch: a payout against the net of its entries.
    payouts = sides.payouts
    if len(payouts):
        y_id = payouts["id"].to_numpy(dtype=object)
        y_amount = payouts["amount"].to_numpy(dtype=np.int64)
        y_cur = payouts["currency"].to_numpy(dtype=object)
        y_entries = payouts["entries"].to_numpy(dtype=np.int64)
        y_foreign = payouts["foreign"].to_numpy(dtype=np.int64)
        y_expected = payouts["entries_net"].to_numpy(dtype=np.int64) - payouts["fee"].to_numpy(dtype=np.int64)
        y_created = payouts["created"].to_numpy(dtype=np.int64)
        add(
            "payout_mismatch",
            (y_expected != y_amount) | (y_foreign > 0),
            order_id=np.full(len(y_id), NO_ORDER),
            gateway_id=y_id,
            anchor_id=y_id,
            occurred=y_created,
            evidence=y_created,
            expected=y_expected,
            actual=y_amount,
            currency=y_cur,
            message=lambda r: _cat(
                "payout ",
                y_id[r],
                " pays ",
                _money(y_amount[r], y_cur[r]),
                ", its ",
                _text(y_entries[r]),
                " entries net ",
                _money(y_expected[r], y_cur[r]),
                np.where(y_foreign[r] > 0, " (some in another currency)", ""),
            ),
        )

    items = _finish(found, gateway=gateway, store=store, now=now_s, grace=grace)
    extra_charges = c_id[c_scope & ~c_in_window]
    extra_orders = anchors_o[o_scope & ~o_in_window]
    stats = {
        "orders": int(n_orders),
        "orders_in_scope": int(o_scope.sum()),
        "charges": int(n_charges),
        "charges_in_scope": int(c_scope.sum()),
        "refunds": int((k_kind == "refund").sum()),
        "disputes": int(is_dispute.sum()),
        "payouts": int(len(payouts)),
        "matched": int((ok & o_scope).sum()),
    }
    return Classified(items=items, extra_anchors=[*extra_charges, *extra_orders], stats=stats)


def _one_order_per_charge(pairs: pd.DataFrame) -> pd.DataFrame:
    """A charge several orders could claim goes to the best claim (lowest `pri`, then the first order).
    Only the contested charges are sorted: nearly every charge has exactly one claim."""
    contested = pairs["cidx"].duplicated(keep=False).to_numpy()
    if not contested.any():
        return pairs.reset_index(drop=True)
    winners = pairs[contested].sort_values(["cidx", "pri", "opos"]).drop_duplicates("cidx")
    return pd.concat([pairs[~contested], winners], ignore_index=True)


def _first_per_order(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each order's payment: best rank, then the one its transaction id names, then the earliest."""
    several = pairs["opos"].duplicated(keep=False).to_numpy()
    columns = ["opos", "cidx", "not_txn"]
    if not several.any():
        return pairs[columns].reset_index(drop=True)
    multi = pairs[several].sort_values(["opos", "rank", "not_txn", "created", "cidx"]).drop_duplicates("opos")
    return pd.concat([pairs.loc[~several, columns], multi[columns]], ignore_index=True)


def _unpaired_refunds(
    orders: pd.DataFrame, refunds: pd.DataFrame, order_refunds: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gateway refunds of each order's P and the order's own refunds, paired by amount (the k-th refund of
    an amount with the k-th of the same amount); the ones left over on each side."""
    gw = refunds.merge(orders.rename(columns={"p": "pc"}), on="pc")
    gw = gw.sort_values(["order_id", "amount", "created", "id"])
    gw["k"] = gw.groupby(["order_id", "amount"]).cumcount()
    st = order_refunds.merge(orders, on="order_id")
    st = st.sort_values(["order_id", "amount", "refund_id"])
    st["k"] = st.groupby(["order_id", "amount"]).cumcount()
    both = gw[["order_id", "amount", "k", "id", "created", "pc", "t_o"]].merge(
        st[["order_id", "amount", "k", "refund_id", "t_created", "p", "t_o"]],
        on=["order_id", "amount", "k"],
        how="outer",
        indicator=True,
        suffixes=("", "_st"),
    )
    gw_only = both[both["_merge"] == "left_only"]
    gw_only = pd.DataFrame(
        {
            "order_id": gw_only["order_id"].astype(np.int64),
            "id": gw_only["id"].astype(object),
            "amount": gw_only["amount"].astype(np.int64),
            "created": gw_only["created"].astype(np.int64),
            "t_o": gw_only["t_o"].astype(np.int64),
            "p": gw_only["pc"].astype(np.int64),
        }
    )
    st_only = both[both["_merge"] == "right_only"]
    st_only = pd.DataFrame(
        {
            "order_id": st_only["order_id"].astype(np.int64),
            "refund_id": st_only["refund_id"].astype(np.int64),
            "amount": st_only["amount"].astype(np.int64),
            "t_created": st_only["t_created"].astype(np.int64),
            "t_o": st_only["t_o_st"].astype(np.int64),
            "p": st_only["p"].astype(np.int64),
        }
    )
    return gw_only.reset_index(drop=True), st_only.reset_index(drop=True)


def _finish(found: list[pd.DataFrame], *, gateway: str, store: str, now: int, grace: int) -> pd.DataFrame:
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ITEM_COLUMNS})
    items = pd.concat(found, ignore_index=True)
    items["gateway"] = gateway
    items["store"] = store
    items["severity"] = items["category"].map(SEVERITY)
    items["status"] = np.where(items["evidence_at"].to_numpy() > now - grace, "pending", "open")
    order_id = items["order_id"].to_numpy()
    order_text = np.where(order_id == NO_ORDER, "", _text(order_id))
    extra = items["extra"].to_numpy(dtype=object)
    items["item_key"] = _cat(
        items["category"].to_numpy(dtype=object),
        f"|{gateway}|{store}|",
        order_text,
        "|",
        items["gateway_id"].to_numpy(dtype=object),
        np.where(extra != "", _cat("|", extra), ""),
    )
    items = items.drop_duplicates("item_key")
    return items[ITEM_COLUMNS].reset_index(drop=True)
