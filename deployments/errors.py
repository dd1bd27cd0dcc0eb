"""How every `nxt` command reports failure: one clear line on stderr, a non-zero exit, no traceback.

Commands either call `fail(...)` themselves or simply let an expected exception escape: `NxtTyper` wraps
every command so that a missing block, an unreachable store, hub or Prefect API, a port in use or a failed
sync each end as one `error: ...` line naming the fix. `--verbose` shows the traceback instead.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])

_verbose = False


def set_verbose(value: bool) -> None:
    global _verbose
    _verbose = value


def verbose() -> bool:
    return _verbose


class CommandError(Exception):
    """Raised anywhere below a command to end it with one line naming the setting and the fix."""


def fail(message: str, *, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: <message>` to stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def explain(exc: BaseException) -> tuple[str, int] | None:
    """The one line (and exit code) for an expected failure, or None for a bug."""
    from blocks import BlockNotFound
    from clients.errors import ClientError
    from hub.errors import HubError

    if isinstance(exc, CommandError | BlockNotFound | HubError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, ClientError):
        return str(exc), EXIT_FAILED
    from flows._runs import RunFailed

    if isinstance(exc, RunFailed):  # a flow run that failed for a known reason, already one line
        return str(exc), EXIT_FAILED
    prefect = _prefect_problem(exc)
    if prefect:
        return prefect, EXIT_FAILED
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return f"an address is already in use ({exc.strerror}); stop what uses it or pick another port", 2
    if isinstance(exc, ValueError) and str(exc) and "\n" not in str(exc).strip():
        return str(exc), EXIT_USAGE  # a parameter refused by a flow's own validation
    return None


def _prefect_problem(exc: BaseException) -> str | None:
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    from deployments.prefect_api import api_url_description

    where = api_url_description()
    if isinstance(exc, RuntimeError) and "ephemeral Prefect API server" in str(exc):
        return (
            f"the temporary Prefect server did not start ({str(exc).splitlines()[0][:200]}); start one with "
            "`uv run prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    if isinstance(exc, PrefectHTTPStatusError):
        return f"the Prefect API at {where} answered HTTP {exc.response.status_code}; check that server's log"
    if isinstance(exc, httpx.TransportError):
        return (
            f"cannot reach the Prefect API at {where} ({type(exc).__name__}); start it (`nxt up` or "
            "`prefect server start`), or unset PREFECT_API_URL to use a temporary local server"
        )
    return None


def friendly(fn: F) -> F:
    """Wrap a command so expected failures end as one line (tracebacks only with --verbose)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BaseException as exc:
            if _verbose:
                raise
            known = explain(_first(exc))
            if known is None:
                message = (
                    f"unexpected {type(exc).__name__}: {_one_line(exc)} (a bug; run again with --verbose "
                    "for the traceback and report it)"
                )
                fail(message, code=EXIT_FAILED)
            fail(known[0], code=known[1])

    return wrapper  # type: ignore[return-value]


class NxtTyper(typer.Typer):
    """A Typer app whose commands report expected failures as one line (see `friendly`)."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        register = super().command(*args, **kwargs)

        def decorator(fn: F) -> F:
            register(friendly(fn))
            return fn

        return decorator


def _first(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def one_line(exc: BaseException) -> str:
    """The first line of the first real error inside `exc` (task groups nest them), for reports."""
    return _one_line(_first(exc))
