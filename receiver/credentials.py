"""The integration blocks the receiver verifies webhooks with, loaded from Prefect and kept in memory.

A webhook must be verified in well under a millisecond, so blocks are not read per request: they are
loaded at start, re-read every `block_refresh_s` in the background, and at once on
`POST /api/integrations/reinitialize`. When the Prefect API cannot be reached, the blocks loaded last
stay in use (a missing block stays missing); the status endpoint says when they were loaded and why a
reload failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prefect.blocks.core import Block
from prefect.client.orchestration import PrefectClient, get_client

from blocks import (
    AuthorizeNetGateway,
    BlockNotFound,
    PayPalGateway,
    ReceiverAPI,
    SendGridEmail,
    SquareGateway,
    StripeGateway,
    ThirdPartyWebhookSecrets,
    TwilioSMS,
    WooCommerceStore,
    aload_block,
)
from receiver.settings import ReceiverSettings

__all__ = ["SERVICE_BLOCKS", "Integrations", "Loaded"]

logger = logging.getLogger("nxt.receiver")

# Service name (as in /api/integrations/status/{service} and the webhook paths) -> block type.
SERVICE_BLOCKS: dict[str, type[Block]] = {
    "woocommerce": WooCommerceStore,
    "stripe": StripeGateway,
    "paypal": PayPalGateway,
    "square": SquareGateway,
    "authorizenet": AuthorizeNetGateway,
    "twilio": TwilioSMS,
    "sendgrid": SendGridEmail,
    "third-party": ThirdPartyWebhookSecrets,
}


@dataclass(frozen=True)
class Loaded:
    """One consistent set of blocks (None: no block of that name)."""

    stores: Mapping[str, WooCommerceStore] = field(default_factory=dict)
    services: Mapping[str, Block | None] = field(default_factory=dict)
    api: ReceiverAPI | None = None
    loaded_at: float | None = None  # wall-clock seconds; None before the first successful load
    errors: Mapping[str, str] = field(default_factory=dict)

    # Clients built from these blocks, kept for as long as the blocks are (PayPal's holds an OAuth token).
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """The client of `service`'s block (built once per loaded set of blocks), or None without a block."""
        if service not in self.clients:
            block = self.block(service)
            self.clients[service] = block.client() if block is not None else None
        return self.clients[service]

    async def aclose(self) -> None:
        """Close the clients built from these blocks."""
        for client in self.clients.values():
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
        self.clients.clear()

    def block(self, service: str) -> Any:
        """The block of `service` (the first store for `woocommerce`), or None."""
        if service == "woocommerce":
            return next(iter(self.stores.values()), None)
        return self.services.get(service)

    @property
    def webhooks(self) -> ThirdPartyWebhookSecrets | None:
        block = self.services.get("third-party")
        return block if isinstance(block, ThirdPartyWebhookSecrets) else None


class Integrations:
    """Holds the current `Loaded` blocks; `load()` replaces them as a whole."""

    def __init__(self, settings: ReceiverSettings) -> None:
        self.settings = settings
        self.current = Loaded()
        self._lock = asyncio.Lock()

    async def load(self) -> Loaded:
        """Read every block now. A block the API could not return keeps its previous value."""
        async with self._lock:
            previous = self.current
            names = self.settings.blocks
            # One client for the whole reload: each new client builds an SSL context (Prefect loads the CA
            # bundle even for http://), ~30 ms on the receiver's loop, and there are a dozen blocks.
            async with get_client() as client:
                jobs: dict[str, Any] = {
                    f"woocommerce:{s}": _load(WooCommerceStore, s, client) for s in self.settings.stores
                }
                jobs |= {
                    svc: _load(cls, names, client)
                    for svc, cls in SERVICE_BLOCKS.items()
                    if svc != "woocommerce"
                }
                jobs["api"] = _load(ReceiverAPI, names, client)
                results = await asyncio.gather(*jobs.values(), return_exceptions=True)
            errors: dict[str, str] = {}
            got: dict[str, Any] = {}
            for key, result in zip(jobs, results, strict=True):
                if isinstance(result, BaseException):
                    errors[key] = (
                        f"{type(result).__name__}: {str(result).splitlines()[0][:200] if str(result) else ''}"
                    )
                    got[key] = _previous(previous, key)
                else:
                    got[key] = result
            stores = {
                key.split(":", 1)[1]: block
                for key, block in got.items()
                if key.startswith("woocommerce:") and block is not None
            }
            services = {svc: got[svc] for svc in SERVICE_BLOCKS if svc != "woocommerce"}
            ok = len(errors) < len(jobs)
            self.current = Loaded(
                stores=stores,
                services=services,
                api=got["api"],
                loaded_at=time.time() if ok else previous.loaded_at,
                errors=errors,
            )
            await previous.aclose()
            if errors:
                logger.warning("blocks not reloaded: %s", "; ".join(f"{k}: {v}" for k, v in errors.items()))
            webhooks = self.current.webhooks
            if webhooks is not None and not webhooks.signature_verification_enabled:
                logger.warning(
                    "the Third-Party Webhook Secrets block turns signature verification OFF: every webhook "
                    "is accepted unverified; use this only for local testing"
                )
            return self.current

    def verification_enabled(self) -> bool:
        """Signatures are checked unless the settings or the webhook block turn it off."""
        webhooks = self.current.webhooks
        block_on = webhooks is None or webhooks.signature_verification_enabled
        return self.settings.signature_verification_enabled and block_on

    async def refresh_forever(self) -> None:
        """Reload every `block_refresh_s` (the app's lifespan runs this as a task)."""
        period = self.settings.block_refresh_s
        if period <= 0:
            return
        while True:
            await asyncio.sleep(period)
            try:
                await self.load()
            except Exception:  # never let a reload kill the refresher
                logger.exception("reloading blocks failed")


async def _load(cls: type[Block], name: str, client: PrefectClient) -> Block | None:
    try:
        return await aload_block(cls, name, client)
    except BlockNotFound:
        return None


def _previous(previous: Loaded, key: str) -> Any:
    if key.startswith("woocommerce:"):
        return previous.stores.get(key.split(":", 1)[1])
    if key == "api":
        return previous.api
    return previous.services.get(key)
