"""The payment reconciliation flow: the gateways' ledger in the hub against the store's orders.

`reconcile-payments` reconciles a window (by default the previous UTC day plus a lookback) for each gateway
in one `reconcile-gateway-window` task (`tasks.reconciliation`; the matching is `hub.reconciliation`), and
reports it the way every NXT flow does: the run is named `reconcile-payments/<gateways>/<start>..<end>` and
tagged; each gateway leaves a `reconciliation_runs` row (closed by a state hook if the run crashes or is
cancelled); `dashboard_metrics` (`payment_reconciliation_*`) and `dashboard_events` rows; a table artifact
of the breaks and a markdown artifact of the totals per gateway; an optional CSV file of the items; an
operator alert when the breaks exceed a threshold (`hub.reconciliation.alert_operators`); and the event
`nxt.payments.reconciliation.completed|failed` with the break counts, about `nxt.payments.gateways.<set>`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from flows._hub import open_hub
from flows._runs import RunFailed, capture_client_logs, emit_finished, label_run
from hub.analytics import record_event, record_metrics
from hub.ledger import currency_exponent
from hub.models import utcnow
from hub.reconciliation import (
    CATEGORIES,
    OperatorAlert,
    ReconciliationSettings,
    Window,
    WindowError,
    alert_operators,
    check_gateways,
    close_flow_run_runs,
    count_items,
    default_window,
    finish_run,
    run_items,
    start_run,
    write_csv,
)
from tasks.context import share_engine, unshare_engine
from tasks.policy import EXPECTED_FAILURES
from tasks.reconciliation import reconcile_gateway_window

__all__ = ["ReconciliationFailed", "reconcile_payments", "reconciliation_window"]

FLOW_TIMEOUT_S = 2 * 3600
DEFAULT_LOOKBACK_DAYS = 2
BREAKS_SHOWN = 500  # rows of the breaks artifact and of the returned break table (the CSV has them all)


class ReconciliationFailed(RunFailed):
    """A reconciliation run that could not complete for a gateway; one line naming it and why."""


def reconciliation_window(
    start: datetime | str | None, end: datetime | str | None, lookback_days: int, now: datetime | None = None
) -> Window:
    """The window a run reconciles: `[start, end)`, or the previous UTC day plus `lookback_days` days.

    Raises:
        WindowError: only one of start and end, end not after start, more than 366 days, bad lookback.
    """
    if (start is None) != (end is None):
        raise WindowError("give both start and end, or neither (the previous day plus the lookback)")
    if start is None:
        return default_window(now or utcnow(), lookback_days)
    return Window.of(start, end)


def gateway_set(gateways: list[str] | None) -> str:
    """`all`, or the gateways joined by `+` (`paypal+stripe`): how run names and tags name them."""
    return "all" if gateways is None else "+".join(sorted(set(gateways)))


def _run_name() -> str:
    params = flow_run.parameters
    try:
        window = reconciliation_window(
            params.get("start"), params.get("end"), int(params.get("lookback_days", DEFAULT_LOOKBACK_DAYS))
        )
        label = window.label
    except (WindowError, TypeError, ValueError):
        label = "invalid-window"  # the flow refuses it with the reason as its first act
    return f"reconcile-payments/{gateway_set(params.get('gateways'))}/{label}"


async def _close_interrupted_run(flow: Flow[..., Any], run: FlowRun, state: State[Any]) -> None:
    """State hook (crashed, cancelled): close this flow run's `reconciliation_runs` rows."""
    engine = await open_hub((run.parameters or {}).get("hub"))
    reason = f"flow run {run.id} {(state.name or state.type.value).lower()}: {state.message or 'no message'}"
    with engine.begin() as conn:
        close_flow_run_runs(conn, str(run.id), reason)


_HOOKS: list[Any] = [_close_interrupted_run]  # Prefect types hooks as returning None or an awaitable


@flow(
    name="reconcile-payments",
    flow_run_name=_run_name,
    timeout_seconds=FLOW_TIMEOUT_S,
    on_crashed=_HOOKS,
    on_cancellation=_HOOKS,
)
async def reconcile_payments(
    start: datetime | None = None,
    end: datetime | None = None,
    gateways: list[str] | None = None,
    store: str = "default",
    hub: str | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    grace_hours: dict[str, float] | None = None,
    payment_methods: dict[str, str] | None = None,
    alert_threshold: int = 0,
    csv_path: str | None = None,
    notification_settings: str = "default",
) -> dict[str, Any]:
    """Reconcile the payment gateways' ledger against the store's orders.

    Each gateway's window is matched set-wise (by the order's transaction id, the order id the gateway
    carries, then amount and time) and classified: missing order, missing payment, amount, currency and
    status mismatches, refunds not mirrored, duplicate charges, open disputes, payouts that differ from
    their entries. Discrepancies younger than the gateway's grace window are pending; older ones are breaks.

    Args:
        start: Window start (UTC; a date means midnight). With `end`; both empty: the previous UTC day
            plus `lookback_days` days.
        end: Window end, exclusive. At most 366 days after `start`.
        gateways: Some of stripe, paypal, square, authorizenet; empty for all four.
        store: Name of the WooCommerce Store block whose orders are the other side.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.
        lookback_days: Days before the previous day the default window also covers (late arrivals).
        grace_hours: Per gateway, hours a discrepancy stays pending, e.g. {"paypal": 6}.
        payment_methods: WooCommerce payment method ids to add to the gateway map, e.g.
            {"my_stripe_fork": "stripe"} (an id mapped to "" is removed).
        alert_threshold: Alert operators when the breaks found exceed this many.
        csv_path: Also write the breaks and pending items to this CSV file.
        notification_settings: Notification Settings block naming the operators an alert goes to.

    Returns:
        The run's summary: window, per-gateway results (breaks and pending by category, totals), counts,
        the first breaks as rows, and whether operators were alerted.
    """
    window = reconciliation_window(start, end, lookback_days)
    wanted = check_gateways(gateways)
    settings = ReconciliationSettings.with_overrides(payment_methods=payment_methods, grace_hours=grace_hours)
    if isinstance(alert_threshold, bool) or not isinstance(alert_threshold, int) or alert_threshold < 0:
        raise ValueError(f"alert_threshold must be a number of breaks, 0 or more, not {alert_threshold!r}")
    label = gateway_set(gateways)
    await label_run(["payments", "reconciliation", f"gateways:{label}", f"store:{store}"])
    capture_client_logs()
    engine = await open_hub(hub)
    started, now = time.perf_counter(), utcnow()
    flow_run_id = str(flow_run.id) if flow_run.id else None
    with engine.begin() as conn:
        runs = {
            g: start_run(conn, gateway=g, store=store, window=window, flow_run_id=flow_run_id) for g in wanted
        }
    key = share_engine(engine)
    results: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    try:
        for gateway in wanted:  # one after another: SQLite has one writer, and the work is CPU-bound
            try:
                results[gateway] = await reconcile_gateway_window(
                    key,
                    gateway,
                    store,
                    window.label,
                    runs[gateway],
                    now.isoformat(),
                    grace_hours=grace_hours,
                    payment_methods=payment_methods,
                )
            except EXPECTED_FAILURES as exc:
                failures[gateway] = _one_line(exc)
            except BaseException as exc:  # a bug or a kill: close the rows, then let it propagate
                failures[gateway] = _one_line(exc)
                _close_runs(engine, runs, results, failures)
                raise
    finally:
        unshare_engine(key)
    _close_runs(engine, runs, results, failures)
    summary = _summary(engine, window, label, store, runs, results, failures, started, settings)
    csv_error = None
    if csv_path:
        with engine.connect() as conn:
            try:
                summary["csv_rows"] = write_csv(conn, list(runs.values()), csv_path)
                summary["csv_path"] = csv_path
            except EXPECTED_FAILURES as exc:
                csv_error = _one_line(exc)
    alert = _record(engine, summary, alert_threshold)
    summary["alerted"] = alert is not None
    if alert is not None:
        summary["alert"] = await _alert(alert, engine, notification_settings)
    await _report(summary)
    if failures:
        gateway, error = next(iter(failures.items()))
        raise ReconciliationFailed(f"reconciliation of {gateway} failed: {error}")
    if csv_error:
        raise ReconciliationFailed(csv_error)
    return summary


def _close_runs(
    engine: Engine, runs: dict[str, int], results: dict[str, dict[str, Any]], failures: dict[str, str]
) -> None:
    with engine.begin() as conn:
        for gateway, run_id in runs.items():
            if gateway in results:
                finish_run(conn, run_id, status="completed", summary=results[gateway])
            else:
                error = failures.get(gateway, "not run: an earlier gateway's reconciliation crashed")
                finish_run(conn, run_id, status="failed", summary={}, error=error)


def _summary(
    engine: Engine,
    window: Window,
    label: str,
    store: str,
    runs: dict[str, int],
    results: dict[str, dict[str, Any]],
    failures: dict[str, str],
    started: float,
    settings: ReconciliationSettings,
) -> dict[str, Any]:
    breaks = {c: sum(r["breaks"].get(c, 0) for r in results.values()) for c in CATEGORIES}
    pending = {c: sum(r["pending"].get(c, 0) for r in results.values()) for c in CATEGORIES}
    with engine.connect() as conn:
        rows = run_items(conn, list(runs.values()), limit=BREAKS_SHOWN)
        total = count_items(conn, list(runs.values()))
    return {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "window": window.label,
        "gateways": label,
        "store": store,
        "status": "failed" if failures else "completed",
        "run_ids": dict(runs),
        "results": results,
        "failures": failures,
        "breaks": breaks,
        "break_count": total,
        "pending": pending,
        "pending_count": sum(pending.values()),
        "auto_resolved": sum(r["changes"].get("auto_resolved", 0) for r in results.values()),
        "duration_ms": int((time.perf_counter() - started) * 1000),
        "grace_hours": {g: settings.grace[g].total_seconds() / 3600 for g in runs},
        "break_rows": [_row(r) for r in rows],
    }


def _row(item: dict[str, Any]) -> dict[str, Any]:
    """A break as the table artifact and the CLI show it (amounts in major units of their currency)."""
    return {
        "category": item["category"],
        "gateway": item["gateway"],
        "order": item["order_id"] if item["order_id"] is not None else "",
        "gateway_id": item["gateway_id"] or "",
        "expected": _major(item["expected_minor"], item["order_currency"] or item["currency"]),
        "actual": _major(item["actual_minor"], item["currency"]),
        "since": item["occurred_at"].isoformat(timespec="seconds") if item["occurred_at"] else "",
        "message": item["message"],
        "id": item["id"],
    }


def _major(minor: int | None, currency: str | None) -> str:
    if minor is None or not currency:
        return ""
    exp = currency_exponent(currency)
    sign, value = ("-" if minor < 0 else ""), abs(int(minor))
    whole, part = divmod(value, 10**exp)
    return f"{sign}{whole}.{part:0{exp}d} {currency}" if exp else f"{sign}{whole} {currency}"


async def _alert(alert: OperatorAlert, engine: Engine, settings: str) -> dict[str, Any]:
    """Queue the operators' alert in the notifications outbox (best effort: the run's outcome stands)."""
    from flows.notification_dispatch import operator_alert

    try:
        return await operator_alert(
            alert.subject,
            alert.message,
            key=alert.key,
            severity="warning",
            source=alert.source,
            details=alert.details,
            settings=settings,
            engine=engine,
        )
    except Exception as exc:
        get_run_logger().warning("operators were not alerted through the outbox: %s", _one_line(exc))
        return {"error": _one_line(exc)}


def _record(engine: Engine, summary: dict[str, Any], threshold: int) -> OperatorAlert | None:
    """Metrics per gateway, the run's dashboard event, and the operators' alert when due."""
    with engine.begin() as conn:
        for gateway, result in summary["results"].items():
            read = result["read"]
            tags = {
                "gateway": gateway,
                "store": summary["store"],
                "run_id": summary["run_ids"][gateway],
                "window_start": summary["window_start"],
                "window_end": summary["window_end"],
            }
            record_metrics(
                conn,
                {
                    "payment_reconciliation_duration": (sum(result["seconds"].values()) * 1000, "ms"),
                    "payment_reconciliation_transactions": (read.get("charges_in_scope", 0), "transactions"),
                    "payment_reconciliation_orders": (read.get("orders_in_scope", 0), "orders"),
                    "payment_reconciliation_matched": (read.get("matched", 0), "orders"),
                    "payment_reconciliation_breaks": (result["break_count"], "items"),
                    "payment_reconciliation_pending": (sum(result["pending"].values()), "items"),
                    "payment_reconciliation_resolved": (result["changes"].get("auto_resolved", 0), "items"),
                },
                {**tags, "breaks_by_category": {c: n for c, n in result["breaks"].items() if n}},
            )
        ok = summary["status"] == "completed"
        record_event(
            conn,
            "payment_reconciliation_completed" if ok else "payment_reconciliation_failed",
            severity="info" if ok else "error",
            message=(
                f"reconciliation of {summary['gateways']} for {summary['window']}: "
                f"{summary['break_count']} breaks, {summary['pending_count']} pending"
                + ("" if ok else f"; failed: {summary['failures']}")
            ),
            data={k: summary[k] for k in ("window", "gateways", "store", "run_ids", "breaks", "pending")},
        )
        return alert_operators(
            conn,
            breaks=summary["break_count"],
            threshold=threshold,
            gateways=summary["gateways"],
            window=summary["window"],
            by_category=summary["breaks"],
            run_ids=list(summary["run_ids"].values()),
        )


async def _report(summary: dict[str, Any]) -> None:
    """The breaks table, the totals as markdown, one log line, and the Prefect event."""
    ok = summary["status"] == "completed"
    key = f"reconcile-payments-{summary['gateways']}".lower().replace("+", "-").replace("_", "-")
    shown = summary["break_rows"]
    await acreate_table_artifact(
        shown or [{"category": "", "gateway": "", "message": "no breaks"}],
        key=f"{key}-breaks",
        description=(
            f"Breaks of {summary['gateways']} for {summary['window']}: {summary['break_count']}"
            + (f" (the first {len(shown)} shown)" if summary["break_count"] > len(shown) else "")
        ),
    )
    await acreate_markdown_artifact(
        _totals_markdown(summary), key=f"{key}-totals", description="Totals per gateway"
    )
    get_run_logger().info(
        "reconciliation of %s for %s %s: %s breaks, %s pending",
        summary["gateways"],
        summary["window"],
        summary["status"],
        summary["break_count"],
        summary["pending_count"],
    )
    emit_finished(
        "nxt.payments.reconciliation",
        kind="payments.gateways",
        name=summary["gateways"],
        ok=ok,
        payload={
            k: summary[k]
            for k in (
                "window",
                "window_start",
                "window_end",
                "store",
                "run_ids",
                "breaks",
                "break_count",
                "pending",
                "pending_count",
                "auto_resolved",
                "failures",
            )
        }
        | {"by_gateway": {g: r["breaks"] for g, r in summary["results"].items()}},
        related=[("gateway", f"nxt.payments.gateway.{g}") for g in summary["run_ids"]],
    )


def _totals_markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"# Reconciliation of {summary['gateways']}, {summary['window']}",
        "",
        f"{summary['break_count']} breaks, {summary['pending_count']} pending, "
        f"{summary['auto_resolved']} resolved since the last run.",
        "",
        "| gateway | currency | charges | gross | fees | refunds | disputes (open) | net |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for gateway, result in summary["results"].items():
        for t in result["totals"] or [{"currency": "", "charges": 0}]:
            cur = t.get("currency", "")

            def money(name: str, cur: str = cur, t: dict[str, Any] = t) -> str:
                return _major(t.get(name, 0), cur)

            lines.append(
                f"| {gateway} | {cur} | {t.get('charges', 0)} | {money('gross_minor')} | "
                f"{money('fees_minor')} | "
                f"{t.get('refunds', 0)}: {money('refunds_minor')} | "
                f"{t.get('disputes', 0)} ({t.get('disputes_open', 0)}): {money('disputes_minor')} | "
                f"{money('net_minor')} |"
            )
    lines += ["", "| gateway | " + " | ".join(CATEGORIES) + " |", "|---|" + "---:|" * len(CATEGORIES)]
    for gateway, result in summary["results"].items():
        counts = " | ".join(str(result["breaks"].get(c, 0)) for c in CATEGORIES)
        lines.append(f"| {gateway} | {counts} |")
    if summary["failures"]:
        lines += ["", "Failed: " + "; ".join(f"{g}: {e}" for g, e in summary["failures"].items())]
    return "\n".join(lines)


def _one_line(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]
