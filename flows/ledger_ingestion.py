"""The ledger ingestion flow: each gateway's transactions, payouts and balance movements into the hub.

`ingest-ledger` reads, for each gateway concurrently, the windows from its cursor (minus a lookback for
late arrivals) up to now, one `ingest-<gateway>-window` task per window of at most 31 days
(`tasks.ledger`); each task commits its rows and moves the gateway's cursor in one transaction, so a run
that dies resumes where the last committed window ended. The run is named
`payments-ingest/<gateways>/<window>` and tagged; it ends with the event
`nxt.payments.ingest.completed|failed` about `nxt.payments.gateways.<set>`, with what was read, written
and could not be read (403, 404) per gateway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from blocks import AuthorizeNetGateway, PayPalGateway, SquareGateway, StripeGateway, aload_block
from flows._hub import open_hub
from flows._runs import RunFailed, capture_client_logs, emit_finished, label_run
from hub.ledger import GATEWAYS, ingestion_window, read_cursor
from hub.models import utcnow
from tasks.context import share_engine, unshare_engine
from tasks.ledger import (
    CURSOR_RESOURCE,
    ingest_authorizenet_window,
    ingest_paypal_window,
    ingest_square_window,
    ingest_stripe_window,
)
from tasks.policy import EXPECTED_FAILURES

__all__ = ["BLOCK_TYPES", "LOOKBACK", "IngestionFailed", "ingest_ledger", "run_ingestion"]

#: Re-read this much before the cursor: records that arrive late (PayPal's reporting lags up to 3 h;
#: Authorize.Net settles once a day, so a batch is read the day after its transactions).
LOOKBACK: dict[str, timedelta] = {
    "stripe": timedelta(hours=1),
    "paypal": timedelta(hours=3),
    "square": timedelta(hours=1),
    "authorizenet": timedelta(hours=26),
}
MAX_SPAN = timedelta(days=31)  # PayPal Transaction Search and Authorize.Net batch lists refuse longer
FIRST_RUN = timedelta(days=30)  # how far back a gateway's first run reads without `since`
BLOCK_TYPES: dict[str, type[Any]] = {
    "stripe": StripeGateway,
    "paypal": PayPalGateway,
    "square": SquareGateway,
    "authorizenet": AuthorizeNetGateway,
}
_TASKS: dict[str, Any] = {
    "stripe": ingest_stripe_window,
    "paypal": ingest_paypal_window,
    "square": ingest_square_window,
    "authorizenet": ingest_authorizenet_window,
}


class IngestionFailed(RunFailed):
    """A gateway's ingestion could not complete; one line naming the gateway and why."""


def check_gateways(gateways: list[str] | None) -> list[str]:
    """The gateways to ingest (all four when None), in a stable order.

    Raises:
        ValueError: an unknown or empty list of gateways.
    """
    if gateways is None:
        return list(GATEWAYS)
    unknown = sorted({g for g in gateways if g not in GATEWAYS})
    if unknown:
        raise ValueError(f"unknown gateway {', '.join(unknown)}; one of {', '.join(GATEWAYS)}")
    if not gateways:
        raise ValueError(f"give at least one gateway ({', '.join(GATEWAYS)}), or none for all")
    return [g for g in GATEWAYS if g in gateways]


def parse_since(since: datetime | date | str | None) -> datetime | None:
    """`since` as an aware UTC time (a date means midnight UTC; naive times are UTC).

    Raises:
        ValueError: not an ISO date or time, or in the future.
    """
    if since is None:
        return None
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"since={since!r} is not an ISO date or time (e.g. 2026-01-31)") from None
    if not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day, tzinfo=UTC)
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    since = since.astimezone(UTC)
    if since > utcnow():
        raise ValueError(f"since={since.isoformat()} is in the future")
    return since


def gateway_set(gateways: list[str] | None) -> str:
    return "all" if gateways is None else "+".join(sorted(set(gateways)))


def _run_name() -> str:
    params = flow_run.parameters
    try:
        since = parse_since(params.get("since"))
        window = f"{since.date().isoformat()}..now" if since else "from-cursor"
    except (TypeError, ValueError):
        window = "invalid-since"
    return f"payments-ingest/{gateway_set(params.get('gateways'))}/{window}"


def windows(
    start: datetime, now: datetime, max_span: timedelta = MAX_SPAN
) -> list[tuple[datetime, datetime]]:
    """`[start, now)` cut into consecutive windows of at most `max_span`."""
    out: list[tuple[datetime, datetime]] = []
    while start < now:
        end = min(now, start + max_span)
        out.append((start, end))
        start = end
    return out


async def _ingest_gateway(
    gateway: str,
    block: Any,
    engine: Engine,
    key: str,
    since: datetime | None,
    now: datetime,
    use_prefect: bool,
) -> dict[str, Any]:
    with engine.connect() as conn:
        cursor = None if since is not None else read_cursor(conn, gateway, CURSOR_RESOURCE)
    start, _ = ingestion_window(
        cursor,
        now=now,
        lookback=LOOKBACK[gateway],
        max_span=MAX_SPAN,
        first_start=since or now - FIRST_RUN,
    )
    task = _TASKS[gateway]
    call = task if use_prefect else task.fn
    spans = windows(start, now)
    result: dict[str, Any] = {
        "gateway": gateway,
        "start": start.isoformat(),
        "end": now.isoformat(),
        "windows": 0,
        "read": {},
        "written": {},
        "unreadable": [],
        "skipped_events": {},
    }
    for index, (lo, hi) in enumerate(spans):
        kwargs: dict[str, Any] = {}
        if index == len(spans) - 1:  # the last window also re-reads what changes after its own window
            if gateway == "authorizenet":
                kwargs["unsettled"] = True
            elif gateway in ("stripe", "square"):
                kwargs["last"] = True
        summary = await call(key, block, lo.isoformat(), hi.isoformat(), **kwargs)
        result["windows"] += 1
        for part in ("read", "written"):
            for name, count in summary[part].items():
                result[part][name] = result[part].get(name, 0) + count
        result["unreadable"] += summary["unreadable"]
        for code, count in summary["skipped_events"].items():
            result["skipped_events"][code] = result["skipped_events"].get(code, 0) + count
    return result


async def run_ingestion(
    blocks: Mapping[str, Any],
    engine: Engine,
    *,
    gateways: list[str] | None = None,
    since: datetime | date | str | None = None,
    now: datetime | None = None,
    use_prefect: bool = True,
) -> dict[str, Any]:
    """The ingestion itself (the flow without its Prefect reporting): every gateway concurrently.

    Args:
        blocks: The gateway blocks by gateway name (those of `gateways` are required).
        engine: The hub.
        gateways: Which gateways; None for every one in `blocks`.
        since: Re-read from here (ignoring the cursors); None continues from each gateway's cursor.
        now: Where the windows end (default: the current time).
        use_prefect: False runs the tasks' functions directly (tests, benchmarks).

    Returns:
        `{"status", "gateways": {gateway: summary}, "failures": {gateway: one line}}`.
    """
    wanted = check_gateways(gateways if gateways is not None else [g for g in GATEWAYS if g in blocks])
    missing = [g for g in wanted if g not in blocks]
    if missing:
        raise ValueError(f"no block for {', '.join(missing)}")
    start_at = parse_since(since)
    end_at = now or utcnow()
    key = share_engine(engine)
    results: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}

    async def one(gateway: str) -> None:
        try:
            results[gateway] = await _ingest_gateway(
                gateway, blocks[gateway], engine, key, start_at, end_at, use_prefect
            )
        except EXPECTED_FAILURES as exc:
            failures[gateway] = _one_line(exc)

    try:
        async with asyncio.TaskGroup() as group:
            for gateway in wanted:
                group.create_task(one(gateway))
    finally:
        unshare_engine(key)
    return {
        "status": "failed" if failures else "completed",
        "gateways": results,
        "failures": failures,
        "end": end_at.isoformat(),
    }


@flow(name="ingest-ledger", flow_run_name=_run_name, timeout_seconds=4 * 3600)
async def ingest_ledger(
    gateways: list[str] | None = None,
    since: datetime | None = None,
    hub: str | None = None,
    block: str = "default",
) -> dict[str, Any]:
    """Ingest the payment gateways' ledgers (charges, refunds, disputes, payouts, balance movements).

    Args:
        gateways: Some of stripe, paypal, square, authorizenet; empty for all four.
        since: Re-read from this time (UTC; a date means midnight) instead of from the cursors.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.
        block: Name of the gateway blocks (one of each type) to read with.

    Returns:
        Per gateway: windows read, records read and written, records that could not be read.
    """
    wanted = check_gateways(gateways)
    start_at = parse_since(since)
    label = gateway_set(gateways)
    await label_run(["payments", "ingest", f"gateways:{label}"] + [f"gateway:{g}" for g in wanted])
    capture_client_logs()
    loaded = {g: await aload_block(BLOCK_TYPES[g], block) for g in wanted}
    engine = await open_hub(hub)
    try:
        summary = await run_ingestion(loaded, engine, gateways=wanted, since=start_at)
    except BaseException as exc:
        emit_finished(
            "nxt.payments.ingest",
            kind="payments.gateways",
            name=label,
            ok=False,
            payload={"error": _one_line(exc)},
        )
        raise
    emit_finished(
        "nxt.payments.ingest",
        kind="payments.gateways",
        name=label,
        ok=summary["status"] == "completed",
        payload={
            "since": start_at.isoformat() if start_at else None,
            "end": summary["end"],
            "failures": summary["failures"],
            "by_gateway": {
                g: {k: r[k] for k in ("windows", "read", "written", "unreadable", "skipped_events")}
                for g, r in summary["gateways"].items()
            },
        },
        related=[("gateway", f"nxt.payments.gateway.{g}") for g in wanted],
    )
    if summary["failures"]:
        gateway, error = next(iter(summary["failures"].items()))
        raise IngestionFailed(f"ledger ingestion of {gateway} failed: {error}")
    return summary


def _one_line(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]
