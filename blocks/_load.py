"""Loading a saved block by name, with one clear error when there is none."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from prefect.blocks.core import Block

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

__all__ = ["BlockNotFound", "aload_block", "load_block"]

B = TypeVar("B", bound=Block)


class BlockNotFound(ValueError):
    """No block document of this type has that name."""

    def __init__(self, block_cls: type[Block], name: str) -> None:
        self.block_type_name = block_cls.get_block_type_name()
        self.name = name
        super().__init__(
            f"no {self.block_type_name} block named {name!r}; "
            "create it with `nxt blocks from-env` or in the Prefect UI"
        )


_MISSING = "Unable to find block document"


async def aload_block(block_cls: type[B], name: str, client: PrefectClient | None = None) -> B:
    """`load_block` for async code (flows and tasks); `client`: an open Prefect client to reuse.

    Raises:
        BlockNotFound: no such document.
    """
    try:
        return await block_cls.aload(name, client=client)
    except ValueError as exc:
        if _MISSING in str(exc):
            raise BlockNotFound(block_cls, name) from None
        raise


def load_block(block_cls: type[B], name: str) -> B:
    """Load the block document `name` of `block_cls`.

    Raises:
        BlockNotFound: no such document (the type may not even be registered yet).
    """
    try:
        return cast(B, block_cls.load(name))
    except ValueError as exc:
        if _MISSING in str(exc):
            raise BlockNotFound(block_cls, name) from None
        raise
