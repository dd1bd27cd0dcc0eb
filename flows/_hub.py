"""The hub a flow writes to, named the same way by every flow's `hub` parameter."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from blocks import ahub_engine_options
from hub.db import create_hub_engine

__all__ = ["open_hub"]


async def open_hub(name: str | None) -> Engine:
    """The hub engine: from the named Hub Database or SqlAlchemy Connector block, else NXT_DATABASE_URL,
    else the embedded SQLite hub. Creating an engine may migrate a new database: done off the loop."""
    if name is None:
        return await asyncio.to_thread(create_hub_engine)
    options = await ahub_engine_options(name)
    return await asyncio.to_thread(create_hub_engine, **options)
