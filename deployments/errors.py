"""How every `nxt` command reports bad input: one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_USAGE = 2


class CommandError(Exception):
    """Raised anywhere below a command to end it with one line naming the setting and the fix."""


def fail(message: str, *, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: <message>` to stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
