"""Twilio status callbacks and SendGrid Event Webhook events -> the `notification-status` flow, which
applies them to the outbox (`hub.provider_events`): statuses move forward only (sent, delivered,
undelivered, failed), Twilio 21610 (the recipient replied STOP) and SendGrid bounces, spam reports and
unsubscribes add suppressions, and failed texts may fall back to email (the Notification Settings).

Rows are grouped per provider and debounced briefly, so a burst of callbacks (a campaign's `sent` then
`delivered` news, a SendGrid batch of 1,000 events) becomes one run; the flow is idempotent (a replayed
row changes nothing), so the order rows arrive in does not matter. The run gets the stored bodies as its
`events` parameter (a Twilio row is its form plus the callback URL's `nxt_id`; a SendGrid row is one event),
oldest first.
"""

from __future__ import annotations

from flows.notification_dispatch import update_notification_status
from receiver.dispatch import Batch, Handler

__all__ = ["DEBOUNCE_S", "DEPLOYMENT", "HANDLERS", "MAX_ROWS", "MAX_WAIT_S", "apply_status"]

DEPLOYMENT = "notification-status/callbacks"
DEBOUNCE_S = 0.5
MAX_WAIT_S = 5.0  # delivery news is shown to people (the outbox, the dashboard): keep it fresh
MAX_ROWS = 500  # events per run: they travel as the run's parameters


async def apply_status(batch: Batch) -> str | None:
    """Start one `notification-status` run for the callbacks or events of `batch.rows` (one provider)."""
    provider = batch.handler.source
    rows = sorted(batch.rows, key=lambda r: r.id)
    return await batch.run_flow(
        update_notification_status,
        deployment=DEPLOYMENT,
        parameters={
            "provider": provider,
            "events": [dict(r.payload) for r in rows],
            "settings": batch.settings.blocks,
            "hub": batch.settings.hub,
        },
        tags=["notifications", f"provider:{provider}"],
    )


HANDLERS = (
    Handler(
        name="twilio-status",
        source="twilio",
        topics=("message.*",),
        run=apply_status,
        group_by=lambda row: "twilio",
        debounce_s=DEBOUNCE_S,
        max_wait_s=MAX_WAIT_S,
        max_batch=MAX_ROWS,
    ),
    Handler(
        name="sendgrid-events",
        source="sendgrid",
        topics=("email.*",),
        run=apply_status,
        group_by=lambda row: "sendgrid",
        debounce_s=DEBOUNCE_S,
        max_wait_s=MAX_WAIT_S,
        max_batch=MAX_ROWS,
    ),
)
