"""`nxt db`: create, upgrade and downgrade the hub database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from deployments.errors import NxtTyper, fail
from hub.errors import HubConfigError

app = NxtTyper(help="Manage the hub database schema (SQLite by default, PostgreSQL via NXT_DATABASE_URL).")

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL; defaults to NXT_DATABASE_URL, then the embedded SQLite file."),
]


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head", url: UrlOption = None
) -> None:
    """Migrate the hub up to REVISION (default: the newest)."""
    _migrate("upgrade", revision, url)


@app.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision: an id, -1, or 'base' (drops every table).")
    ],
    url: UrlOption = None,
) -> None:
    """Migrate the hub down to REVISION."""
    _migrate("downgrade", revision, url)


def _migrate(direction: str, revision: str, url: str | None) -> None:
    from hub import migrate
    from hub.db import create_hub_engine, safe_url

    try:
        engine = create_hub_engine(url, migrate=False)
        before = migrate.current_revision(engine)
        getattr(migrate, direction)(engine, revision)
        after = migrate.current_revision(engine)
    except HubConfigError as exc:
        fail(str(exc))
    typer.echo(f"hub {safe_url(engine.url)}: {before or 'empty'} -> {after or 'base'}")


@app.command()
def current(url: UrlOption = None) -> None:
    """Print the hub's URL (password hidden) and schema revision."""
    from hub import migrate
    from hub.db import create_hub_engine, safe_url

    try:
        engine = create_hub_engine(url, migrate=False)
        revision = migrate.current_revision(engine)
    except HubConfigError as exc:
        fail(str(exc))
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind (newest is {head}); run `nxt db upgrade`"
    typer.echo(f"hub {safe_url(engine.url)}: revision {revision or 'none'}, {state}")
