"""The receiver served in a thread of the demo's own process, on a free port of 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import uvicorn

from receiver.app import create_app
from receiver.settings import ReceiverSettings

__all__ = ["InThreadReceiver", "serve_receiver"]


@dataclass
class InThreadReceiver:
    """A running receiver: its URL and the app (whose `state.nxt` is the runtime: dispatcher, hub)."""

    url: str
    app: Any
    loop: asyncio.AbstractEventLoop

    def call(self, coro: Any, timeout: float = 120) -> Any:
        """Run `coro` on the receiver's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)


@contextlib.contextmanager
def serve_receiver(settings: ReceiverSettings, engine: sa.Engine) -> Iterator[InThreadReceiver]:
    """Serve the receiver until the block exits, then stop it (dispatcher included) cleanly."""
    app = create_app(settings, engine=engine)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    loop = asyncio.new_event_loop()
    failed: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by the caller below
            failed.append(exc)

    thread = threading.Thread(target=run, name="nxt-demo-receiver", daemon=True)
    thread.start()
    while not server.started:
        if failed or not thread.is_alive():
            raise RuntimeError(f"the receiver did not start: {failed[0] if failed else 'it exited'}")
        thread.join(timeout=0.02)
    try:
        yield InThreadReceiver(f"http://127.0.0.1:{sock.getsockname()[1]}", app, loop)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        loop.close()
        sock.close()
