"""`nxt conflicts`: records changed on both sides, held for a person (conflict strategy `manual`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from deployments.errors import NxtTyper, fail

app = NxtTyper(help="List and resolve sync conflicts held for a decision.")

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Hub database URL (default: NXT_DATABASE_URL, then embedded SQLite)."),
]


@app.command("list")
def list_(
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    resolved: Annotated[bool, typer.Option("--resolved", help="Show resolved conflicts instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: UrlOption = None,
) -> None:
    """List open (or resolved) conflicts, oldest first."""
    from hub.db import create_hub_engine
    from hub.edits import list_conflicts
    from hub.errors import HubConfigError

    try:
        engine = create_hub_engine(url)
        with engine.connect() as conn:
            rows = list_conflicts(conn, store, "resolved" if resolved else "open")
    except HubConfigError as exc:
        fail(str(exc))
    if not rows:
        typer.echo("no resolved conflicts" if resolved else "no open conflicts")
        return
    for row in rows:
        if as_json:
            typer.echo(json.dumps(row, default=str))
            continue
        changed = sorted(
            k
            for k in set(row["hub_version"]) | set(row["remote_version"])
            if k not in ("date_modified", "date_modified_gmt", "_links")
            and row["hub_version"].get(k) != row["remote_version"].get(k)
        )
        typer.echo(
            f"#{row['id']} {row['store']} {row['resource']} {row['remote_id']}: differs in "
            f"{', '.join(changed) or '(timestamps only)'} (hub edit {row['hub_modified_at']}, "
            f"store {row['remote_modified_at']})" + (f" -> kept {row['resolution']}" if resolved else "")
        )


@app.command()
def resolve(
    conflict_id: Annotated[int, typer.Argument(help="Conflict id from `nxt conflicts list`.")],
    keep: Annotated[str, typer.Option(help="wc: take the store's version; nxt: keep the hub's edit.")],
    url: UrlOption = None,
) -> None:
    """Resolve one conflict by keeping the store's (wc) or the hub's (nxt) version."""
    from hub.db import create_hub_engine
    from hub.edits import EditError, resolve_conflict
    from hub.errors import HubConfigError

    if keep not in ("wc", "nxt"):
        fail(f"--keep must be wc or nxt, not {keep!r}")
    try:
        engine = create_hub_engine(url)
        with engine.begin() as conn:
            conflict = resolve_conflict(conn, conflict_id, keep)
    except (HubConfigError, EditError) as exc:
        fail(str(exc))
    after = (
        "the store's version is now in the hub"
        if keep == "wc"
        else "the hub's edit goes out with the next push"
    )
    typer.echo(
        f"conflict #{conflict_id} ({conflict['resource']} {conflict['remote_id']}): kept {keep}; {after}"
    )
