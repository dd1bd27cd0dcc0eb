"""The shape every stand-in keeps: imports inside a stand-in package go one way, and nobody outside it
touches its state (tests, benches and the demo use the service's public accessors)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# sandbox/woocommerce, lowest layer first: a module may import only modules listed before it.
WOOCOMMERCE_LAYERS = [
    "settings",
    "schemas",
    "encoding",
    "errors",
    "validation",
    "store",
    "rendering",
    "rest",
    "auth",
    "queries",
    "webhooks",
    "gateways",
    "writes",
    "batch",
    "refunds",
    "system_status",
    "routes",
    "admin",
    "service",
    "__init__",
]


# sandbox/stripe, lowest layer first.
STRIPE_LAYERS = [
    "settings",
    "encoding",
    "errors",
    "store",
    "rendering",
    "rest",
    "auth",
    "idempotency",
    "webhooks",
    "events",
    "payment_methods",
    "customers",
    "payment_intents",
    "charges",
    "refunds",
    "balance",
    "disputes",
    "routes",
    "admin",
    "service",
    "__init__",
]
#: Stand-in packages: each keeps its state private to itself.
STAND_INS = ("woocommerce", "stripe")


def _package_imports(path: Path) -> set[str]:
    """Sibling modules `path` imports (`from .x import`, `from . import x`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_woocommerce_imports_point_down_the_layers() -> None:
    pkg = ROOT / "sandbox" / "woocommerce"
    modules = sorted(p.stem for p in pkg.glob("*.py"))
    assert set(modules) <= set(WOOCOMMERCE_LAYERS), "list a new module in WOOCOMMERCE_LAYERS"
    rank = {name: i for i, name in enumerate(WOOCOMMERCE_LAYERS)}
    for name in modules:
        for dep in _package_imports(pkg / f"{name}.py"):
            assert rank[dep] < rank[name], f"sandbox/woocommerce/{name}.py imports {dep}, which is above it"


def test_stripe_imports_point_down_the_layers() -> None:
    pkg = ROOT / "sandbox" / "stripe"
    modules = sorted(p.stem for p in pkg.glob("*.py"))
    assert set(modules) <= set(STRIPE_LAYERS), "list a new module in STRIPE_LAYERS"
    rank = {name: i for i, name in enumerate(STRIPE_LAYERS)}
    for name in modules:
        for dep in _package_imports(pkg / f"{name}.py"):
            assert rank[dep] < rank[name], f"sandbox/stripe/{name}.py imports {dep}, which is above it"


def test_nobody_outside_the_package_touches_its_state() -> None:
    private = re.compile(r"\._st\b|\._store\(|\._versions\b|\._touched\(")
    offenders = []
    for folder in ("tests", "bench", "deployments", "flows", "tasks", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            own = any(path.is_relative_to(ROOT / "sandbox" / pkg) for pkg in STAND_INS)
            if own or path.name == "test_layout.py":
                continue  # the packages themselves, and the pattern above
            offenders += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if private.search(line)
            ]
    assert not offenders, f"use the service's public accessors: {offenders}"
