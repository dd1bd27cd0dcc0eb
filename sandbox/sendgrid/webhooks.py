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

import httpx

from .settings import EVENT_SETTING_OF
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from .store import Store

__all__ = ["deliver_now", "queue", "shutdown"]


def queue(st: Store, events: list[tuple[float, dict[str, Any]]]) -> None:
    """Record events and schedule them for posting."""
    for due, event in events:
        st.events.append(event)
        st.pending_seq += 1
        heapq.heappush(st.pending, (due, st.pending_seq, event))
    _wake(st)


def _wake(st: Store) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    if st.runner is None or st.runner.done():
        st.wake = asyncio.Event()
        st.runner = loop.create_task(_run(st))
    elif st.wake is not None:
        st.wake.set()


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
    if st.http is None:
        st.http = httpx.AsyncClient(follow_redirects=False)
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
    started = time.monotonic()
    code = 0
    try:
        resp = await st.http.post(url, content=body, headers=headers, timeout=st.webhook_timeout_s)
        code = resp.status_code
        record["response_body"] = resp.text[:1000]
    except httpx.HTTPError as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    record["status_code"] = code
    record["success"] = 200 <= code < 300
    record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
    st.deliveries.add(record)
    return bool(record["success"])


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


async def _run(st: Store) -> None:
    """Every `flush_interval_s` while events wait: post those whose time has come (batches gather)."""
    assert st.wake is not None
    while True:
        if not st.pending and not st.retry:
            st.wake.clear()
            await st.wake.wait()
        await asyncio.sleep(st.flush_interval_s)
        await _deliver(st, time.time())


async def shutdown(st: Store) -> None:
    if st.runner is not None:
        st.runner.cancel()
        await asyncio.gather(st.runner, return_exceptions=True)
        st.runner = None
    if st.http is not None:
        await st.http.aclose()
        st.http = None
