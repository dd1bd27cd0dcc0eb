"""Benchmark of payment reconciliation (issue 10). Prints its figures, then one JSON line per database.

    uv run python bench/reconciliation.py                     # 1,000,000 x 1,000,000, SQLite and PostgreSQL
    uv run python bench/reconciliation.py --database sqlite   # or: postgresql
    uv run python bench/reconciliation.py --quick              # 20,000 x 20,000, to check the script itself

What it does, for each database:
1. Generates a year of a store's orders and its four gateways' ledger directly into a fresh hub (numpy
   generation, then `executemany` on SQLite and `COPY` on PostgreSQL; not timed as reconciliation):
   orders of every status, their refunds, charges (20 % of Stripe orders holding the payment intent id),
   declined attempts before payments, full and partial refunds mirrored in the orders, won disputes,
   Stripe and Square daily payouts with their entries, Authorize.Net daily batches; plus planted
   discrepancies of every category, each on its own order (the answer key). Orders and gateway
   transactions (charges, refunds, disputes) are exactly `--orders` and `--transactions` rows.
2. In a fresh process (so its peak RSS is reconciliation's own), opens the hub and runs
   `hub.reconciliation.reconcile_windows` for the four gateways over the whole year: per gateway, read
   both sides from the hub, match, classify, persist the items (a run row and a lease each). `seconds`
   is the wall time of that, engine creation included; `cpu_seconds` this process's CPU time, and
   `load_average` the machine's 1-minute load when it started (the machine is shared: wall time moves
   with its load).
3. Compares the open items with the answer key: `found` planted items found, `false_positives` items
   that were not planted (and `missed`).

PostgreSQL: postgresql://postgres@127.0.0.1:5432/postgres (or `--postgres-url`); the script creates and
drops its own database.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GATEWAYS = ("stripe", "paypal", "square", "authorizenet")
METHODS = ("stripe", "ppcp-gateway", "square_credit_card", "authorize_net_cim_credit_card")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
STORE = "bench"
DAY = 86_400


# --- generation -------------------------------------------------------------------------------------------
def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return (prefix + pd.Series(numbers).astype(str).str.zfill(width)).to_numpy(dtype=object)


def generate(n_orders: int, n_transactions: int, per_category: int, seed: int = 7) -> dict[str, Any]:
    """Every table's rows as column arrays, and the answer key."""
    rng = np.random.default_rng(seed)
    t0 = int(START.timestamp())
    span = DAYS * DAY
    oid = np.arange(1, n_orders + 1, dtype=np.int64)
    gw = (oid % 4).astype(np.int8)  # 0 stripe, 1 paypal, 2 square, 3 authorizenet
    created = t0 + 600 + (oid - 1) * (span - 7200) // n_orders + rng.integers(0, 60, n_orders)
    paid_t = created + 30 + rng.integers(0, 90, n_orders)
    total = rng.integers(500, 50_000, n_orders)
    statuses = np.array(["completed", "processing", "on-hold", "refunded", "pending", "cancelled", "failed"])
    status = statuses[rng.choice(7, n_orders, p=[0.6, 0.2, 0.03, 0.04, 0.05, 0.05, 0.03])]
    paid = np.isin(status, ["completed", "processing", "on-hold", "refunded"])
    currency = np.full(n_orders, "USD", dtype=object)
    # Transaction ids shaped like each gateway's: Stripe ch_ (or pi_ for 20 %), PayPal 17, Square 29,
    # Authorize.Net 11 digits.
    suffix = pd.Series(oid).astype(str).str.zfill(12)
    stripe_charge = ("ch_3BENCH" + suffix + "abcdefghijk").to_numpy(dtype=object)
    stripe_intent = ("pi_3BENCH" + suffix + "abcdefghijk").to_numpy(dtype=object)
    uses_intent = (gw == 0) & (rng.random(n_orders) < 0.2)
    charge_id = np.select(
        [gw == 0, gw == 1, gw == 2],
        [
            stripe_charge,
            ("PP" + suffix + "XYZ").to_numpy(dtype=object),
            ("SQ" + suffix + "abcdefghijklmnoY").to_numpy(dtype=object),
        ],
        default=(pd.Series(40_000_000_000 + oid).astype(str)).to_numpy(dtype=object),
    )
    alt_id = np.select(
        [gw == 0, gw == 1, gw == 2],
        [
            stripe_intent,
            ("PPO" + suffix + "QQ").to_numpy(dtype=object),
            ("SQO" + suffix + "abcdefghijkl").to_numpy(dtype=object),
        ],
        default=None,
    )
    txn = np.where(paid, np.where(uses_intent, stripe_intent, charge_id), "")

    # Orders that take a planted discrepancy: paid, not refunded (status_mismatch's third variant takes
    # refunded ones), each used once.
    open_pool = list(rng.permutation(np.flatnonzero(paid & (status != "refunded"))))
    refunded_pool = list(rng.permutation(np.flatnonzero(status == "refunded")))
    planted: list[tuple[str, str, int | None, str]] = []
    plan: dict[str, list[int]] = {}
    gateways_of = {
        "open_dispute": (0, 1, 2),
        "payout_mismatch": (0, 2),
    }

    def take(category: str, gateway: int, pool: list[int]) -> int:
        for k in range(len(pool)):
            if gw[pool[k]] == gateway:
                return int(pool.pop(k))
        raise RuntimeError("order pool exhausted")

    for category in (
        "missing_payment",
        "amount_mismatch",
        "currency_mismatch",
        "status_failed",
        "status_gateway_refunded",
        "status_order_refunded",
        "refund_not_mirrored",
        "duplicate_charge",
        "open_dispute",
    ):
        allowed = gateways_of.get(category, (0, 1, 2, 3))
        idx = []
        for k in range(per_category):
            g = allowed[k % len(allowed)]
            idx.append(take(category, g, refunded_pool if category == "status_order_refunded" else open_pool))
        plan[category] = idx

    # --- charges of paid orders (one each, unless planted missing) ---
    has_charge = paid.copy()
    has_charge[plan["missing_payment"]] = False
    c_amount = total.copy()
    c_amount[plan["amount_mismatch"]] += 100
    c_currency = currency.copy()
    cm = np.array(plan["currency_mismatch"])
    c_currency[cm[np.isin(gw[cm], (0, 1))]] = "EUR"
    currency[cm[np.isin(gw[cm], (2, 3))]] = "EUR"  # single-currency accounts: the order is wrong
    c_status = np.full(n_orders, "succeeded", dtype=object)
    c_status[plan["status_failed"]] = "failed"
    order_ref = np.where(gw == 1, "WC-" + pd.Series(oid).astype(str), pd.Series(oid).astype(str)).astype(
        object
    )

    def frame(rows: dict[str, Any]) -> pd.DataFrame:
        return pd.DataFrame(rows)

    charges = frame(
        {
            "gateway": np.array(GATEWAYS, dtype=object)[gw],
            "kind": "charge",
            "gateway_id": charge_id,
            "alt_id": alt_id,
            "parent_id": None,
            "order_ref": order_ref,
            "order_id": oid,
            "status": c_status,
            "captured": True,
            "amount_minor": c_amount,
            "currency": c_currency,
            "amount_refunded_minor": 0,
            "fee_minor": np.where(gw == 3, 0, c_amount * 29 // 1000 + 30),
            "created": paid_t,
        }
    )[has_charge].reset_index(drop=True)
    for planted_set, category in (
        ("missing_payment", "missing_payment"),
        ("amount_mismatch", "amount_mismatch"),
        ("currency_mismatch", "currency_mismatch"),
        ("status_failed", "status_mismatch"),
        ("status_gateway_refunded", "status_mismatch"),
        ("status_order_refunded", "status_mismatch"),
    ):
        for i in plan[planted_set]:
            key_id = txn[i] if category == "missing_payment" else charge_id[i]
            planted.append((category, GATEWAYS[gw[i]], int(oid[i]), str(key_id)))

    # --- refunds: refunded orders in full, 3 % of completed ones in part; mirrored on the order ---
    completed = np.flatnonzero((status == "completed") & has_charge)
    planted_orders = {i for v in plan.values() for i in v}
    partial = np.array(
        [
            i
            for i in rng.choice(completed, int(0.03 * len(completed)), replace=False)
            if i not in planted_orders
        ],
        dtype=np.int64,
    )
    full = np.array(
        [i for i in np.flatnonzero(status == "refunded") if i not in planted_orders], dtype=np.int64
    )
    mirrored = np.concatenate([full, partial])
    r_amount = np.concatenate([c_amount[full], np.maximum(100, c_amount[partial] * 3 // 10)])
    r_time = paid_t[mirrored] + 86_400 * rng.integers(1, 10, len(mirrored))
    refund_ids = np.arange(n_orders + 1, n_orders + 1 + len(mirrored), dtype=np.int64)
    order_refunds = frame(
        {
            "order_remote_id": oid[mirrored],
            "remote_id": refund_ids,
            "amount_minor": r_amount,
            "t": r_time,
            "currency": currency[mirrored],
        }
    )
    gateway_refunds = [
        frame(
            {
                "gateway": np.array(GATEWAYS, dtype=object)[gw[mirrored]],
                "gateway_id": _ids("re_", refund_ids, 14),
                "parent": charge_id[mirrored],
                "amount_minor": r_amount,
                "currency": c_currency[mirrored],
                "created": r_time,
            }
        )
    ]
    # planted: refunded order, no gateway refund (order side only)
    sor = np.array(plan["status_order_refunded"])
    sor_ids = np.arange(
        refund_ids[-1] + 1 if len(refund_ids) else n_orders + 1,
        (refund_ids[-1] + 1 if len(refund_ids) else n_orders + 1) + len(sor),
    )
    order_refunds = pd.concat(
        [
            order_refunds,
            frame(
                {
                    "order_remote_id": oid[sor],
                    "remote_id": sor_ids,
                    "amount_minor": c_amount[sor],
                    "t": paid_t[sor] + DAY,
                    "currency": currency[sor],
                }
            ),
        ],
        ignore_index=True,
    )
    # planted: full refund at the gateway of an open order; partial refund not mirrored
    for category, idx, share in (
        ("status_gateway_refunded", plan["status_gateway_refunded"], 10),
        ("refund_not_mirrored", plan["refund_not_mirrored"], 3),
    ):
        idx = np.array(idx)
        ids = _ids("rx" + category[:3] + "_", oid[idx], 14)
        gateway_refunds.append(
            frame(
                {
                    "gateway": np.array(GATEWAYS, dtype=object)[gw[idx]],
                    "gateway_id": ids,
                    "parent": charge_id[idx],
                    "amount_minor": c_amount[idx] * share // 10,
                    "currency": c_currency[idx],
                    "created": paid_t[idx] + 2 * DAY,
                }
            )
        )
        if category == "refund_not_mirrored":
            planted += [
                ("refund_not_mirrored", GATEWAYS[gw[i]], int(oid[i]), str(r))
                for i, r in zip(idx, ids, strict=True)
            ]
    refunds = pd.concat(gateway_refunds, ignore_index=True)
    refunded_sum = refunds.groupby("parent")["amount_minor"].sum()
    charges["amount_refunded_minor"] = charges["gateway_id"].map(refunded_sum).fillna(0).astype(np.int64)
    charges.loc[charges["gateway"].isin(["paypal", "authorizenet"]), "amount_refunded_minor"] = 0

    # --- disputes: 0.2 % won (natural), planted open ones ---
    won = rng.choice(
        np.flatnonzero(has_charge & (status == "completed") & (gw != 3)),
        max(1, n_orders // 500),
        replace=False,
    )
    won = np.array([i for i in won if i not in planted_orders and i not in set(partial)], dtype=np.int64)
    od = np.array(plan["open_dispute"])
    disputes = frame(
        {
            "gateway": np.array(GATEWAYS, dtype=object)[gw[np.concatenate([won, od])]],
            "gateway_id": _ids("du_", np.concatenate([won, od]), 14),
            "parent": charge_id[np.concatenate([won, od])],
            "amount_minor": c_amount[np.concatenate([won, od])],
            "currency": c_currency[np.concatenate([won, od])],
            "created": paid_t[np.concatenate([won, od])] + 5 * DAY,
            "status": ["won"] * len(won) + ["open"] * len(od),
        }
    )
    planted += [
        ("open_dispute", GATEWAYS[gw[i]], int(oid[i]), str(d))
        for i, d in zip(od, disputes["gateway_id"].to_numpy()[len(won) :], strict=True)
    ]

    # --- planted extra charges: duplicates, and charges for no order ---
    dup = np.array(plan["duplicate_charge"])
    dup_ids = _ids("dup_", oid[dup], 14)
    planted += [
        ("duplicate_charge", GATEWAYS[gw[i]], int(oid[i]), str(d)) for i, d in zip(dup, dup_ids, strict=True)
    ]
    k = np.arange(per_category)
    orphan_gw = (k % 4).astype(np.int8)
    orphan_ids = _ids("orph_", k, 10)
    orphan_order = np.where(k % 2 == 0, n_orders + 10_000 + k, -1)  # names a deleted order, or none
    orphan_time = t0 + DAY + k * (span - 2 * DAY) // max(per_category, 1)
    planted += [
        ("missing_order", GATEWAYS[g], (int(o) if o > 0 else None), str(i))
        for g, o, i in zip(orphan_gw, orphan_order, orphan_ids, strict=True)
    ]
    extra_charges = frame(
        {
            "gateway": np.concatenate(
                [np.array(GATEWAYS, dtype=object)[gw[dup]], np.array(GATEWAYS, dtype=object)[orphan_gw]]
            ),
            "kind": "charge",
            "gateway_id": np.concatenate([dup_ids, orphan_ids]),
            "alt_id": None,
            "parent_id": None,
            "order_ref": np.concatenate(
                [order_ref[dup], np.where(orphan_order > 0, pd.Series(orphan_order).astype(str), None)]
            ),
            "order_id": np.concatenate([oid[dup], orphan_order]),
            "status": "succeeded",
            "captured": True,
            "amount_minor": np.concatenate([c_amount[dup], 99_991 + k]),  # amounts no order has
            "currency": np.concatenate([c_currency[dup], np.full(per_category, "USD", dtype=object)]),
            "amount_refunded_minor": 0,
            "fee_minor": 0,
            "created": np.concatenate([paid_t[dup] + 300, orphan_time]),
        }
    )
    # --- declined attempts before payments fill the transactions up to the requested count ---
    used = len(charges) + len(extra_charges) + len(refunds) + len(disputes)
    n_declines = n_transactions - used
    if n_declines < 0:
        raise SystemExit(f"--transactions {n_transactions} is too small for {n_orders} orders (need {used})")
    candidates = np.flatnonzero(has_charge & ~np.isin(np.arange(n_orders), list(planted_orders)))
    decl = rng.choice(candidates, n_declines, replace=n_declines > len(candidates))
    declines = frame(
        {
            "gateway": np.array(GATEWAYS, dtype=object)[gw[decl]],
            "kind": "charge",
            "gateway_id": _ids("dec_", np.arange(n_declines), 12),
            "alt_id": np.where(gw[decl] == 0, alt_id[decl], None),
            "parent_id": None,
            "order_ref": order_ref[decl],
            "order_id": oid[decl],
            "status": "failed",
            "captured": True,
            "amount_minor": total[decl],
            "currency": c_currency[decl],
            "amount_refunded_minor": 0,
            "fee_minor": 0,
            "created": created[decl] + 10,
        }
    )
    all_charges = pd.concat([charges, extra_charges, declines], ignore_index=True)
    all_charges["decline_code"] = np.where(all_charges["status"] == "failed", "generic_decline", None)

    # --- payouts: Stripe and Square pay each day's captured charges out the next day; Authorize.Net's
    # batches settle each day's transactions ---
    ok = all_charges[(all_charges["status"] == "succeeded")]
    entries = frame(
        {
            "gateway": ok["gateway"],
            "gateway_id": "e_" + ok["gateway_id"],
            "type": "charge",
            "source_id": ok["gateway_id"],
            "amount_minor": ok["amount_minor"],
            "fee_minor": ok["fee_minor"],
            "currency": ok["currency"],
            "created": ok["created"],
        }
    )
    ref_entries = refunds.assign(type="refund", source_id=refunds["gateway_id"], fee_minor=0)
    ref_entries = ref_entries.assign(
        gateway_id="e_" + ref_entries["gateway_id"], amount_minor=-ref_entries["amount_minor"]
    )
    entries = pd.concat([entries, ref_entries[entries.columns]], ignore_index=True)
    entries["net_minor"] = entries["amount_minor"] - entries["fee_minor"]
    entries["day"] = (entries["created"] - t0) // DAY
    entries["payout_id"] = (
        entries["gateway"].str[:2] + "_po_" + entries["currency"] + "_" + entries["day"].astype(str)
    )
    payouts = entries.groupby(["payout_id", "gateway", "currency", "day"], as_index=False)["net_minor"].sum()
    payouts = payouts.rename(columns={"net_minor": "amount_minor"})
    payouts["created"] = t0 + (payouts["day"] + 1) * DAY
    eligible = payouts["gateway"].isin(["stripe", "square"]) & (payouts["amount_minor"] > 0)
    pm = payouts.index[eligible & (payouts["day"] + 1 < DAYS)]  # created inside the reconciled year
    pm = rng.choice(pm, min(per_category, len(pm)), replace=False)
    payouts.loc[pm, "amount_minor"] += 1
    planted += [("payout_mismatch", payouts.at[i, "gateway"], None, payouts.at[i, "payout_id"]) for i in pm]
    payouts = payouts[payouts["gateway"] != "paypal"]
    entries = entries[entries["gateway"] != "paypal"]

    orders = frame(
        {
            "remote_id": oid,
            "status": status,
            "currency": currency,
            "total_minor": total,
            "payment_method": np.array(METHODS, dtype=object)[gw],
            "transaction_id": np.where(paid, txn, None),
            "created": created,
            "paid": np.where(paid, paid_t, -1),
            "modified": paid_t + 3600,
        }
    )
    return {
        "orders": orders,
        "order_refunds": order_refunds,
        "charges": all_charges,
        "refunds": refunds,
        "disputes": disputes,
        "payouts": payouts,
        "entries": entries,
        "planted": planted,
        "transactions": len(all_charges) + len(refunds) + len(disputes),
    }


def _money_text(minor: pd.Series) -> pd.Series:
    return (minor // 100).astype(str) + "." + (minor % 100).astype(str).str.zfill(2)


def _time_text(epoch: pd.Series, pg: bool) -> pd.Series:
    stamps = pd.to_datetime(pd.Series(epoch).astype(np.int64), unit="s")
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S+00" if pg else "%Y-%m-%d %H:%M:%S.000000")


def table_frames(data: dict[str, Any], pg: bool) -> dict[str, pd.DataFrame]:
    """Each hub table's rows as a frame of its columns, in the database's text forms."""
    now = _time_text(pd.Series([int(time.time())]), pg).iloc[0]
    o = data["orders"]
    paid = o["paid"] >= 0
    orders = pd.DataFrame(
        {
            "store": STORE,
            "remote_id": o["remote_id"],
            "data": "{}",
            "date_modified_gmt": _time_text(o["modified"], pg),
            "content_hash": "bench",
            "synced_at": now,
            "dirty": False if pg else 0,
            "status": o["status"],
            "currency": o["currency"],
            "total": _money_text(o["total_minor"]),
            "payment_method": o["payment_method"],
            "transaction_id": o["transaction_id"],
            "date_created_gmt": _time_text(o["created"], pg),
            "date_paid_gmt": _time_text(o["paid"], pg).where(paid, None),
        }
    )
    r = data["order_refunds"]
    order_refunds = pd.DataFrame(
        {
            "store": STORE,
            "order_remote_id": r["order_remote_id"],
            "remote_id": r["remote_id"],
            "amount": _money_text(r["amount_minor"]),
            "date_created_gmt": _time_text(r["t"], pg),
        }
    )
    c = data["charges"]
    tx_columns = [
        "gateway",
        "kind",
        "gateway_id",
        "alt_id",
        "parent_id",
        "order_ref",
        "order_id",
        "status",
        "captured",
        "amount_minor",
        "currency",
        "amount_refunded_minor",
        "fee_minor",
        "decline_code",
        "created_at",
        "ingested_at",
    ]
    charges = c.assign(created_at=_time_text(c["created"], pg), ingested_at=now)
    charges["order_id"] = charges["order_id"].astype(object).where(charges["order_id"] > 0, None)
    if not pg:
        charges["captured"] = 1
    kids = []
    for kind, frame in (("refund", data["refunds"]), ("dispute", data["disputes"])):
        k = frame.assign(
            kind=kind,
            parent_id=frame["parent"],
            alt_id=None,
            order_ref=None,
            order_id=None,
            status=frame["status"] if "status" in frame else "succeeded",
            captured=True if pg else 1,
            amount_refunded_minor=0,
            fee_minor=0,
            decline_code=None,
            created_at=_time_text(frame["created"], pg),
            ingested_at=now,
        )
        kids.append(k[tx_columns])
    transactions = pd.concat([charges[tx_columns], *kids], ignore_index=True)
    p = data["payouts"]
    payouts = pd.DataFrame(
        {
            "gateway": p["gateway"],
            "gateway_id": p["payout_id"],
            "amount_minor": p["amount_minor"],
            "fee_minor": 0,
            "currency": p["currency"],
            "status": "paid",
            "created_at": _time_text(p["created"], pg),
            "ingested_at": now,
        }
    )
    e = data["entries"]
    entries = pd.DataFrame(
        {
            "gateway": e["gateway"],
            "gateway_id": e["gateway_id"],
            "payout_id": e["payout_id"],
            "type": e["type"],
            "source_id": e["source_id"],
            "amount_minor": e["amount_minor"],
            "fee_minor": e["fee_minor"],
            "net_minor": e["net_minor"],
            "currency": e["currency"],
            "created_at": _time_text(e["created"], pg),
            "ingested_at": now,
        }
    )
    return {
        "orders": orders,
        "order_refunds": order_refunds,
        "gateway_transactions": transactions,
        "payouts": payouts,
        "payout_entries": entries,
    }


def load(url: str, frames: dict[str, pd.DataFrame]) -> None:
    """Bulk insert: SQLite `executemany` in one transaction, PostgreSQL `COPY`; then ANALYZE."""
    from hub.db import create_hub_engine

    engine = create_hub_engine(url)  # creates the schema
    if engine.dialect.name == "sqlite":
        engine.dispose()
        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA synchronous=OFF")
        for table, frame in frames.items():
            columns = list(frame.columns)
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows
            )
        conn.commit()
        conn.execute("ANALYZE")
        conn.close()
        return
    with engine.begin() as conn:
        driver = conn.connection.driver_connection
        for table, frame in frames.items():
            buf = io.StringIO()
            frame.to_csv(buf, index=False, header=False, na_rep="\\N", quoting=csv.QUOTE_MINIMAL)
            with (
                driver.cursor() as cur,
                cur.copy(
                    f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
                ) as copy,
            ):
                copy.write(buf.getvalue())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


# --- the timed part, in its own process -----------------------------------------------------------------
def peak_rss_mb() -> float:
    """This process's peak resident set size. `VmHWM` belongs to the process's own memory map; Linux
    carries the parent's high-water mark into `ru_maxrss` across a vfork+exec, which would count the
    generated data of the parent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reconcile_child(url: str, key_file: str) -> None:
    """Reconcile every gateway's year in this fresh process; print one JSON line of figures."""
    from hub.db import create_hub_engine
    from hub.reconciliation import Window, reconcile_windows, run_items

    planted = {tuple(x) for x in json.loads(Path(key_file).read_text())}
    window = Window.of(START, START + timedelta(days=DAYS))
    now = window.end + timedelta(days=30)
    started, cpu = time.perf_counter(), time.process_time()
    engine = create_hub_engine(url)
    results = reconcile_windows(engine, gateways=list(GATEWAYS), store=STORE, window=window, now=now)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with engine.connect() as conn:
        items = run_items(conn, [r.run_id for r in results], statuses=("open", "pending"))
    found_keys = {(i["category"], i["gateway"], i["order_id"], i["gateway_id"]) for i in items}
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "peak_rss_mb": peak_rss_mb(),
                "found": len(found_keys & planted),
                "false_positives": len(found_keys - planted),
                "missed": sorted(map(list, planted - found_keys))[:5],
                "extra": sorted(map(str, found_keys - planted))[:5],
                "orders_read": sum(r.read["orders"] for r in results),
                "charges_read": sum(r.read["charges"] for r in results),
                "stages": {g: r.seconds for g, r in zip(GATEWAYS, results, strict=True)},
            }
        )
    )


def run(
    database: str, url: str, n_orders: int, n_transactions: int, per_category: int, workdir: Path
) -> dict[str, Any]:
    started = time.perf_counter()
    data = generate(n_orders, n_transactions, per_category)
    generated = time.perf_counter() - started
    frames = table_frames(data, pg=database == "postgresql")
    load(url, frames)
    gen_s = time.perf_counter() - started
    key_file = workdir / f"planted-{database}.json"
    key_file.write_text(json.dumps([list(p) for p in data["planted"]]))
    del frames, data["orders"], data["charges"], data["entries"]
    load_avg = round(os.getloadavg()[0], 2)  # the machine is shared: wall time follows its load
    child = subprocess.run(
        [sys.executable, __file__, "_reconcile", url, str(key_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"reconciliation failed on {database}:\n{child.stderr[-3000:]}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"{database}: generated {n_orders:,} orders and {data['transactions']:,} transactions in "
        f"{generated:.1f}s (+ load {gen_s - generated:.1f}s); reconciled in {figures['seconds']}s "
        f"({figures['cpu_seconds']}s CPU, load average {load_avg}), "
        f"peak RSS {figures['peak_rss_mb']} MB; planted {len(data['planted'])}, found {figures['found']}, "
        f"false positives {figures['false_positives']}; stages {figures['stages']}"
    )
    if figures["missed"] or figures["extra"]:
        print(f"  missed {figures['missed']} extra {figures['extra']}")
    return {
        "database": database,
        "transactions": data["transactions"],
        "orders": n_orders,
        "seconds": figures["seconds"],
        "cpu_seconds": figures["cpu_seconds"],
        "load_average": load_avg,
        "peak_rss_mb": figures["peak_rss_mb"],
        "planted": len(data["planted"]),
        "found": figures["found"],
        "false_positives": figures["false_positives"],
        "generation_seconds": round(gen_s, 1),
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "_reconcile":
        reconcile_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--per-category", type=int, default=1_000, help="planted items per category")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("NXT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--quick", action="store_true", help="20,000 orders and transactions")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.transactions, args.per_category = 20_000, 20_000, 40
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    with tempfile.TemporaryDirectory(prefix="nxt-bench-recon-") as tmp:
        workdir = Path(tmp)
        for database in databases:
            if database == "sqlite":
                figures = run(
                    database,
                    f"sqlite:///{workdir / 'hub.db'}",
                    args.orders,
                    args.transactions,
                    args.per_category,
                    workdir,
                )
            else:
                import sqlalchemy as sa

                name = f"nxt_bench_{uuid.uuid4().hex[:10]}"
                admin = sa.create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                url = sa.make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
                try:
                    figures = run(database, url, args.orders, args.transactions, args.per_category, workdir)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
