"""Receiver tests: a real uvicorn server on 127.0.0.1 in a thread (`receiver_harness`), blocks saved in
the shared Prefect test server under a name unique to each test, a fresh hub per test and backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from receiver_harness import Running, save_blocks, settings_for, start_receiver

from hub.db import create_hub_engine


@pytest.fixture(autouse=True)
def _prefect(prefect_harness: None) -> Iterator[None]:
    yield


@pytest.fixture
def names() -> str:
    """A block name unique to this test (blocks live in the session's Prefect server)."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def engine(hub_url: str) -> Iterator[sa.Engine]:
    engine = create_hub_engine(hub_url)
    yield engine
    engine.dispose()


@pytest.fixture
def receiver(names: str, engine: sa.Engine) -> Iterator[Callable[..., Running]]:
    """Start a receiver (blocks saved under the test's name); stopped after the test."""
    started: list[Running] = []

    def start(save: bool = True, block_kwargs: dict[str, Any] | None = None, **overrides: Any) -> Running:
        if save:
            save_blocks(names, **(block_kwargs or {}))
        kwargs = {k: overrides.pop(k) for k in ("registry", "starter") if k in overrides}
        running = start_receiver(settings_for(names, **overrides), engine, **kwargs)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
