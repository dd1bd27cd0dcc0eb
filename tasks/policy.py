"""The one retry policy every task of this project uses.

A task retries only what can succeed on a second try: `TransportFailure`, `RateLimited`, `ServerError`
(the clients' `RETRYABLE`) and a task timeout. Everything else (bad credentials, a 404, a bug) fails at once.

The condition is an `async` function on purpose. Inside Prefect's async task engine a *sync* condition that
calls `state.result()` gets an un-awaited coroutine back instead of the exception, so it returns False and the
task is never retried (measured on Prefect 3.9.1, see reference/prefect-notes.md section 11). The async engine
awaits an async condition, and `aresult(raise_on_failure=True)` re-raises the task's real exception.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from clients.errors import RETRYABLE, ClientError
from hub.errors import HubError

F = TypeVar("F", bound=Callable[..., Any])

RETRIES = 2
RETRY_DELAYS = [1.0, 5.0]  # seconds before retry 1 and 2 (the clients already retried quickly inside)
RETRY_JITTER = 0.5
TASK_TIMEOUT_S = 15 * 60  # one batch of pages, pushes or sends; a hung batch is failed and retried


EXPECTED_FAILURES: tuple[type[Exception], ...] = (ClientError, HubError)
"""Failures that are facts about the store, the hub or the configuration (one clear line each), as opposed
to bugs. Flows report these as a failed run with that line instead of a traceback."""


def is_transient(exc: BaseException) -> bool:
    """True for failures a later attempt may not meet (network, rate limit, 5xx, a task timeout); a group
    of failures (concurrent requests) is transient when each of them is."""
    if isinstance(exc, BaseExceptionGroup):
        return all(is_transient(e) for e in exc.exceptions)
    return isinstance(exc, (*RETRYABLE, TimeoutError))


def first_failure(exc: BaseException) -> BaseException:
    """The first real error inside (possibly nested) exception groups, for a one-line report."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry only transient failures (awaited by the async task engine)."""
    try:
        result = state.aresult(raise_on_failure=True)
        if inspect.isawaitable(result):
            await result
    except BaseException as exc:  # the task's own exception, re-raised by aresult
        return is_transient(exc)
    return False


def batch_task(name: str, *, timeout_seconds: float = TASK_TIMEOUT_S, **options: Any) -> Callable[[F], F]:
    """`@task` with the project's retry policy, a timeout, and no result caching (inputs are run-local keys).

    Args:
        name: The task's stable kebab-case name (shown in the UI).
        timeout_seconds: Fail (and retry) an attempt that runs longer than this.
        **options: Other `@task` options, e.g. `task_run_name`.
    """
    return task(  # type: ignore[return-value]
        name=name,
        retries=RETRIES,
        retry_delay_seconds=RETRY_DELAYS,
        retry_jitter_factor=RETRY_JITTER,
        retry_condition_fn=retry_transient,
        timeout_seconds=timeout_seconds,
        cache_policy=NO_CACHE,
        **options,
    )
