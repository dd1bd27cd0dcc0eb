"""The Square stand-in keeps the stand-in shape: imports inside the package go one way, and nobody
outside it touches its state (tests, benches and the demo use `SquareService`'s accessors)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "sandbox" / "square"

# sandbox/square, lowest layer first: a module may import only modules listed before it.
SQUARE_LAYERS = [
    "settings",
    "encoding",
    "errors",
    "state",
    "rendering",
    "rest",
    "auth",
    "pagination",
    "idempotency",
    "webhooks",
    "locations",
    "payments",
    "refunds",
    "payouts",
    "disputes",
    "routes",
    "admin",
    "service",
    "__init__",
]


def _package_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_square_imports_point_down_the_layers() -> None:
    modules = sorted(p.stem for p in PKG.glob("*.py"))
    assert set(modules) == set(SQUARE_LAYERS), "list a new module in SQUARE_LAYERS"
    rank = {name: i for i, name in enumerate(SQUARE_LAYERS)}
    for name in modules:
        for dep in _package_imports(PKG / f"{name}.py"):
            assert rank[dep] < rank[name], f"sandbox/square/{name}.py imports {dep}, which is above it"


def test_nobody_outside_the_package_touches_its_state() -> None:
    private = re.compile(r"\._state\b|\bSquareState\b")
    offenders = []
    for folder in ("tests", "bench", "deployments", "flows", "tasks", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(PKG) or path.name == "test_square_layout.py":
                continue
            offenders += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if private.search(line)
            ]
    assert not offenders, f"use SquareService's accessors: {offenders}"
