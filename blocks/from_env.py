"""Build block documents from the old API Integration Service's environment variables.

A team moving from the old service points `nxt blocks from-env` at its `.env` and is done. Every
variable the old service documents is either mapped to a block field (`SERVICES`) or listed in
`NOT_USED` with the reason; nothing is dropped silently. Variables with one of our prefixes that we
do not know are reported as unknown (usually a typo).

`blocks_from_env()` only reads and validates: it returns every block it would save and one line per
bad value, and saves nothing. `save_blocks()` saves, and is only called when there is no error, so
nothing is ever half-written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from prefect.blocks.core import Block
from pydantic import ValidationError

from blocks._meta import FieldValueError
from blocks.authorizenet import AuthorizeNetGateway
from blocks.hub import HubDatabase
from blocks.paypal import PayPalGateway
from blocks.sendgrid import SendGridEmail
from blocks.square import SquareGateway
from blocks.stripe import StripeGateway
from blocks.twilio import TwilioSMS
from blocks.webhooks import ThirdPartyWebhookSecrets
from blocks.woocommerce import WooCommerceStore

__all__ = [
    "NOT_USED",
    "SERVICES",
    "EnvFileError",
    "FromEnvResult",
    "PlannedBlock",
    "SaveOutcome",
    "Service",
    "SkippedService",
    "Var",
    "blocks_from_env",
    "read_env",
    "save_blocks",
]

Kind = Literal["text", "secret", "int", "bool", "list"]


@dataclass(frozen=True)
class Var:
    """One environment variable and the block field it fills.

    `kind="list"` reads a comma-separated value as a list (`L1,L2` -> `["L1", "L2"]`).
    `configures=False` marks a setting of the old service as a whole (e.g. `API_TIMEOUT`): it
    fills the field when the block is built, but does not by itself build the block.
    """

    name: str
    field: str
    kind: Kind = "text"
    configures: bool = True


@dataclass(frozen=True)
class Service:
    """One service: its block, the variable that turns it on or off, and its variables."""

    key: str
    block: type[Block]
    enabled_var: str | None
    variables: tuple[Var, ...]
    # The block is built when one of these is set (default: any of `variables`).
    trigger: tuple[str, ...] = ()
    # Variables `<prefix><NAME>` fill the dictionary field `dict_field` under key `name`.
    dict_prefix: str | None = None
    dict_field: str | None = None
    # Added to the "not configured" line when the service is skipped for lack of variables.
    unset_note: str = ""

    @property
    def triggers(self) -> tuple[str, ...]:
        return self.trigger or tuple(v.name for v in self.variables if v.configures)


SERVICES: tuple[Service, ...] = (
    Service(
        "woocommerce",
        WooCommerceStore,
        "WOOCOMMERCE_API_ENABLED",
        (
            Var("WOOCOMMERCE_SITE_URL", "site_url"),
            Var("WOOCOMMERCE_CONSUMER_KEY", "consumer_key", "secret"),
            Var("WOOCOMMERCE_CONSUMER_SECRET", "consumer_secret", "secret"),
            Var("WOOCOMMERCE_VERSION", "api_version"),
            Var("WOOCOMMERCE_VERIFY_TLS", "verify_tls", "bool"),
            Var("WOOCOMMERCE_CA_BUNDLE", "ca_bundle"),
            Var("WOOCOMMERCE_WEBHOOK_SECRET", "webhook_secret", "secret"),
            Var("WC_BATCH_SIZE", "batch_size", "int"),
            Var("WC_MAX_RETRIES", "max_retries", "int"),
            Var("WC_RETRY_DELAY", "retry_delay_ms", "int"),
            Var("WC_RATE_LIMIT_RPM", "rate_limit_rpm", "int"),
            Var("WC_REALTIME_ENABLED", "realtime_enabled", "bool"),
            Var("WC_CONFLICT_RESOLUTION", "conflict_resolution"),
            Var("WC_MAX_CONCURRENCY", "max_concurrency", "int"),
            # The old service's timeout for every API call, in milliseconds.
            Var("API_TIMEOUT", "timeout_ms", "int", configures=False),
        ),
    ),
    Service(
        "stripe",
        StripeGateway,
        "STRIPE_ENABLED",
        (
            Var("STRIPE_SECRET_KEY", "secret_key", "secret"),
            Var("STRIPE_PUBLISHABLE_KEY", "publishable_key"),
            Var("STRIPE_WEBHOOK_SECRET", "webhook_secret", "secret"),
            Var("STRIPE_BASE_URL", "base_url"),
        ),
    ),
    Service(
        "paypal",
        PayPalGateway,
        "PAYPAL_ENABLED",
        (
            Var("PAYPAL_CLIENT_ID", "client_id"),
            Var("PAYPAL_CLIENT_SECRET", "client_secret", "secret"),
            Var("PAYPAL_ENVIRONMENT", "environment"),
            Var("PAYPAL_BASE_URL", "base_url"),
            Var("PAYPAL_WEBHOOK_ID", "webhook_id"),
        ),
    ),
    Service(
        "square",
        SquareGateway,
        "SQUARE_ENABLED",
        (
            Var("SQUARE_ACCESS_TOKEN", "access_token", "secret"),
            Var("SQUARE_APPLICATION_ID", "application_id"),
            # The old service's one location; a comma-separated value lists several.
            Var("SQUARE_LOCATION_ID", "location_ids", "list"),
            Var("SQUARE_ENVIRONMENT", "environment"),
            Var("SQUARE_BASE_URL", "base_url"),
            Var("SQUARE_WEBHOOK_SIGNATURE_KEY", "webhook_signature_key", "secret"),
            Var("SQUARE_NOTIFICATION_URL", "notification_url"),
        ),
    ),
    Service(
        "authorizenet",
        AuthorizeNetGateway,
        "AUTHORIZENET_ENABLED",
        (
            Var("AUTHORIZENET_API_LOGIN_ID", "api_login_id"),
            Var("AUTHORIZENET_TRANSACTION_KEY", "transaction_key", "secret"),
            Var("AUTHORIZENET_SIGNATURE_KEY", "signature_key", "secret"),
            Var("AUTHORIZENET_ENVIRONMENT", "environment"),
            Var("AUTHORIZENET_BASE_URL", "base_url"),
        ),
    ),
    Service(
        "twilio",
        TwilioSMS,
        "TWILIO_ENABLED",
        (
            Var("TWILIO_ACCOUNT_SID", "account_sid"),
            Var("TWILIO_AUTH_TOKEN", "auth_token", "secret"),
            Var("TWILIO_FROM_NUMBER", "from_number"),
            Var("TWILIO_MESSAGING_SERVICE_SID", "messaging_service_sid"),
            Var("TWILIO_BASE_URL", "base_url"),
            Var("TWILIO_MESSAGES_PER_SECOND", "messages_per_second"),
        ),
    ),
    Service(
        "sendgrid",
        SendGridEmail,
        "SENDGRID_ENABLED",
        (
            Var("SENDGRID_API_KEY", "api_key", "secret"),
            Var("SENDGRID_FROM_EMAIL", "from_email"),
            Var("SENDGRID_BASE_URL", "base_url"),
            Var("SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY", "verification_key"),
        ),
    ),
    Service(
        "hub",
        HubDatabase,
        None,
        (
            Var("NXT_DATABASE_URL", "url", "secret"),
            Var("DB_POOL_MAX_CONNECTIONS", "pool_max_connections", "int"),
            Var("DB_POOL_MIN_CONNECTIONS", "pool_min_connections", "int"),
        ),
        trigger=("NXT_DATABASE_URL",),
        unset_note="the hub uses its embedded SQLite file; DB_POOL_* apply only with a URL",
    ),
    Service(
        "webhooks",
        ThirdPartyWebhookSecrets,
        None,
        (
            Var("WEBHOOK_SIGNATURE_VERIFICATION_ENABLED", "signature_verification_enabled", "bool"),
            Var("WEBHOOK_MAX_RETRIES", "max_retries", "int"),
            Var("WEBHOOK_RETRY_DELAY", "retry_delay_ms", "int"),
            Var("WEBHOOK_TIMEOUT", "timeout_ms", "int"),
        ),
        dict_prefix="WEBHOOK_SECRET_",
        dict_field="secrets",
    ),
)
"""Every service and the variables that fill its block, in the order they are reported."""

_NO_CACHE = "there is no response cache: the hub database holds the synced data"
_ALERTS = "alerts are Prefect automations on failed runs, set up in the Prefect UI"
_RUN_HISTORY = "Prefect records every flow and task run with its timing; see the Prefect UI"

NOT_USED: dict[str, str] = {
    "API_RATE_LIMIT_RPM": "the old service's own HTTP API limit; outbound limits are per block "
    "(e.g. WC_RATE_LIMIT_RPM) and the webhook receiver has its own settings",
    "API_BASE_URL": "only the old Node test script used it; our tests start the sandbox themselves",
    "TEST_TIMEOUT": "only the old Node test script used it; pytest has its own timeout",
    "CACHE_TTL_MINUTES": _NO_CACHE,
    "ENABLE_CACHE_COMPRESSION": _NO_CACHE,
    "ENCRYPT_SENSITIVE_DATA": "secrets are SecretStr fields of Prefect blocks and never reach the "
    "hub; encrypt the Prefect and hub databases at rest if you need more",
    "PCI_COMPLIANCE_MODE": "card data never passes through this project (the gateways tokenise "
    "it), so there is no mode to switch",
    "ENABLE_PERFORMANCE_MONITORING": _RUN_HISTORY,
    "METRICS_COLLECTION_ENABLED": _RUN_HISTORY,
    "ENABLE_ERROR_ALERTS": _ALERTS,
    "ERROR_ALERT_THRESHOLD": _ALERTS,
    "LOG_LEVEL": "set PREFECT_LOGGING_LEVEL instead",
    "DEBUG_API_CALLS": "set PREFECT_LOGGING_LEVEL=DEBUG instead",
    "NODE_ENV": "the Node.js runtime mode of the old service; this is a Python project",
    "SSL_CERT_FILE": "not copied into a block: the WooCommerce client honours it at run time "
    "when verify_tls is on and ca_bundle is empty",
}
"""Variables the old service read that have no block field here, and why."""

_PREFIXES = (
    "WOOCOMMERCE_",
    "WC_",
    "STRIPE_",
    "PAYPAL_",
    "SQUARE_",
    "AUTHORIZENET_",
    "TWILIO_",
    "SENDGRID_",
    "WEBHOOK_",
    "DB_POOL_",
    "NXT_DATABASE_",
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class EnvFileError(ValueError):
    """The --env-file cannot be read."""


@dataclass(frozen=True)
class PlannedBlock:
    """A block built and validated from the environment, not saved yet."""

    service: str
    block: Block
    variables: tuple[str, ...]


@dataclass(frozen=True)
class SkippedService:
    """A service with no block, and why (`*_ENABLED=false`, or nothing configured)."""

    service: str
    block_type: str
    reason: str
    disabled: bool = False


@dataclass
class FromEnvResult:
    """What `blocks_from_env` found. Nothing has been saved."""

    blocks: list[PlannedBlock] = field(default_factory=list)
    skipped: list[SkippedService] = field(default_factory=list)
    not_used: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error, so the blocks may be saved."""
        return not self.errors


@dataclass(frozen=True)
class SaveOutcome:
    """What happened to one planned block."""

    block_type: str
    slug: str
    name: str
    status: Literal["saved", "overwritten", "exists"]


def read_env(env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables to read: `environ` (default `os.environ`) overlaid with `env_file`.

    Values in the file win, because the file is what the user pointed at; variables the file does
    not mention come from the environment.

    Raises:
        EnvFileError: `env_file` does not exist or is not a file.
    """
    merged = dict(os.environ if environ is None else environ)
    if env_file is not None:
        path = Path(env_file)
        if not path.is_file():
            raise EnvFileError(f"--env-file {path} does not exist; give the path of your .env file")
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    return merged


def blocks_from_env(env: Mapping[str, str]) -> FromEnvResult:
    """Build and validate every block the variables in `env` describe; save nothing.

    Empty values count as unset. Each bad value gives one line in `result.errors` naming the
    variable and the fix; secret values are never repeated.
    """
    values = {k: v.strip() for k, v in env.items() if v is not None and v.strip() != ""}
    result = FromEnvResult()
    known: set[str] = set()
    for service in SERVICES:
        known.update(v.name for v in service.variables)
        if service.enabled_var:
            known.add(service.enabled_var)
        _plan_service(service, values, result)

    result.not_used = [(name, why) for name, why in NOT_USED.items() if name in values]
    dict_prefixes = tuple(s.dict_prefix for s in SERVICES if s.dict_prefix)
    result.unknown = sorted(
        name
        for name in values
        if name.startswith(_PREFIXES)
        and name not in known
        and name not in NOT_USED
        and not name.startswith(dict_prefixes)
    )
    return result


def _plan_service(service: Service, values: Mapping[str, str], result: FromEnvResult) -> None:
    type_name = service.block.get_block_type_name()
    if service.enabled_var and service.enabled_var in values:
        enabled = _parse_bool(service.enabled_var, values[service.enabled_var], result.errors)
        if enabled is False:
            result.skipped.append(
                SkippedService(service.key, type_name, f"{service.enabled_var}=false", True)
            )
            return
        if enabled is None:
            return
    else:
        dict_set = service.dict_prefix and any(k.startswith(service.dict_prefix) for k in values)
        if not dict_set and not any(name in values for name in service.triggers):
            if service.trigger:
                shown = " or ".join(service.trigger) + " is not set"
            else:
                families = dict.fromkeys(name.split("_")[0] + "_*" for name in service.triggers)
                shown = "no " + " or ".join(families) + " variable is set"
            note = f"; {service.unset_note}" if service.unset_note else ""
            result.skipped.append(SkippedService(service.key, type_name, f"not configured ({shown}{note})"))
            return

    data: dict[str, Any] = {}
    used: list[str] = []
    failed: set[str] = set()
    by_field: dict[str, Var] = {}
    for var in service.variables:
        by_field[var.field] = var
        if var.name not in values:
            continue
        raw = values[var.name]
        used.append(var.name)
        if var.kind == "int":
            parsed: Any = _parse_int(var.name, raw, result.errors)
        elif var.kind == "bool":
            parsed = _parse_bool(var.name, raw, result.errors)
        elif var.kind == "list":
            parsed = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            parsed = raw
        if parsed is None:
            failed.add(var.field)
        else:
            data[var.field] = parsed
    if service.dict_prefix and service.dict_field:
        entries = {
            _dict_key(k, service.dict_prefix): v
            for k, v in sorted(values.items())
            if k.startswith(service.dict_prefix)
        }
        used.extend(k for k in sorted(values) if k.startswith(service.dict_prefix))
        if entries:
            data[service.dict_field] = entries

    try:
        block = service.block.model_validate(data)
    except ValidationError as exc:
        result.errors.extend(_explain(service, exc, values, by_field, failed))
        return
    if failed:
        return
    result.blocks.append(PlannedBlock(service.key, block, tuple(used)))


def _dict_key(name: str, prefix: str) -> str:
    return name[len(prefix) :].lower().replace("_", "-")


def _parse_int(name: str, raw: str, errors: list[str]) -> int | None:
    try:
        return int(raw)
    except ValueError:
        errors.append(f"{name}={raw} is not a whole number; write digits only, e.g. {name}=50")
        return None


def _parse_bool(name: str, raw: str, errors: list[str]) -> bool | None:
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    errors.append(f"{name}={raw} is not true or false; set {name}=true or {name}=false")
    return None


def _explain(
    service: Service,
    exc: ValidationError,
    values: Mapping[str, str],
    by_field: Mapping[str, Var],
    failed: set[str],
) -> list[str]:
    """One line per pydantic error, in terms of the environment variables.

    Fields in `failed` already have their line (a value that did not parse) and get no other.
    """
    lines: list[str] = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        if loc and str(loc[0]) in failed:
            continue
        var = by_field.get(str(loc[0])) if loc else None
        if var is None:
            message = str(err.get("msg", "")).removeprefix("Value error, ")
            for f, v in by_field.items():
                message = message.replace(f"{f}=", f"{v.name}=")
            lines.append(f"{service.block.get_block_type_name()}: {message}")
            continue
        secret = var.kind == "secret"
        shown = f"{var.name} (secret, not shown)" if secret else f"{var.name}={values.get(var.name, '')}"
        kind = err.get("type")
        ctx = err.get("ctx") or {}
        error = ctx.get("error")
        if kind == "missing":
            hint = f", or set {service.enabled_var}=false to skip it" if service.enabled_var else ""
            type_name = service.block.get_block_type_name()
            lines.append(f"{var.name} is not set; the {type_name} block needs it{hint}")
        elif isinstance(error, FieldValueError):
            lines.append(f"{shown} {error.reason}")
        elif kind == "literal_error":
            choices = _choices(service.block, var.field)
            lines.append(f"{shown} is not one of {', '.join(choices)}")
        elif kind in ("greater_than_equal", "greater_than"):
            bound = ctx.get("ge", ctx.get("gt"))
            word = "at least" if kind == "greater_than_equal" else "more than"
            lines.append(f"{shown} is too small; it must be {word} {bound}")
        elif kind in ("less_than_equal", "less_than"):
            bound = ctx.get("le", ctx.get("lt"))
            word = "at most" if kind == "less_than_equal" else "less than"
            lines.append(f"{shown} is too large; it must be {word} {bound}")
        else:
            msg = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
            lines.append(f"{shown} is not valid: {msg}")
    return lines


def _choices(block: type[Block], field_name: str) -> Iterable[str]:
    annotation = block.model_fields[field_name].annotation
    args = get_args(annotation)
    flat: list[object] = []
    for arg in args:
        flat.extend(get_args(arg) or [arg])
    return [str(a) for a in flat if a is not type(None)]


def save_blocks(planned: Iterable[PlannedBlock], name: str, *, overwrite: bool) -> list[SaveOutcome]:
    """Save `planned` under `name`; existing documents are replaced only when `overwrite`.

    Every block type is registered first, then documents are saved. If a save fails, documents
    created by this call are deleted again before the error is raised.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    planned = list(planned)
    outcomes: list[SaveOutcome] = []
    with get_client(sync_client=True) as client:
        exists: dict[str, bool] = {}
        for item in planned:
            cls = type(item.block)
            cls.register_type_and_schema()
            try:
                client.read_block_document_by_name(
                    name=name, block_type_slug=cls.get_block_type_slug(), include_secrets=False
                )
                exists[item.service] = True
            except ObjectNotFound:
                exists[item.service] = False
    created: list[type[Block]] = []
    try:
        for item in planned:
            cls = type(item.block)
            status: Literal["saved", "overwritten", "exists"]
            if exists[item.service] and not overwrite:
                status = "exists"
            else:
                item.block.save(name, overwrite=overwrite)
                status = "overwritten" if exists[item.service] else "saved"
                if status == "saved":
                    created.append(cls)
            outcomes.append(SaveOutcome(cls.get_block_type_name(), cls.get_block_type_slug(), name, status))
    except BaseException:
        for cls in created:
            try:
                cls.delete(name)
            except Exception:  # pragma: no cover - best effort clean-up; the first error matters
                pass
        raise
    return outcomes
