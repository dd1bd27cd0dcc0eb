"""`nxt up`: everything on one machine, until Ctrl-C.

A Prefect server (`prefect server start`, unless PREFECT_API_URL names one that answers), the sandbox
with blocks pointing at it (`--sandbox`), the webhook receiver, and the served deployments (`nxt serve`,
with a cap on parallel runs). Each runs as a child process in its own process group, logging to a file;
Ctrl-C or SIGTERM stops them all (see deployments/processes.py). While it runs, its state file tells other
`nxt` commands on this machine which Prefect server to use (deployments/prefect_api.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from deployments.definitions import DEFAULT_LIMIT
from deployments.errors import CommandError
from deployments.processes import Child, ChildFailed, port_in_use, stop_all

SERVER_START_S = 180.0  # a first start creates and migrates the server's database (slow on 2 cores)
READY_S = 120.0


def up(
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Also start the sandbox and save blocks named 'default' (or NXT_STORES) pointing at it.",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="Address the Prefect server and the receiver listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the Prefect server and its UI.")
    ] = 4200,
    receiver_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the webhook receiver.")
    ] = 4000,
    limit: Annotated[int, typer.Option(min=1, help="Flow runs at once (each in its own process).")] = (
        DEFAULT_LIMIT
    ),
) -> None:
    """Start a Prefect server, the receiver and the served deployments (and the sandbox), until Ctrl-C.

    With PREFECT_API_URL set, its server is used instead of starting one. Logs of each part go to files
    (printed at start); other `nxt` commands on this machine use this Prefect server while it runs.
    """
    from deployments.prefect_api import STATE_FILE, running_state

    running = running_state()
    if running:
        raise CommandError(
            f"nxt up is already running (pid {running['pid']}, Prefect UI at {running.get('ui_url')}); "
            "stop it first (Ctrl-C in its terminal)"
        )
    configured = os.environ.get("PREFECT_API_URL") or None
    _check_ports(host, port, receiver_port, start_server=configured is None)
    if configured and not _healthy(configured):
        raise CommandError(
            f"cannot reach the Prefect API at PREFECT_API_URL={configured}; start that server, or unset "
            "PREFECT_API_URL and `nxt up` starts one"
        )
    specs = _deployments(sandbox)
    _check_hub()

    log_dir = STATE_FILE.parent / "up-logs"
    children: list[Child] = []
    _raise_on_sigterm()
    try:
        api_url = configured or _start_server(children, host, port, log_dir)
        ui_url = api_url.rstrip("/").removesuffix("/api")
        env = {**os.environ, "PREFECT_API_URL": api_url}
        os.environ["PREFECT_API_URL"] = api_url  # for the checks below, before Prefect is imported
        typer.echo(f"Prefect server  {ui_url}  (UI; API {api_url})" + ("" if configured else "  started"))
        if sandbox:
            _start_sandbox(children, env, log_dir)
        _check_blocks(sorted({str(s.parameters["store"]) for s in specs if "store" in s.parameters}))
        receiver_url = _start_receiver(children, env, host, receiver_port, log_dir)
        _start_serve(children, env, api_url, specs, limit, log_dir)
        _write_state(STATE_FILE, api_url, ui_url, receiver_url, children)
        typer.echo(f"logs            {log_dir}")
        typer.echo(
            "nxt up is ready; other nxt commands here use this Prefect server. Ctrl-C stops everything."
        )
        _supervise(children)
    except ChildFailed as exc:
        raise CommandError(str(exc)) from None
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children)
        _remove_state(STATE_FILE)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    typer.echo("stopped")


def _nxt(*args: str) -> list[str]:
    return [sys.executable, "-m", "deployments.cli", *args]


def _check_ports(host: str, port: int, receiver_port: int, *, start_server: bool) -> None:
    wanted = [("--receiver-port", receiver_port, "the receiver")]
    if start_server:
        wanted.insert(0, ("--port", port, "the Prefect server"))
    if start_server and port == receiver_port:
        raise CommandError(f"--port and --receiver-port are both {port}; give them different ports")
    for option, number, what in wanted:
        if port_in_use(host, number):
            hint = (
                f" (a Prefect server already running there? then set PREFECT_API_URL=http://{host}:{number}/api)"
                if option == "--port"
                else ""
            )
            raise CommandError(
                f"port {number} on {host} is already in use, so {what} cannot listen there{hint}; "
                f"stop what uses it or pick another with {option}"
            )


def _healthy(api_url: str) -> bool:
    import httpx

    try:
        return httpx.get(api_url.rstrip("/") + "/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _deployments(sandbox: bool) -> list[Any]:
    from deployments.definitions import DeploymentConfigError, deployments

    try:
        specs = deployments()
    except DeploymentConfigError as exc:
        raise CommandError(str(exc)) from None
    stores = [s.strip() for s in os.environ.get("NXT_STORES", "default").split(",") if s.strip()]
    if sandbox and len(stores) != 1:
        raise CommandError(
            "--sandbox saves one set of blocks, named for one store; set NXT_STORES to one name or unset it"
        )
    return specs


def _check_hub() -> None:
    """One clear line now, rather than a receiver that dies, when the hub cannot be opened."""
    from hub.db import create_hub_engine

    create_hub_engine().dispose()


def _start_server(children: list[Child], host: str, port: int, log_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/api"
    # The UI's browser code calls this URL; Prefect's default names port 4200 whatever --port says.
    env.setdefault("PREFECT_UI_API_URL", url)
    child = Child(
        "the Prefect server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        env,
        log_dir / "prefect-server.log",
    )
    children.append(child)
    typer.echo(
        f"starting a Prefect server on {host}:{port} (a first start creates its database: up to a minute)"
    )
    child.start()
    child.wait_until(lambda: _healthy(url), SERVER_START_S, "answering")
    return url


def _start_sandbox(children: list[Child], env: dict[str, str], log_dir: Path) -> None:
    name = os.environ.get("NXT_STORES", "default").strip() or "default"
    child = Child(
        "the sandbox",
        _nxt("sandbox", "up", "--json", "--save-blocks", "--block-name", name),
        env,
        log_dir / "sandbox.log",
    )
    children.append(child)
    child.start()
    found: dict[str, Any] = {}

    def ready() -> bool:
        for line in child.log_text().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    found.update(json.loads(line))
                    return True
        return False

    child.wait_until(ready, READY_S, "saving its blocks")
    urls = ", ".join(
        f"{name} {entry.get('base_url', '')}" for name, entry in found.items() if isinstance(entry, dict)
    )
    typer.echo(f"sandbox         {urls}; blocks saved as {name!r}")


def _check_blocks(stores: list[str]) -> None:
    """Each store's block exists and its store answers: one clear line otherwise."""
    import logging

    from blocks import WooCommerceStore, aload_block

    # Prefect's event worker says "Still processing items" while it drains at exit: not ours to show.
    # (its logger is named after the worker's class and has no handler, so Python's last resort prints it).
    for worker in ("EventsWorker", "APILogWorker"):
        logging.getLogger(worker).setLevel(logging.ERROR)

    async def check(name: str) -> None:
        block = await aload_block(WooCommerceStore, name)
        async with block.client() as client:
            await client.check()

    for name in stores:
        asyncio.run(check(name))


def _start_receiver(children: list[Child], env: dict[str, str], host: str, port: int, log_dir: Path) -> str:
    child = Child(
        "the receiver", _nxt("receiver", "--host", host, "--port", str(port)), env, log_dir / "receiver.log"
    )
    children.append(child)
    child.start()
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    import httpx

    def ready() -> bool:
        try:
            return httpx.get(f"http://{local}:{port}/healthz", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    child.wait_until(ready, READY_S, "answering")
    url = f"http://{local}:{port}"
    typer.echo(f"receiver        {url}  (webhooks under /api/webhooks, API under /api/integrations)")
    return url


def _start_serve(
    children: list[Child], env: dict[str, str], api_url: str, specs: list[Any], limit: int, log_dir: Path
) -> None:
    child = Child("nxt serve", _nxt("serve", "--limit", str(limit)), env, log_dir / "serve.log")
    children.append(child)
    since = datetime.now(UTC)
    child.start()
    wanted = {s.full_name for s in specs}
    child.wait_until(lambda: wanted <= _polled_since(api_url, since), READY_S, "serving its deployments")
    typer.echo(f"serving         {len(wanted)} deployments, at most {limit} flow runs at once")


def _polled_since(api_url: str, since: datetime) -> set[str]:
    """Full names of the deployments a runner polled after `since`."""
    import httpx

    try:
        flows = httpx.post(f"{api_url}/flows/filter", json={"limit": 200}, timeout=5).json()
        found = httpx.post(f"{api_url}/deployments/filter", json={"limit": 200}, timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return set()
    names = {f["id"]: f["name"] for f in flows}
    out = set()
    for d in found:
        polled = d.get("last_polled")
        if polled and datetime.fromisoformat(polled.replace("Z", "+00:00")) >= since:
            out.add(f"{names.get(d['flow_id'])}/{d['name']}")
    return out


def _write_state(path: Path, api_url: str, ui_url: str, receiver_url: str, children: list[Child]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": os.getpid(),
        "api_url": api_url,
        "ui_url": ui_url,
        "receiver_url": receiver_url,
        "started_at": datetime.now(UTC).isoformat(),
        "children": {c.name: c.pid for c in children},
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def _remove_state(path: Path) -> None:
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _raise_on_sigterm() -> None:
    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _supervise(children: list[Child]) -> None:
    """Until Ctrl-C/SIGTERM (a clean stop) or a child dying (an error naming it)."""
    try:
        while True:
            for child in children:
                code = child.exit_code()
                if code is not None:
                    raise ChildFailed(
                        f"{child.name} stopped (code {code}): {child.log_tail() or 'no output'} "
                        f"(log: {child.log_path}); stopped everything"
                    )
            time.sleep(0.5)
    except KeyboardInterrupt:
        typer.echo("stopping ...")
