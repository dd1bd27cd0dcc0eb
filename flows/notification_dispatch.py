"""Notification flows: the outbox dispatch, the seed's direct sends, delivery status updates, and operator
alerts.

- `notification-dispatch` (`dispatch_notifications`) settles sends left in doubt, then claims due rows and
  sends them: texts through Twilio at the sender's rate (urgent first), emails through SendGrid, up to
  1,000 per request. Deployed every minute, one at a time; `request_dispatch()` starts it right away when
  something was enqueued (the sync flow does after order changes, the receiver after payment events).
- `send-sms` / `send-email` (`send_sms`, `send_email`): the seed's `POST /api/integrations/sms/send` and
  `/email/send`, through the same outbox (recorded, deduplicated), returning the seed's response JSON.
- `notification-status` (`update_notification_status`): Twilio status callbacks and SendGrid events, as
  the webhook receiver stored them, applied to outbox rows and suppressions.
- `operator_alert(...)`: an alert to the operators' recipients (through the outbox) and to the Prefect
  notification blocks named in the settings (Slack, Microsoft Teams, email, ...).

Every run is named and tagged, leaves a `notification_runs` row, `dashboard_metrics`/`dashboard_events`
rows and a table artifact, and emits `nxt.notifications.<what>.completed|failed` about the resource
`nxt.notifications.outbox`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from prefect import Flow, flow, get_run_logger
from prefect.artifacts import acreate_table_artifact
from prefect.client.schemas.objects import FlowRun, State
from prefect.runtime import flow_run
from sqlalchemy.engine import Engine

from blocks import BlockNotFound, NotificationSettings, SendGridEmail, TwilioSMS, aload_block
from flows._hub import open_hub
from flows._runs import RunFailed, capture_client_logs, emit_finished, label_run
from hub import locks, outbox
from hub.analytics import record_event, record_metrics
from hub.notification_runs import close_flow_run_runs, finish_run, start_run
from hub.notifications import NotificationRejected, operator_alert_messages, submit_email, submit_sms
from hub.provider_events import apply_sendgrid_events, apply_twilio_status
from hub.templates import TemplateProblem, Templates
from tasks.log import run_logger
from tasks.outbox import recover_sends, send_email_batch, send_sms_batch
from tasks.outbox_context import DispatchContext, forget_dispatch, open_dispatch
from tasks.policy import EXPECTED_FAILURES

__all__ = [
    "DISPATCH_DEPLOYMENT",
    "NotificationError",
    "dispatch_notifications",
    "load_settings",
    "operator_alert",
    "request_dispatch",
    "run_dispatch",
    "send_email",
    "send_operator_alert",
    "send_sms",
    "templates_for",
    "update_notification_status",
]

DISPATCH_DEPLOYMENT = "notification-dispatch/every-minute"
FLOW_TIMEOUT_S = 3600
EMAIL_BATCH = 1000  # one Mail Send request's worth per task
SMS_BATCH_SECONDS = 60  # a text task sends about a minute of the sender's rate
SMS_BATCH_MAX = 500
ALERT_DEDUPE_S = 24 * 3600
CHANNELS = ("sms", "email")


class NotificationError(RunFailed):
    """A notification run that could not do its work (a provider refused our configuration, a block or
    template is missing or broken); the message is one line."""


_RUN_FAILURES: tuple[type[Exception], ...] = (*EXPECTED_FAILURES, NotificationError)


async def _close_interrupted_run(flow: Flow[..., Any], flow_run: FlowRun, state: State[Any]) -> None:
    """State hook (crashed, cancelled): close this flow run's `notification_runs` rows."""
    engine = await open_hub((flow_run.parameters or {}).get("hub"))
    reason = (
        f"flow run {flow_run.id} {(state.name or state.type.value).lower()}: {state.message or 'no message'}"
    )
    with engine.begin() as conn:
        close_flow_run_runs(conn, str(flow_run.id), reason)


def _flow(name: str, run_name: str, timeout_s: int = FLOW_TIMEOUT_S) -> Callable[[Callable[..., Any]], Any]:
    return flow(
        name=name,
        flow_run_name=run_name,
        timeout_seconds=timeout_s,
        on_crashed=[_close_interrupted_run],
        on_cancellation=[_close_interrupted_run],
    )


# --------------------------------------------------------------------------------------------------
# Dispatch


@_flow("notification-dispatch", "notification-dispatch/{settings}")
async def dispatch_notifications(
    limit: int = 5000,
    sms: str = "default",
    email: str = "default",
    settings: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Send what is due in the outbox: texts through Twilio, emails through SendGrid.

    Sends left in doubt by an earlier run (a crash, a timeout) are settled first: Twilio is asked whether
    it has them, SendGrid's events say it for emails. Texts go out urgent first at the sender's rate;
    emails that share a template and send time go in one request of up to 1,000.

    Args:
        limit: Most messages claimed per channel in this run (1-100,000).
        sms: Name of the Twilio SMS Provider block.
        email: Name of the SendGrid Email Provider block.
        settings: Name of the Notification Settings block (its defaults when `default` is not saved).
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        The run's summary: id, status, counts and duration.
    """
    if not 1 <= limit <= 100_000:
        raise ValueError(f"limit must be between 1 and 100000, not {limit}")
    await label_run(["notifications", "dispatch", f"settings:{settings}"])
    capture_client_logs()
    settings_block, templates = await load_settings_and_templates(settings)
    engine = await open_hub(hub)
    sms_block, sms_missing = await _provider(TwilioSMS, sms)
    email_block, email_missing = await _provider(SendGridEmail, email)
    return await run_dispatch(
        engine,
        settings_block,
        templates,
        sms=sms_block,
        email=email_block,
        missing={"sms": sms_missing, "email": email_missing},
        limit=limit,
        flow_run_id=_flow_run_id(),
        use_prefect=True,
    )


async def run_dispatch(
    engine: Engine,
    settings: NotificationSettings,
    templates: Templates,
    *,
    sms: TwilioSMS | None,
    email: SendGridEmail | None,
    missing: Mapping[str, str | None] | None = None,
    limit: int = 5000,
    only: Mapping[str, Sequence[int]] | None = None,
    kind: str = "dispatch",
    flow_run_id: str | None = None,
    use_prefect: bool = True,
) -> dict[str, Any]:
    """The dispatch itself. `use_prefect=False` runs the same work without Prefect tasks or artifacts (the
    benchmark and the crash tests run it in plain processes).

    `only` restricts the claims to given row ids per channel (a direct send sending its own row).
    """
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = start_run(conn, kind=kind, flow_run_id=flow_run_id)
    worker = f"{flow_run_id or 'local'}:{uuid.uuid4().hex[:12]}"
    ctx = open_dispatch(engine, settings, templates, worker=worker, sms=sms, email=email, run_id=run_id)
    for channel, reason in (missing or {}).items():
        if reason:
            ctx.stopped[channel] = reason
    status, error = "completed", None
    unexpected: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for channel in CHANNELS:
                if only is not None and channel not in only:
                    continue
                ids = list(only[channel]) if only is not None else None
                group.create_task(_dispatch_channel(ctx, channel, limit, ids, use_prefect))
    except* _RUN_FAILURES as failures:
        status, error = "failed", _one_line(_first(failures))
    except* BaseException as failures:  # a bug or a kill: record it, then let it propagate as it is
        status, error = "failed", _one_line(_first(failures))
        unexpected = _first(failures)
    finally:
        forget_dispatch(ctx.key)
    if status == "completed":
        error = await asyncio.to_thread(_stopped_with_work, ctx)
        status = "failed" if error else status
    summary = await asyncio.to_thread(_finish, engine, ctx, run_id, kind, status, error, started)
    if use_prefect:
        await _report(summary)
    if unexpected is not None:
        raise unexpected
    if status != "completed":
        raise NotificationError(error)
    return summary


async def _dispatch_channel(
    ctx: DispatchContext, channel: str, limit: int, only: list[int] | None, use_prefect: bool
) -> None:
    if channel in ctx.stopped:
        return
    if only is None:
        await _caller(recover_sends, use_prefect)(ctx.key, channel)
    send = _caller(send_sms_batch if channel == "sms" else send_email_batch, use_prefect)
    size = EMAIL_BATCH if channel == "email" else _sms_batch(ctx)
    if only is not None:
        size = len(only)
    claimed, number = 0, 0
    while claimed < limit and channel not in ctx.stopped:
        number += 1
        batch = min(size, limit - claimed)
        counts = await send(ctx.key, batch, number, only)
        got = int(counts.get("claimed", 0))
        claimed += got
        if got < batch or only is not None:
            break  # nothing more is due (or the direct send's row was handled)


def _sms_batch(ctx: DispatchContext) -> int:
    rate = ctx.sms.messages_per_second if ctx.sms is not None else 1.0
    return max(1, min(SMS_BATCH_MAX, round(rate * SMS_BATCH_SECONDS)))


def _stopped_with_work(ctx: DispatchContext) -> str | None:
    """The run's failure when a stopped channel still has messages waiting (else nothing to report)."""
    for channel in CHANNELS:
        reason = ctx.stopped.get(channel)
        waiting = outbox.waiting(ctx.engine, channel) if reason else 0
        if waiting:
            what = "text" if channel == "sms" else "email"
            many = waiting != 1
            return f"{waiting} {what}{'s' if many else ''} wait{'' if many else 's'} in the outbox: {reason}"
    return None


def _finish(
    engine: Engine,
    ctx: DispatchContext,
    run_id: int,
    kind: str,
    status: str,
    error: str | None,
    started: float,
) -> dict[str, Any]:
    counts = {k: int(v) for k, v in sorted(ctx.counts.items()) if v}
    sent = counts.get("sms_sent", 0) + counts.get("email_sent", 0)
    failed = counts.get("sms_failed", 0) + counts.get("email_failed", 0)
    tags = {"run_id": run_id, "kind": kind}
    with engine.begin() as conn:
        duration_ms = finish_run(conn, run_id, status=status, counts=counts, error=error)
        record_metrics(
            conn,
            {
                "notify_dispatch_duration": (duration_ms, "ms"),
                "notify_sms_sent": (counts.get("sms_sent", 0), "messages"),
                "notify_email_sent": (counts.get("email_sent", 0), "messages"),
                "notify_failed": (failed, "messages"),
                "notify_suppressed": (
                    counts.get("sms_suppressed", 0) + counts.get("email_suppressed", 0),
                    "messages",
                ),
                "notify_retried": (counts.get("sms_queued", 0) + counts.get("email_queued", 0), "messages"),
                "notify_in_doubt": (
                    counts.get("sms_sending", 0) + counts.get("email_sending", 0),
                    "messages",
                ),
                "notify_sendgrid_requests": (counts.get("email_requests", 0), "requests"),
            },
            tags,
        )
        record_event(
            conn,
            "notifications_dispatched" if status == "completed" else "notification_dispatch_failed",
            severity="info" if status == "completed" else "error",
            message=error or f"{kind}: {sent} sent, {failed} failed",
            data={**tags, "counts": counts, "duration_ms": duration_ms},
        )
    return {
        "id": run_id,
        "kind": kind,
        "status": status,
        "duration_ms": duration_ms,
        "counts": counts,
        "error": error,
    }


async def _report(summary: dict[str, Any]) -> None:
    """The run's table artifact, one log line, and the Prefect event automations hang on."""
    rows = [{"measure": k, "value": v} for k, v in summary["counts"].items()]
    rows += [
        {"measure": "duration_ms", "value": summary["duration_ms"]},
        {"measure": "status", "value": summary["status"]},
    ]
    if summary["error"]:
        rows.append({"measure": "error", "value": summary["error"]})
    kind = summary["kind"]
    await acreate_table_artifact(
        rows, key=f"notification-{kind}", description=f"Notifications {kind} run #{summary['id']}"
    )
    get_run_logger().info("notifications %s %s: %s", kind, summary["status"], summary["counts"])
    emit_finished(
        f"nxt.notifications.{kind}",
        kind="notifications",
        name="outbox",
        ok=summary["status"] == "completed",
        payload=summary,
    )


# --------------------------------------------------------------------------------------------------
# The seed's direct sends


@_flow("send-sms", "send-sms/{sms}", timeout_s=600)
async def send_sms(
    to: str,
    message: str,
    urgent: bool = False,
    idempotency_key: str | None = None,
    sms: str = "default",
    settings: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Send one text now, through the outbox (recorded, deduplicated): the seed's `sms/send`.

    Args:
        to: Phone number (E.164, or national with the settings' default region).
        message: The text (1-1,600 characters).
        urgent: Send before everything else waiting.
        idempotency_key: Makes a retried request the same message; by default the same text to the same
            number within 10 minutes is.
        sms: Name of the Twilio SMS Provider block.
        settings: Name of the Notification Settings block.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        The seed's response: `{"success", "message", "data": {"sid", "status", "to", "sentAt"}}`.

    Raises:
        NotificationRejected: bad input (an invalid number, an empty or too long text), a number that
            opted out, or one Twilio refused; `.body()` is the seed's error JSON, `.status` its HTTP status.
    """
    await label_run(["notifications", "direct", "channel:sms"])
    capture_client_logs()
    settings_block, templates = await load_settings_and_templates(settings)
    engine = await open_hub(hub)
    row_id, _ = await asyncio.to_thread(
        submit_sms,
        engine,
        to,
        message,
        urgent=urgent,
        idempotency_key=idempotency_key,
        default_region=settings_block.default_region,
    )
    row = await _send_now(engine, settings_block, templates, "sms", row_id, sms)
    return _sms_response(row)


@_flow("send-email", "send-email/{email}", timeout_s=600)
async def send_email(
    to: str,
    subject: str,
    content: str,
    priority: str = "normal",
    idempotency_key: str | None = None,
    email: str = "default",
    settings: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Send one email now, through the outbox (recorded, deduplicated): the seed's `email/send`.

    Args:
        to: Email address.
        subject: Subject line.
        content: HTML (or plain text); the email carries both a text and an HTML part.
        priority: `low`, `normal` or `high` (sent first, marked important).
        idempotency_key: Makes a retried request the same message; by default the same email to the same
            address within 10 minutes is.
        email: Name of the SendGrid Email Provider block.
        settings: Name of the Notification Settings block.
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        The seed's response: `{"success", "message", "data": {"messageId", "to", "subject", "sentAt"}}`.

    Raises:
        NotificationRejected: bad input or an address that opted out; `.body()` is the seed's error JSON.
    """
    await label_run(["notifications", "direct", "channel:email"])
    capture_client_logs()
    settings_block, templates = await load_settings_and_templates(settings)
    engine = await open_hub(hub)
    row_id, _ = await asyncio.to_thread(
        submit_email, engine, to, subject, content, priority=priority, idempotency_key=idempotency_key
    )
    row = await _send_now(engine, settings_block, templates, "email", row_id, email)
    return _email_response(row)


async def _send_now(
    engine: Engine,
    settings: NotificationSettings,
    templates: Templates,
    channel: str,
    row_id: int,
    block_name: str,
) -> outbox.OutboxRow:
    """Send the direct message's row if it is due (a repeated request finds it sent and returns it)."""
    row = (await asyncio.to_thread(outbox.load, engine, [row_id]))[0]
    if row.status == "queued":
        cls = TwilioSMS if channel == "sms" else SendGridEmail
        block = await aload_block(cls, block_name)
        await run_dispatch(
            engine,
            settings,
            templates,
            sms=block if channel == "sms" else None,  # type: ignore[arg-type]
            email=block if channel == "email" else None,  # type: ignore[arg-type]
            only={channel: [row_id]},
            kind=f"send-{channel}",
            flow_run_id=_flow_run_id(),
            use_prefect=True,
        )
        row = (await asyncio.to_thread(outbox.load, engine, [row_id]))[0]
    if row.status in ("failed", "suppressed"):
        raise NotificationRejected(
            row.last_error or f"the {channel} was not sent",
            code=row.error_code or row.status,
            field="to",
            status=422 if row.status == "suppressed" else 400,
            row_id=row.id,
        )
    return row


def _sms_response(row: outbox.OutboxRow) -> dict[str, Any]:
    sent = row.status in ("sent", "delivered", "undelivered")
    return {
        "success": True,
        "message": "SMS sent successfully"
        if sent
        else "SMS accepted; it goes out as soon as Twilio takes it",
        "data": {
            "sid": row.provider_id,
            "status": (row.provider_status or row.status) if sent else row.status,
            "to": row.recipient,
            "sentAt": _iso(row.sent_at) if sent else None,
            "notificationId": row.id,
        },
    }


def _email_response(row: outbox.OutboxRow) -> dict[str, Any]:
    sent = row.status in ("sent", "delivered", "undelivered")
    return {
        "success": True,
        "message": "Email sent successfully"
        if sent
        else "Email accepted; it goes out as soon as SendGrid takes it",
        "data": {
            "messageId": row.provider_id,
            "to": row.recipient,
            "subject": (row.rendered or {}).get("subject") or row.payload.get("subject"),
            "sentAt": _iso(row.sent_at) if sent else None,
            "status": row.status,
            "notificationId": row.id,
        },
    }


# --------------------------------------------------------------------------------------------------
# Delivery status


@_flow("notification-status", "notification-status/{provider}", timeout_s=600)
async def update_notification_status(
    provider: str,
    events: list[dict[str, Any]],
    settings: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """Apply provider delivery news (as the webhook receiver stored it) to the outbox.

    Args:
        provider: `twilio` (status callbacks) or `sendgrid` (Event Webhook events).
        events: Twilio: one dict per callback, its form fields plus the callback URL's query parameters
            (`nxt_id`); SendGrid: the events of one or more posts (each post is a JSON array).
        settings: Name of the Notification Settings block (`fallback_to_email`).
        hub: Name of a Hub Database block; defaults to NXT_DATABASE_URL, then the embedded SQLite hub.

    Returns:
        Counts: applied, ignored, suppressions, fallbacks.
    """
    if provider not in ("twilio", "sendgrid"):
        raise ValueError(f"provider must be twilio or sendgrid, not {provider!r}")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ValueError("events must be a list of JSON objects")
    await label_run(["notifications", "status", f"provider:{provider}"])
    settings_block = await load_settings(settings)
    engine = await open_hub(hub)
    counts = await asyncio.to_thread(
        _apply_status, engine, provider, events, settings_block.fallback_to_email
    )
    with engine.begin() as conn:
        record_metrics(
            conn,
            {f"notify_{provider}_status_applied": (counts.get("applied", 0), "events")},
            {"provider": provider},
        )
        record_event(
            conn,
            "notification_status_updated",
            message=f"{provider}: {counts.get('applied', 0)} of {len(events)} applied",
            data={"provider": provider, "counts": dict(counts)},
        )
    if counts.get("fallbacks"):
        await request_dispatch("fallback emails after failed texts")
    emit_finished(
        "nxt.notifications.status", kind="notifications", name="outbox", ok=True, payload=dict(counts)
    )
    return dict(counts)


def _apply_status(
    engine: Engine, provider: str, events: list[dict[str, Any]], fallback: bool
) -> Counter[str]:
    if provider == "sendgrid":
        return apply_sendgrid_events(engine, events)
    counts: Counter[str] = Counter()
    for params in events:
        update = apply_twilio_status(engine, params, fallback=fallback)
        counts[update.result] += 1
        counts["fallbacks"] += int(update.fallback)
    return counts


# --------------------------------------------------------------------------------------------------
# Starting a dispatch right away, and operator alerts


async def request_dispatch(reason: str) -> str | None:
    """Start a run of the dispatch deployment now (it also runs every minute); return its flow run id.

    Without the deployment (nothing is served) this logs where the messages wait and returns None: they go
    out with the next dispatch run. A run started while another is going is cancelled by the deployment's
    concurrency limit; the running one keeps claiming until nothing is due, and the next tick catches the
    rest.
    """
    from prefect.deployments import arun_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = await arun_deployment(DISPATCH_DEPLOYMENT, timeout=0, as_subflow=False, tags=["notifications"])
    except ObjectNotFound:
        run_logger().info(
            "queued notifications (%s) go out with the next dispatch: no %s deployment is served here "
            "(`nxt serve`, or `nxt notify dispatch` to send now)",
            reason,
            DISPATCH_DEPLOYMENT,
        )
        return None
    return str(run.id)


async def operator_alert(
    subject: str,
    message: str,
    *,
    key: str,
    severity: Literal["info", "warning", "error", "critical"] = "error",
    source: str = "nxt",
    details: Mapping[str, Any] | None = None,
    settings: str = "default",
    engine: Engine | None = None,
    hub: str | None = None,
    dispatch: bool = True,
) -> dict[str, Any]:
    """Tell the operators: an email and text to the settings' recipients (through the outbox) and a message
    to each Prefect notification block the settings name (`operator_notification_blocks`).

    `key` makes the alert idempotent: the same key is queued once and sent to the notification blocks once
    a day (use e.g. `woocommerce-sync-failed:<store>:<hour>` to alert at most once an hour). Never raises
    for a block that cannot be reached (it is logged and reported); a `dashboard_events` row of type
    `operator_alert` records every call.

    Returns:
        `{"queued": rows enqueued, "notified": blocks reached, "failed": {block: reason}, "first": bool}`.
    """
    settings_block = await load_settings(settings)
    engine = engine or await open_hub(hub)
    first = await asyncio.to_thread(
        locks.acquire, engine, f"operator-alert:{key}"[:200], uuid.uuid4().hex, ALERT_DEDUPE_S
    )
    rows = operator_alert_messages(
        key,
        subject,
        message,
        severity=severity,
        source=source,
        details=details,
        emails=settings_block.operator_emails,
        phones=settings_block.operator_phones,
    )
    queued = await asyncio.to_thread(outbox.enqueue, engine, rows)
    notified: list[str] = []
    failed: dict[str, str] = {}
    if first:
        for ref in settings_block.operator_notification_blocks:
            problem = await _notify_block(ref, subject, message, severity)
            if problem:
                failed[ref] = problem
            else:
                notified.append(ref)
    logger = run_logger()
    for ref, problem in failed.items():
        logger.warning("operator alert not sent to %s: %s", ref, problem)
    with engine.begin() as conn:
        record_event(
            conn,
            "operator_alert",
            severity=severity,
            message=f"{subject}: {message}"[:2000],
            source=source,
            data={"key": key, "queued": len(queued), "notified": notified, "failed": failed, "first": first},
        )
    if queued and dispatch:
        await request_dispatch(f"operator alert {key}")
    return {"queued": len(queued), "notified": notified, "failed": failed, "first": first}


@_flow("operator-alert", "operator-alert/{source}", timeout_s=600)
async def send_operator_alert(
    subject: str,
    message: str,
    key: str,
    severity: Literal["info", "warning", "error", "critical"] = "error",
    source: str = "automation",
    breaks: int | None = None,
    threshold: int = 0,
    settings: str = "default",
    hub: str | None = None,
) -> dict[str, Any]:
    """`operator_alert` as a flow, for automations (`nxt setup`) and anyone without Python at hand.

    With `breaks`, alert only when they are over `threshold` (the reconciliation automation fires on every
    completed reconciliation and passes its break count). The same `key` as the flows' own alerts (e.g.
    `woocommerce-sync-failed:<store>:<hour>`) makes the automation and the flow alert once between them.

    Returns:
        `operator_alert`'s result, or `{"skipped": reason}`.
    """
    await label_run(["alert", f"source:{source}"])
    if breaks is not None and breaks <= threshold:
        reason = f"{breaks} breaks, not over the threshold {threshold}"
        run_logger().info("no alert: %s", reason)
        return {"skipped": reason}
    result = await operator_alert(
        subject, message, key=key, severity=severity, source=source, settings=settings, hub=hub
    )
    run_logger().info("operator alert %s: %s", key, result)
    return result


async def _notify_block(ref: str, subject: str, message: str, severity: str) -> str | None:
    """Send through one Prefect notification block; the reason it failed, or None."""
    from prefect.blocks.abstract import NotificationBlock
    from prefect.blocks.core import Block

    try:
        block: Block = await Block.aload(ref)
    except (ValueError, KeyError) as exc:
        return f"cannot load block {ref!r}: {str(exc).splitlines()[0][:200]}"
    if not isinstance(block, NotificationBlock):  # narrows `block` for the calls below
        return f"{ref!r} is a {type(block).__name__}, not a notification block"
    body = f"[{severity.upper()}] {message}"
    try:
        with block.raise_on_failure():
            notify = getattr(block, "anotify", None)
            if notify is not None:
                await notify(body, subject)
            else:
                await block.notify(body, subject)
    except Exception as exc:  # a notification channel down must never break the caller
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    return None


# --------------------------------------------------------------------------------------------------
# Shared


async def load_settings(name: str) -> NotificationSettings:
    """The Notification Settings block `name`; its defaults when `default` was never saved."""
    try:
        return await aload_block(NotificationSettings, name)
    except BlockNotFound:
        if name == "default":
            return NotificationSettings()
        raise


async def load_settings_and_templates(name: str) -> tuple[NotificationSettings, Templates]:
    """The settings and their compiled templates; a broken template fails here with its file and line."""
    settings = await load_settings(name)
    return settings, await asyncio.to_thread(templates_for, settings)


def templates_for(settings: NotificationSettings) -> Templates:
    """The shipped templates overridden by the settings' folder, compiled.

    Raises:
        NotificationError: a template does not compile (its file and line), or the folder is missing.
    """
    try:
        return Templates.load(settings.templates_folder)
    except TemplateProblem as exc:
        raise NotificationError(f"notification template problem: {exc}") from None


async def _provider(cls: type[Any], name: str) -> tuple[Any, str | None]:
    try:
        return await aload_block(cls, name), None
    except BlockNotFound as exc:
        return None, str(exc)


def _flow_run_id() -> str | None:
    return str(flow_run.id) if flow_run.id else None


def _caller(task_obj: Any, use_prefect: bool) -> Callable[..., Awaitable[dict[str, int]]]:
    return task_obj if use_prefect else task_obj.fn  # type: ignore[no-any-return]


def _first(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
