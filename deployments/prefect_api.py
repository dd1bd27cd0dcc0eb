"""Which Prefect API a command talks to, and starting a temporary one when none is configured.

Order: `PREFECT_API_URL` when set (checked to answer); else the server of a running `nxt up` on this machine
(it leaves its address in a state file, read before Prefect is imported); else a temporary local server
for this command, started here with
enough time for its first start. On a machine where Prefect never ran, that first start creates and
migrates its SQLite database, which took longer than Prefect's own 20 s start-up limit (issue 7): the
command says it is starting and why it may take a minute, and one clear line if it really cannot start.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
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
    return TemporaryServer.start(echo).wait_ready()


def begin_api(echo: Callable[[str], None]) -> tuple[Callable[[], str], str | None]:
    """Start what `ensure_api` would without waiting for it, before Prefect is imported: a command with
    other work to do first (the demo builds its sandbox) overlaps it with the temporary server's start.

    Returns `(wait, configured)`: `wait()` blocks until the API answers and returns its URL (raising
    `CommandError` like `ensure_api`); `configured` is the lasting server's URL named by the environment
    or the active Prefect profile, None when a temporary server was started.
    """
    configured = os.environ.get("PREFECT_API_URL") or _profile_api_url()
    if configured:
        return (lambda: ensure_api(echo)), configured
    return TemporaryServer.start(echo).wait_ready, None


def _profile_api_url() -> str | None:
    """PREFECT_API_URL of the active profile in PREFECT_HOME/profiles.toml, read without Prefect."""
    import tomllib

    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or _prefect_home() / "profiles.toml")
    try:
        data = tomllib.loads(path.expanduser().read_text())
    except (OSError, ValueError):
        return None
    name = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = data.get("profiles", {}).get(name, {})
    url = profile.get("PREFECT_API_URL") if isinstance(profile, dict) else None
    return url if isinstance(url, str) and url else None


class TemporaryServer:
    """A local Prefect API server for this command only, as Prefect's own ephemeral mode runs it (uvicorn
    on `create_app`, no UI, no scheduler), but started without importing Prefect's server package here
    (about 6 s of this process's CPU on this machine) and as early as a command wants: `start` returns at
    once, `wait_ready` blocks until it answers. The process points Prefect at it (`PREFECT_API_URL`) and
    stops it when it exits; its output goes to a log file in PREFECT_HOME, quoted if it fails."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self._spawn()

    def _spawn(self) -> None:
        self.port = _free_port()
        self.process = _spawn_uvicorn(self.port, self.log)
        # Point this process's Prefect at it (Prefect's global settings are read once, so refresh them).
        os.environ["PREFECT_API_URL"] = self.api_url
        _refresh_prefect_settings()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @classmethod
    def start(cls, echo: Callable[[str], None]) -> TemporaryServer:
        """Spawn the server and point this process's Prefect settings at it."""
        home = _prefect_home()
        home.mkdir(parents=True, exist_ok=True)
        first = not (home / "prefect.db").exists()
        echo(
            "starting a temporary local Prefect server for this command"
            + (" (first start on this machine: creating its database, up to a minute)" if first else "")
            + "; set PREFECT_API_URL or run `nxt up` to use a lasting one"
        )
        server = cls(home / "nxt-temporary-server.log")
        atexit.register(server.stop)
        return server

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
        """Block until the server answers its health check; return its API URL.

        Raises:
            CommandError: it exited or did not answer within `timeout_s`.
        """
        import httpx

        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=HEALTH_TIMEOUT_S) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    if self._lost_port_race() and time.monotonic() < deadline:
                        continue
                    raise self._error(f"it exited with code {self.process.returncode}")
                try:
                    if client.get(self.api_url + "/health").status_code == 200:
                        return self.api_url
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise self._error(f"no answer within {timeout_s:.0f}s")

    def _lost_port_race(self) -> bool:
        """Another process took the port between our check and uvicorn's bind: start again on another."""
        if "address already in use" not in self.log.read_text(errors="replace").lower():
            return False
        self._spawn()
        return True

    def stop(self) -> None:
        """Terminate the server (idempotent)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _error(self, why: str) -> CommandError:
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        tail = f"; its log {self.log} ends: {lines[-1][:200]}" if lines else f"; its log: {self.log}"
        return CommandError(
            f"the temporary Prefect server did not start ({why}{tail}); start one with "
            "`uv run prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
        )


def _refresh_prefect_settings() -> None:
    if "prefect.context" in sys.modules:  # settings already read: make them see the new URL
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def _prefect_home() -> Path:
    """PREFECT_HOME as Prefect resolves it (environment, else ~/.prefect), without importing Prefect."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn_uvicorn(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The command Prefect's `SubprocessASGIServer` runs, with its environment (no UI, ephemeral)."""
    import importlib.util

    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise CommandError("Prefect is not installed in this environment; run `uv sync`")
    app_dir = Path(next(iter(spec.submodule_search_locations))).parent
    env = {
        **os.environ,
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }
    env.pop("PREFECT_API_URL", None)
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(app_dir),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT_S).status_code == 200
    except httpx.HTTPError:
        return False
