"""The Event Webhook: batching, signing and posting events, with SendGrid's retries and duplicates.

Events wait until their time comes, then go out in batches (JSON arrays of up to `batch_size` events,
the body ending in CRLF) to the webhook's `url`, one POST at a time, signed when the signed webhook is on.
Only event types switched on in the settings are posted; with the webhook off (or no URL) events are
discarded, as SendGrid does. A batch answered with anything but 2xx (or not answered) is retried with
exponential backoff, up to `max_attempts` posts; `duplicate_rate` posts a share of batches a second time,
like SendGrid's at-least-once delivery. Every POST is recorded in the delivery log.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from typing import Any

from .settings import EVENT_SETTING_OF
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from .store import Store

__all__ = ["deliver_now", "queue"]


def queue(st: Store, events: list[tuple[float, dict[str, Any]]]) -> None:
    """Record events and schedule them for posting."""
    for due, event in events:
        st.events.append(event)
        st.pending_seq += 1
        heapq.heappush(st.pending, (due, st.pending_seq, event))
    _wake(st)


def _wake(st: Store) -> None:
    st.worker.wake(lambda wake: _run(st, wake))


def _take(st: Store, until: float | None) -> list[dict[str, Any]]:
    """Pop the events due by `until` (all of them when None), keeping those the settings want posted."""
    out = []
    settings = st.event_settings
    on = bool(settings.get("enabled")) and bool(settings.get("url"))
    while st.pending and (until is None or st.pending[0][0] <= until):
        _, _, event = heapq.heappop(st.pending)
        if on and settings.get(EVENT_SETTING_OF.get(event["event"], event["event"]), True):
            out.append(event)
        else:
            st.discarded += 1
    return out


def _due_retries(st: Store, until: float | None) -> list[tuple[list[dict[str, Any]], int]]:
    out = []
    while st.retry and (until is None or st.retry[0][0] <= until):
        _, _, batch, attempt = heapq.heappop(st.retry)
        out.append((batch, attempt))
    return out


async def _post(st: Store, batch: list[dict[str, Any]], attempt: int, *, duplicate: bool = False) -> bool:
    url = str(st.event_settings.get("url") or "")
    body = (json.dumps(batch, separators=(",", ":")) + "\r\n").encode()
    headers = {"Content-Type": "application/json", "User-Agent": "SendGrid Event API"}
    if st.signed:
        timestamp = str(int(time.time()))
        headers[SIGNATURE_HEADER] = st.signing_key.sign(timestamp, body)
        headers[TIMESTAMP_HEADER] = timestamp
    record: dict[str, Any] = {
        "kind": "event_webhook",
        "url": url,
        "events": len(batch),
        "attempt": attempt,
        "duplicate": duplicate,
        "request_headers": headers,
        "body": body.decode(),
        "time": time.time(),
    }
    outcome = await st.courier.post(url, body, headers, record, timeout=st.webhook_timeout_s)
    st.courier.log.add(record)
    return outcome.ok


async def _send(st: Store, batch: list[dict[str, Any]], attempt: int) -> None:
    ok = await _post(st, batch, attempt)
    if ok and st.duplicate_rate and st.rng.random() < st.duplicate_rate:
        await _post(st, batch, attempt, duplicate=True)
    if not ok and attempt < st.max_attempts:
        st.pending_seq += 1
        due = time.time() + st.retry_base_s * 2 ** (attempt - 1)
        heapq.heappush(st.retry, (due, st.pending_seq, batch, attempt + 1))


async def _deliver(st: Store, until: float | None) -> int:
    """Post what is due by `until` (everything when None); returns the events posted."""
    if st.post_lock is None:
        st.post_lock = asyncio.Lock()
    posted = 0
    async with st.post_lock:
        for batch, attempt in _due_retries(st, until):
            await _send(st, batch, attempt)
            posted += len(batch)
        events = _take(st, until)
        for i in range(0, len(events), st.batch_size):
            batch = events[i : i + st.batch_size]
            await _send(st, batch, 1)
            posted += len(batch)
    return posted


async def deliver_now(st: Store, *, everything: bool = True) -> int:
    """Post pending events now: all of them (and any batch waiting for a retry), or only those due."""
    return await _deliver(st, None if everything else time.time())


async def _run(st: Store, wake: asyncio.Event) -> None:
    """Every `flush_interval_s` while events wait: post those whose time has come (batches gather)."""
    while True:
        if not st.pending and not st.retry:
            wake.clear()
            await wake.wait()
        await asyncio.sleep(st.flush_interval_s)
        await _deliver(st, time.time())
