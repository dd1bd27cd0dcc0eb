"""`clients.__all__` lists every public name, sorted, and each one exists (httpx style)."""

from __future__ import annotations

import clients
import clients.woocommerce


def test_all_is_sorted_and_complete() -> None:
    assert clients.__all__ == sorted(clients.__all__)
    for name in clients.__all__:
        assert hasattr(clients, name), name
    public = {
        name
        for name, value in vars(clients).items()
        if not name.startswith("_")
        and not isinstance(value, type(clients))
        and name != "annotations"  # from `from __future__ import annotations`
    }
    assert public == set(clients.__all__)


def test_woocommerce_package_exports() -> None:
    assert clients.woocommerce.__all__ == ["BatchResult", "FetchResult", "Page", "WooCommerceClient"]
    assert clients.WooCommerceClient is clients.woocommerce.WooCommerceClient


def test_no_prefect_imports_in_clients() -> None:
    from pathlib import Path

    root = Path(clients.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "import prefect" not in text and "from prefect" not in text, path
