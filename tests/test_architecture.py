"""The design's import arrows hold (flows -> tasks -> clients, blocks build clients, hub holds state), and the
contracts that say so would catch a wrong-way import."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import read_user_options
from importlinter.contracts.forbidden import ForbiddenContract

ROOT = Path(__file__).resolve().parents[1]


def _contracts_and_graph() -> tuple[list[ForbiddenContract], grimp.ImportGraph]:
    configuration.configure()
    options = read_user_options(str(ROOT / "pyproject.toml"))
    session = options.session_options
    graph = grimp.build_graph(
        *session["root_packages"], include_external_packages=False, exclude_type_checking_imports=True
    )
    contracts = [
        ForbiddenContract(name=c["name"], session_options=session, contract_options=c)
        for c in options.contracts_options
    ]
    return contracts, graph


def test_every_contract_is_kept() -> None:
    contracts, graph = _contracts_and_graph()
    broken = [c.name for c in contracts if not c.check(graph, verbose=False).kept]
    assert broken == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("hub.db", "flows.woocommerce_sync"),
        ("clients._http", "hub.db"),
        ("flows.woocommerce_sync", "clients.errors"),
        ("blocks.woocommerce", "hub.db"),
        ("tasks.records", "flows.woocommerce_sync"),
        ("sandbox.world", "hub.models"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(importer: str, imported: str) -> None:
    contracts, graph = _contracts_and_graph()
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import x")
    assert any(not c.check(graph, verbose=False).kept for c in contracts)
