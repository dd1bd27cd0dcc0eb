"""The demo's closing report: one row per step, then where to look in the Prefect UI."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from deployments.console import console
from deployments.demo.steps import StepResult

__all__ = ["print_report"]


def print_report(results: Sequence[StepResult], api_url: str | None) -> None:
    """Print the steps' table; `api_url` is a lasting Prefect server's (None: a temporary one was used)."""
    table = Table(title="nxt demo", title_justify="left", show_lines=True, header_style="bold")
    table.add_column("step")
    table.add_column("what happened", ratio=3)
    table.add_column("measured", ratio=2)
    table.add_column("s", justify="right")
    for r in results:
        mark = "[green]ok[/]" if r.ok else "[red]FAILED[/]"
        figures = "\n".join(f"{k}: {v}" for k, v in r.figures.items())
        table.add_row(f"{r.step}\n{mark}", r.did, figures, f"{r.seconds:.1f}")
    console.print(table)
    console.print(f"total: {sum(r.seconds for r in results):.1f} s in the steps")
    if api_url:
        ui = api_url.rstrip("/").removesuffix("/api")
        console.print(
            f"The runs, their artifacts (sync summaries, the reconciliation report) and events: {ui}"
        )
    else:
        console.print(
            "The runs, their artifacts (sync summaries, the reconciliation report) and events are kept in "
            "this machine's Prefect database: `uv run nxt up` (or `uv run prefect server start`), then open "
            "http://127.0.0.1:4200 (Runs, Artifacts, Events)."
        )
