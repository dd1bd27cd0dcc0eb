"""What `nxt` commands show while flows run: a progress bar per resource on a terminal, a line per
finished resource otherwise (logs, CI), and compact tables for reports. Prefect's own console lines are
off unless `--verbose` (see `deployments.prefect_api.configure_process`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["console", "progress", "show_verbose_logs", "table"]

console = Console()
_err = Console(stderr=True)


def show_verbose_logs() -> None:
    """`--verbose`: Prefect's console lines and NXT's own INFO logs (retries, waits) on stderr again."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.NOTSET)
    nxt = logging.getLogger("nxt")
    nxt.setLevel(logging.INFO)
    if not nxt.handlers or all(type(h).__name__ == "_RunLogHandler" for h in nxt.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        nxt.addHandler(handler)


@contextlib.contextmanager
def progress(title: str) -> Iterator[None]:
    """Show the progress of syncs run inside the block (pages committed per resource)."""
    from flows._progress import listen

    if _err.is_terminal:
        bars = Progress(
            TextColumn("{task.description:<22}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("pages"),
            TimeElapsedColumn(),
            console=_err,
            transient=True,
        )
        ids: dict[str, Any] = {}

        def update(store: str, pages: Mapping[str, list[int]]) -> None:
            for resource, (done, total) in pages.items():
                if resource not in ids:
                    ids[resource] = bars.add_task(f"{title} {resource}", total=None)
                bars.update(ids[resource], completed=done, total=max(total, done) or None)

        with bars, listen(update):
            yield
        return

    last: dict[str, list[int]] = {}

    def remember(store: str, pages: Mapping[str, list[int]]) -> None:
        last.update({resource: list(counts) for resource, counts in pages.items()})

    try:
        with listen(remember):
            yield
    finally:  # not a terminal (a log, CI): one line per resource once the run is over
        for resource, (done, total) in last.items():
            _err.print(f"{title} {resource}: {done} of {total} pages", highlight=False)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a small report table on stdout."""
    out = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in columns:
        out.add_column(column, justify="right" if column in ("value", "count", "seconds") else "left")
    for row in rows:
        out.add_row(*(str(v) for v in row))
    console.print(out)
