"""Block tests use the one shared Prefect test server (`prefect_harness`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from blocks.from_env import NOT_USED, SERVICES


@pytest.fixture(autouse=True)
def _prefect(prefect_harness: None) -> Iterator[None]:
    yield


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every variable `from-env` reads, so the developer's own environment cannot leak in."""
    import os

    names = set(NOT_USED)
    for service in SERVICES:
        names.update(v.name for v in service.variables)
        if service.enabled_var:
            names.add(service.enabled_var)
    for name in list(os.environ):
        if name in names or name.startswith(("WEBHOOK_SECRET_", "WOOCOMMERCE_", "WC_")):
            monkeypatch.delenv(name)
