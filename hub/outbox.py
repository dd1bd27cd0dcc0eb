"""The outbox: notifications waiting to be, or being, sent, and every transition a row goes through.

    queued ──claim──> claimed ──mark_sending──> sending ──record──> sent ──callbacks──> delivered
      ^                  │                          │                                  undelivered
      │  expired lease   │      definitely not      │  the provider refused:           failed
      └──────────────────┘<─── accepted (429, 5xx) ─┤  failed | suppressed
                                                    │  in doubt (timeout, lost answer): stays
                                                    │  `sending`, lease expired -> recovery asks the
                                                    └  provider, else `unknown` for a person

- **Exactly once.** A row is marked `sending` (committed, with the text it will send) before the provider
  is called, and only by the worker holding its claim (a compare-and-set on `claimed_by`), so two workers
  never both send it. A row left `sending` past its lease is never resent blindly: `in_doubt()` hands it to
  the recovery, which asks the provider where it can tell.
- **Claims** are safe with several workers: one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
  LOCKED) RETURNING id` on PostgreSQL; on SQLite the same statement is one atomic transition (a single
  writer), so two workers never get the same row.
- **Idempotency**: `enqueue` inserts with `ON CONFLICT (idempotency_key) DO NOTHING`: the same key twice is
  a no-op, in one set-based statement per batch.

Plain functions of a connection (the caller's transaction) or an engine (their own). No Prefect.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hub.db import transaction
from hub.dialect import upsert_insert
from hub.models import OUTBOX_STATUSES, OutboxMessage, Suppression, utcnow

__all__ = [
    "CHANNELS",
    "DONE",
    "NewMessage",
    "Outcome",
    "OutboxRow",
    "claim",
    "counts_by_status",
    "enqueue",
    "enqueue_fallbacks",
    "existing_keys",
    "in_doubt",
    "list_messages",
    "list_suppressions",
    "load",
    "mark_sending",
    "provider_ids_for",
    "record",
    "release_expired_claims",
    "remove_suppression",
    "retry",
    "suppress",
    "suppressed",
    "waiting",
]

CHANNELS = ("sms", "email")
# Rows dispatch never touches again on its own.
DONE = ("sent", "delivered", "undelivered", "failed", "suppressed", "cancelled", "unknown")
RETRYABLE_BY_PERSON = ("failed", "unknown", "undelivered", "cancelled", "suppressed")
FALLBACK_SUFFIX = ":fallback-email"
_IN_CHUNK = 500
MAX_ERROR = 2000

_t = OutboxMessage.__table__
_s = Suppression.__table__


@dataclass(frozen=True)
class NewMessage:
    """A row to enqueue.

    `status` other than `queued` records a message refused at enqueue (bad input) with its reason, so
    that it is visible and deduplicated like any other.
    """

    key: str
    channel: str
    recipient: str
    template: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 0
    reference: str | None = None
    send_at: datetime | None = None
    fallback_email: str | None = None
    status: str = "queued"
    last_error: str | None = None
    error_code: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be sms or email, not {self.channel!r}")
        if self.status not in OUTBOX_STATUSES:
            raise ValueError(f"unknown outbox status {self.status!r}")
        if not self.key or len(self.key) > 200:
            raise ValueError(f"an idempotency key must be 1-200 characters, not {len(self.key)}")


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row, as the dispatch sees it."""

    id: int
    key: str
    channel: str
    recipient: str
    template: str
    payload: dict[str, Any]
    status: str
    priority: int
    reference: str | None
    send_at: datetime | None
    attempts: int
    fallback_email: str | None
    rendered: dict[str, Any] | None
    provider_id: str | None
    claimed_at: datetime | None
    lease_until: datetime | None
    created_at: datetime
    last_error: str | None = None
    error_code: str | None = None
    provider_status: str | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one row at the provider (or before it). See `record`.

    status: `sent` (accepted), `failed` (permanent), `suppressed` (opted out), `cancelled` (settings),
        `queued` (definitely not accepted: try again at `retry_at`), `sending` (in doubt: check with the
        provider at `retry_at`), `unknown` (in doubt, and the provider cannot tell).
    """

    id: int
    status: str
    provider_id: str | None = None
    provider_status: str | None = None
    error: str | None = None
    error_code: str | None = None
    retry_at: datetime | None = None
    suppress: bool = False  # add the recipient to the suppressions
    fallback: bool = False  # a permanent failure an email may stand in for (SMS only)
    recipient: str | None = None  # the normalised recipient, when it changed
    free: bool = (
        False  # not the message's fault (our configuration, another message): the call is not counted
    )


# --------------------------------------------------------------------------------------------------
# Enqueue


def enqueue(bind: Engine | Connection, messages: Sequence[NewMessage]) -> list[int]:
    """Insert `messages`; a key already in the outbox is left as it is. Returns the ids inserted.

    One `INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING id` per call, in the caller's
    transaction when given a connection (the transactional outbox: rows commit with the write that raised
    them, or not at all).
    """
    if not messages:
        return []
    now = utcnow()
    unique: dict[str, NewMessage] = {}
    for m in messages:
        unique.setdefault(m.key, m)  # the first of two equal keys in one call wins, as a second call would
    rows = [
        {
            "idempotency_key": m.key,
            "channel": m.channel,
            "recipient": m.recipient[:320],
            "template": m.template[:100],
            "payload": dict(m.payload),
            "status": m.status,
            "attempts": 0,
            "priority": m.priority,
            "reference": m.reference[:200] if m.reference else None,
            "send_at": m.send_at,
            "next_attempt_at": m.send_at,
            "fallback_email": m.fallback_email[:320] if m.fallback_email else None,
            "last_error": m.last_error[:MAX_ERROR] if m.last_error else None,
            "error_code": m.error_code,
            "created_at": now,
            "updated_at": now,
        }
        for m in unique.values()
    ]
    with transaction(bind) as conn:
        stmt = _insert(conn)(_t).on_conflict_do_nothing(index_elements=[_t.c.idempotency_key])
        inserted: list[int] = []
        for start in range(0, len(rows), _IN_CHUNK):
            chunk = rows[start : start + _IN_CHUNK]
            inserted += [int(i) for i in conn.execute(stmt.returning(_t.c.id), chunk).scalars()]
    return inserted


def existing_keys(bind: Engine | Connection, keys: Iterable[str]) -> dict[str, int]:
    """`key -> id` of the keys already in the outbox."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int] = {}
    with transaction(bind) as conn:
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for key, row_id in conn.execute(
                sa.select(_t.c.idempotency_key, _t.c.id).where(_t.c.idempotency_key.in_(chunk))
            ):
                found[key] = int(row_id)
    return found


# --------------------------------------------------------------------------------------------------
# Claim, send, record


def claim(
    bind: Engine | Connection,
    channel: str,
    worker: str,
    limit: int,
    *,
    lease: timedelta,
    only: Sequence[int] | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Claim up to `limit` due rows of `channel` for `worker`: urgent first, then oldest (emails by template).

    Rows this worker already claimed and has not sent (a retried task) come back too; `only` restricts the
    claim to those ids (a direct send claiming its own row). Safe with several workers: PostgreSQL skips
    rows another claim has locked; SQLite runs the statement as one atomic transition. Returns the claimed
    ids (highest priority first, then oldest).
    """
    if limit <= 0:
        return []
    now = now or utcnow()
    with transaction(bind) as conn:
        due = sa.or_(
            sa.and_(
                _t.c.status == "queued",
                sa.or_(_t.c.next_attempt_at.is_(None), _t.c.next_attempt_at <= now),
            ),
            sa.and_(_t.c.status == "claimed", _t.c.claimed_by == worker),
        )
        pick = (
            sa.select(_t.c.id)
            .where(_t.c.channel == channel, due)
            # Emails by template too, so a batch holds whole groups; texts strictly by age.
            .order_by(
                *(
                    (_t.c.priority.desc(), _t.c.template, _t.c.id)
                    if channel == "email"
                    else (_t.c.priority.desc(), _t.c.id)
                )
            )
            .limit(limit)
        )
        if only is not None:
            pick = pick.where(_t.c.id.in_(list(only)))
        ids = conn.execute(
            _picked_update(conn, pick, due)
            .values(
                status="claimed",
                claimed_by=worker,
                claimed_at=now,
                lease_until=now + lease,
                updated_at=now,
            )
            .returning(_t.c.id, _t.c.priority)
        ).all()
    return [int(i) for i, _ in sorted(ids, key=lambda r: (-r[1], r[0]))]


def load(bind: Engine | Connection, ids: Sequence[int]) -> list[OutboxRow]:
    """The rows `ids`, in the order given (missing ids are left out)."""
    found: dict[int, OutboxRow] = {}
    with transaction(bind) as conn:
        for start in range(0, len(ids), _IN_CHUNK):
            for r in conn.execute(sa.select(_t).where(_t.c.id.in_(list(ids[start : start + _IN_CHUNK])))):
                found[int(r.id)] = _row(r)
    return [found[i] for i in ids if i in found]


def mark_sending(
    bind: Engine | Connection,
    worker: str,
    rendered: Mapping[int, tuple[str, Mapping[str, Any]]],
    *,
    lease: timedelta,
    now: datetime | None = None,
) -> set[int]:
    """Mark rows `sending` just before the provider call, with what will be sent; return those marked.

    `rendered` maps row id -> (normalised recipient, rendered text). Only rows still `claimed` by `worker`
    move (a compare-and-set: a row another worker took over after this worker's claim expired is left to
    it); the caller sends exactly the ids returned. Each marked row's `attempts` goes up by one and its
    lease covers one provider call.
    """
    if not rendered:
        return set()
    now = now or utcnow()
    with transaction(bind) as conn:
        moved: set[int] = set()
        ids = list(rendered)
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            moved |= {
                int(i)
                for i in conn.execute(
                    sa.update(_t)
                    .where(_t.c.id.in_(chunk), _t.c.status == "claimed", _t.c.claimed_by == worker)
                    .values(
                        status="sending",
                        attempts=_t.c.attempts + 1,
                        lease_until=now + lease,
                        updated_at=now,
                    )
                    .returning(_t.c.id)
                ).scalars()
            }
        if moved:
            conn.execute(
                sa.update(_t)
                .where(_t.c.id == sa.bindparam("row_id"))
                .values(recipient=sa.bindparam("to"), rendered=sa.bindparam("text")),
                [{"row_id": i, "to": rendered[i][0][:320], "text": dict(rendered[i][1])} for i in moved],
            )
    return moved


def record(
    bind: Engine | Connection,
    outcomes: Sequence[Outcome],
    *,
    max_attempts: int | None = None,
    fallback: bool = False,
    now: datetime | None = None,
) -> Counter[str]:
    """Apply what happened to each row, in ONE transaction; return counts by the status each row got.

    A row moves only from `claimed` or `sending` (a status callback that got there first is never undone).
    `queued` outcomes of a row that has had `max_attempts` provider calls become `failed`. Outcomes with
    `suppress` add the recipient to the suppressions. With `fallback`, an SMS that failed permanently and
    has a `fallback_email` enqueues that email (same event and payload; key `<sms key>:fallback-email`).
    """
    counts: Counter[str] = Counter()
    if not outcomes:
        return counts
    now = now or utcnow()
    with transaction(bind) as conn:
        rows = {r.id: r for r in load(conn, [o.id for o in outcomes])}
        params: list[dict[str, Any]] = []
        to_suppress: list[tuple[str, str, str]] = []
        fallbacks: list[OutboxRow] = []
        for o in outcomes:
            row = rows.get(o.id)
            if row is None or row.status not in ("claimed", "sending"):
                counts["skipped"] += 1
                continue
            status = o.status
            error = o.error
            # a free outcome of a row marked `sending` gives its call back (a claimed row was never counted)
            attempts = max(0, row.attempts - 1) if o.free and row.status == "sending" else row.attempts
            if status == "queued" and not o.free and max_attempts is not None and attempts >= max_attempts:
                status = "failed"
                error = f"gave up after {attempts} attempts: {o.error or 'no answer'}"
            recipient = o.recipient or row.recipient
            params.append(
                {
                    "row_id": o.id,
                    "status": status,
                    "provider_id": o.provider_id or row.provider_id,
                    "provider_status": o.provider_status,
                    "last_error": error[:MAX_ERROR] if error else None,
                    "error_code": o.error_code,
                    "next_attempt_at": o.retry_at if status in ("queued", "sending") else None,
                    "lease_until": (o.retry_at or now) if status == "sending" else None,
                    "sent_at": now if status == "sent" else None,
                    "recipient": recipient[:320],
                    "attempts": attempts,
                    "updated_at": now,
                }
            )
            counts[status] += 1
            if o.suppress:
                to_suppress.append((row.channel, recipient, error or "opted out"))
            if fallback and status == "failed" and o.fallback and row.channel == "sms" and row.fallback_email:
                fallbacks.append(row)
        if params:
            conn.execute(
                sa.update(_t)
                # (or_ rather than IN: an expanding IN cannot run as executemany)
                .where(
                    _t.c.id == sa.bindparam("row_id"),
                    sa.or_(_t.c.status == "claimed", _t.c.status == "sending"),
                )
                .values(
                    status=sa.bindparam("status"),
                    provider_id=sa.bindparam("provider_id"),
                    provider_status=sa.bindparam("provider_status"),
                    last_error=sa.bindparam("last_error"),
                    error_code=sa.bindparam("error_code"),
                    next_attempt_at=sa.bindparam("next_attempt_at"),
                    lease_until=sa.bindparam("lease_until"),
                    sent_at=sa.func.coalesce(_t.c.sent_at, sa.bindparam("sent_at")),
                    recipient=sa.bindparam("recipient"),
                    attempts=sa.bindparam("attempts"),
                    updated_at=sa.bindparam("updated_at"),
                ),
                params,
            )
        for channel in CHANNELS:
            wanted = [(r, why) for c, r, why in to_suppress if c == channel]
            if wanted:
                suppress(conn, channel, wanted)
        if fallbacks:
            counts["fallbacks"] += len(enqueue_fallbacks(conn, fallbacks))
    return counts


def enqueue_fallbacks(conn: Connection, rows: Sequence[OutboxRow]) -> list[int]:
    """Queue the email that stands in for each permanently failed SMS (once per SMS, by its key)."""
    return enqueue(
        conn,
        [
            NewMessage(
                key=(r.key + FALLBACK_SUFFIX)[-200:],
                channel="email",
                recipient=r.fallback_email or "",
                template=r.template,
                payload={**r.payload, "fallback_for": r.id},
                priority=r.priority,
                reference=r.reference,
            )
            for r in rows
            if r.fallback_email
        ],
    )


# --------------------------------------------------------------------------------------------------
# Recovery


def release_expired_claims(bind: Engine | Connection, *, now: datetime | None = None) -> int:
    """Put back rows whose claim expired before they were marked `sending` (never sent: safe to requeue)."""
    now = now or utcnow()
    with transaction(bind) as conn:
        return int(
            conn.execute(
                sa.update(_t)
                .where(_t.c.status == "claimed", _t.c.lease_until < now)
                .values(status="queued", claimed_by=None, lease_until=None, updated_at=now)
            ).rowcount
        )


def in_doubt(
    bind: Engine | Connection,
    channel: str,
    worker: str,
    limit: int,
    *,
    lease: timedelta,
    now: datetime | None = None,
) -> list[OutboxRow]:
    """Take over rows left `sending` past their lease (a crash, a timeout, a lost answer) for checking.

    Each is re-leased to `worker` (so two recoveries never check the same row at once) and stays
    `sending`: only the provider's answer, or giving up (`unknown`), moves it on.
    """
    now = now or utcnow()
    with transaction(bind) as conn:
        pick = (
            sa.select(_t.c.id)
            .where(_t.c.channel == channel, _t.c.status == "sending", _t.c.lease_until < now)
            .order_by(_t.c.id)
            .limit(limit)
        )
        ids = conn.execute(
            _picked_update(conn, pick, sa.and_(_t.c.status == "sending", _t.c.lease_until < now))
            .values(claimed_by=worker, lease_until=now + lease, updated_at=now)
            .returning(_t.c.id)
        ).scalars()
        return load(conn, sorted(int(i) for i in ids))


def provider_ids_for(bind: Engine | Connection, channel: str, recipient: str) -> set[str]:
    """Provider ids already recorded on rows to `recipient` (a recovery never adopts one of them twice)."""
    with transaction(bind) as conn:
        return {
            str(p)
            for p in conn.execute(
                sa.select(_t.c.provider_id).where(
                    _t.c.channel == channel, _t.c.recipient == recipient, _t.c.provider_id.is_not(None)
                )
            ).scalars()
        }


# --------------------------------------------------------------------------------------------------
# Suppressions


def suppress(bind: Engine | Connection, channel: str, recipients: Iterable[tuple[str, str]]) -> int:
    """Add `(recipient, reason)` pairs to the suppressions of `channel`; returns how many were new."""
    rows: list[dict[str, Any]] = [
        {"channel": channel, "recipient": r[:320], "reason": (why or "")[:200]} for r, why in recipients
    ]
    if not rows:
        return 0
    now = utcnow()
    for row in rows:
        row["created_at"] = now
    with transaction(bind) as conn:
        stmt = _insert(conn)(_s).on_conflict_do_nothing(index_elements=[_s.c.channel, _s.c.recipient])
        return len(conn.execute(stmt.returning(_s.c.id), rows).all())


def suppressed(bind: Engine | Connection, channel: str, recipients: Iterable[str]) -> set[str]:
    """Which of `recipients` are suppressed on `channel` (emails compared case-insensitively)."""
    wanted = list(dict.fromkeys(recipients))
    if not wanted:
        return set()
    found: set[str] = set()
    with transaction(bind) as conn:
        if channel == "email":
            by_lower: dict[str, list[str]] = {}
            for r in wanted:
                by_lower.setdefault(r.lower(), []).append(r)
            keys = list(by_lower)
            for start in range(0, len(keys), _IN_CHUNK):
                for (hit,) in conn.execute(
                    sa.select(sa.func.lower(_s.c.recipient)).where(
                        _s.c.channel == channel,
                        sa.func.lower(_s.c.recipient).in_(keys[start : start + _IN_CHUNK]),
                    )
                ):
                    found.update(by_lower.get(hit, []))
            return found
        for start in range(0, len(wanted), _IN_CHUNK):
            found.update(
                conn.execute(
                    sa.select(_s.c.recipient).where(
                        _s.c.channel == channel, _s.c.recipient.in_(wanted[start : start + _IN_CHUNK])
                    )
                ).scalars()
            )
    return found


def list_suppressions(
    bind: Engine | Connection, channel: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Suppressions, newest first."""
    query = sa.select(_s).order_by(_s.c.id.desc()).limit(limit)
    if channel:
        query = query.where(_s.c.channel == channel)
    with transaction(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def remove_suppression(bind: Engine | Connection, channel: str, recipient: str) -> bool:
    """Allow messages to `recipient` on `channel` again (a person's decision); False when it was not there."""
    with transaction(bind) as conn:
        return bool(
            conn.execute(sa.delete(_s).where(_s.c.channel == channel, _s.c.recipient == recipient)).rowcount
        )


# --------------------------------------------------------------------------------------------------
# What people see and decide


def list_messages(
    bind: Engine | Connection,
    *,
    statuses: Sequence[str] = (),
    channel: str | None = None,
    reference: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first, as dicts (without the payload and rendered text)."""
    unknown = [s for s in statuses if s not in OUTBOX_STATUSES]
    if unknown:
        raise ValueError(f"unknown status {unknown[0]!r}; one of {', '.join(OUTBOX_STATUSES)}")
    columns = [c for c in _t.c if c.name not in ("payload", "rendered")]
    query = sa.select(*columns).order_by(_t.c.id.desc()).limit(limit)
    if statuses:
        query = query.where(_t.c.status.in_(list(statuses)))
    if channel:
        query = query.where(_t.c.channel == channel)
    if reference:
        query = query.where(_t.c.reference == reference)
    with transaction(bind) as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def waiting(bind: Engine | Connection, channel: str) -> int:
    """Rows of `channel` queued to be sent (due now or later)."""
    with transaction(bind) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(_t.c.channel == channel, _t.c.status == "queued")
            ).scalar_one()
        )


def counts_by_status(bind: Engine | Connection) -> dict[str, dict[str, int]]:
    """`{channel: {status: count}}` over the whole outbox."""
    out: dict[str, dict[str, int]] = {}
    with transaction(bind) as conn:
        for channel, status, n in conn.execute(
            sa.select(_t.c.channel, _t.c.status, sa.func.count()).group_by(_t.c.channel, _t.c.status)
        ):
            out.setdefault(channel, {})[status] = int(n)
    return out


class RetryRefused(ValueError):
    """A retry a person asked for that cannot be done (unknown id, a row still in flight, ...)."""


def retry(
    bind: Engine | Connection, ids: Sequence[int] = (), *, failed: bool = False, now: datetime | None = None
) -> list[int]:
    """Queue rows again (a person's decision): the rows `ids`, or with `failed` every failed row.

    `ids` may be `failed`, `unknown`, `undelivered`, `cancelled` or `suppressed` (the recipient must no
    longer be suppressed); `failed=True` takes every `failed` row. Attempts start again from zero.

    Raises:
        RetryRefused: an id that does not exist, is still in flight or was sent, or whose recipient is
            still suppressed.
    """
    now = now or utcnow()
    with transaction(bind) as conn:
        if failed:
            chosen = [
                int(i) for i in conn.execute(sa.select(_t.c.id).where(_t.c.status == "failed")).scalars()
            ]
        else:
            found = {r.id: r for r in load(conn, list(ids))}
            for i in ids:
                row = found.get(i)
                if row is None:
                    raise RetryRefused(f"no outbox row {i}")
                if row.status not in RETRYABLE_BY_PERSON:
                    raise RetryRefused(
                        f"outbox row {i} is {row.status}; only "
                        f"{', '.join(RETRYABLE_BY_PERSON)} rows are retried"
                    )
                if row.status == "suppressed" and suppressed(conn, row.channel, [row.recipient]):
                    raise RetryRefused(
                        f"outbox row {i}: {row.recipient} is still suppressed on {row.channel}; remove the "
                        "suppression first (`nxt notify suppressions --remove`)"
                    )
            chosen = list(dict.fromkeys(ids))
        for start in range(0, len(chosen), _IN_CHUNK):
            conn.execute(
                sa.update(_t)
                .where(_t.c.id.in_(chosen[start : start + _IN_CHUNK]))
                .values(
                    status="queued",
                    attempts=0,
                    next_attempt_at=None,
                    claimed_by=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
    return chosen


# --------------------------------------------------------------------------------------------------


def _picked_update(conn: Connection, pick: sa.Select[Any], still: sa.ColumnElement[bool]) -> sa.Update:
    """`UPDATE outbox ... ` of the rows `pick` selects, if they still match `still`.

    PostgreSQL: the pick is a CTE with `FOR UPDATE SKIP LOCKED` joined to the UPDATE; rows another worker
    is claiming are skipped, not waited for. (As an `IN (subquery)` the planner may run the locking
    subquery more than once and its LIMIT no longer bounds the rows updated: measured, it claimed every
    due row.) SQLite: `IN (subquery)` in one statement, atomic because SQLite has one writer; `still`
    repeats the conditions for the rows the statement finally updates.
    """
    if conn.dialect.name == "postgresql":
        picked = pick.with_for_update(skip_locked=True).cte("picked")
        return sa.update(_t).where(_t.c.id == picked.c.id, still)
    return sa.update(_t).where(_t.c.id.in_(pick.scalar_subquery()), still)


def _insert(conn: Connection) -> Any:
    return partial(upsert_insert, conn)


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        id=int(r.id),
        key=r.idempotency_key,
        channel=r.channel,
        recipient=r.recipient,
        template=r.template,
        payload=dict(r.payload or {}),
        status=r.status,
        priority=int(r.priority or 0),
        reference=r.reference,
        send_at=r.send_at,
        attempts=int(r.attempts or 0),
        fallback_email=r.fallback_email,
        rendered=dict(r.rendered) if r.rendered else None,
        provider_id=r.provider_id,
        claimed_at=r.claimed_at,
        lease_until=r.lease_until,
        created_at=r.created_at,
        last_error=r.last_error,
        error_code=r.error_code,
        provider_status=r.provider_status,
        sent_at=r.sent_at,
    )
