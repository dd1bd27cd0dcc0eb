"""Progress of running syncs for whoever shows it in this process (the `nxt` command's progress bars).

Flows call `notify(...)` as pages commit; a caller that wants to watch wraps the flow call in
`with listen(callback): ...`. Nothing listens by default, and a listener's failure never reaches the flow.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping

__all__ = ["Listener", "listen", "notify"]

Listener = Callable[[str, Mapping[str, list[int]]], None]
"""`callback(store, {resource: [pages done, pages known]})`."""

_listeners: list[Listener] = []


@contextlib.contextmanager
def listen(callback: Listener) -> Iterator[None]:
    """Call `callback` with every progress update of syncs run while the block is open."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


def notify(store: str, progress: Mapping[str, list[int]]) -> None:
    for callback in list(_listeners):
        try:
            callback(store, progress)
        except Exception:  # a broken progress display must not fail a sync
            logging.getLogger("nxt").debug("progress listener failed", exc_info=True)
