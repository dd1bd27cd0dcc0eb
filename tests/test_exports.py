"""The public packages list their public names, sorted (as httpx does)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["blocks", "clients"])
def test_public_names_are_listed_and_sorted(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.{name} is listed but missing"
