"""The webhook inbox: verified vendor events stored before they are acknowledged, then dispatched.

Life of a row (`webhook_events`):

    pending --claim--> processing --complete--> done | ignored
       ^                   |
       +----release--------+ (a retryable failure: due again at `next_attempt_at`)
                           +----fail----> failed   (handler errors past the retries; `replay` resets)

- `insert_events` stores a batch in the caller's transaction; the unique constraint on
  (`source`, `event_key`) decides what is a duplicate (`INSERT ... ON CONFLICT DO NOTHING`), never a
  read-then-write, so a redelivery that arrives while the original is being stored is still one row.
- `claim` takes due rows for one dispatcher (`claimed_by`) under a lease (`lease_until`) and fixes their
  `run_key`, the idempotency key of the flow run their handler starts: kept across retries, so a retry
  never starts a second run; `replay` gives a row a new one.
- `recover` puts `processing` rows back to `pending` when their lease ran out (the dispatcher died), or
  at once when they were claimed by the same dispatcher before it restarted.

No Prefect here: the receiver's dispatcher (`receiver.dispatch`) drives these functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.dialect import upsert_insert
from hub.models import DashboardEvent, WebhookEvent, utcnow
from hub.records import strip_nul

__all__ = [
    "InboxItem",
    "InboxRow",
    "claim",
    "complete",
    "counts",
    "due",
    "fail",
    "get",
    "insert_events",
    "list_events",
    "next_due_at",
    "recover",
    "release",
    "renew",
    "replay",
    "retry_at",
    "stable_key",
]

_t = WebhookEvent.__table__
_events = DashboardEvent.__table__
KEY_MAX = 200
TOPIC_MAX = 100
RESOURCE_MAX = 200
ACCOUNT_MAX = 100
ERROR_MAX = 2000


@dataclass(frozen=True)
class InboxItem:
    """One verified event to store.

    Attributes:
        source: `woocommerce`, `stripe`, `paypal`, `square`, `authorizenet`, `twilio`, `sendgrid`,
            `third-party`.
        event_key: The stable dedupe key within the source (the vendor's event id, ...).
        topic: The event type as the vendor names it (`charge.refunded`, `order.updated`).
        payload: The parsed body (one event of a batch for SendGrid).
        account: The block the event is for (a store, a third-party service), or None.
        resource: The object it is about (`order.123`, `charge.ch_...`), or None.
        not_before: Earliest dispatch time (a debounce), or None for at once.
    """

    source: str
    event_key: str
    topic: str
    payload: Any
    account: str | None = None
    resource: str | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class InboxRow:
    """A stored event as the dispatcher and the CLI see it."""

    id: int
    source: str
    event_key: str
    topic: str
    account: str | None
    resource: str | None
    payload: Any
    status: str
    attempts: int
    received_at: datetime
    next_attempt_at: datetime | None
    flow_run_id: str | None
    run_key: str | None
    replays: int
    error: str | None
    processed_at: datetime | None


def stable_key(*parts: str) -> str:
    """`parts` joined with `:`, or their SHA-256 when that would not fit the column."""
    key = ":".join(parts)
    return key if len(key) <= KEY_MAX else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _insert(conn: Connection) -> Any:
    return upsert_insert(conn, _t)


def insert_events(conn: Connection, items: Sequence[InboxItem]) -> list[tuple[int, bool]]:
    """Store `items` in the caller's transaction; return `(row id, duplicate)` for each, in order.

    One statement for the batch. A duplicate (an earlier row with the same source and key, or an earlier
    item of this batch) returns the stored row's id with `duplicate=True`.
    """
    if not items:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for item in items:
        rows.append(
            {
                "source": item.source,
                "event_key": item.event_key if len(item.event_key) <= KEY_MAX else stable_key(item.event_key),
                "topic": item.topic[:TOPIC_MAX],
                "received_at": now,
                "payload": strip_nul(item.payload),
                "status": "pending",
                "attempts": 0,
                "account": item.account[:ACCOUNT_MAX] if item.account else None,
                "resource": item.resource[:RESOURCE_MAX] if item.resource else None,
                "next_attempt_at": item.not_before,
                "replays": 0,
            }
        )
    stmt = _insert(conn).on_conflict_do_nothing(index_elements=["source", "event_key"])
    inserted = {
        (r.source, r.event_key): int(r.id)
        for r in conn.execute(stmt.returning(_t.c.id, _t.c.source, _t.c.event_key), rows)
    }
    missing = {(r["source"], r["event_key"]) for r in rows} - inserted.keys()
    existing: dict[tuple[str, str], int] = {}
    if missing:
        for src, key in missing:  # rare: only redeliveries get here
            found = conn.execute(
                sa.select(_t.c.id).where(_t.c.source == src, _t.c.event_key == key)
            ).scalar_one()
            existing[(src, key)] = int(found)
    out: list[tuple[int, bool]] = []
    seen: set[tuple[str, str]] = set()
    for r in rows:
        k = (r["source"], r["event_key"])
        if k in inserted and k not in seen:
            out.append((inserted[k], False))
            seen.add(k)
        else:
            out.append((inserted.get(k) or existing[k], True))
    return out


def _row(r: Any) -> InboxRow:
    return InboxRow(
        id=int(r.id),
        source=r.source,
        event_key=r.event_key,
        topic=r.topic,
        account=r.account,
        resource=r.resource,
        payload=r.payload,
        status=r.status,
        attempts=int(r.attempts),
        received_at=r.received_at,
        next_attempt_at=r.next_attempt_at,
        flow_run_id=r.flow_run_id,
        run_key=r.run_key,
        replays=int(r.replays or 0),
        error=r.error,
        processed_at=r.processed_at,
    )


def _due_clause(now: datetime) -> Any:
    return sa.and_(
        _t.c.status == "pending",
        sa.or_(_t.c.next_attempt_at.is_(None), _t.c.next_attempt_at <= now),
    )


def due(conn: Connection, *, now: datetime | None = None, limit: int = 500) -> list[InboxRow]:
    """Pending rows due by `now`, oldest first."""
    now = now or utcnow()
    return [
        _row(r) for r in conn.execute(sa.select(_t).where(_due_clause(now)).order_by(_t.c.id).limit(limit))
    ]


def next_due_at(conn: Connection) -> datetime | None:
    """When the next pending row that is not due yet becomes due (None: none waits)."""
    return conn.execute(
        sa.select(sa.func.min(_t.c.next_attempt_at)).where(
            _t.c.status == "pending", _t.c.next_attempt_at.is_not(None)
        )
    ).scalar()


def claim(
    conn: Connection, ids: Sequence[int], *, owner: str, lease_until: datetime, run_key: str
) -> list[int]:
    """Take the still-pending rows among `ids` for `owner`; returns the ids it got.

    Rows without a `run_key` get `run_key`; rows that have one keep it (a retry reuses its key). The
    status condition makes two dispatchers racing for a row take it once.
    """
    if not ids:
        return []
    got = conn.execute(
        sa.update(_t)
        .where(_t.c.id.in_(list(ids)), _t.c.status == "pending")
        .values(
            status="processing",
            claimed_by=owner[:100],
            lease_until=lease_until,
            attempts=_t.c.attempts + 1,
            run_key=sa.func.coalesce(_t.c.run_key, run_key[:100]),
        )
        .returning(_t.c.id)
    )
    return sorted(int(r.id) for r in got)


def renew(conn: Connection, ids: Sequence[int], *, owner: str, lease_until: datetime) -> int:
    """Extend the lease of `owner`'s processing rows among `ids` (a long in-process flow run)."""
    if not ids:
        return 0
    return int(
        conn.execute(
            sa.update(_t)
            .where(_t.c.id.in_(list(ids)), _t.c.status == "processing", _t.c.claimed_by == owner[:100])
            .values(lease_until=lease_until)
        ).rowcount
    )


def complete(
    conn: Connection,
    rows: Sequence[InboxRow],
    *,
    owner: str,
    flow_run_id: str | None,
    status: str = "done",
    note: str | None = None,
) -> int:
    """Close `rows` as `done` (or `ignored`) and write one `webhook_processed` dashboard event per row.

    Only rows still held by `owner` are closed (a row whose lease ran out and was taken by another
    dispatcher is theirs now); returns how many were closed.
    """
    if not rows:
        return 0
    now = utcnow()
    closed = {
        int(r.id)
        for r in conn.execute(
            sa.update(_t)
            .where(
                _t.c.id.in_([r.id for r in rows]),
                _t.c.status == "processing",
                _t.c.claimed_by == owner[:100],
            )
            .values(
                status=status,
                processed_at=now,
                flow_run_id=flow_run_id,
                lease_until=None,
                error=note[:ERROR_MAX] if note else None,
            )
            .returning(_t.c.id)
        )
    }
    events = [
        {
            "event_type": "webhook_processed",
            "event_source": "api_integration",
            "severity": "info",
            "message": f"{r.source} {r.topic} {'ignored' if status == 'ignored' else 'processed'}",
            "data": {
                "inbox_id": r.id,
                "source": r.source,
                "topic": r.topic,
                "resource": r.resource,
                "account": r.account,
                "status": status,
                "flow_run_id": flow_run_id,
                "attempts": r.attempts + 1,
                "latency_ms": round((now - r.received_at).total_seconds() * 1000, 1),
            },
            "timestamp": now,
        }
        for r in rows
        if r.id in closed
    ]
    if events:
        conn.execute(sa.insert(_events), events)
    return len(closed)


def release(
    conn: Connection,
    ids: Sequence[int],
    *,
    owner: str,
    next_attempt_at: datetime,
    error: str,
    count_attempt: bool = True,
) -> int:
    """Put `owner`'s processing rows back to pending, due at `next_attempt_at`, with the error seen.

    `count_attempt=False` (the Prefect API or the hub was unavailable) does not spend one of the rows'
    retries: unavailability is waited out, not failed on.
    """
    if not ids:
        return 0
    values: dict[str, Any] = {
        "status": "pending",
        "next_attempt_at": next_attempt_at,
        "lease_until": None,
        "error": error[:ERROR_MAX],
    }
    if not count_attempt:
        values["attempts"] = sa.case((_t.c.attempts > 0, _t.c.attempts - 1), else_=0)
    return int(
        conn.execute(
            sa.update(_t)
            .where(_t.c.id.in_(list(ids)), _t.c.status == "processing", _t.c.claimed_by == owner[:100])
            .values(**values)
        ).rowcount
    )


def fail(conn: Connection, rows: Sequence[InboxRow], *, owner: str, error: str) -> int:
    """Close `owner`'s processing rows as `failed` (retries spent) with one `webhook_failed` event each."""
    if not rows:
        return 0
    now = utcnow()
    closed = {
        int(r.id)
        for r in conn.execute(
            sa.update(_t)
            .where(
                _t.c.id.in_([r.id for r in rows]),
                _t.c.status == "processing",
                _t.c.claimed_by == owner[:100],
            )
            .values(status="failed", processed_at=now, lease_until=None, error=error[:ERROR_MAX])
            .returning(_t.c.id)
        )
    }
    events = [
        {
            "event_type": "webhook_failed",
            "event_source": "api_integration",
            "severity": "error",
            "message": f"{r.source} {r.topic}: {error}"[:ERROR_MAX],
            "data": {"inbox_id": r.id, "source": r.source, "topic": r.topic, "attempts": r.attempts + 1},
            "timestamp": now,
        }
        for r in rows
        if r.id in closed
    ]
    if events:
        conn.execute(sa.insert(_events), events)
    return len(closed)


def recover(conn: Connection, *, owner: str, now: datetime | None = None) -> int:
    """Put back to pending the processing rows whose lease ran out, and those `owner` held before it
    restarted (it holds none while it starts). Their `run_key` stays, so no second run is started."""
    now = now or utcnow()
    return int(
        conn.execute(
            sa.update(_t)
            .where(
                _t.c.status == "processing",
                sa.or_(_t.c.claimed_by == owner[:100], _t.c.lease_until.is_(None), _t.c.lease_until < now),
            )
            .values(status="pending", lease_until=None, next_attempt_at=None)
        ).rowcount
    )


def get(conn: Connection, row_id: int) -> InboxRow | None:
    r = conn.execute(sa.select(_t).where(_t.c.id == row_id)).first()
    return None if r is None else _row(r)


def list_events(
    conn: Connection, *, status: str | None = None, source: str | None = None, limit: int = 50
) -> list[InboxRow]:
    """The newest rows, optionally of one status and source."""
    q = sa.select(_t).order_by(_t.c.id.desc()).limit(limit)
    if status:
        q = q.where(_t.c.status == status)
    if source:
        q = q.where(_t.c.source == source)
    return [_row(r) for r in conn.execute(q)]


def replay(conn: Connection, *, ids: Iterable[int] = (), failed: bool = False) -> list[int]:
    """Make rows pending again, due now, with a fresh run key (a replay starts a new flow run).

    Rows being processed are left alone. Returns the ids replayed.
    """
    cond: list[sa.ColumnElement[bool]] = []
    wanted = list(ids)
    if wanted:
        cond.append(_t.c.id.in_(wanted))
    if failed:
        cond.append(_t.c.status == "failed")
    if not cond:
        return []
    got = conn.execute(
        sa.update(_t)
        .where(sa.or_(*cond), _t.c.status != "processing")
        .values(
            status="pending",
            attempts=0,
            next_attempt_at=None,
            lease_until=None,
            run_key=None,
            flow_run_id=None,
            processed_at=None,
            error=None,
            replays=_t.c.replays + 1,
        )
        .returning(_t.c.id)
    )
    return sorted(int(r.id) for r in got)


def counts(conn: Connection) -> Mapping[str, int]:
    """Rows per status (every status present, zero included)."""
    from hub.models import INBOX_STATUSES

    found: dict[str, int] = dict(
        conn.execute(sa.select(_t.c.status, sa.func.count()).group_by(_t.c.status)).all()
    )
    return {s: int(found.get(s, 0)) for s in INBOX_STATUSES}


def retry_at(attempts: int, *, base_s: float, cap_s: float, now: datetime | None = None) -> datetime:
    """When a row that failed `attempts` times is due again: `base_s * 2^(attempts-1)`, capped."""
    delay = min(cap_s, base_s * (2 ** max(attempts - 1, 0)))
    return (now or utcnow()) + timedelta(seconds=delay)
