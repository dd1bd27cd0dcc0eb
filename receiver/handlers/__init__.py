"""The handlers the dispatcher runs, one module per area, each with a module-level `HANDLERS` tuple.

To add handlers, write `receiver/handlers/<area>.py` (see `receiver.dispatch` for the `Handler` API and
an example) and add its module name to `HANDLER_MODULES`. Order matters: the first handler that matches a
row handles it, so put specific topic patterns before broad ones.
"""

from __future__ import annotations

import importlib

from receiver.dispatch import Registry

__all__ = ["HANDLER_MODULES", "default_registry"]

HANDLER_MODULES: tuple[str, ...] = (
    "receiver.handlers.woocommerce",
    "receiver.handlers.payments",
    "receiver.handlers.messaging",
)
"""Modules whose `HANDLERS` the receiver registers, in this order."""


def default_registry() -> Registry:
    """A registry with the handlers of every module in `HANDLER_MODULES`."""
    registry = Registry()
    for name in HANDLER_MODULES:
        for handler in importlib.import_module(name).HANDLERS:
            registry.add(handler)
    return registry
