"""Sending the outbox: one task per send batch (a chunk of texts, a Mail Send request or a few), and the
check of sends left in doubt.

Each batch claims its rows (`hub.outbox.claim`), ends those that cannot be sent (`hub.dispatch.prepare`:
settings, bad recipients, opt-outs, templates), marks the rest `sending` with their text, calls the
provider, and records what each answer means (`hub.dispatch.*_outcome`, `hub.outbox.record`). Texts are
paced by the sender's rate limit and sent from a thread pool (the SDKs are synchronous); emails that share
a template and send time go out together, up to 1,000 per request.

Provider answers never fail a task: they end on the rows. A task fails (and Prefect retries it) only when
the hub cannot be reached; a retried task finds the rows it had claimed and not sent, and leaves the rows
it had marked `sending` to the recovery, which asks the provider before anything is sent again.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from clients.sendgrid import MAIL_CONFIG, MAIL_TOO_LARGE, MailResult, send_mail
from clients.twilio import CONFIG, RETRY, LookupFailed, SendResult, find_sent
from clients.twilio import send_sms as twilio_send
from hub import outbox
from hub.dispatch import (
    MailRequest,
    Prepared,
    mail_outcome,
    mail_requests,
    prepare,
    recovered_mail_outcome,
    recovered_sms_outcome,
    sms_outcome,
    split,
    status_callback_for,
)
from hub.models import utcnow
from tasks.log import run_logger
from tasks.outbox_context import DispatchContext, lookup_dispatch
from tasks.policy import batch_task

CLAIM_LEASE = timedelta(minutes=15)  # a batch that has not marked its rows `sending` by then lets them go
RECOVERY_LEASE = timedelta(minutes=5)
CLOCK_MARGIN = timedelta(minutes=2)  # Twilio's clock against ours, when looking for a message we sent
MAX_SPLITS = 10


def _send_lease(ctx: DispatchContext, channel: str) -> timedelta:
    """How long a row stays `sending` before recovery may look at it: past any answer of its call."""
    block = ctx.sms if channel == "sms" else ctx.email
    timeout_s = (block.timeout_ms / 1000) if block is not None else 30.0
    return timedelta(seconds=2 * timeout_s + 60)


def _retry_delay(ctx: DispatchContext) -> Any:
    return ctx.settings.retry_delay


def _is_suppressed(ctx: DispatchContext) -> Any:
    return lambda channel, recipients: outbox.suppressed(ctx.engine, channel, recipients)


async def _claim_and_prepare(
    ctx: DispatchContext, channel: str, size: int, only: Sequence[int] | None
) -> tuple[int, list[Prepared], Counter[str]]:
    ids = await asyncio.to_thread(
        outbox.claim, ctx.engine, channel, ctx.worker, size, lease=CLAIM_LEASE, only=only
    )
    counts: Counter[str] = Counter(claimed=len(ids))
    if not ids:
        return 0, [], counts
    rows = await asyncio.to_thread(outbox.load, ctx.engine, ids)
    s = ctx.settings
    ready, ended = await asyncio.to_thread(
        prepare,
        rows,
        templates=ctx.templates,
        shop={"name": s.shop_name, "url": s.shop_url},
        default_region=s.default_region,
        customer_channels=s.customer_channels,
        customer_events=s.customer_events,
        is_suppressed=_is_suppressed(ctx),
    )
    if ended:
        counts.update(await asyncio.to_thread(outbox.record, ctx.engine, ended, fallback=s.fallback_to_email))
    return len(ids), ready, counts


async def _release(ctx: DispatchContext, items: Iterable[Prepared], why: str) -> Counter[str]:
    """Put claimed rows that will not be sent in this run back in the queue (nothing was sent)."""
    outcomes = [outbox.Outcome(i.row.id, "queued", error=why, error_code="config", free=True) for i in items]
    if not outcomes:
        return Counter()
    recorded = await asyncio.to_thread(outbox.record, ctx.engine, outcomes)
    return Counter(released=recorded["queued"])


# --------------------------------------------------------------------------------------------------
# SMS


def _sms_batch_name() -> str:
    from prefect.runtime import task_run

    params = task_run.parameters
    return f"send texts {params.get('number', 1)}"


@batch_task("send-sms-batch", task_run_name=_sms_batch_name)
async def send_sms_batch(
    ctx_key: str, size: int, number: int = 1, only: list[int] | None = None
) -> dict[str, int]:
    """Claim up to `size` due texts and send them through Twilio at the sender's rate.

    Returns:
        Counts: claimed, sent, failed, suppressed, cancelled, queued (to retry), sending (in doubt), ...
    """
    ctx = lookup_dispatch(ctx_key)
    if "sms" in ctx.stopped or ctx.sms is None:
        return {}
    claimed, ready, counts = await _claim_and_prepare(ctx, "sms", size, only)
    chunk = ctx.sms_chunk()
    for start in range(0, len(ready), chunk):
        if "sms" in ctx.stopped:
            counts.update(await _release(ctx, ready[start:], ctx.stopped["sms"]))
            break
        counts.update(await _send_texts(ctx, ready[start : start + chunk]))
    ctx.counts.update({f"sms_{k}": v for k, v in counts.items()})
    run_logger().info("texts batch %s: %s", number, _show(counts))
    return dict(counts)


async def _send_texts(ctx: DispatchContext, items: list[Prepared]) -> Counter[str]:
    assert ctx.sms is not None
    marked = await asyncio.to_thread(
        outbox.mark_sending,
        ctx.engine,
        ctx.worker,
        {i.row.id: (i.recipient, i.rendered) for i in items},
        lease=_send_lease(ctx, "sms"),
    )
    todo = [i for i in items if i.row.id in marked]
    limit = ctx.sms_limit()
    client = ctx.sms_client()
    block = ctx.sms
    callback = ctx.settings.status_callback_url

    def send(item: Prepared) -> SendResult:
        slot = limit.acquire()
        try:
            result = twilio_send(
                client,
                to=item.recipient,
                body=item.rendered["body"],
                from_=block.from_number,
                messaging_service_sid=block.messaging_service_sid,
                status_callback=status_callback_for(callback, item.row.id),
            )
        finally:
            limit.done(slot)
        if result.outcome == RETRY:
            limit.pause(result.retry_after or 1.0)  # Twilio asked us to slow down
        return result

    loop = asyncio.get_running_loop()
    results = await asyncio.gather(*(loop.run_in_executor(ctx.executor(), send, i) for i in todo))
    now = utcnow()
    outcomes = []
    for item, result in zip(todo, results, strict=True):
        if result.outcome == CONFIG:
            ctx.stopped.setdefault("sms", f"Twilio refused our configuration: {result.message}")
        outcomes.append(
            sms_outcome(
                item,
                outcome=result.outcome,
                provider_id=result.provider_id,
                provider_status=result.provider_status,
                code=result.code,
                message=result.message,
                retry_after=result.retry_after,
                now=now,
                retry_delay=_retry_delay(ctx),
            )
        )
    counts = await asyncio.to_thread(
        outbox.record,
        ctx.engine,
        outcomes,
        max_attempts=ctx.settings.max_attempts,
        fallback=ctx.settings.fallback_to_email,
    )
    counts["lost_claim"] += len(items) - len(todo)
    return counts


# --------------------------------------------------------------------------------------------------
# Email


def _email_batch_name() -> str:
    from prefect.runtime import task_run

    params = task_run.parameters
    return f"send emails {params.get('number', 1)}"


@batch_task("send-email-batch", task_run_name=_email_batch_name)
async def send_email_batch(
    ctx_key: str, size: int = 1000, number: int = 1, only: list[int] | None = None
) -> dict[str, int]:
    """Claim up to `size` due emails and send them through SendGrid, up to 1,000 per request.

    Returns:
        Counts: claimed, requests, sent, failed, suppressed, cancelled, queued (to retry), sending, ...
    """
    ctx = lookup_dispatch(ctx_key)
    if "email" in ctx.stopped or ctx.email is None:
        return {}
    claimed, ready, counts = await _claim_and_prepare(ctx, "email", size, only)
    requests = mail_requests(ready, from_email=ctx.email.from_email, from_name=ctx.settings.shop_name)
    for index, request in enumerate(requests):
        if "email" in ctx.stopped:
            counts.update(
                await _release(ctx, [i for r in requests[index:] for i in r.rows], ctx.stopped["email"])
            )
            break
        counts.update(await _send_request(ctx, request))
    ctx.counts.update({f"email_{k}": v for k, v in counts.items()})
    run_logger().info("emails batch %s: %s", number, _show(counts))
    return dict(counts)


async def _send_request(ctx: DispatchContext, request: MailRequest) -> Counter[str]:
    assert ctx.email is not None
    marked = await asyncio.to_thread(
        outbox.mark_sending,
        ctx.engine,
        ctx.worker,
        {i.row.id: (i.recipient, i.rendered) for i in request.rows},
        lease=_send_lease(ctx, "email"),
    )
    counts: Counter[str] = Counter(lost_claim=len(request.rows) - len(marked))
    if len(marked) < len(request.rows):  # another worker took some over: send only ours
        kept = [i for i in request.rows if i.row.id in marked]
        pending = mail_requests(kept, from_email=ctx.email.from_email, from_name=ctx.settings.shop_name)
    else:
        pending = [request]
    splits = 0
    client = ctx.email_client()
    while pending:
        current = pending.pop(0)
        result: MailResult = await asyncio.to_thread(send_mail, client, current.body)
        counts["requests"] += 1
        if result.outcome == MAIL_TOO_LARGE and len(current.rows) > 1 and splits < MAX_SPLITS:
            splits += 1
            pending = (
                split(current, from_email=ctx.email.from_email, from_name=ctx.settings.shop_name) + pending
            )
            continue
        if result.outcome == MAIL_CONFIG:
            ctx.stopped.setdefault("email", f"SendGrid refused our configuration: {result.message}")
        outcomes = mail_outcome(
            current,
            outcome=result.outcome,
            message_id=result.message_id,
            errors=result.errors,
            message=result.message,
            retry_after=result.retry_after,
            now=utcnow(),
            retry_delay=_retry_delay(ctx),
            event_window=timedelta(seconds=ctx.settings.email_event_window_s),
        )
        counts.update(
            await asyncio.to_thread(
                outbox.record, ctx.engine, outcomes, max_attempts=ctx.settings.max_attempts
            )
        )
    return counts


# --------------------------------------------------------------------------------------------------
# Sends in doubt


@batch_task("check-sends-in-doubt", task_run_name="check {channel} sends in doubt")
async def recover_sends(ctx_key: str, channel: str, size: int = 200) -> dict[str, int]:
    """Settle rows left `sending` past their lease (a crash, a timeout, a lost answer).

    Texts: Twilio is asked for messages to the number since the claim with the same body; one found is
    adopted (sent, with its SID), none found means the text goes out again; when Twilio cannot be asked,
    the row waits and, past the settings' `sms_check_window_s`, becomes `unknown`. Emails: SendGrid has no
    lookup; an event naming the row settles it (see `hub.provider_events`); without one within
    `email_event_window_s` it becomes `unknown` for a person. Claims that expired before any send are
    simply queued again.
    """
    ctx = lookup_dispatch(ctx_key)
    counts: Counter[str] = Counter()
    counts["released"] = await asyncio.to_thread(outbox.release_expired_claims, ctx.engine)
    if channel == "sms" and ("sms" in ctx.stopped or ctx.sms is None):
        return dict(counts)
    rows = await asyncio.to_thread(
        outbox.in_doubt, ctx.engine, channel, ctx.worker, size, lease=RECOVERY_LEASE
    )
    counts["in_doubt"] = len(rows)
    now = utcnow()
    outcomes: list[outbox.Outcome] = []
    if channel == "email":
        window = timedelta(seconds=ctx.settings.email_event_window_s)
        outcomes = [recovered_mail_outcome(r, now=now, event_window=window) for r in rows]
    else:
        client = ctx.sms_client()
        give_up = timedelta(seconds=ctx.settings.sms_check_window_s)

        def check(row: outbox.OutboxRow, taken: set[str]) -> outbox.Outcome:
            body = (row.rendered or {}).get("body")
            if not body:  # marked sending by a version that kept no text: nothing to match on
                return outbox.Outcome(row.id, "unknown", error="sent or not? no text was kept to look for")
            since = (row.claimed_at or row.created_at) - CLOCK_MARGIN
            try:
                found = find_sent(client, to=row.recipient, body=body, since=since, exclude=taken)
            except LookupFailed as exc:
                return recovered_sms_outcome(
                    row,
                    found_sid=None,
                    found_status=None,
                    lookup_error=str(exc),
                    now=now,
                    give_up_after=give_up,
                    retry_delay=_retry_delay(ctx),
                )
            first = found[-1] if found else None  # the oldest match: the first attempt's message
            if first:
                taken.add(first.sid)
            return recovered_sms_outcome(
                row,
                found_sid=first.sid if first else None,
                found_status=first.status if first else None,
                lookup_error=None,
                now=now,
                give_up_after=give_up,
                retry_delay=_retry_delay(ctx),
            )

        def check_recipient(group: list[outbox.OutboxRow]) -> list[outbox.Outcome]:
            # One recipient's rows in turn, so two rows with the same text never adopt the same message.
            taken = outbox.provider_ids_for(ctx.engine, "sms", group[0].recipient)
            return [check(row, taken) for row in group]

        by_recipient: dict[str, list[outbox.OutboxRow]] = {}
        for row in rows:
            by_recipient.setdefault(row.recipient, []).append(row)
        loop = asyncio.get_running_loop()
        groups = await asyncio.gather(
            *(loop.run_in_executor(ctx.executor(), check_recipient, g) for g in by_recipient.values())
        )
        outcomes = [o for g in groups for o in g]
    if outcomes:
        recorded = await asyncio.to_thread(outbox.record, ctx.engine, outcomes)
        counts.update({f"recovered_{k}": v for k, v in recorded.items()})
    ctx.counts.update({f"{channel}_{k}": v for k, v in counts.items()})
    if rows or counts["released"]:
        run_logger().info("%s sends in doubt: %s", channel, _show(counts))
    return dict(counts)


def _show(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "nothing"
