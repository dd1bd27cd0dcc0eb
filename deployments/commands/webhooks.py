"""`nxt webhooks`: the inbox of received webhooks (list, replay) and the management API's token."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from deployments.errors import CommandError, NxtTyper

app = NxtTyper(help="Webhooks received by the receiver: list them, replay failed ones; the API token.")

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Hub database URL (default: NXT_DATABASE_URL, then embedded SQLite)."),
]


class Status(StrEnum):
    pending = "pending"
    processing = "processing"
    done = "done"
    failed = "failed"
    ignored = "ignored"


@app.command("list")
def list_(
    status: Annotated[Status | None, typer.Option(help="Only events in this state.")] = None,
    source: Annotated[str | None, typer.Option(help="Only this source (stripe, woocommerce, ...).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Newest events shown.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    url: UrlOption = None,
) -> None:
    """The newest webhook events in the inbox, newest first."""
    from deployments.console import table
    from hub.db import create_hub_engine
    from hub.inbox import list_events

    engine = create_hub_engine(url)
    with engine.connect() as conn:
        events = list_events(conn, status=status.value if status else None, source=source, limit=limit)
    if as_json:
        for e in events:
            typer.echo(
                json.dumps(
                    {
                        "id": e.id,
                        "source": e.source,
                        "topic": e.topic,
                        "resource": e.resource,
                        "status": e.status,
                        "attempts": e.attempts,
                        "received_at": e.received_at.isoformat(),
                        "flow_run_id": e.flow_run_id,
                        "error": e.error,
                    }
                )
            )
        return
    if not events:
        typer.echo("no webhook events" + (f" with status {status.value}" if status else ""))
        return
    table(
        "webhook events",
        ["id", "source", "topic", "resource", "status", "attempts", "received", "flow run", "error"],
        [
            (
                e.id,
                e.source,
                e.topic,
                e.resource or "",
                e.status,
                e.attempts,
                e.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                (e.flow_run_id or "")[:8],
                (e.error or "")[:60],
            )
            for e in events
        ],
    )


@app.command()
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Inbox ids (from `nxt webhooks list`).")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed event.")] = False,
    url: UrlOption = None,
) -> None:
    """Make events pending again (as new deliveries: they start new flow runs); the running receiver
    dispatches them within its poll interval."""
    from hub.db import create_hub_engine
    from hub.inbox import replay as replay_rows

    if not ids and not failed:
        raise CommandError("name inbox ids or pass --failed; see `nxt webhooks list --status failed`")
    engine = create_hub_engine(url)
    with engine.begin() as conn:
        done = replay_rows(conn, ids=ids or (), failed=failed)
    missing = sorted(set(ids or ()) - set(done))
    if done:
        shown = ", ".join(map(str, done[:20])) + (" ..." if len(done) > 20 else "")
        typer.echo(f"replaying {len(done)} event(s): {shown}")
    else:
        typer.echo("nothing to replay")
    if missing:
        raise CommandError(f"not replayed (unknown, or being processed now): {', '.join(map(str, missing))}")


@app.command("api-token")
def api_token(
    name: Annotated[str, typer.Option("--name", help="Block name the receiver loads.")] = "default",
    rotate: Annotated[bool, typer.Option("--rotate", help="Replace an existing token.")] = False,
) -> None:
    """Make a random bearer token for `/api/integrations/...`, save it as a Receiver API block and print
    it once (the receiver reads it at start or on POST /api/integrations/reinitialize)."""
    import secrets

    from pydantic import SecretStr

    from blocks import BlockNotFound, ReceiverAPI, load_block
    from deployments.prefect_api import ensure_api

    ensure_api(lambda line: typer.echo(line, err=True))
    try:
        load_block(ReceiverAPI, name)
        exists = True
    except BlockNotFound:
        exists = False
    if exists and not rotate:
        raise CommandError(f"a Receiver API block named {name!r} exists; pass --rotate to replace its token")
    token = secrets.token_urlsafe(32)
    ReceiverAPI(bearer_token=SecretStr(token)).save(name, overwrite=True)
    typer.echo(token)
    typer.echo(
        f"saved as Receiver API block {name!r}; callers send `Authorization: Bearer <token>`; "
        "it is not shown again",
        err=True,
    )
