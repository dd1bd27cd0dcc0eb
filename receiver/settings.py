"""The receiver's settings: one pydantic-settings class, read from `NXT_RECEIVER_*` variables (and `.env`).

Secrets are not settings: they live in blocks (the store's webhook secret, the gateways' keys, the API
bearer token), loaded by name from the Prefect API. Settings say which blocks, where the receiver listens,
how it is reached from outside (`public_base_url`), and how its inbox is dispatched.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["ReceiverSettings"]

DEFAULT_PORT = 4000  # the old service's port
MB = 1024 * 1024


class ReceiverSettings(BaseSettings):
    """Where the receiver listens, which blocks it uses, and how it stores and dispatches events."""

    model_config = SettingsConfigDict(
        env_prefix="NXT_RECEIVER_", env_file=".env", extra="ignore", populate_by_name=True
    )

    host: str = Field(default="127.0.0.1", description="Address to listen on (0.0.0.0 for every interface).")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="Port to listen on.")
    public_base_url: str | None = Field(
        default=None,
        description=(
            "The receiver's address as vendors call it (https://hooks.example.com), when it runs behind a "
            "proxy or tunnel: Twilio and Square sign the URL they called, so it must be known exactly."
        ),
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NXT_DATABASE_URL", "database_url"),
        description="Hub URL (NXT_DATABASE_URL); the Hub Database block `hub` wins when named.",
    )
    hub: str | None = Field(default=None, description="Name of a Hub Database block, passed to flows too.")
    blocks: str = Field(default="default", description="Name every integration block is saved under.")
    stores: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["default"],
        description="WooCommerce Store blocks whose webhooks are accepted (comma-separated).",
    )
    signature_verification_enabled: bool = Field(
        default=True,
        validation_alias=AliasChoices(
            "WEBHOOK_SIGNATURE_VERIFICATION_ENABLED",
            "NXT_RECEIVER_SIGNATURE_VERIFICATION_ENABLED",
            "signature_verification_enabled",
        ),
        description="Verify vendor signatures; false only for local testing (a warning is logged).",
    )
    max_body_bytes: int = Field(default=MB, ge=1024, description="Largest webhook body accepted (413 above).")
    timestamp_tolerance_s: int = Field(
        default=300,
        ge=1,
        description="Oldest signed timestamp accepted (Stripe, SendGrid, Standard Webhooks).",
    )
    block_refresh_s: float = Field(
        default=60.0, ge=0, description="Blocks are re-read from Prefect this often (0: only at start)."
    )
    # Group commit: one writer batches the inserts of concurrent requests into one transaction.
    write_batch_max: int = Field(default=500, ge=1, description="Most events committed in one transaction.")
    write_on_loop: bool = Field(
        default=True,
        description="SQLite: commit inbox batches on the event loop (off: on the writer's thread).",
    )
    # Dispatcher.
    dispatch_enabled: bool = Field(default=True, description="Run a dispatcher with this receiver.")
    dispatch_process: bool = Field(
        default=os.name != "nt",  # POSIX pipes and signals; tested on Linux
        description=(
            "Run the dispatcher in a child process (its flow runs then never delay acknowledgements); "
            "false: on the receiver's own event loop."
        ),
    )
    dispatch_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the dispatcher process's CPU priority is than the receiver's (nice).",
    )
    dispatch_concurrency: int = Field(default=4, ge=1, description="Groups of events handled at once.")
    dispatch_batch: int = Field(
        default=2000,
        ge=1,
        description="Pending events read per dispatcher pass (a handler's max_batch caps each run).",
    )
    dispatch_poll_s: float = Field(default=2.0, gt=0, description="Longest wait between dispatcher passes.")
    lease_s: float = Field(default=300.0, gt=0, description="How long a claimed event is held (renewed).")
    retry_base_s: float | None = Field(
        default=None,
        gt=0,
        description="First retry delay of a failed event; defaults to the webhook block's retry_delay_ms.",
    )
    retry_cap_s: float = Field(default=300.0, gt=0, description="Longest retry delay.")
    max_attempts: int | None = Field(
        default=None,
        ge=1,
        description="Attempts before an event is failed; default: the block's retries + 1.",
    )
    deployment_check_s: float = Field(
        default=10.0,
        ge=0,
        description="How long a deployment's READY status is trusted before re-reading it.",
    )
    instance: str = Field(
        default_factory=lambda: socket.gethostname()[:60],
        description="This receiver's name in the inbox's claimed_by (stable across restarts).",
    )
    metrics_interval_s: float = Field(
        default=60.0, gt=0, description="Response-time and error-rate aggregates are written this often."
    )

    @field_validator("stores", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL; give e.g. https://hooks.example.com")
        return value

    def open_hub(self) -> Engine:
        """The hub: the Hub Database block named by `hub`, else `database_url` (NXT_DATABASE_URL)."""
        from hub.db import create_hub_engine

        if self.hub:
            from blocks import hub_engine_options

            return create_hub_engine(**hub_engine_options(self.hub))
        return create_hub_engine(self.database_url)

    @property
    def owner(self) -> str:
        """The dispatcher's name in `webhook_events.claimed_by`: instance and port."""
        return f"{self.instance}:{self.port}"
