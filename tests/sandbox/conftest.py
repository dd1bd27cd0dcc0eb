"""Sandbox fixtures: one shared read-mostly store per session, fresh stores for tests that write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from woocommerce import API

from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import woocommerce_client
from sandbox.world import DEFAULT_END

# `now` pinned: these tests read fixed dates (history ends 2026-01-01, writes use the real clock after it).
SIZES = {"products": 60, "customers": 30, "orders": 120, "seed": 11, "now": DEFAULT_END}


@pytest.fixture(scope="session")
def shared_sb() -> Iterator[Sandbox]:
    """A store nobody writes to (tests that write use `fresh_sb`)."""
    with run_sandbox(**SIZES) as sb:
        yield sb


@pytest.fixture(scope="session")
def tls_sb() -> Iterator[Sandbox]:
    with run_sandbox(**SIZES, tls=True) as sb:
        yield sb


@pytest.fixture
def make_sb() -> Iterator[Callable[..., Sandbox]]:
    """Start a private sandbox with any `run_sandbox` arguments; stopped after the test."""
    with ExitStack() as stack:

        def make(**kwargs: Any) -> Sandbox:
            return stack.enter_context(run_sandbox(**(SIZES | kwargs)))

        yield make


@pytest.fixture
def fresh_sb(make_sb: Callable[..., Sandbox]) -> Sandbox:
    return make_sb()


@pytest.fixture
def client(shared_sb: Sandbox) -> Iterator[httpx.Client]:
    with woocommerce_client(shared_sb) as c:
        yield c


@pytest.fixture
def fresh_client(fresh_sb: Sandbox) -> Iterator[httpx.Client]:
    with woocommerce_client(fresh_sb) as c:
        yield c


def wc_api(sb: Sandbox, **kwargs: Any) -> API:
    creds = sb.credentials["woocommerce"]
    if sb.ca_file:
        kwargs.setdefault("verify_ssl", sb.ca_file)
    return API(
        url=sb.urls["woocommerce"],
        consumer_key=creds["consumer_key"],
        consumer_secret=creds["consumer_secret"],
        timeout=10,
        **kwargs,
    )


@pytest.fixture
def api(shared_sb: Sandbox) -> API:
    return wc_api(shared_sb)


@pytest.fixture
def make_api() -> Callable[..., API]:
    """`make_api(sb, **API kwargs)`: the PyPI `woocommerce` client aimed at a sandbox."""
    return wc_api
