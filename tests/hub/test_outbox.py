"""The outbox on SQLite and PostgreSQL: idempotent enqueue, claims that two racing workers never share, the
compare-and-set before a send, outcomes that never move a row backwards, recovery, retries, suppressions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub import outbox
from hub.db import create_hub_engine
from hub.models import OutboxMessage, Suppression
from hub.outbox import NewMessage, Outcome

T = OutboxMessage.__table__
LEASE = timedelta(minutes=5)


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _msg(i: int, channel: str = "sms", **kw: object) -> NewMessage:
    recipient = f"+1415555{i:04d}" if channel == "sms" else f"c{i}@example.com"
    return NewMessage(
        key=f"order-confirmation:s:{i}:{channel}",
        channel=channel,
        recipient=recipient,
        template="order-confirmation",
        **kw,
    )  # type: ignore[arg-type]


def _status(engine: sa.Engine, row_id: int) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.select(T.c.status).where(T.c.id == row_id)).scalar_one())


def _expire(engine: sa.Engine, ids: list[int]) -> None:
    """Let leases run out without waiting: move them into the past."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(T).where(T.c.id.in_(ids)).values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_the_same_key_twice_is_a_no_op(engine: sa.Engine) -> None:
    first = outbox.enqueue(engine, [_msg(1), _msg(2), _msg(1)])  # a repeat inside one call too
    again = outbox.enqueue(engine, [_msg(1, payload={"changed": True}), _msg(3)])

    assert len(first) == 2 and len(again) == 1
    with engine.connect() as conn:
        rows = conn.execute(sa.select(T.c.idempotency_key, T.c.payload).order_by(T.c.id)).all()
    assert [r.idempotency_key for r in rows] == [
        "order-confirmation:s:1:sms",
        "order-confirmation:s:2:sms",
        "order-confirmation:s:3:sms",
    ]
    assert rows[0].payload == {}, "the first enqueue of a key wins"
    assert outbox.existing_keys(engine, ["order-confirmation:s:2:sms", "nope"]) == {
        "order-confirmation:s:2:sms": first[1]
    }


def test_enqueue_commits_with_the_callers_transaction(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        outbox.enqueue(conn, [_msg(1)])
        raise RuntimeError("the mirror write failed")
    assert outbox.list_messages(engine) == []


def test_claims_take_urgent_first_then_oldest_and_only_what_is_due(engine: sa.Engine) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    ids = outbox.enqueue(
        engine, [_msg(1), _msg(2, priority=10), _msg(3, send_at=later), _msg(4, channel="email")]
    )

    claimed = outbox.claim(engine, "sms", "w1", 10, lease=LEASE)

    assert claimed == [ids[1], ids[0]], (
        "urgent first, the scheduled one is not due, the email is another channel"
    )
    assert _status(engine, ids[0]) == "claimed" and _status(engine, ids[2]) == "queued"
    assert outbox.claim(engine, "sms", "w2", 10, lease=LEASE) == []
    assert outbox.claim(engine, "sms", "w1", 10, lease=LEASE) == claimed, (
        "a retried task gets its own rows back"
    )


def test_two_workers_racing_never_share_a_row(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    ids = outbox.enqueue(engine, [_msg(i) for i in range(300)])
    engines = [create_hub_engine(hub_url) for _ in range(2)]
    rounds = 30  # 2 x 7 rows a round: the rows run out after 22
    start = threading.Barrier(2)
    got: dict[str, list[int]] = {"a": [], "b": []}
    sizes: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def work(name: str, eng: sa.Engine) -> None:
        try:
            for _ in range(rounds):
                start.wait(timeout=30)  # both claim at the same moment, every round
                batch = outbox.claim(eng, "sms", name, 7, lease=LEASE)
                got[name] += batch
                sizes[name].append(len(batch))
                # as a send batch does next (its own claimed rows would otherwise come back to it)
                marked = outbox.mark_sending(
                    eng, name, {i: ("+14155550000", {"body": "x"}) for i in batch}, lease=LEASE
                )
                assert marked == set(batch)
        except BaseException as exc:  # reported below
            errors.append(exc)
            start.abort()

    threads = [threading.Thread(target=work, args=(n, e)) for n, e in zip(got, engines, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert not set(got["a"]) & set(got["b"]), "a row claimed by both workers"
    assert sorted(got["a"] + got["b"]) == sorted(ids)
    # Neither waits on the other's locked rows and comes back empty while rows remain (PostgreSQL: SKIP
    # LOCKED; SQLite: the second statement runs after the first committed, on what is left).
    assert sizes["a"][:21] == [7] * 21 and sizes["b"][:21] == [7] * 21
    with engine.connect() as conn:
        owners = dict(conn.execute(sa.select(T.c.id, T.c.claimed_by)).all())
    assert all(owners[i] == "a" for i in got["a"]) and all(owners[i] == "b" for i in got["b"])


def test_only_the_claim_holder_marks_a_row_sending(engine: sa.Engine) -> None:
    [row_id] = outbox.enqueue(engine, [_msg(1)])
    assert outbox.claim(engine, "sms", "slow", 1, lease=LEASE) == [row_id]
    _expire(engine, [row_id])
    assert outbox.release_expired_claims(engine) == 1
    assert outbox.claim(engine, "sms", "fast", 1, lease=LEASE) == [row_id]

    late = outbox.mark_sending(engine, "slow", {row_id: ("+14155550001", {"body": "hi"})}, lease=LEASE)
    mine = outbox.mark_sending(engine, "fast", {row_id: ("+14155550001", {"body": "hi"})}, lease=LEASE)

    assert late == set(), "the worker whose claim expired must not send"
    assert mine == {row_id}
    [row] = outbox.load(engine, [row_id])
    assert row.status == "sending" and row.attempts == 1 and row.rendered == {"body": "hi"}


def test_outcomes_never_undo_what_a_callback_already_did(engine: sa.Engine) -> None:
    [row_id] = outbox.enqueue(engine, [_msg(1)])
    outbox.claim(engine, "sms", "w", 1, lease=LEASE)
    outbox.mark_sending(engine, "w", {row_id: ("+14155550001", {"body": "hi"})}, lease=LEASE)
    with engine.begin() as conn:  # a status callback got there before our commit
        conn.execute(sa.update(T).where(T.c.id == row_id).values(status="delivered", provider_id="SM1"))

    counts = outbox.record(engine, [Outcome(row_id, "sent", provider_id="SM1")])

    assert counts == {"skipped": 1}
    assert _status(engine, row_id) == "delivered"


def test_a_message_that_keeps_failing_gives_up_after_max_attempts(engine: sa.Engine) -> None:
    [row_id] = outbox.enqueue(engine, [_msg(1)])
    soon = datetime.now(UTC) - timedelta(seconds=1)
    for attempt in range(1, 4):
        assert outbox.claim(engine, "sms", "w", 1, lease=LEASE) == [row_id], attempt
        outbox.mark_sending(engine, "w", {row_id: ("+14155550001", {"body": "hi"})}, lease=LEASE)
        outbox.record(
            engine, [Outcome(row_id, "queued", error="Twilio 20429", retry_at=soon)], max_attempts=3
        )

    [row] = outbox.load(engine, [row_id])
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: Twilio 20429"


def test_a_retry_waits_for_its_time(engine: sa.Engine) -> None:
    [row_id] = outbox.enqueue(engine, [_msg(1)])
    outbox.claim(engine, "sms", "w", 1, lease=LEASE)
    outbox.mark_sending(engine, "w", {row_id: ("+14155550001", {"body": "hi"})}, lease=LEASE)
    outbox.record(engine, [Outcome(row_id, "queued", retry_at=datetime.now(UTC) + timedelta(minutes=1))])

    assert outbox.claim(engine, "sms", "w", 1, lease=LEASE) == []
    assert outbox.claim(engine, "sms", "w", 1, lease=LEASE, now=datetime.now(UTC) + timedelta(minutes=2)) == [
        row_id
    ]


def test_opt_outs_are_suppressed_and_failed_texts_fall_back_to_email_once(engine: sa.Engine) -> None:
    rows = outbox.enqueue(
        engine,
        [_msg(1, fallback_email="jane@example.com", payload={"order": {"id": "1"}}), _msg(2), _msg(3)],
    )
    outbox.claim(engine, "sms", "w", 3, lease=LEASE)
    outbox.mark_sending(
        engine, "w", {i: (f"+1415555000{n}", {"body": "x"}) for n, i in enumerate(rows)}, lease=LEASE
    )

    counts = outbox.record(
        engine,
        [
            Outcome(rows[0], "failed", error="Twilio 21211", fallback=True),
            Outcome(rows[1], "suppressed", error="Twilio 21610", suppress=True),
            Outcome(rows[2], "failed", error="template", fallback=False),
        ],
        fallback=True,
    )

    assert counts == {"failed": 2, "suppressed": 1, "fallbacks": 1}
    assert outbox.suppressed(engine, "sms", ["+14155550001", "+14155550000"]) == {"+14155550001"}
    emails = outbox.list_messages(engine, channel="email")
    assert [(e["recipient"], e["idempotency_key"]) for e in emails] == [
        ("jane@example.com", "order-confirmation:s:1:sms:fallback-email")
    ]
    again = outbox.enqueue_fallbacks(engine.connect(), outbox.load(engine, [rows[0]]))
    assert again == [], "a fallback is queued once"


def test_expired_claims_go_back_and_sends_in_doubt_are_handed_over_once(engine: sa.Engine) -> None:
    claimed_only, sent = outbox.enqueue(engine, [_msg(1), _msg(2)])
    outbox.claim(engine, "sms", "dead", 2, lease=LEASE)
    outbox.mark_sending(engine, "dead", {sent: ("+14155550002", {"body": "hi"})}, lease=LEASE)
    assert outbox.in_doubt(engine, "sms", "r1", 10, lease=LEASE) == [], "leases still running"
    _expire(engine, [claimed_only, sent])

    assert outbox.release_expired_claims(engine) == 1
    assert _status(engine, claimed_only) == "queued", "never sent: safe to send"
    doubt = outbox.in_doubt(engine, "sms", "r1", 10, lease=LEASE)
    assert [r.id for r in doubt] == [sent] and doubt[0].status == "sending"
    assert outbox.in_doubt(engine, "sms", "r2", 10, lease=LEASE) == [], "one recovery at a time"


def test_retry_is_a_persons_decision_with_clear_refusals(engine: sa.Engine) -> None:
    failed, sent, suppressed = outbox.enqueue(engine, [_msg(1), _msg(2), _msg(3)])
    outbox.claim(engine, "sms", "w", 3, lease=LEASE)
    outbox.mark_sending(
        engine, "w", {i: ("+14155550009", {"body": "x"}) for i in (failed, sent, suppressed)}, lease=LEASE
    )
    outbox.record(
        engine,
        [
            Outcome(failed, "failed", error="bad"),
            Outcome(sent, "sent", provider_id="SM1"),
            Outcome(suppressed, "suppressed", suppress=True),
        ],
    )

    with pytest.raises(outbox.RetryRefused, match="no outbox row 999"):
        outbox.retry(engine, [999])
    with pytest.raises(outbox.RetryRefused, match="is sent"):
        outbox.retry(engine, [sent])
    with pytest.raises(outbox.RetryRefused, match="still suppressed"):
        outbox.retry(engine, [suppressed])
    assert outbox.retry(engine, failed=True) == [failed]
    [row] = outbox.load(engine, [failed])
    assert row.status == "queued" and row.attempts == 0
    assert outbox.remove_suppression(engine, "sms", "+14155550009")
    assert outbox.retry(engine, [suppressed]) == [suppressed]


def test_email_suppressions_ignore_case_and_listings_filter(engine: sa.Engine) -> None:
    assert (
        outbox.suppress(engine, "email", [("Jane@Example.com", "bounce"), ("jane@example.com", "again")]) == 2
    )
    assert outbox.suppress(engine, "email", [("Jane@Example.com", "bounce")]) == 0
    assert outbox.suppressed(engine, "email", ["JANE@example.COM", "bob@example.com"]) == {"JANE@example.COM"}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Suppression.__table__)).scalar() == 2
    assert (
        len(outbox.list_suppressions(engine, "email")) == 2 and outbox.list_suppressions(engine, "sms") == []
    )
    with pytest.raises(ValueError, match="unknown status 'lost'"):
        outbox.list_messages(engine, statuses=["lost"])


def test_bad_messages_are_refused_before_the_database(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="channel must be sms or email"):
        NewMessage(key="k", channel="fax", recipient="x", template="t")
    with pytest.raises(ValueError, match="1-200 characters"):
        NewMessage(key="k" * 201, channel="sms", recipient="x", template="t")


def test_postgresql_claims_skip_the_rows_another_claim_holds(engine: sa.Engine, hub_url: str) -> None:
    if not hub_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a second claim waits for the first to commit")
    ids = outbox.enqueue(engine, [_msg(i) for i in range(10)])
    other = create_hub_engine(hub_url)
    with engine.begin() as first:  # a worker's claim, not yet committed
        held = outbox.claim(first, "sms", "a", 4, lease=LEASE)
        with other.begin() as second:
            # Without SKIP LOCKED this claim would wait for the first to commit: fail at once instead.
            second.exec_driver_sql("SET LOCAL lock_timeout = '1ms'")
            taken = outbox.claim(second, "sms", "b", 4, lease=LEASE)
    assert held == ids[:4] and taken == ids[4:8]


def test_calls_that_were_not_the_messages_fault_are_not_counted(engine: sa.Engine) -> None:
    sent, waiting = outbox.enqueue(engine, [_msg(1), _msg(2)])
    outbox.claim(engine, "sms", "w", 2, lease=LEASE)
    outbox.mark_sending(engine, "w", {sent: ("+14155550001", {"body": "x"})}, lease=LEASE)

    outbox.record(
        engine,
        [
            Outcome(sent, "queued", error="Twilio 20003: bad credentials", free=True),  # our configuration
            Outcome(waiting, "queued", error="the channel stopped", free=True),  # claimed, never sent
        ],
        max_attempts=1,
    )

    rows = {r.id: r for r in outbox.load(engine, [sent, waiting])}
    assert (rows[sent].status, rows[sent].attempts) == ("queued", 0), "not given up on, not counted"
    assert (rows[waiting].status, rows[waiting].attempts) == ("queued", 0)
