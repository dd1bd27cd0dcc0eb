"""What the send tasks of one dispatch run share: the hub, the settings and templates, the provider blocks
and their clients, the worker id its claims are made under, the per-sender rate limit, and which channels
were stopped (a provider said our configuration is wrong). Tasks receive the context's key (a string), so
Prefect shows plain parameters and never tries to hash a client or an engine."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from clients import SenderRateLimit, sender_limit
from hub.templates import Templates

if TYPE_CHECKING:
    from blocks import NotificationSettings, SendGridEmail, TwilioSMS

__all__ = ["DispatchContext", "forget_dispatch", "lookup_dispatch", "open_dispatch"]

MAX_SEND_THREADS = 32


@dataclass
class DispatchContext:
    """One dispatch run's shared state (lives only in the flow's process)."""

    engine: Engine
    settings: NotificationSettings
    templates: Templates
    worker: str
    sms: TwilioSMS | None = None
    email: SendGridEmail | None = None
    run_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    # channel -> why nothing more is sent on it this run (a missing block, a configuration the provider
    # refused); the flow reports it as the run's failure.
    stopped: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    _sms_client: Any = None
    _email_client: Any = None
    _executor: ThreadPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sms_client(self) -> Any:
        with self._lock:
            if self._sms_client is None:
                assert self.sms is not None
                self._sms_client = self.sms.client()
            return self._sms_client

    def email_client(self) -> Any:
        with self._lock:
            if self._email_client is None:
                assert self.email is not None
                self._email_client = self.email.client()
            return self._email_client

    def sms_limit(self) -> SenderRateLimit:
        """The per-sender rate limit (shared by every dispatch in this process)."""
        assert self.sms is not None
        return sender_limit(f"{self.sms.account_sid}:{self.sms.sender}", self.sms.messages_per_second)

    def sms_chunk(self) -> int:
        """Texts in flight at once: about one second of the sender's rate (1 to 32)."""
        assert self.sms is not None
        return max(1, min(MAX_SEND_THREADS, round(self.sms.messages_per_second)))

    def executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(MAX_SEND_THREADS, thread_name_prefix="nxt-send")
            return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


_CONTEXTS: dict[str, DispatchContext] = {}


def open_dispatch(
    engine: Engine,
    settings: NotificationSettings,
    templates: Templates,
    *,
    worker: str,
    sms: TwilioSMS | None,
    email: SendGridEmail | None,
    run_id: int | None = None,
) -> DispatchContext:
    """A registered context for one dispatch run."""
    ctx = DispatchContext(
        engine=engine,
        settings=settings,
        templates=templates,
        worker=worker[:64],
        sms=sms,
        email=email,
        run_id=run_id,
    )
    _CONTEXTS[ctx.key] = ctx
    return ctx


def lookup_dispatch(key: str) -> DispatchContext:
    return _CONTEXTS[key]


def forget_dispatch(key: str) -> None:
    ctx = _CONTEXTS.pop(key, None)
    if ctx is not None:
        ctx.close()
