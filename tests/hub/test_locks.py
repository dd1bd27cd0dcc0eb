"""Leases in the hub: one holder at a time across engines and threads, expiry, and only the owner releases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hub import locks
from hub.db import create_hub_engine
from hub.models import SyncLock

L = SyncLock.__table__


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _expire(engine: sa.Engine, name: str) -> None:
    """Let the lease run out without waiting: move its expiry into the past."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(L).where(L.c.name == name).values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )


def test_one_holder_at_a_time(engine: sa.Engine) -> None:
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=60)
    assert not locks.acquire(engine, "sync:s1", "run-b", ttl_s=60)
    assert locks.acquire(engine, "sync:s2", "run-b", ttl_s=60), "another name is another lock"

    held = locks.holder(engine, "sync:s1")
    assert held is not None and held.owner == "run-a"
    assert held.acquired_at.tzinfo is not None and held.expires_at > held.acquired_at
    assert "run-a" in held.describe() and "since" in held.describe()


def test_the_owner_acquiring_again_keeps_its_lease(engine: sa.Engine) -> None:
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=60)
    first = locks.holder(engine, "sync:s1")
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=600)
    again = locks.holder(engine, "sync:s1")
    assert first is not None and again is not None
    assert again.acquired_at == first.acquired_at and again.expires_at > first.expires_at


def test_only_the_owner_releases(engine: sa.Engine) -> None:
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=60)
    assert not locks.release(engine, "sync:s1", "run-b")
    assert locks.holder(engine, "sync:s1").owner == "run-a"  # type: ignore[union-attr]
    assert locks.release(engine, "sync:s1", "run-a")
    assert locks.holder(engine, "sync:s1") is None
    assert not locks.release(engine, "sync:s1", "run-a"), "released already"
    assert locks.acquire(engine, "sync:s1", "run-b", ttl_s=60)


def test_an_expired_lease_can_be_taken_and_the_old_owner_loses_it(engine: sa.Engine) -> None:
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=60)
    _expire(engine, "sync:s1")
    assert locks.holder(engine, "sync:s1") is None, "an expired lease is held by no one"

    assert locks.acquire(engine, "sync:s1", "run-b", ttl_s=60)
    assert not locks.renew(engine, "sync:s1", "run-a", ttl_s=60)
    assert not locks.release(engine, "sync:s1", "run-a")
    assert locks.holder(engine, "sync:s1").owner == "run-b"  # type: ignore[union-attr]


def test_renew_extends_only_the_owners_lease(engine: sa.Engine) -> None:
    assert not locks.renew(engine, "sync:s1", "run-a", ttl_s=60), "nothing to renew"
    assert locks.acquire(engine, "sync:s1", "run-a", ttl_s=5)
    before = locks.holder(engine, "sync:s1")
    assert locks.renew(engine, "sync:s1", "run-a", ttl_s=600)
    after = locks.holder(engine, "sync:s1")
    assert before is not None and after is not None and after.expires_at > before.expires_at
    assert not locks.renew(engine, "sync:s1", "run-b", ttl_s=600)


def test_a_lease_taken_in_a_rolled_back_transaction_is_not_held(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            assert locks.acquire(conn, "sync:s1", "run-a", ttl_s=60)
            raise RuntimeError("rolled back")
    assert locks.holder(engine, "sync:s1") is None


@pytest.mark.parametrize(
    ("name", "owner", "ttl"),
    [("", "a", 60), ("n", "", 60), ("n", "a", 0), ("n", "a", -1), ("n" * 201, "a", 1)],
)
def test_bad_arguments_are_refused(name: str, owner: str, ttl: float) -> None:
    engine = sa.create_engine("sqlite://")  # refused before any SQL
    with pytest.raises(ValueError):
        locks.acquire(engine, name, owner, ttl_s=ttl)
    with pytest.raises(ValueError):
        locks.renew(engine, name, owner, ttl_s=ttl)


def test_racing_engines_get_one_holder(hub_url: str) -> None:
    """Eight engines (as eight processes would have) race for the same lease, five rounds."""
    contenders = 8
    engines = [create_hub_engine(hub_url) for _ in range(contenders)]
    try:
        for round_ in range(5):
            won, errors = _race(engines, round_)
            assert errors == []
            assert len(won) == 1, f"round {round_}: {won}"
            assert locks.holder(engines[0], "sync:race").owner == won[0]  # type: ignore[union-attr]
            assert locks.release(engines[0], "sync:race", won[0])
    finally:
        for e in engines:
            e.dispose()


def _race(engines: list[sa.Engine], round_: int) -> tuple[list[str], list[BaseException]]:
    start = threading.Barrier(len(engines))
    won: list[str] = []
    errors: list[BaseException] = []

    def contend(i: int) -> None:
        try:
            start.wait(timeout=30)
            if locks.acquire(engines[i], "sync:race", f"run-{round_}-{i}", ttl_s=60):
                won.append(f"run-{round_}-{i}")
        except BaseException as exc:  # surfaced by the caller
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return won, errors
