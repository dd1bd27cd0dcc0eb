"""Reading both sides of one gateway's window into DataFrames, set-wise.

Only the columns matching needs are read, with the conversions done by the database: times as epoch
seconds (`NO_TIME` for none), WooCommerce's decimal totals as exact integer minor units of their
currency, empty strings for absent ids. Large reads go through the driver's cursor directly (SQLite
`fetchall`; PostgreSQL `COPY ... TO STDOUT` parsed by pandas' C reader), small lookups by id in chunks.

What is read for gateway G, store S and window W = [start, end), margin M:
- orders of S paid through G (`payment_method` mapped to G) created or paid in [start - M, end + M), or
  modified in W; their refunds (`order_refunds`);
- G's charges created in [start - M, end + M); refunds and disputes of those charges, and any refund or
  dispute created or updated in W (with their charges);
- then lookups, by id, of what those name but the time ranges missed: orders named by a charge's
  metadata or whose `transaction_id` names a charge (any payment method, to tell an order of another
  gateway from a missing one), charges named by an order's `transaction_id` or naming an order, and the
  refunds and disputes of charges found that way;
- G's payouts created in W with the net of their entries (summed by the database).
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from hub.ledger import CURRENCY_EXPONENTS
from hub.reconciliation.settings import ReconciliationSettings, Window
from hub.types import UTCDateTime

NO_TIME = -1  # epoch seconds standing for "no time" (no order is older than 1970)
NO_ORDER = -1  # order id standing for "names no order"
_CHUNK = 500  # ids per IN (...) list

ORDER_COLUMNS = [
    "order_id",
    "status",
    "txn",
    "currency",
    "total",
    "t_created",
    "t_paid",
    "t_modified",
    "method",
]
REFUND_COLUMNS = ["order_id", "refund_id", "amount", "t_created"]
CHARGE_COLUMNS = [
    "id",
    "alt",
    "order_id",
    "status",
    "captured",
    "amount",
    "currency",
    "refunded",
    "created",
    "decline",
]
CHILD_COLUMNS = ["id", "parent", "kind", "status", "amount", "created", "updated"]
PAYOUT_COLUMNS = ["id", "amount", "fee", "currency", "created", "status", "entries", "entries_net", "foreign"]


@dataclass
class Sides:
    """What one gateway's window reconciles: the store's side and the gateway's."""

    orders: pd.DataFrame  # ORDER_COLUMNS (+ `gateway`)
    order_refunds: pd.DataFrame  # REFUND_COLUMNS
    charges: pd.DataFrame  # CHARGE_COLUMNS
    children: pd.DataFrame  # CHILD_COLUMNS: refunds and disputes
    payouts: pd.DataFrame  # PAYOUT_COLUMNS


class _Sql:
    """SQL fragments and execution for one dialect."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
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

    def minor(self, amount: str, currency: str) -> str:
        """A `Money` column in integer minor units of `currency`, rounded half up (what the payment plugins
        send: WooCommerce totals carry the store's decimals, gateways take the currency's)."""
        by_exp: dict[int, list[str]] = {}
        for code, exp in CURRENCY_EXPONENTS.items():
            by_exp.setdefault(exp, []).append(code)
        cases = " ".join(
            f"WHEN UPPER({currency}) IN ({', '.join(repr(c) for c in sorted(codes))}) THEN {exp}"
            for exp, codes in sorted(by_exp.items())
        )
        exp_sql = f"(CASE {cases} ELSE 2 END)"
        if self.pg:  # NUMERIC is exact: scale, round half away from zero, cast
            return f"CAST(ROUND({amount} * POWER(10, {exp_sql})) AS BIGINT)"
        # SQLite keeps `Money` as canonical decimal text ("12.5", "-3", "0.125"): scale it as text so no
        # binary float is involved. e digits after the point, plus one for rounding.
        a = f"LTRIM({amount}, '-')"
        p = f"INSTR({a}, '.')"
        ip = f"(CASE WHEN {p} = 0 THEN {a} ELSE SUBSTR({a}, 1, {p} - 1) END)"
        fp = f"(CASE WHEN {p} = 0 THEN '' ELSE SUBSTR({a}, {p} + 1) END)"
        parts = []
        for exp in sorted({2, *by_exp}):
            scaled = (
                f"(CAST({ip} AS INTEGER) * {10**exp} + CAST(SUBSTR({fp} || '0000', 1, {exp}) AS INTEGER)"
                f" + (SUBSTR({fp} || '00000', {exp + 1}, 1) >= '5'))"
            )
            parts.append(f"WHEN {exp} THEN {scaled}")
        value = f"(CASE {exp_sql} {' '.join(parts)} END)"
        return f"(CASE WHEN SUBSTR({amount}, 1, 1) = '-' THEN -{value} ELSE {value} END)"

    def params(self, sql: str) -> str:
        # Written with :name placeholders (sqlite3's named style); psycopg wants %(name)s.
        return re.sub(r"(?<!:):([a-z_][a-z0-9_]*)", r"%(\1)s", sql) if self.pg else sql

    def frame(self, sql: str, params: dict[str, Any], columns: list[str]) -> pd.DataFrame:
        driver = self.conn.connection.driver_connection
        assert driver is not None
        if self.pg:
            # COPY streams the rows as CSV; pandas' C parser builds the columns far faster than Python
            # tuples would (a million rows: ~1 s instead of ~3 s).
            buf = io.BytesIO()
            with driver.cursor() as cur:  # COPY takes no server-side parameters: psycopg binds them here
                with cur.copy(f"COPY ({self.params(sql)}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                    for chunk in copy:
                        buf.write(chunk)
            buf.seek(0)
            if buf.getbuffer().nbytes == 0:
                return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            return pd.read_csv(
                buf,
                header=None,
                names=columns,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
            )
        cur = driver.cursor()
        try:
            rows = cur.execute(sql, params).fetchall()
        finally:
            cur.close()
        return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def _ints(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    # The SQL gives every integer column a value (COALESCE), so no NULL turns a column into floats.
    for c in columns:
        frame[c] = frame[c].astype(np.int64)


def _texts(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    # One text dtype everywhere (pandas' `str`, which it infers for any new frame): merges refuse to join
    # `object` keys with `str` ones.
    for c in columns:
        frame[c] = frame[c].fillna("").astype(str)


def _bools(frame: pd.DataFrame, columns: Iterable[str]) -> None:
    for c in columns:
        col = frame[c]
        if col.dtype == object:
            col = col.map({"t": True, "f": False, "true": True, "false": False, True: True, False: False})
        frame[c] = col.fillna(True).astype(bool)


def _typed_orders(frame: pd.DataFrame) -> pd.DataFrame:
    _ints(frame, ["order_id", "total", "t_created", "t_paid", "t_modified"])
    frame["currency"] = frame["currency"].fillna("").str.upper()
    _texts(frame, ["status", "txn", "currency", "method"])
    return frame


def _typed_refunds(frame: pd.DataFrame) -> pd.DataFrame:
    _ints(frame, ["order_id", "refund_id", "amount", "t_created"])
    return frame


def _typed_charges(frame: pd.DataFrame) -> pd.DataFrame:
    _ints(frame, ["amount", "refunded", "created", "order_id"])
    _texts(frame, ["id", "alt", "status", "currency", "decline"])
    _bools(frame, ["captured"])
    return frame


def _typed_children(frame: pd.DataFrame) -> pd.DataFrame:
    _ints(frame, ["amount", "created", "updated"])
    _texts(frame, ["id", "parent", "kind", "status"])
    return frame


def _typed_payouts(frame: pd.DataFrame) -> pd.DataFrame:
    _ints(frame, ["amount", "fee", "created", "entries", "entries_net", "foreign"])
    _texts(frame, ["id", "currency", "status"])
    return frame


def _method_filter(settings: ReconciliationSettings, gateway: str, params: dict[str, Any]) -> str:
    """SQL that is true for orders whose payment method maps to `gateway` (exact ids win over prefixes,
    longer prefixes over shorter)."""
    exact, prefixes = settings.methods_of(gateway)
    others_exact = sorted(
        m for m, g in settings.payment_methods.items() if g != gateway and not m.endswith("*")
    )
    others_prefix = sorted(
        m[:-1] for m, g in settings.payment_methods.items() if g != gateway and m.endswith("*")
    )
    terms = []
    if exact:
        names = []
        for i, m in enumerate(exact):
            params[f"m{i}"] = m
            names.append(f":m{i}")
        terms.append(f"o.payment_method IN ({', '.join(names)})")
    for i, prefix in enumerate(prefixes):
        params[f"p{i}"] = prefix
        cond = [f"SUBSTR(o.payment_method, 1, {len(prefix)}) = :p{i}"]
        for j, m in enumerate(others_exact):
            params[f"x{j}"] = m
        if others_exact:
            cond.append(f"o.payment_method NOT IN ({', '.join(f':x{j}' for j in range(len(others_exact)))})")
        for j, q in enumerate(p for p in others_prefix if p.startswith(prefix) and len(p) > len(prefix)):
            params[f"q{i}_{j}"] = q
            cond.append(f"SUBSTR(o.payment_method, 1, {len(q)}) <> :q{i}_{j}")
        terms.append("(" + " AND ".join(cond) + ")")
    return "(" + (" OR ".join(terms) or "1 = 0") + ")"


def read_sides(
    conn: Connection, *, gateway: str, store: str, window: Window, settings: ReconciliationSettings
) -> Sides:
    """Read everything reconciling `gateway`'s `window` against `store` needs (see the module docstring)."""
    sql = _Sql(conn)
    lo, hi = window.start - settings.margin, window.end + settings.margin
    params: dict[str, Any] = {
        "store": store,
        "g": gateway,
        "lo": sql.time(lo),
        "hi": sql.time(hi),
        "ws": sql.time(window.start),
        "we": sql.time(window.end),
    }
    methods = _method_filter(settings, gateway, params)
    in_range = (
        "((o.date_created_gmt >= :lo AND o.date_created_gmt < :hi) OR "
        "(o.date_paid_gmt >= :lo AND o.date_paid_gmt < :hi) OR "
        "(o.date_modified_gmt >= :ws AND o.date_modified_gmt < :we))"
    )
    order_select = (
        f"SELECT o.remote_id, o.status, o.transaction_id, o.currency, {sql.minor('o.total', 'o.currency')}, "
        f"{sql.epoch('o.date_created_gmt')}, {sql.epoch('o.date_paid_gmt')}, "
        f"{sql.epoch('o.date_modified_gmt')}, o.payment_method FROM orders o "
    )
    live = "o.store = :store AND o.deleted_at IS NULL AND o.remote_id IS NOT NULL"
    orders = _typed_orders(
        sql.frame(f"{order_select} WHERE {live} AND {methods} AND {in_range}", params, ORDER_COLUMNS)
    )
    refund_select = (
        f"SELECT r.order_remote_id, r.remote_id, {sql.minor('r.amount', 'o.currency')}, "
        f"{sql.epoch('r.date_created_gmt')} FROM order_refunds r "
        "JOIN orders o ON o.store = r.store AND o.remote_id = r.order_remote_id "
    )
    refunds = _typed_refunds(
        sql.frame(
            f"{refund_select} WHERE r.store = :store AND {live} AND {methods} AND {in_range}",
            params,
            REFUND_COLUMNS,
        )
    )

    charge_select = (
        f"SELECT t.gateway_id, t.alt_id, COALESCE(t.order_id, {NO_ORDER}), t.status, t.captured, "
        "t.amount_minor, t.currency, "
        f"t.amount_refunded_minor, {sql.epoch('t.created_at')}, t.decline_code FROM gateway_transactions t "
    )
    charges = _typed_charges(
        sql.frame(
            f"{charge_select} WHERE t.gateway = :g AND t.kind = 'charge' "
            "AND t.created_at >= :lo AND t.created_at < :hi",
            params,
            CHARGE_COLUMNS,
        )
    )
    child_select = (
        "SELECT t.gateway_id, t.parent_id, t.kind, t.status, t.amount_minor, "
        f"{sql.epoch('t.created_at')}, {sql.epoch('t.updated_at')} FROM gateway_transactions t "
    )
    children = _typed_children(
        sql.frame(
            f"{child_select} WHERE t.gateway = :g AND t.kind IN ('refund', 'dispute') AND ("
            "t.parent_id IN (SELECT c.gateway_id FROM gateway_transactions c WHERE c.gateway = :g "
            "AND c.kind = 'charge' AND c.created_at >= :lo AND c.created_at < :hi) "
            "OR (t.created_at >= :ws AND t.created_at < :we) "
            "OR (t.updated_at >= :ws AND t.updated_at < :we))",
            params,
            CHILD_COLUMNS,
        )
    )

    # Lookups by id of what the time ranges missed.
    def by_ids(select: str, column: str, ids: Sequence[Any], where: str, columns: list[str]) -> pd.DataFrame:
        frames = []
        unique = sorted(set(ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            local = dict(params)
            names = []
            for i, value in enumerate(chunk):
                local[f"i{i}"] = value
                names.append(f":i{i}")
            frames.append(
                sql.frame(f"{select} WHERE {where} AND {column} IN ({', '.join(names)})", local, columns)
            )
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        return pd.concat(frames, ignore_index=True)

    charge_where = "t.gateway = :g AND t.kind = 'charge'"
    known = set(charges["id"])
    parents = [p for p in children["parent"].unique() if p and p not in known]
    more_charges = [
        _typed_charges(by_ids(charge_select, "t.gateway_id", parents, charge_where, CHARGE_COLUMNS))
    ]
    # Charges an order names by transaction id (charge or alternate id) or that name an order.
    named = (
        set(charges["id"]) | set(charges["alt"]) | set(more_charges[0]["id"]) | set(more_charges[0]["alt"])
    )
    txns = [t for t in orders["txn"].unique() if t and t not in named]
    named_orders = set(charges["order_id"]) | set(more_charges[0]["order_id"])
    orders_without = [int(o) for o in orders["order_id"] if int(o) not in named_orders]
    # Orders whose txn matched nothing and orders no charge names: are their charges outside the range?
    if txns:
        more_charges.append(
            _typed_charges(by_ids(charge_select, "t.gateway_id", txns, charge_where, CHARGE_COLUMNS))
        )
        more_charges.append(
            _typed_charges(by_ids(charge_select, "t.alt_id", txns, charge_where, CHARGE_COLUMNS))
        )
    if orders_without:
        with_txn = orders.loc[orders["txn"] != "", "order_id"]
        wanted = sorted(set(orders_without) & {int(x) for x in with_txn})
        more_charges.append(
            _typed_charges(by_ids(charge_select, "t.order_id", wanted, charge_where, CHARGE_COLUMNS))
        )
    extra = (
        pd.concat([f for f in more_charges if len(f)], ignore_index=True)
        if any(len(f) for f in more_charges)
        else None
    )
    if extra is not None:
        extra = extra[~extra["id"].isin(known)].drop_duplicates("id")
        if len(extra):
            charges = pd.concat([charges, extra], ignore_index=True)
            kids = by_ids(
                child_select,
                "t.parent_id",
                list(extra["id"]),
                "t.gateway = :g AND t.kind IN ('refund', 'dispute')",
                CHILD_COLUMNS,
            )
            if len(kids):
                children = pd.concat([children, _typed_children(kids)], ignore_index=True).drop_duplicates(
                    "id"
                )

    # Orders the charges name (by metadata or as their transaction id) that the ranges did not read.
    have = set(orders["order_id"])
    wanted_ids = [int(o) for o in charges["order_id"].unique() if o != NO_ORDER and int(o) not in have]
    have_txn = set(orders["txn"])
    unnamed = charges.loc[charges["order_id"] == NO_ORDER]
    wanted_txns = [t for t in set(unnamed["id"]) | set(unnamed["alt"]) if t and t not in have_txn]
    more_orders = []
    if wanted_ids:
        more_orders.append(by_ids(order_select, "o.remote_id", wanted_ids, live, ORDER_COLUMNS))
    if wanted_txns:
        more_orders.append(by_ids(order_select, "o.transaction_id", wanted_txns, live, ORDER_COLUMNS))
    more = [f for f in more_orders if len(f)]
    if more:
        extra_orders = _typed_orders(pd.concat(more, ignore_index=True))
        extra_orders = extra_orders[~extra_orders["order_id"].isin(have)].drop_duplicates("order_id")
        if len(extra_orders):
            orders = pd.concat([orders, extra_orders], ignore_index=True)
            ids = [int(x) for x in extra_orders["order_id"]]
            more_refunds = by_ids(
                refund_select, "r.order_remote_id", ids, f"r.store = :store AND {live}", REFUND_COLUMNS
            )
            if len(more_refunds):
                refunds = pd.concat([refunds, _typed_refunds(more_refunds)], ignore_index=True)
    orders["gateway"] = orders["method"].map(_gateway_mapper(settings))

    payout_select = (
        "SELECT p.gateway_id, p.amount_minor, p.fee_minor, p.currency, "
        f"{sql.epoch('p.created_at')}, p.status, "
        "(SELECT COUNT(*) FROM payout_entries e WHERE e.gateway = p.gateway AND e.payout_id = p.gateway_id "
        "AND e.type <> 'payout'), "
        "(SELECT COALESCE(SUM(e.net_minor), 0) FROM payout_entries e WHERE e.gateway = p.gateway "
        "AND e.payout_id = p.gateway_id AND e.type <> 'payout'), "
        "(SELECT COUNT(*) FROM payout_entries e WHERE e.gateway = p.gateway AND e.payout_id = p.gateway_id "
        "AND e.type <> 'payout' AND e.currency <> p.currency) "
        "FROM payouts p WHERE p.gateway = :g AND p.created_at >= :ws AND p.created_at < :we"
    )
    payouts = _typed_payouts(sql.frame(payout_select, params, PAYOUT_COLUMNS))
    return Sides(orders=orders, order_refunds=refunds, charges=charges, children=children, payouts=payouts)


def _gateway_mapper(settings: ReconciliationSettings) -> Any:
    cache: dict[str, str] = {}

    def gateway_of(method: str) -> str:
        if method not in cache:
            cache[method] = settings.gateway_of(method) or ""
        return cache[method]

    return gateway_of


def read_totals(conn: Connection, *, gateway: str, window: Window) -> list[dict[str, Any]]:
    """Per currency, the gateway's money in the window: charges (gross, count), fees (in the currency they
    were charged in), refunds and disputes created in the window. Sums done by the database."""
    sql = _Sql(conn)
    params = {"g": gateway, "ws": sql.time(window.start), "we": sql.time(window.end)}
    where = "gateway = :g AND created_at >= :ws AND created_at < :we"
    totals: dict[str, dict[str, Any]] = {}

    def row(currency: str) -> dict[str, Any]:
        return totals.setdefault(
            currency,
            {
                "currency": currency,
                "charges": 0,
                "gross_minor": 0,
                "fees_minor": 0,
                "refunds": 0,
                "refunds_minor": 0,
                "disputes": 0,
                "disputes_open": 0,
                "disputes_minor": 0,
            },
        )

    queries = [
        (
            "SELECT currency, COUNT(*), COALESCE(SUM(amount_minor), 0) FROM gateway_transactions "
            f"WHERE {where} AND kind = 'charge' AND status = 'succeeded' AND captured = :yes "
            "GROUP BY currency",
            ("charges", "gross_minor"),
        ),
        (
            "SELECT COALESCE(settlement_currency, currency), COUNT(*), COALESCE(SUM(fee_minor), 0) "
            f"FROM gateway_transactions WHERE {where} AND kind = 'charge' AND status = 'succeeded' "
            "AND captured = :yes GROUP BY COALESCE(settlement_currency, currency)",
            (None, "fees_minor"),
        ),
        (
            "SELECT currency, COUNT(*), COALESCE(SUM(amount_minor), 0) FROM gateway_transactions "
            f"WHERE {where} AND kind = 'refund' AND status <> 'failed' GROUP BY currency",
            ("refunds", "refunds_minor"),
        ),
        (
            "SELECT currency, COUNT(*), COALESCE(SUM(amount_minor), 0), "
            "SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) FROM gateway_transactions "
            f"WHERE {where} AND kind = 'dispute' GROUP BY currency",
            ("disputes", "disputes_minor", "disputes_open"),
        ),
    ]
    params["yes"] = True
    driver = conn.connection.driver_connection
    assert driver is not None
    for query, names in queries:
        cur = driver.cursor()
        try:
            cur.execute(sql.params(query), params)
            for currency, *values in cur.fetchall():
                target = row(str(currency))
                for name, value in zip(names, values, strict=False):
                    if name:
                        target[name] += int(value or 0)
        finally:
            cur.close()
    out = sorted(totals.values(), key=lambda r: r["currency"])
    for r in out:
        r["net_minor"] = r["gross_minor"] - r["refunds_minor"] - r["fees_minor"]
    return out
