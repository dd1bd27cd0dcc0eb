"""Reading both sides of one gateway's window into DataFrames, set-wise.

Only the columns matching needs are read, and the database does the cheap conversions: one epoch time
per record, flags as 0/1, absent ids as empty strings. WooCommerce totals are `Money` (exact decimals:
canonical text on SQLite, NUMERIC on PostgreSQL); they are read as the integer of their digits and the
position of the decimal point and scaled to the currency's minor units in numpy, exactly (PostgreSQL
scales NUMERIC itself). Large reads go through the driver's cursor directly (SQLite `fetchall`,
PostgreSQL `COPY ... TO STDOUT` parsed by pandas' C reader); lookups by id go in chunks.

What is read for gateway G, store S and window W = [start, end), margin M:
- orders of S paid through G (`payment_method` mapped to G) created or paid in [start - M, end + M), or
  modified in W; their refunds (`order_refunds`);
- G's charges created in [start - M, end + M); refunds and disputes created since start - M (a refund
  or dispute never precedes its charge) or updated in W, and the charges of those outside the range;
- lookups, by id, of what those name but the ranges missed: orders named by a charge's metadata or whose
  `transaction_id` names a charge (any payment method, to tell an order of another gateway from a missing
  one), charges named by an order's `transaction_id` or naming an order, and their refunds and disputes;
- G's payouts created in W with the count, net and foreign-currency count of their entries, summed by
  the database.

On SQLite a window longer than `SCAN_AFTER` reads the gateway's orders through the payment-method index
and filters the times per row (`+column` keeps SQLite from using the time indexes): for most of a table,
one pass is cheaper than three index ranges merged and looked up row by row.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from hub.ledger import CURRENCY_EXPONENTS
from hub.reconciliation.settings import ReconciliationSettings, Window
from hub.types import UTCDateTime

NO_TIME = -1  # epoch seconds standing for "no time" (no order is older than 1970)
NO_ORDER = -1  # order id standing for "names no order"
SCAN_AFTER = timedelta(days=45)
_CHUNK = 500  # ids per IN (...) list

# Columns of each read: name -> "i" (64-bit integer) or "o" (text; NULL reads as "").
# (digits, point, length): the integer of a decimal's digits, the 1-based position of its point (0: none;
# -1: `digits` already holds the minor units) and its length.
ORDER_COLUMNS = {
    "order_id": "i",
    "status": "o",
    "txn": "o",
    "currency": "o",
    "digits": "i",
    "point": "i",
    "length": "i",
    "t_o": "i",
    "paid": "i",
    "touched": "i",
    "method": "o",
}
REFUND_COLUMNS = {
    "order_id": "i",
    "refund_id": "i",
    "digits": "i",
    "point": "i",
    "length": "i",
    "currency": "o",
    "t_created": "i",
}
# rank: 0 succeeded and captured, 1 authorised (succeeded, not captured), 2 pending, 3 failed, 4 canceled
CHARGE_COLUMNS = {
    "gateway": "o",
    "id": "o",
    "alt": "o",
    "order_id": "i",
    "rank": "i",
    "amount": "i",
    "currency": "o",
    "refunded": "i",
    "created": "i",
    "decline": "o",
}
CHILD_COLUMNS = {
    "gateway": "o",
    "id": "o",
    "parent": "o",
    "kind": "o",
    "status": "o",
    "amount": "i",
    "created": "i",
    "updated": "i",
}
PAYOUT_COLUMNS = {
    "gateway": "o",
    "id": "o",
    "amount": "i",
    "fee": "i",
    "currency": "o",
    "created": "i",
    "status": "o",
    "entries": "i",
    "entries_net": "i",
    "foreign": "i",
}
RANK_STATUS = np.array(["succeeded", "authorised", "pending", "failed", "canceled"], dtype=object)


@dataclass
class Sides:
    """What one gateway's window reconciles: the store's side and the gateway's.

    orders: order_id, status, txn, currency, total (minor units), t_o (paid, else created), paid (has
        `date_paid`), touched (modified in the window), method, gateway.
    order_refunds: order_id, refund_id, amount (minor units), t_created.
    charges: CHARGE_COLUMNS. children: refunds and disputes, CHILD_COLUMNS. payouts: PAYOUT_COLUMNS.
    """

    orders: pd.DataFrame
    order_refunds: pd.DataFrame
    charges: pd.DataFrame
    children: pd.DataFrame
    payouts: pd.DataFrame

    def of(self, gateway: str) -> Sides:
        """One gateway's part: its ledger records; every order read (classification picks the gateway's
        and names the others when a charge points at one)."""

        def mine(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["gateway"].to_numpy(dtype=object) == gateway].reset_index(drop=True)

        return Sides(
            self.orders, self.order_refunds, mine(self.charges), mine(self.children), mine(self.payouts)
        )


class _Sql:
    """SQL fragments and execution for one dialect."""

    def __init__(self, conn: Connection, store: str = "") -> None:
        self.conn = conn
        self.store = store
        self.dialect = conn.dialect
        self.pg = conn.dialect.name == "postgresql"
        self._time = UTCDateTime().dialect_impl(self.dialect).bind_processor(self.dialect)

    def time(self, value: datetime) -> Any:
        return self._time(value) if self._time else value

    def epoch(self, column: str) -> str:
        if self.pg:
            return f"COALESCE(CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT), {NO_TIME})"
        if sqlite3.sqlite_version_info >= (3, 38):
            return f"COALESCE(unixepoch({column}), {NO_TIME})"
        return f"COALESCE(CAST(strftime('%s', {column}) AS INTEGER), {NO_TIME})"

    def flag(self, condition: str) -> str:
        return f"CAST(({condition}) AS INTEGER)"

    def decimal(self, amount: str, currency: str) -> str:
        """`digits, point, length` of a `Money` column (see ORDER_COLUMNS)."""
        if self.pg:  # NUMERIC is exact: scale to minor units here, round half away from zero
            return f"CAST(ROUND({amount} * POWER(10, {_exponent_sql(currency)})) AS BIGINT), -1, 0"
        # Canonical decimal text ("12.5", "-3", "0.125"): its digits as an integer, where the point is, and
        # how long it is. Values too long for 64-bit digits are read again exactly (`_exact_long`).
        return f"CAST(REPLACE({amount}, '.', '') AS INTEGER), INSTR({amount}, '.'), LENGTH({amount})"

    def exact_minor(self, amount: str, currency: str) -> str:
        """Minor units of a `Money` column computed by the database, exactly (the slow way on SQLite)."""
        if self.pg:
            return f"CAST(ROUND({amount} * POWER(10, {_exponent_sql(currency)})) AS BIGINT)"
        return _sqlite_exact_minor(amount, currency)

    def params(self, sql: str) -> str:
        # Written with :name placeholders (sqlite3's named style); psycopg wants %(name)s.
        return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", sql) if self.pg else sql

    def frame(self, sql: str, params: dict[str, Any], columns: dict[str, str]) -> pd.DataFrame:
        """Run `sql` and return its rows as a frame of int64 and object (text, "" for NULL) columns."""
        driver = self.conn.connection.driver_connection
        assert driver is not None
        names = list(columns)
        if self.pg:
            # COPY streams the rows as CSV; pandas' C parser builds the columns far faster than Python
            # tuples would. COPY takes no server-side parameters: psycopg binds them client-side.
            buf = io.BytesIO()
            with driver.cursor() as cur:
                with cur.copy(f"COPY ({self.params(sql)}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                    for chunk in copy:
                        buf.write(chunk)
            if buf.getbuffer().nbytes == 0:
                return _empty(columns)
            buf.seek(0)
            dtypes = {n: (np.int64 if k == "i" else object) for n, k in columns.items()}
            return pd.read_csv(
                buf, header=None, names=names, dtype=dtypes, keep_default_na=False, na_filter=False
            )
        cur = driver.cursor()
        try:
            rows = cur.execute(sql, params).fetchall()
        finally:
            cur.close()
        if not rows:
            return _empty(columns)
        # Straight into typed columns: pandas would otherwise inspect every value to infer a dtype.
        record = np.dtype([(n, np.int64 if k == "i" else object) for n, k in columns.items()])
        table = np.fromiter(rows, dtype=record, count=len(rows))
        data: dict[str, Any] = {}
        for n, k in columns.items():
            column = table[n]
            if k == "o":
                column = np.where(np.equal(column, None), "", column)  # type: ignore[call-overload]  # numpy stubs: no None
                data[n] = pd.Series(column, dtype=object, copy=False)
            else:
                data[n] = column
        return pd.DataFrame(data, copy=False)


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({n: pd.Series(dtype=np.int64 if k == "i" else object) for n, k in columns.items()})


def _exponent_sql(currency: str) -> str:
    by_exp: dict[int, list[str]] = {}
    for code, exp in CURRENCY_EXPONENTS.items():
        by_exp.setdefault(exp, []).append(code)
    cases = " ".join(
        f"WHEN UPPER({currency}) IN ({', '.join(repr(c) for c in sorted(codes))}) THEN {exp}"
        for exp, codes in sorted(by_exp.items())
    )
    return f"(CASE {cases} ELSE 2 END)"


def _sqlite_exact_minor(amount: str, currency: str) -> str:
    """Minor units of a canonical decimal text, rounded half up, as text arithmetic (no binary float)."""
    a = f"LTRIM({amount}, '-')"
    p = f"INSTR({a}, '.')"
    ip = f"(CASE WHEN {p} = 0 THEN {a} ELSE SUBSTR({a}, 1, {p} - 1) END)"
    fp = f"(CASE WHEN {p} = 0 THEN '' ELSE SUBSTR({a}, {p} + 1) END)"
    parts = []
    for exp in sorted({2, *CURRENCY_EXPONENTS.values()}):
        scaled = (
            f"(CAST({ip} AS INTEGER) * {10**exp} + CAST(SUBSTR({fp} || '0000', 1, {exp}) AS INTEGER)"
            f" + (SUBSTR({fp} || '00000', {exp + 1}, 1) >= '5'))"
        )
        parts.append(f"WHEN {exp} THEN {scaled}")
    value = f"(CASE {_exponent_sql(currency)} {' '.join(parts)} END)"
    return f"(CASE WHEN SUBSTR({amount}, 1, 1) = '-' THEN -{value} ELSE {value} END)"


def _minor(frame: pd.DataFrame) -> np.ndarray:
    """Exact minor units from (digits, point, length, currency): digits x 10^(e - decimals), or rounded
    half up (away from zero) when the amount has more decimals than its currency."""
    digits = frame["digits"].to_numpy(dtype=np.int64)
    point = frame["point"].to_numpy(dtype=np.int64)
    length = frame["length"].to_numpy(dtype=np.int64)
    exp = frame["currency"].map(CURRENCY_EXPONENTS).fillna(2).to_numpy(dtype=np.int64)
    decimals = np.where(point > 0, length - point, 0)
    shift = exp - decimals
    up = digits * 10 ** np.clip(shift, 0, 18)
    scale = 10 ** np.clip(-shift, 0, 18)
    mag = np.abs(digits)
    down = np.sign(digits) * (mag // scale + (2 * (mag % scale) >= scale))
    return np.where(point < 0, digits, np.where(shift >= 0, up, down))


_LONG = 18  # characters of decimal text whose digits always fit a signed 64-bit integer


def _exact_long(frame: pd.DataFrame, sql: _Sql, *, table: str, key: str) -> None:
    """Rows whose amount text is longer than `_LONG` characters (NUMERIC(20, 6) allows 21) get their minor
    units from the database's exact computation instead (a handful in any real store, usually none)."""
    if sql.pg or not len(frame):
        return
    long_rows = frame["length"].to_numpy() > _LONG
    if not long_rows.any():
        return
    if table == "orders":
        amount, currency = "t.total", "t.currency"
    else:
        amount = "t.amount"
        currency = (
            "(SELECT o.currency FROM orders o WHERE o.store = t.store AND o.remote_id = t.order_remote_id)"
        )
    ids = _values(frame.loc[long_rows, key])
    exact: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):  # chunks of ids, not rows
        chunk = ids[start : start + _CHUNK]
        names = ", ".join(f":i{i}" for i in range(len(chunk)))
        rows = sql.frame(
            f"SELECT t.remote_id, {sql.exact_minor(amount, currency)} FROM {table} t "
            f"WHERE t.store = :store AND t.remote_id IN ({names})",
            {"store": sql.store, **{f"i{i}": v for i, v in enumerate(chunk)}},
            {"id": "i", "minor": "i"},
        )
        exact.update(zip(_values(rows["id"]), _values(rows["minor"]), strict=True))
    frame.loc[long_rows, "digits"] = frame.loc[long_rows, key].map(exact).to_numpy(dtype=np.int64)
    frame.loc[long_rows, "point"] = -1


def _values(values: Any) -> list[Any]:
    """Plain Python values (ints, strs) of a column or array, for query parameters."""
    return np.asarray(values, dtype=object).tolist()


def _typed_orders(frame: pd.DataFrame, sql: _Sql) -> pd.DataFrame:
    _exact_long(frame, sql, table="orders", key="order_id")
    frame["total"] = _minor(frame)
    frame["paid"] = frame["paid"].to_numpy() != 0
    frame["touched"] = frame["touched"].to_numpy() != 0
    return frame.drop(columns=["digits", "point", "length"])


def _typed_refunds(frame: pd.DataFrame, sql: _Sql) -> pd.DataFrame:
    _exact_long(frame, sql, table="order_refunds", key="refund_id")
    frame["amount"] = _minor(frame)
    return frame[["order_id", "refund_id", "amount", "t_created"]]


def _codes(*arrays: np.ndarray) -> list[np.ndarray]:
    """One integer key space for several text columns (`""` -> -1), so matching joins integers."""
    joined = np.concatenate([np.asarray(a, dtype=object) for a in arrays])
    codes, uniques = pd.factorize(joined)
    empty = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
    if len(empty):
        codes = np.where(codes == empty[0], -1, codes)
    out, start = [], 0
    for a in arrays:
        out.append(codes[start : start + len(a)].astype(np.int64))
        start += len(a)
    return out


class _Keys:
    """Codes of charge ids, alternate ids, transaction ids and refund parents in one key space, and which
    codes are a charge's id or alternate id (arrays indexed by code; code -1, "none", is the last slot)."""

    def __init__(self, charges: pd.DataFrame, orders: pd.DataFrame, children: pd.DataFrame) -> None:
        self.id, self.alt, self.txn, self.parent = _codes(
            charges["id"].to_numpy(),
            charges["alt"].to_numpy(),
            orders["txn"].to_numpy(),
            children["parent"].to_numpy(),
        )
        self.size = 1 + max(
            (int(a.max()) for a in (self.id, self.alt, self.txn, self.parent) if len(a)), default=-1
        )
        self.is_charge = np.zeros(self.size + 1, dtype=bool)
        self.is_charge[self.id] = True
        self.is_alt = np.zeros(self.size + 1, dtype=bool)
        self.is_alt[self.alt[self.alt >= 0]] = True


def _method_filter(
    settings: ReconciliationSettings, gateway: str, params: dict[str, Any], tag: str = ""
) -> str:
    """SQL that is true for orders whose payment method maps to `gateway` (exact ids win over prefixes,
    longer prefixes over shorter). Parameter names start with `tag`."""
    exact, prefixes = settings.methods_of(gateway)
    others_exact = sorted(
        m for m, g in settings.payment_methods.items() if g != gateway and not m.endswith("*")
    )
    others_prefix = sorted(
        m[:-1] for m, g in settings.payment_methods.items() if g != gateway and m.endswith("*")
    )
    terms = []
    if exact:
        for i, m in enumerate(exact):
            params[f"{tag}m{i}"] = m
        terms.append(f"o.payment_method IN ({', '.join(f':{tag}m{i}' for i in range(len(exact)))})")
    for j, m in enumerate(others_exact):
        params[f"{tag}x{j}"] = m
    for i, prefix in enumerate(prefixes):
        params[f"{tag}p{i}"] = prefix
        cond = [f"SUBSTR(o.payment_method, 1, {len(prefix)}) = :{tag}p{i}"]
        if others_exact:
            names = ", ".join(f":{tag}x{j}" for j in range(len(others_exact)))
            cond.append(f"o.payment_method NOT IN ({names})")
        for j, q in enumerate(q for q in others_prefix if q.startswith(prefix) and len(q) > len(prefix)):
            params[f"{tag}q{i}_{j}"] = q
            cond.append(f"SUBSTR(o.payment_method, 1, {len(q)}) <> :{tag}q{i}_{j}")
        terms.append("(" + " AND ".join(cond) + ")")
    return "(" + (" OR ".join(terms) or "1 = 0") + ")"


def read_sides(
    conn: Connection,
    *,
    gateways: Sequence[str],
    store: str,
    window: Window,
    settings: ReconciliationSettings,
    store_conn: Connection | None = None,
) -> Sides:
    """Read everything reconciling the `gateways`' `window` against `store` needs (see the module
    docstring), for all of them at once: each table is read once however many gateways there are.
    `Sides.of(gateway)` is one gateway's part.

    `store_conn`, a second connection in the same snapshot (PostgreSQL), reads the store's side while
    `conn` reads the gateways', so the server works on both at once.
    """
    sql = _Sql(conn, store)
    lo, hi = window.start - settings.margin, window.end + settings.margin
    params: dict[str, Any] = {
        "store": store,
        "lo": sql.time(lo),
        "hi": sql.time(hi),
        "ws": sql.time(window.start),
        "we": sql.time(window.end),
    }
    gateway_list = ", ".join(f":g{i}" for i in range(len(gateways)))
    params.update({f"g{i}": g for i, g in enumerate(gateways)})
    methods = (
        "(" + " OR ".join(_method_filter(settings, g, params, f"g{i}") for i, g in enumerate(gateways)) + ")"
    )
    # `+column` (SQLite): not through the time indexes, for windows covering much of the table.
    plus = "+" if not sql.pg and hi - lo > SCAN_AFTER else ""
    in_range = (
        f"(({plus}o.date_created_gmt >= :lo AND {plus}o.date_created_gmt < :hi) OR "
        f"({plus}o.date_paid_gmt >= :lo AND {plus}o.date_paid_gmt < :hi) OR "
        f"({plus}o.date_modified_gmt >= :ws AND {plus}o.date_modified_gmt < :we))"
    )

    def order_select(method: str) -> str:
        return (
            "SELECT o.remote_id, o.status, o.transaction_id, o.currency, "
            f"{sql.decimal('o.total', 'o.currency')}, "
            f"{sql.epoch('COALESCE(o.date_paid_gmt, o.date_created_gmt)')}, "
            f"{sql.flag('o.date_paid_gmt IS NOT NULL')}, "
            f"{sql.flag('o.date_modified_gmt >= :ws AND o.date_modified_gmt < :we')}, {method} FROM orders o "
        )

    live = "o.store = :store AND o.deleted_at IS NULL AND o.remote_id IS NOT NULL"
    refund_select = (
        f"SELECT r.order_remote_id, r.remote_id, {sql.decimal('r.amount', 'o.currency')}, o.currency, "
        f"{sql.epoch('r.date_created_gmt')} FROM order_refunds r "
        "JOIN orders o ON o.store = r.store AND o.remote_id = r.order_remote_id "
    )

    def store_side(side: _Sql) -> tuple[pd.DataFrame, pd.DataFrame]:
        orders = _typed_orders(
            side.frame(
                f"{order_select('o.payment_method')} WHERE {live} AND {methods} AND {in_range}",
                params,
                ORDER_COLUMNS,
            ),
            side,
        )
        refunds = _typed_refunds(
            side.frame(
                f"{refund_select} WHERE r.store = :store AND {live} AND {methods} AND {in_range}",
                params,
                REFUND_COLUMNS,
            ),
            side,
        )
        return orders, refunds

    charge_select = (
        f"SELECT t.gateway, t.gateway_id, COALESCE(t.alt_id, ''), COALESCE(t.order_id, {NO_ORDER}), "
        "CASE t.status WHEN 'succeeded' THEN (CASE WHEN t.captured THEN 0 ELSE 1 END) WHEN 'pending' THEN 2 "
        "WHEN 'failed' THEN 3 ELSE 4 END, "
        f"t.amount_minor, t.currency, t.amount_refunded_minor, {sql.epoch('t.created_at')}, t.decline_code "
        "FROM gateway_transactions t "
    )
    charge_where = f"t.gateway IN ({gateway_list}) AND t.kind = 'charge'"
    child_select = (
        "SELECT t.gateway, t.gateway_id, t.parent_id, t.kind, t.status, t.amount_minor, "
        f"{sql.epoch('t.created_at')}, {sql.epoch('t.updated_at')} FROM gateway_transactions t "
    )
    child_where = f"t.gateway IN ({gateway_list}) AND t.kind IN ('refund', 'dispute')"

    if store_conn is None:
        orders, refunds = store_side(sql)
    else:  # PostgreSQL: the server reads the store's side on a second connection meanwhile
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nxt-reconcile-read")
        pending = pool.submit(store_side, _Sql(store_conn, store))
    try:
        charges = sql.frame(
            f"{charge_select} WHERE {charge_where} AND t.created_at >= :lo AND t.created_at < :hi",
            params,
            CHARGE_COLUMNS,
        )
        children = sql.frame(
            f"{child_select} WHERE {child_where} AND (t.created_at >= :lo "
            "OR (t.updated_at >= :ws AND t.updated_at < :we))",
            params,
            CHILD_COLUMNS,
        )
    finally:
        if store_conn is not None:
            orders, refunds = pending.result()  # waits for it even when the gateway side failed
            pool.shutdown()

    def by_ids(select: str, column: str, ids: list[Any], where: str, columns: dict[str, str]) -> pd.DataFrame:
        """Rows whose `column` is one of `ids`, in chunks of `_CHUNK` (a loop over chunks, not rows)."""
        frames = []
        unique = sorted(set(ids))  # a few ids (what the ranges missed), not the window's rows
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            local = dict(params)
            local.update({f"i{i}": value for i, value in enumerate(chunk)})
            names = ", ".join(f":i{i}" for i in range(len(chunk)))
            frames.append(sql.frame(f"{select} WHERE {where} AND {column} IN ({names})", local, columns))
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else _empty(columns)

    # Refunds and disputes of charges created after the range (`created_at >= :lo` has no upper bound)
    # are not this window's unless they moved in it; the charges of those that did are looked up.
    ws_s, we_s = int(window.start.timestamp()), int(window.end.timestamp())
    k_created, k_updated = children["created"].to_numpy(), children["updated"].to_numpy()
    moved = ((k_created >= ws_s) & (k_created < we_s)) | ((k_updated >= ws_s) & (k_updated < we_s))
    keys = _Keys(charges, orders, children)
    parent_read = keys.is_charge[keys.parent]
    keep = parent_read | moved
    parents = _values(np.unique(children["parent"].to_numpy(dtype=object)[keep & ~parent_read]))
    children = children[keep].reset_index(drop=True)
    keys.parent = keys.parent[keep]

    # Charges the ranges missed: an order's transaction id names no charge read (by id or alternate id),
    # or an order with a transaction id has no charge naming it.
    txn = keys.txn
    unmatched = (txn >= 0) & ~keys.is_charge[txn] & ~keys.is_alt[txn]
    txns = _values(np.unique(orders["txn"].to_numpy(dtype=object)[unmatched]))
    o_ids = orders["order_id"].to_numpy()
    unnamed = _values(o_ids[(txn >= 0) & ~np.isin(o_ids, charges["order_id"].to_numpy())])
    more = [
        by_ids(charge_select, "t.gateway_id", parents + txns, charge_where, CHARGE_COLUMNS),
        by_ids(charge_select, "t.alt_id", txns, charge_where, CHARGE_COLUMNS),
        by_ids(charge_select, "t.order_id", unnamed, charge_where, CHARGE_COLUMNS),
    ]
    more = [f for f in more if len(f)]
    if more:
        extra = pd.concat(more, ignore_index=True).drop_duplicates("id")
        extra = extra[~extra["id"].isin(charges["id"].to_numpy(dtype=object))]
        if len(extra):
            charges = pd.concat([charges, extra], ignore_index=True)
            kids = by_ids(child_select, "t.parent_id", _values(extra["id"]), child_where, CHILD_COLUMNS)
            if len(kids):
                children = pd.concat([children, kids], ignore_index=True)
                children = children.drop_duplicates("id").reset_index(drop=True)
            keys = _Keys(charges, orders, children)

    # Orders the charges name (by metadata, or as their transaction id) that the ranges did not read.
    c_orders = charges["order_id"].to_numpy()
    named = (c_orders != NO_ORDER) & ~np.isin(c_orders, o_ids)
    wanted_ids = _values(np.unique(c_orders[named]))
    is_txn = np.zeros(keys.size + 1, dtype=bool)
    is_txn[keys.txn[keys.txn >= 0]] = True
    nameless = c_orders == NO_ORDER
    by_id = nameless & (keys.id >= 0) & ~is_txn[keys.id]
    by_alt = nameless & (keys.alt >= 0) & ~is_txn[keys.alt]
    wanted_txns = _values(
        np.unique(
            np.concatenate(
                [charges["id"].to_numpy(dtype=object)[by_id], charges["alt"].to_numpy(dtype=object)[by_alt]]
            )
        )
    )
    found = [
        by_ids(order_select("o.payment_method"), "o.remote_id", wanted_ids, live, ORDER_COLUMNS),
        by_ids(order_select("o.payment_method"), "o.transaction_id", wanted_txns, live, ORDER_COLUMNS),
    ]
    found = [f for f in found if len(f)]
    if found:
        extra_orders = _typed_orders(pd.concat(found, ignore_index=True), sql)
        extra_orders = extra_orders[~extra_orders["order_id"].isin(o_ids)].drop_duplicates("order_id")
        if len(extra_orders):
            orders = pd.concat([orders, extra_orders], ignore_index=True)
            ids = _values(extra_orders["order_id"])
            more_refunds = by_ids(
                refund_select, "r.order_remote_id", ids, f"r.store = :store AND {live}", REFUND_COLUMNS
            )
            if len(more_refunds):
                refunds = pd.concat([refunds, _typed_refunds(more_refunds, sql)], ignore_index=True)
            keys = _Keys(charges, orders, children)
    methods_seen = _values(pd.unique(orders["method"].to_numpy(dtype=object)))
    gateway_of = {m: settings.gateway_of(m) or "" for m in methods_seen}
    orders["gateway"] = orders["method"].map(gateway_of)

    # The matching keys: charge ids, alternate ids, transaction ids and refund parents share codes.
    charges["id_k"], charges["alt_k"], orders["txn_k"], children["parent_k"] = (
        keys.id,
        keys.alt,
        keys.txn,
        keys.parent,
    )
    payout_select = (
        "SELECT p.gateway, p.gateway_id, p.amount_minor, p.fee_minor, p.currency, "
        f"{sql.epoch('p.created_at')}, p.status, COUNT(e.id), COALESCE(SUM(e.net_minor), 0), "
        "COALESCE(SUM(CASE WHEN e.currency <> p.currency THEN 1 ELSE 0 END), 0) "
        "FROM payouts p LEFT JOIN payout_entries e ON e.gateway = p.gateway AND e.payout_id = p.gateway_id "
        "AND e.type <> 'payout' "
        f"WHERE p.gateway IN ({gateway_list}) AND p.created_at >= :ws AND p.created_at < :we "
        "GROUP BY p.id, p.gateway, p.gateway_id, p.amount_minor, p.fee_minor, p.currency, p.created_at, "
        "p.status"
    )
    payouts = sql.frame(payout_select, params, PAYOUT_COLUMNS)
    return Sides(orders=orders, order_refunds=refunds, charges=charges, children=children, payouts=payouts)


def totals(conn: Connection, sides: Sides, *, gateway: str, window: Window) -> list[dict[str, Any]]:
    """Per currency, the gateway's money in the window: succeeded captured charges (count, gross), their
    fees (in the currency they were charged in: the settlement currency), refunds and disputes created in
    the window (disputes: count, open, amount). From the frames already read; fees summed by the database.
    """
    ws, we = int(window.start.timestamp()), int(window.end.timestamp())
    c = sides.charges
    created = c["created"].to_numpy()
    in_w = (created >= ws) & (created < we) & (c["rank"].to_numpy() == 0)
    gross = c[in_w].groupby("currency")["amount"].agg(["count", "sum"])
    k = sides.children
    kc = k["created"].to_numpy()
    in_kw = (kc >= ws) & (kc < we)
    id_k, parent_k = c["id_k"].to_numpy(), k["parent_k"].to_numpy()
    charge_of_key = np.full(int(max(id_k.max(initial=-1), parent_k.max(initial=-1))) + 2, -1)
    charge_of_key[id_k] = np.arange(len(c))
    parent_pos = charge_of_key[parent_k]
    in_kw &= parent_pos >= 0
    k = k[in_kw].assign(currency=c["currency"].to_numpy(dtype=object)[parent_pos[in_kw]])
    refunds = (
        k[(k["kind"] == "refund") & (k["status"] != "failed")]
        .groupby("currency")["amount"]
        .agg(["count", "sum"])
    )
    disputes = k[k["kind"] == "dispute"]
    dispute_sums = disputes.groupby("currency")["amount"].agg(["count", "sum"])
    dispute_open = disputes[disputes["status"] == "open"].groupby("currency").size()
    sql = _Sql(conn)
    fees = sql.frame(
        "SELECT COALESCE(settlement_currency, currency), COALESCE(SUM(fee_minor), 0) "
        "FROM gateway_transactions "
        "WHERE gateway = :g AND kind = 'charge' AND status = 'succeeded' AND captured = :yes "
        "AND created_at >= :ws AND created_at < :we GROUP BY COALESCE(settlement_currency, currency)",
        {"g": gateway, "yes": True, "ws": sql.time(window.start), "we": sql.time(window.end)},
        {"currency": "o", "fees": "i"},
    )
    fee_of = dict(zip(_values(fees["currency"]), _values(fees["fees"]), strict=True))
    currencies = sorted(
        {*_values(gross.index), *_values(refunds.index), *_values(dispute_sums.index), *fee_of}
    )

    def get(frame: pd.DataFrame | pd.Series, currency: str, column: str | None = None) -> int:
        if currency not in frame.index:
            return 0
        return int(frame.at[currency, column] if column else frame.at[currency])

    out = []
    for cur in currencies:  # a handful of currencies
        row = {
            "currency": cur,
            "charges": get(gross, cur, "count"),
            "gross_minor": get(gross, cur, "sum"),
            "fees_minor": int(fee_of.get(cur, 0)),
            "refunds": get(refunds, cur, "count"),
            "refunds_minor": get(refunds, cur, "sum"),
            "disputes": get(dispute_sums, cur, "count"),
            "disputes_open": get(dispute_open, cur),
            "disputes_minor": get(dispute_sums, cur, "sum"),
        }
        row["net_minor"] = row["gross_minor"] - row["refunds_minor"] - row["fees_minor"]
        out.append(row)
    return out
