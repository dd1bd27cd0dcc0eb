"""The Prefect automations NXT ships, as data, and creating them idempotently (`nxt setup`).

Each one turns an event the flows emit (flows/_runs.py `emit_finished`) into a run of the
`operator-alert/automation` deployment (flows/notification_dispatch.py `send_operator_alert`), which queues
the operator alert in the outbox and tells the Prefect notification blocks the settings name. Running it
again updates the automations of the same name instead of adding copies. docs/deployments.md shows the same
automations as YAML for `prefect automation create --from-file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

__all__ = ["ALERT_DEPLOYMENT", "AUTOMATIONS", "AutomationSpec", "apply_automations", "automation"]

ALERT_DEPLOYMENT = "operator-alert/automation"


@dataclass(frozen=True)
class AutomationSpec:
    """One automation: which event (and resource) starts the alert, and the alert's parameters (Jinja
    templates over `event`, rendered by the Prefect server when the event arrives)."""

    name: str
    description: str
    event: str
    resource: str
    parameters: dict[str, Any]


AUTOMATIONS: tuple[AutomationSpec, ...] = (
    AutomationSpec(
        name="nxt: sync failed -> operator alert",
        description="A WooCommerce sync run failed: alert the operators (at most once an hour per store).",
        event="nxt.woocommerce.sync.failed",
        resource="nxt.woocommerce.store.*",
        parameters={
            "subject": "WooCommerce sync of {{ event.resource['prefect.resource.name'] }} failed",
            # One expression is rendered `| tojson` and parsed back: the parentheses keep the `or` inside.
            "message": "{{ (event.payload.error or 'the sync failed') }}",
            # The key the sync flow's own alert uses: the two alert once between them.
            "key": (
                "woocommerce-sync-failed:{{ event.resource['prefect.resource.name'] }}:"
                "{{ event.occurred.strftime('%Y-%m-%dT%H') }}"
            ),
            "severity": "error",
            "source": "woocommerce-sync",
        },
    ),
    AutomationSpec(
        name="nxt: reconciliation breaks -> operator alert",
        description=(
            "A payment reconciliation found more breaks than the threshold: alert the operators "
            "(the alert flow compares the event's break count with `threshold`)."
        ),
        event="nxt.payments.reconciliation.completed",
        resource="nxt.payments.gateways.*",
        parameters={
            "subject": "Reconciliation of {{ event.resource['prefect.resource.name'] }}: "
            "{{ event.payload.break_count }} breaks",
            "message": (
                "{{ event.payload.break_count }} breaks and {{ event.payload.pending_count }} pending for "
                "{{ event.payload.window }}; see the run's reconciliation report in the Prefect UI"
            ),
            "key": (
                "reconciliation-breaks:{{ event.resource['prefect.resource.name'] }}:"
                "{{ event.payload.window }}"
            ),
            "severity": "warning",
            "source": "payment-reconciliation",
            "breaks": "{{ event.payload.break_count }}",
        },
    ),
)


def automation(spec: AutomationSpec, deployment_id: UUID, threshold: int) -> Any:
    """The Prefect `AutomationCore` for `spec`, running the alert deployment `deployment_id`."""
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    parameters = dict(spec.parameters)
    if "breaks" in parameters:
        parameters["threshold"] = threshold
    return AutomationCore(
        name=spec.name,
        description=spec.description,
        enabled=True,
        trigger=EventTrigger(
            expect={spec.event},
            match={"prefect.resource.id": spec.resource},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[RunDeployment(source="selected", deployment_id=deployment_id, parameters=parameters)],
    )


async def apply_automations(client: Any, deployment_id: UUID, *, threshold: int) -> dict[str, str]:
    """Create each automation, or update the one(s) of that name; `{name: "created" | "updated"}`.

    Copies of one name (made by hand, or by an older release) are folded into one.
    """
    done: dict[str, str] = {}
    for spec in AUTOMATIONS:
        wanted = automation(spec, deployment_id, threshold)
        existing = await client.read_automations_by_name(spec.name)
        if not existing:
            await client.create_automation(wanted)
            done[spec.name] = "created"
            continue
        first, *extra = existing
        await client.update_automation(first.id, wanted)
        for copy in extra:
            await client.delete_automation(copy.id)
        done[spec.name] = "updated"
    return done
