"""Which Prefect API a command talks to, and starting a temporary one when none is configured.

Order: `PREFECT_API_URL` when set (checked to answer); else the server of a running `nxt up` on this machine
(it leaves its address in a state file, read before Prefect is imported); else a temporary local server
for this command, started here with
enough time for its first start. On a machine where Prefect never ran, that first start creates and
migrates its SQLite database, which took longer than Prefect's own 20 s start-up limit (issue 7): the
command says it is starting and why it may take a minute, and one clear line if it really cannot start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from deployments.errors import CommandError

STARTUP_TIMEOUT_S = 180  # a first start on a busy 2-core machine: database creation and migrations
HEALTH_TIMEOUT_S = 5.0
STATE_FILE = platformdirs.user_state_path("nxt-integrations") / "up.json"


def configure_process() -> None:
    """Settings every `nxt` process wants before Prefect is imported (explicit environment wins)."""
    # Offline machines would log "Failed to send telemetry" on every server start.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(STARTUP_TIMEOUT_S))
    # The terminal shows nxt's own progress and report; Prefect's per-run INFO lines and the flow engine's
    # tracebacks stay in the run's logs in the UI (`--verbose` brings them back to the console).
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    # A `nxt up` running on this machine is the Prefect server to use when none is named.
    if not os.environ.get("PREFECT_API_URL"):
        up = running_up_server()
        if up:
            os.environ["PREFECT_API_URL"] = up


def api_url_description() -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or "(a temporary local server)"


def running_state() -> dict[str, Any] | None:
    """The state file of a `nxt up` whose process is alive on this machine, or None.

    `nxt up` writes it once everything is ready and removes it when it stops: `{"pid", "api_url",
    "ui_url", "receiver_url", "started_at", "children": {name: pid}}`.
    """
    try:
        state = json.loads(STATE_FILE.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if isinstance(state, dict) else None


def running_up_server() -> str | None:
    """The API URL of a `nxt up` running on this machine, if its state file names a live one."""
    state = running_state()
    url = state.get("api_url") if state else None
    return url if isinstance(url, str) and _healthy(url) else None


def ensure_api(echo: Callable[[str], None]) -> str:
    """Make sure this process has a Prefect API that answers; return its URL.

    Raises:
        CommandError: the configured API does not answer, or the temporary server cannot start.
    """
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()
    if configured:
        if not _healthy(configured):
            raise CommandError(
                f"cannot reach the Prefect API at PREFECT_API_URL={configured}; start that server (`nxt up` "
                "or `prefect server start`), or unset PREFECT_API_URL to use a temporary local server"
            )
        return str(configured)
    return _start_temporary(echo)


def _start_temporary(echo: Callable[[str], None]) -> str:
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_HOME

    first = not (Path(PREFECT_HOME.value()) / "prefect.db").exists()
    echo(
        "starting a temporary local Prefect server for this command"
        + (" (first start on this machine: creating its database, up to a minute)" if first else "")
        + "; set PREFECT_API_URL or run `nxt up` to use a lasting one"
    )
    server = SubprocessASGIServer()
    try:
        server.start(timeout=STARTUP_TIMEOUT_S)
    except Exception as exc:
        if server.server_process is not None and server.server_process.poll() is None:
            server.server_process.kill()
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CommandError(
            f"the temporary Prefect server did not start within {STARTUP_TIMEOUT_S}s ({detail}); start one "
            "with `uv run prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        ) from None
    return str(server.api_url)


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False
