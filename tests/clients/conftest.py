"""Fixtures for the client tests; the fake store itself is `tests/support/fake_woocommerce.py`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_woocommerce import FakeStore, LiveServer, live_server

from clients import reset_shared_state


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _fresh_shared_state() -> Iterator[None]:
    """Breakers and limiters are process-wide: start every test with none."""
    reset_shared_state()
    yield
    reset_shared_state()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def live_store() -> Iterator[LiveServer]:
    """A 30-product FakeStore over real HTTP on 127.0.0.1."""
    with live_server(FakeStore(products=30)) as server:
        yield server
