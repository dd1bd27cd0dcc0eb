"""Status progression and throughput: each message's life is planned when Twilio accepts it.

A sender (a phone number, or a messaging service at its numbers' total rate) sends `mps` segments per
second. Sends above the rate are accepted and wait in the sender's queue; each leaves it in the next free
slot (`date_sent`), slots `segments / mps` seconds apart (whole microseconds, rounded up, so no one-second
window ever holds more than the rate). A message whose slot lies more than its `ValidityPeriod` after its
creation is dropped at that deadline as `failed` 30001 (Queue overflow) and takes no slot.

The plan: [accepted →] queued → sending (at the slot) → sent (+ sending delay) → delivered, or
undelivered with the world's error code for a number flagged `unreachable` (+ delivery delay). Status
changes are kept in one schedule ordered by time and applied when the stand-in's `Clock` reaches them,
by a background task, or at once when a test advances the clock. Each change after the first posts a
status callback.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from decimal import Decimal

from . import callbacks
from .clock import to_us
from .settings import CALLBACK_STATUSES, DELIVERY_ERRORS, PRICE_PER_SEGMENT
from .store import Message, Store

__all__ = ["advance", "pending", "plan", "process_due", "settle"]


def plan(st: Store, m: Message) -> None:
    """Plan `m`'s status changes from its creation time and its sender's queue, and schedule them.

    Times are whole microseconds, so slots `segments / mps` apart (rounded up) never put more than the
    rate into any one-second window.
    """
    t0 = to_us(m.created)
    steps: list[tuple[int, str, int | None]] = []
    if m.messaging_service_sid:
        steps.append((t0, "queued", None))
        sender = st.service_sender(m.messaging_service_sid)
    else:
        sender = st.senders[m.sender]
    start = max(t0, sender.next_free_us)
    if start - t0 > m.validity_period * 1_000_000:
        steps.append((t0 + m.validity_period * 1_000_000, "failed", 30001))
    else:
        sender.next_free_us = start + math.ceil(m.segments * 1_000_000 / sender.mps)
        sent = start + to_us(st.sending_delay_s)
        final = sent + to_us(st.delivery_delay_s)
        steps += [(start, "sending", None), (sent, "sent", None)]
        flag = st.world.contact_flags(m.to, "sms")
        if flag is not None and flag.flag == "unreachable":
            steps.append((final, "undelivered", flag.error_code or 30008))
        else:
            steps.append((final, "delivered", None))
    for due, status, code in steps:
        st.schedule_seq += 1
        heapq.heappush(st.schedule, (due, st.schedule_seq, m.sid, status, code))
        m.scheduled.append((due / 1_000_000, status))
    _wake(st)


def _apply(st: Store, m: Message, status: str, at: float, code: int | None) -> None:
    m.status = status
    m.updated = at
    m.history.append((status, at))
    if m.scheduled:
        m.scheduled.pop(0)
    if status == "queued" and m.messaging_service_sid and m.from_ is None:
        service = st.services[m.messaging_service_sid]
        m.from_ = service.numbers[service.next_number % len(service.numbers)]
        service.next_number += 1
    elif status == "sending":
        m.sent = at
    elif status == "sent":
        m.price = str(Decimal(PRICE_PER_SEGMENT) * m.segments)
    elif status in ("failed", "undelivered"):
        m.error_code = code
        m.error_message = DELIVERY_ERRORS.get(code or 0, "Unknown error")
    if status in CALLBACK_STATUSES:
        callbacks.emit(st, m, status)


def process_due(st: Store) -> int:
    """Apply every scheduled change whose time has come (in time order); returns how many."""
    now = st.clock.now_us()
    done = 0
    while st.schedule and st.schedule[0][0] <= now:
        due, _, sid, status, code = heapq.heappop(st.schedule)
        _apply(st, st.messages[sid], status, due / 1_000_000, code)
        done += 1
    return done


def pending(st: Store) -> int:
    return len(st.schedule)


def advance(st: Store, seconds: float) -> int:
    """Move the clock forward and apply what became due; returns how many changes were applied."""
    st.clock.advance(seconds)
    done = process_due(st)
    _wake(st)
    return done


def settle(st: Store) -> int:
    """Advance the clock to the last scheduled change, so every message reaches its final status."""
    if not st.schedule:
        return 0
    last = max(item[0] for item in st.schedule)
    return advance(st, max(0, last - st.clock.now_us()) / 1_000_000)


def _wake(st: Store) -> None:
    st.worker.wake(lambda wake: _run(st, wake))


async def _run(st: Store, wake: asyncio.Event) -> None:
    while True:
        wake.clear()
        process_due(st)
        timeout: float | None = None
        if st.schedule and not st.clock.frozen:
            timeout = max(0, st.schedule[0][0] - st.clock.now_us()) / 1_000_000
        try:
            await asyncio.wait_for(wake.wait(), timeout)
        except TimeoutError:
            pass
