"""The shape every stand-in keeps: imports inside a stand-in package go one way, and nobody outside it
touches its state (tests, benches and the demo use the service's public accessors)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

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

# sandbox/paypal and sandbox/authorizenet, the same way.
PAYPAL_LAYERS = [
    "settings",
    "encoding",
    "errors",
    "state",
    "rendering",
    "rest",
    "auth",
    "webhooks",
    "orders",
    "payments",
    "reporting",
    "admin",
    "routes",
    "service",
    "__init__",
]
AUTHORIZENET_LAYERS = [
    "settings",
    "encoding",
    "errors",
    "schema",
    "state",
    "rendering",
    "webhooks",
    "transactions",
    "reporting",
    "admin",
    "routes",
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

TWILIO_LAYERS = [
    "settings",
    "encoding",
    "errors",
    "clock",
    "store",
    "rendering",
    "auth",
    "callbacks",
    "delivery",
    "messages",
    "routes",
    "admin",
    "service",
    "__init__",
]

SENDGRID_LAYERS = [
    "settings",
    "errors",
    "signing",
    "store",
    "validation",
    "events",
    "webhooks",
    "auth",
    "mail",
    "webhook_settings",
    "routes",
    "admin",
    "service",
    "__init__",
]


LAYERS = {
    "woocommerce": WOOCOMMERCE_LAYERS,
    "stripe": STRIPE_LAYERS,
    "paypal": PAYPAL_LAYERS,
    "square": SQUARE_LAYERS,
    "authorizenet": AUTHORIZENET_LAYERS,
    "twilio": TWILIO_LAYERS,
    "sendgrid": SENDGRID_LAYERS,
}


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


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_imports_point_down_the_layers(package: str) -> None:
    layers = LAYERS[package]
    pkg = ROOT / "sandbox" / package
    modules = sorted(p.stem for p in pkg.glob("*.py"))
    assert set(modules) == set(layers), (
        f"list a new module (and only existing ones) in the layers of sandbox/{package}"
    )
    rank = {name: i for i, name in enumerate(layers)}
    for name in modules:
        for dep in _package_imports(pkg / f"{name}.py"):
            assert rank[dep] < rank[name], f"sandbox/{package}/{name}.py imports {dep}, which is above it"


def test_nobody_outside_the_package_touches_its_state() -> None:
    # The services' state attributes (`_st`, Square's `_state`), the state classes, the store's internals.
    private = re.compile(r"\._st\b|\._state\b|\bSquareState\b|\._store\(|\._versions\b|\._touched\(")
    offenders = []
    for folder in ("tests", "bench", "deployments", "flows", "tasks", "sandbox"):
        for path in (ROOT / folder).rglob("*.py"):
            if (
                any(path.is_relative_to(ROOT / "sandbox" / pkg) for pkg in LAYERS)
                or path.name == "test_layout.py"
            ):
                continue  # a stand-in package itself, and the pattern above
            offenders += [
                f"{path.relative_to(ROOT)}:{n}"
                for n, line in enumerate(path.read_text().splitlines(), 1)
                if private.search(line)
            ]
    assert not offenders, f"use the service's public accessors: {offenders}"


def _absolute_imports(path: Path) -> set[str]:
    """Modules `path` imports by absolute name (`import a.b`, `from a.b import c`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_a_stand_in_shares_code_only_through_the_shared_modules(package: str) -> None:
    """What two stand-ins share lives in `sandbox/_framework.py`, `_delivery.py` and the world's modules,
    never in one stand-in imported by another."""
    others = {f"sandbox.{p}" for p in LAYERS if p != package}
    for path in (ROOT / "sandbox" / package).glob("*.py"):
        wrong = {m for m in _absolute_imports(path) if ".".join(m.split(".")[:2]) in others}
        assert not wrong, f"sandbox/{package}/{path.name} imports another stand-in: {sorted(wrong)}"
