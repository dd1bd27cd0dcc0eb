"""Every block passes Prefect's `BlockStandardTestSuite`, plus our own metadata rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites import BlockStandardTestSuite

from blocks import BLOCK_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "blocks.md"
# Blocks that hold settings only (no credential, so no secret field to check).
SETTINGS_ONLY = {"NotificationSettings"}


def _anchors(markdown: str) -> set[str]:
    """GitHub-style anchors of the headings in `markdown`."""
    anchors = set()
    for heading in re.findall(r"^#+\s+(.+)$", markdown, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


@pytest.mark.parametrize("block", BLOCK_TYPES, ids=lambda cls: cls.__name__)
class TestAllBlocksAdhereToStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self, block: type[Block]) -> type[Block]:
        return block

    def test_has_a_valid_image(self, block: type[Block]) -> None:
        # Prefect's version downloads the logo; there is no internet here, so check the URL only.
        assert block._logo_url, f"{block.__name__} is missing a _logo_url"
        assert str(block._logo_url).startswith("https://")

    def test_has_an_explicit_stable_slug(self, block: type[Block]) -> None:
        slug = block.__dict__.get("_block_type_slug")
        assert slug and slug.startswith("nxt-"), f"{block.__name__} must set _block_type_slug"
        assert block.get_block_type_slug() == slug

    def test_name_is_title_case(self, block: type[Block]) -> None:
        name = block.__dict__.get("_block_type_name")
        assert name and all(w[0].isupper() for w in name.replace("-", " ").split())

    def test_documentation_url_points_at_its_docs_section(self, block: type[Block]) -> None:
        url = str(block._documentation_url)
        assert "/docs/blocks.md#" in url
        anchor = url.rsplit("#", 1)[1]
        assert anchor in _anchors(DOCS.read_text()), f"docs/blocks.md has no #{anchor} heading"

    def test_secrets_are_secret_fields(self, block: type[Block]) -> None:
        if block.__name__ in SETTINGS_ONLY:
            return
        secret_fields = block.model_json_schema()["secret_fields"]
        assert secret_fields, f"{block.__name__} has no secret field"


def test_every_block_module_is_covered() -> None:
    """A new block class in blocks/ must be added to BLOCK_TYPES (and so to these tests)."""
    import importlib
    import pkgutil

    import blocks

    found = set()
    for info in pkgutil.iter_modules(blocks.__path__):
        module = importlib.import_module(f"blocks.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Block) and value.__module__ == module.__name__:
                found.add(value)
    assert found == set(BLOCK_TYPES)


def test_exports_are_sorted_and_complete() -> None:
    import blocks

    assert blocks.__all__ == sorted(blocks.__all__)
    for cls in BLOCK_TYPES:
        assert cls.__name__ in blocks.__all__
    assert {"BlockNotFound", "load_block"} <= set(blocks.__all__)


def test_no_name_clashes_with_a_prefect_block_type() -> None:
    """The server finds a newly created type by name, so a clash would save into Prefect's type."""
    from prefect.client.orchestration import get_client

    ours = {cls.get_block_type_slug(): cls.get_block_type_name() for cls in BLOCK_TYPES}
    with get_client(sync_client=True) as client:
        theirs = {t.name.lower() for t in client.read_block_types() if t.slug not in ours}
    assert not {name.lower() for name in ours.values()} & theirs
