"""A per-sender send-rate limit: sends spaced so that no one-second window holds more than the rate.

Twilio queues what a sender is sent above its rate (messages per second) and drops what waits past the
message's validity period, so sends are paced here rather than bursted. Spacing (one start every
`1/rate` seconds) is used instead of a token bucket, which would let a full bucket plus its refill into one
second; the spacing is `margin` wider than the rate so that network jitter between our clock and the
provider's cannot push two sends into the same second. Thread-safe: the SDKs are synchronous and the
dispatch sends from a pool of threads. One limiter per sender per process (`sender_limit`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["SenderRateLimit", "reset_sender_limits", "sender_limit"]

DEFAULT_MARGIN = 0.05


class SenderRateLimit:
    """Start at most `per_second` sends in any one-second window (spaced `(1 + margin) / per_second` apart).

    Args:
        per_second: Messages per second (e.g. 1 for a US long code, 3 toll-free, 100 a short code).
        margin: How much wider than the rate the spacing is (0.05: 5 %).
        clock, sleep: Injected for tests.
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
        self.interval = (1.0 + margin) / per_second
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this send's slot; return the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def pause(self, seconds: float) -> None:
        """No send starts for `seconds` (the provider asked us to slow down)."""
        with self._lock:
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
