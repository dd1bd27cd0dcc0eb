"""Every deployment NXT ships, as data: what runs, when, with which parameters, and how many at once.

`nxt serve` serves these (`flow.to_deployment` + `prefect.serve`), `prefect.yaml` at the project root holds
the same list for `prefect deploy --all` to a process work pool (`nxt deployments yaml` prints it from here,
and a test keeps the two equal). Later flows add their deployments to `DEPLOYMENTS` the same way.

Overriding without editing code (for `nxt serve`; prefect.yaml users edit the YAML or the deployment in the
UI): `NXT_SCHEDULE_<DEPLOYMENT>` replaces a schedule (`cron:0 4 * * *`, `every:10m`, `every:300s` or
`off`) and `NXT_PARAMETERS_<DEPLOYMENT>` (a JSON object) is merged into its parameters, where
`<DEPLOYMENT>` is the full name in upper snake case (`woocommerce-sync/incremental` ->
`WOOCOMMERCE_SYNC_INCREMENTAL`). `NXT_STORES=shop1,shop2` deploys the store deployments once per store
block (names get `-<store>`; `..._INCREMENTAL_SHOP1` then overrides one store's copy only).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

__all__ = ["DEFAULT_LIMIT", "DEPLOYMENTS", "Deployment", "DeploymentConfigError", "deployments", "env_key"]

DEFAULT_LIMIT = 4  # flow-run processes at once when served; Prefect's serve() default is unbounded

Collision = Literal["ENQUEUE", "CANCEL_NEW"]


class DeploymentConfigError(ValueError):
    """An override in the environment that cannot be used; the message names the variable and the fix."""


@dataclass(frozen=True)
class Deployment:
    """One deployment of one flow.

    Attributes:
        flow_name: The flow's stable name (`woocommerce-sync`).
        name: The deployment's name under the flow (`incremental`); Prefect shows `flow_name/name`.
        entrypoint: `path/to/module.py:function`, relative to the project root.
        description: What it does, shown in the UI.
        parameters: Default parameters of its runs.
        cron: A cron schedule (UTC), or None.
        every: An interval schedule, or None (at most one of `cron` and `every`).
        concurrency: Runs of this deployment at once.
        collision: What a run does when `concurrency` runs are already going: wait (`ENQUEUE`) or be
            cancelled (`CANCEL_NEW`: right for frequent schedules, where the next tick catches up).
        tags: Tags of the deployment's runs.
        per_store: Deploy once per store (`NXT_STORES`), with the store in the parameters and the name.
    """

    flow_name: str
    name: str
    entrypoint: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    cron: str | None = None
    every: timedelta | None = None
    concurrency: int = 1
    collision: Collision = "ENQUEUE"
    tags: tuple[str, ...] = ()
    per_store: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


DEPLOYMENTS: tuple[Deployment, ...] = (
    Deployment(
        flow_name="woocommerce-sync",
        name="incremental",
        entrypoint="flows/woocommerce_sync.py:woocommerce_sync",
        description="Pull what changed in the store since the last run (products, customers, orders).",
        parameters={"sync_type": "full", "direction": "pull", "store": "default", "if_busy": "skip"},
        every=timedelta(minutes=5),
        collision="CANCEL_NEW",
        tags=("woocommerce", "sync"),
        per_store=True,
    ),
    Deployment(
        flow_name="woocommerce-sync",
        name="nightly-full",
        entrypoint="flows/woocommerce_sync.py:woocommerce_sync",
        description=(
            "Re-read the whole store (force): catches what incremental reads cannot see, such as a "
            "variation changed without its parent, and tombstones records deleted in the store."
        ),
        parameters={"sync_type": "full", "direction": "pull", "force": True, "store": "default"},
        cron="0 3 * * *",
        tags=("woocommerce", "sync"),
        per_store=True,
    ),
    Deployment(
        flow_name="woocommerce-sync-records",
        name="webhook",
        entrypoint="flows/woocommerce_sync.py:woocommerce_sync_records",
        description="Re-read the records a WooCommerce webhook named (started by the webhook receiver).",
        parameters={"store": "default"},
        tags=("woocommerce", "webhook"),
        per_store=True,
    ),
    Deployment(
        flow_name="reconcile-payments",
        name="daily",
        entrypoint="flows/payment_reconciliation.py:reconcile_payments",
        description=(
            "Reconcile every gateway's ledger against the store's orders for the previous UTC day plus a "
            "lookback (late ledger records and order changes), after the nightly full sync."
        ),
        # No start/end: each run takes the previous day plus `lookback_days`. One run at a time for this
        # gateway set; the hub's per-gateway leases also keep manual runs of the same gateways apart.
        parameters={"store": "default", "lookback_days": 2, "alert_threshold": 0},
        cron="30 4 * * *",
        concurrency=1,
        collision="ENQUEUE",
        tags=("payments", "reconciliation"),
        per_store=True,
    ),
    *(
        Deployment(
            flow_name="ingest-ledger",
            name=f"hourly-{gateway}",
            entrypoint="flows/ledger_ingestion.py:ingest_ledger",
            description=(
                f"Read {label}'s new transactions, refunds, disputes and payouts into the hub's ledger, from "
                "the cursor minus a lookback for late records. Also started by the gateway's webhooks."
            ),
            # One deployment per gateway, one run at a time each: a slow gateway never holds up another,
            # and two runs of one gateway never read the same windows at once.
            parameters={"gateways": [gateway], "block": "default"},
            cron=f"{minute} * * * *",
            concurrency=1,
            collision="CANCEL_NEW",
            tags=("payments", "ingest", f"gateway:{gateway}"),
        )
        for gateway, label, minute in (
            ("stripe", "Stripe", 5),
            ("paypal", "PayPal", 10),
            ("square", "Square", 15),
            ("authorizenet", "Authorize.Net", 20),
        )
    ),
    Deployment(
        flow_name="notification-dispatch",
        name="every-minute",
        entrypoint="flows/notification_dispatch.py:dispatch_notifications",
        description=(
            "Send what is due in the outbox: texts through Twilio, emails through SendGrid. Also started "
            "right after notifications are queued (order changes, payment events, alerts)."
        ),
        parameters={"limit": 5000, "sms": "default", "email": "default", "settings": "default"},
        every=timedelta(minutes=1),
        collision="CANCEL_NEW",
        tags=("notifications",),
    ),
    Deployment(
        flow_name="notification-status",
        name="callbacks",
        entrypoint="flows/notification_dispatch.py:update_notification_status",
        description="Apply Twilio status callbacks and SendGrid events (started by the webhook receiver).",
        parameters={"settings": "default"},
        concurrency=4,
        tags=("notifications", "webhook"),
    ),
    Deployment(
        flow_name="operator-alert",
        name="automation",
        entrypoint="flows/notification_dispatch.py:send_operator_alert",
        description=(
            "Alert the operators (outbox email and text, Prefect notification blocks); started by the "
            "automations `nxt setup` creates (a failed sync, a reconciliation with breaks over a threshold)."
        ),
        parameters={"settings": "default"},
        concurrency=4,
        tags=("notifications", "alert"),
    ),
)


def env_key(full_name: str) -> str:
    """`woocommerce-sync/incremental` -> `WOOCOMMERCE_SYNC_INCREMENTAL`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", full_name).strip("_").upper()


def deployments(
    environ: Mapping[str, str] | None = None, base: Sequence[Deployment] = DEPLOYMENTS
) -> list[Deployment]:
    """The deployments to serve: one per store for store deployments, environment overrides applied.

    Raises:
        DeploymentConfigError: an override or `NXT_STORES` is malformed.
    """
    env = os.environ if environ is None else environ
    stores = [s.strip() for s in env.get("NXT_STORES", "default").split(",") if s.strip()]
    if not stores:
        raise DeploymentConfigError("NXT_STORES is empty; name at least one WooCommerce Store block")
    out: list[Deployment] = []
    for spec in base:
        spec = _overridden(spec, env)  # `..._INCREMENTAL` applies to every store's copy
        if not spec.per_store or stores == ["default"]:
            out.append(spec)
            continue
        for store in stores:
            copy = replace(spec, name=f"{spec.name}-{store}", parameters={**spec.parameters, "store": store})
            out.append(_overridden(copy, env))  # `..._INCREMENTAL_EU` applies to one store's
    return out


def _overridden(spec: Deployment, env: Mapping[str, str]) -> Deployment:
    key = env_key(spec.full_name)
    schedule = env.get(f"NXT_SCHEDULE_{key}")
    if schedule is not None:
        spec = replace(spec, **_parse_schedule(f"NXT_SCHEDULE_{key}", schedule))
    raw = env.get(f"NXT_PARAMETERS_{key}")
    if raw is not None:
        try:
            extra = json.loads(raw)
        except ValueError:
            extra = None
        if not isinstance(extra, dict):
            raise DeploymentConfigError(
                f"NXT_PARAMETERS_{key} must be a JSON object, e.g. '{{\"batch_size\": 100}}', not {raw!r}"
            )
        spec = replace(spec, parameters={**spec.parameters, **extra})
    return spec


_EVERY = re.compile(r"^every:(\d+)(s|m|h)$")


def _parse_schedule(variable: str, value: str) -> dict[str, Any]:
    text = value.strip()
    if text == "off":
        return {"cron": None, "every": None}
    if text.startswith("cron:"):
        cron = text[5:].strip()
        if len(cron.split()) != 5:
            raise DeploymentConfigError(f"{variable}: {cron!r} is not a 5-field cron expression (UTC)")
        return {"cron": cron, "every": None}
    match = _EVERY.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        seconds = amount * {"s": 1, "m": 60, "h": 3600}[unit]
        if seconds < 10:
            raise DeploymentConfigError(f"{variable}: {value!r} is shorter than 10 seconds")
        return {"cron": None, "every": timedelta(seconds=seconds)}
    raise DeploymentConfigError(f"{variable}={value!r}: use 'cron:<5 fields>', 'every:<N>s|m|h' or 'off'")
