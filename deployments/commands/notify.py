"""`nxt notify`: send a text or an email now, look at the outbox, retry, and manage suppressions."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from deployments.errors import CommandError, NxtTyper

app = NxtTyper(help="Send texts and emails, look at the outbox, retry failed messages, manage opt-outs.")

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Hub database URL (default: NXT_DATABASE_URL, then embedded SQLite)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (one object per line for lists).")]
HubOption = Annotated[
    str | None,
    typer.Option(help="Hub Database or SqlAlchemy Connector block name (default: NXT_DATABASE_URL)."),
]
SettingsOption = Annotated[str, typer.Option(help="Notification Settings block name.")]


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"


class Channel(StrEnum):
    sms = "sms"
    email = "email"


@app.command("send-sms")
def send_sms(
    to: Annotated[str, typer.Option(help="Phone number, e.g. +15551234567.")],
    message: Annotated[str, typer.Option(help="The text (at most 1,600 characters).")],
    urgent: Annotated[bool, typer.Option("--urgent", help="Send before everything else waiting.")] = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key sends once.")] = None,
    sms: Annotated[str, typer.Option(help="Twilio SMS Provider block name.")] = "default",
    settings: SettingsOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one text now through the outbox and print Twilio's answer (the seed's response JSON)."""
    from deployments.prefect_api import ensure_api
    from flows.notification_dispatch import send_sms as flow

    ensure_api(lambda line: typer.echo(line, err=True))
    result = asyncio.run(
        flow(to=to, message=message, urgent=urgent, idempotency_key=key, sms=sms, settings=settings, hub=hub)
    )
    _print_sent(result, as_json, "sid")


@app.command("send-email")
def send_email(
    to: Annotated[str, typer.Option(help="Email address.")],
    subject: Annotated[str, typer.Option(help="Subject line.")],
    content: Annotated[str, typer.Option(help="HTML or plain text.")],
    priority: Annotated[Priority, typer.Option(help="low, normal or high (sent first).")] = Priority.normal,
    key: Annotated[str | None, typer.Option(help="Idempotency key: the same key sends once.")] = None,
    email: Annotated[str, typer.Option(help="SendGrid Email Provider block name.")] = "default",
    settings: SettingsOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send one email now through the outbox and print SendGrid's answer (the seed's response JSON)."""
    from deployments.prefect_api import ensure_api
    from flows.notification_dispatch import send_email as flow

    ensure_api(lambda line: typer.echo(line, err=True))
    result = asyncio.run(
        flow(
            to=to,
            subject=subject,
            content=content,
            priority=priority.value,
            idempotency_key=key,
            email=email,
            settings=settings,
            hub=hub,
        )
    )
    _print_sent(result, as_json, "messageId")


def _print_sent(result: dict[str, Any], as_json: bool, id_field: str) -> None:
    if as_json:
        typer.echo(json.dumps(result, default=str))
        return
    data = result["data"]
    typer.echo(
        f"{result['message']}: #{data['notificationId']} to {data['to']}"
        + (f" ({id_field} {data[id_field]})" if data.get(id_field) else "")
    )


@app.command()
def dispatch(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most messages per channel.")] = 5000,
    sms: Annotated[str, typer.Option(help="Twilio SMS Provider block name.")] = "default",
    email: Annotated[str, typer.Option(help="SendGrid Email Provider block name.")] = "default",
    settings: SettingsOption = "default",
    hub: HubOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send what is due in the outbox now (the `notification-dispatch` flow) and print its summary."""
    from deployments.prefect_api import ensure_api
    from flows.notification_dispatch import dispatch_notifications

    ensure_api(lambda line: typer.echo(line, err=True))
    summary = asyncio.run(
        dispatch_notifications(limit=limit, sms=sms, email=email, settings=settings, hub=hub)
    )
    if as_json:
        typer.echo(json.dumps(summary, default=str))
        return
    counts = ", ".join(f"{k} {v}" for k, v in summary["counts"].items()) or "nothing was due"
    typer.echo(
        f"dispatch #{summary['id']}: {summary['status']} in {summary['duration_ms'] / 1000:.1f}s ({counts})"
    )


@app.command()
def outbox(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", help="Only these statuses (repeat the option): queued, failed, unknown, ..."
        ),
    ] = None,
    channel: Annotated[Channel | None, typer.Option(help="Only sms or email.")] = None,
    reference: Annotated[
        str | None, typer.Option(help="Only messages about this, e.g. order:default:123.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Rows to show.")] = 50,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """List outbox messages, newest first, with counts by status."""
    from hub import outbox as hub_outbox
    from hub.db import create_hub_engine
    from hub.models import OUTBOX_STATUSES

    wanted = [s.strip() for s in status or [] if s.strip()]
    for s in wanted:
        if s not in OUTBOX_STATUSES:
            raise CommandError(f"--status {s!r} is not a status; use one of {', '.join(OUTBOX_STATUSES)}")
    engine = create_hub_engine(url)
    rows = hub_outbox.list_messages(
        engine, statuses=wanted, channel=channel.value if channel else None, reference=reference, limit=limit
    )
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    totals = hub_outbox.counts_by_status(engine)
    summary = "; ".join(
        f"{ch}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        for ch, counts in sorted(totals.items())
    )
    typer.echo(summary or "the outbox is empty")
    if not rows:
        return
    from deployments.console import table

    table(
        "outbox",
        ["id", "channel", "status", "to", "event", "attempts", "provider id", "error"],
        [
            (
                r["id"],
                r["channel"],
                r["status"],
                r["recipient"],
                r["template"],
                r["attempts"],
                r["provider_id"] or "",
                (r["last_error"] or "")[:80],
            )
            for r in rows
        ],
    )


@app.command()
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids to send again.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Every failed message.")] = False,
    url: UrlOption = None,
) -> None:
    """Queue messages again: ids given (failed, unknown, undelivered, cancelled, suppressed) or --failed."""
    from hub import outbox as hub_outbox
    from hub.db import create_hub_engine

    if bool(ids) == failed:
        raise CommandError("give outbox ids, or --failed for every failed message (not both)")
    engine = create_hub_engine(url)
    try:
        queued = hub_outbox.retry(engine, ids or [], failed=failed)
    except hub_outbox.RetryRefused as exc:
        raise CommandError(str(exc)) from None
    typer.echo(
        f"queued {len(queued)} message{'s' if len(queued) != 1 else ''} again"
        + (": they go out with the next dispatch (`nxt notify dispatch` to send now)" if queued else "")
    )


@app.command()
def suppressions(
    channel: Annotated[Channel | None, typer.Option(help="Only sms or email.")] = None,
    remove: Annotated[
        str | None, typer.Option(help="Allow messages to this recipient again (needs --channel).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Rows to show.")] = 100,
    as_json: JsonOption = False,
    url: UrlOption = None,
) -> None:
    """List the recipients who opted out (STOP replies, unsubscribes, bounces, spam reports)."""
    from hub import outbox as hub_outbox
    from hub.db import create_hub_engine

    engine = create_hub_engine(url)
    if remove is not None:
        if channel is None:
            raise CommandError("--remove needs --channel sms or --channel email")
        if not hub_outbox.remove_suppression(engine, channel.value, remove.strip()):
            raise CommandError(f"{remove} is not suppressed on {channel.value}")
        typer.echo(f"{remove} may receive {channel.value} messages again")
        return
    rows = hub_outbox.list_suppressions(engine, channel.value if channel else None, limit)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    if not rows:
        typer.echo("no suppressions")
        return
    from deployments.console import table

    table(
        "suppressions",
        ["channel", "recipient", "reason", "since"],
        [(r["channel"], r["recipient"], r["reason"] or "", r["created_at"]) for r in rows],
    )
