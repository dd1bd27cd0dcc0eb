"""The receiver under test: served by uvicorn in a thread on 127.0.0.1, with blocks saved under a
name unique to each test; helpers to read the hub."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn

from receiver.app import create_app
from receiver.deps import Runtime
from receiver.settings import ReceiverSettings

API_TOKEN = "test-token-0123456789abcdefghij"
STRIPE_SECRET = "whsec_test_secret_for_the_receiver"
WOO_SECRET = "woo-s3cr3t&amp-x"
SQUARE_KEY = "square-signature-key"
ANET_KEY = "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
TWILIO_TOKEN = "twilio-auth-token-0123"
THIRD_PARTY_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LEGACY_SECRET = "old-service-shared-secret"


@dataclass
class Running:
    """A receiver served by uvicorn in a thread."""

    url: str
    app: Any
    server: uvicorn.Server
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop

    @property
    def runtime(self) -> Runtime:
        return self.app.state.nxt  # type: ignore[no-any-return]

    def call(self, coro: Any, timeout: float = 120) -> Any:
        """Run `coro` on the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_receiver(settings: ReceiverSettings, engine: sa.Engine, **kwargs: Any) -> Running:
    app = create_app(settings, engine=engine, **kwargs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    holder: dict[str, Any] = {}
    failed: list[BaseException] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        holder["loop"] = loop
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced to the test
            failed.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="receiver-under-test", daemon=True)
    thread.start()
    while not server.started:
        if failed or not thread.is_alive():
            raise RuntimeError(f"receiver did not start: {failed[0] if failed else 'exited'}")
        thread.join(timeout=0.01)
    return Running(f"http://127.0.0.1:{port}", app, server, thread, holder["loop"])


def save_blocks(
    name: str, *, store_url: str = "http://127.0.0.1:9", woo_secret: str = WOO_SECRET, **extra: Any
) -> None:
    """Save every integration block under `name`, with the test secrets."""
    from blocks import (
        AuthorizeNetGateway,
        ReceiverAPI,
        SquareGateway,
        StripeGateway,
        ThirdPartyWebhookSecrets,
        TwilioSMS,
        WooCommerceStore,
    )

    WooCommerceStore(
        site_url=store_url,
        consumer_key=extra.get("consumer_key", "ck_x"),
        consumer_secret=extra.get("consumer_secret", "cs_x"),
        webhook_secret=woo_secret,
        batch_size=10,
        retry_delay_ms=50,
        rate_limit_rpm=60_000,
        realtime_enabled=extra.get("realtime_enabled", True),
    ).save(name, overwrite=True)
    StripeGateway(secret_key="sk_test_x", webhook_secret=STRIPE_SECRET).save(name, overwrite=True)
    SquareGateway(
        access_token="sq-token",
        webhook_signature_key=SQUARE_KEY,
        notification_url=extra.get("square_url"),
    ).save(name, overwrite=True)
    AuthorizeNetGateway(api_login_id="login", transaction_key="tk", signature_key=ANET_KEY).save(
        name, overwrite=True
    )
    TwilioSMS(account_sid="AC" + "0" * 32, auth_token=TWILIO_TOKEN, from_number="+15557654321").save(
        name, overwrite=True
    )
    ThirdPartyWebhookSecrets(
        secrets={"shipstation": THIRD_PARTY_SECRET, "legacy": LEGACY_SECRET},
        max_retries=extra.get("max_retries", 2),
        retry_delay_ms=extra.get("retry_delay_ms", 50),
    ).save(name, overwrite=True)
    ReceiverAPI(bearer_token=API_TOKEN).save(name, overwrite=True)


def save_sandbox_blocks(name: str, sandbox: Any) -> dict[str, str]:
    """`save_blocks` with the store block aimed at `sandbox`'s WooCommerce; returns its credentials."""
    creds: dict[str, str] = sandbox.credentials["woocommerce"]
    save_blocks(
        name,
        store_url=sandbox.urls["woocommerce"],
        woo_secret=creds["webhook_secret"],
        consumer_key=creds["consumer_key"],
        consumer_secret=creds["consumer_secret"],
    )
    return creds


def settings_for(name: str, **overrides: Any) -> ReceiverSettings:
    values: dict[str, Any] = {
        "blocks": name,
        "stores": [name],
        "dispatch_enabled": False,
        "dispatch_process": False,  # tests drive the dispatcher on the loop (`runtime.dispatcher.drain()`)
        "block_refresh_s": 0,
        "metrics_interval_s": 3600,
        "instance": name,
    }
    values.update(overrides)
    return ReceiverSettings(**values)


def rows(engine: sa.Engine, table: str = "webhook_events", **where: Any) -> list[Any]:
    t = sa.Table(table, sa.MetaData(), autoload_with=engine)
    q = sa.select(t).order_by(t.c.id)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    with engine.connect() as conn:
        return list(conn.execute(q))
