"""`Clock`: the stand-in's time, which tests can freeze and move forward.

Every time the Twilio stand-in stamps (creation, queue slots, status changes) comes from one `Clock`. It
follows the wall clock by default; `advance(s)` moves it forward (an offset), `freeze()` stops it so that
nothing progresses unless a test advances it. It counts whole microseconds (`now_us()`), so that times
built from it and from delays add up exactly; `now()` is the same in epoch seconds.
"""

from __future__ import annotations

import time

__all__ = ["Clock", "to_us"]


def to_us(seconds: float) -> int:
    """Seconds as whole microseconds."""
    return round(seconds * 1_000_000)


class Clock:
    __slots__ = ("_frozen", "_offset")

    def __init__(self) -> None:
        self._offset = 0
        self._frozen: int | None = None

    def now_us(self) -> int:
        return self._frozen if self._frozen is not None else time.time_ns() // 1000 + self._offset

    def now(self) -> float:
        return self.now_us() / 1_000_000

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def advance(self, seconds: float) -> float:
        """Move forward `seconds` (>= 0); returns the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward: seconds must be >= 0")
        if self._frozen is not None:
            self._frozen += to_us(seconds)
        else:
            self._offset += to_us(seconds)
        return self.now()

    def freeze(self) -> None:
        """Stop the clock where it stands."""
        self._frozen = self.now_us()

    def unfreeze(self) -> None:
        """Let the clock run again from where it stands."""
        if self._frozen is not None:
            self._offset = self._frozen - time.time_ns() // 1000
            self._frozen = None
