"""A per-sender send-rate limit: no one-second window at the provider ever holds more than the rate.

Twilio queues what a sender is sent above its rate (messages per second) and drops what waits past the
message's validity period, so sends are paced here rather than bursted. Pacing the *starts* of requests is
not enough: the provider counts *arrivals*, and a request that leaves late (a busy machine, a slow
connection) lands in the next second beside the ones sent on time (measured: 23 arrivals in one second at
a paced 20/s). So the limit is kept on what we know for certain: the k-th send starts no earlier than one
window after the (k - N)-th send's answer came back, where N is the rate's whole messages per second. Any
N + 1 consecutive arrivals then span at least the window, whatever the network did:
`arrival[k] >= start[k] >= answer[k-N] + window >= arrival[k-N] + window`. Starts are also spaced
`1/rate` apart, so sends flow evenly instead of in bursts of N.

Thread-safe: the SDKs are synchronous and the dispatch sends from a pool of threads. One limiter per
sender per process (`sender_limit`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["SenderRateLimit", "reset_sender_limits", "sender_limit"]

DEFAULT_MARGIN = 0.02  # for clock rounding between us and the provider


class Send:
    """One send's place in the limit: call `SenderRateLimit.done(send)` when its answer came back."""

    __slots__ = ("answered",)

    def __init__(self) -> None:
        self.answered: float | None = None


class SenderRateLimit:
    """At most `per_second` sends (rounded down, at least 1) arrive at the provider in any one second.

    Args:
        per_second: Messages per second (e.g. 1 for a US long code, 3 toll-free, 100 a short code). Below
            1, one send per `1/per_second` seconds.
        margin: How much longer than a second (or `1/per_second`) the window is (0.02: 2 %).
        clock, sleep: Injected for tests (a single-threaded test calls `done` before the next `acquire`).
    """

    def __init__(
        self,
        per_second: float,
        *,
        margin: float = DEFAULT_MARGIN,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not per_second > 0:
            raise ValueError(f"a send rate must be above 0 messages per second, not {per_second}")
        self.per_second = per_second
        self.burst = max(1, math.floor(per_second))
        self.window = max(1.0, self.burst / per_second) * (1.0 + margin)
        self.interval = (1.0 + margin) / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._recent: deque[Send] = deque()  # the last `burst` sends, oldest first
        self._changed = threading.Condition()

    def acquire(self) -> Send:
        """Wait until a send may start; return its handle (give it to `done` once answered)."""
        with self._changed:
            while True:
                now = self._clock()
                ready = self._next
                if len(self._recent) >= self.burst:
                    oldest = self._recent[0]
                    if oldest.answered is None:  # N sends in flight: wait for one to come back
                        self._changed.wait(timeout=1.0)
                        continue
                    ready = max(ready, oldest.answered + self.window)
                if ready <= now:
                    break
                self._changed.release()
                try:
                    self._sleep(ready - now)
                finally:
                    self._changed.acquire()
            send = Send()
            self._recent.append(send)
            while len(self._recent) > self.burst:
                self._recent.popleft()
            self._next = now + self.interval
            return send

    def done(self, send: Send) -> None:
        """The send's answer came back (or it failed): its window starts now."""
        with self._changed:
            send.answered = self._clock()
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        """No send starts for `seconds` (the provider asked us to slow down)."""
        with self._changed:
            self._next = max(self._next, self._clock() + max(0.0, seconds))


_LIMITS: dict[tuple[str, float], SenderRateLimit] = {}
_LIMITS_LOCK = threading.Lock()


def sender_limit(sender: str, per_second: float) -> SenderRateLimit:
    """The process's limiter of `sender` at `per_second` (shared by every dispatch in this process)."""
    with _LIMITS_LOCK:
        limit = _LIMITS.get((sender, per_second))
        if limit is None:
            limit = _LIMITS[(sender, per_second)] = SenderRateLimit(per_second)
        return limit


def reset_sender_limits() -> None:
    """Forget every limiter (tests)."""
    with _LIMITS_LOCK:
        _LIMITS.clear()
