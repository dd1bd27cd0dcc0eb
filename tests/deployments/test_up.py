"""`nxt up` as a user runs it: a subprocess that starts its parts, serves until SIGINT, then leaves nothing
running; and each kind of bad input answered with one line, with nothing left running."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deployments.definitions import deployments

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(tmp_path: Path, api_url: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NXT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        XDG_STATE_HOME=str(tmp_path / "state"),  # where `nxt up` leaves its state file and logs
        NXT_DATABASE_URL=f"sqlite:///{tmp_path / 'hub.db'}",
    )
    env.update(extra)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _state_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "nxt-integrations" / "up.json"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _nxt_up(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deployments.cli", "up", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode in (1, 2), result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.fixture
def up_process(prefect_server: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], list[str], int]]:
    """`nxt up --sandbox` on the session's Prefect server, read until it says it is ready."""
    receiver_port = _free_port()
    env = _env(tmp_path, prefect_server, NXT_STORES="up", PREFECT_RUNNER_POLL_FREQUENCY="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.cli", "up", "--sandbox", "--receiver-port", str(receiver_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "nxt up is ready" in line or line.startswith("error:"):
                break
        assert process.poll() is None, "".join(lines)
        yield process, lines, receiver_port
    finally:
        if process.poll() is None:
            process.kill()  # only when the test failed before its own SIGINT
            process.wait(timeout=30)


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_nxt_up_serves_and_sigint_stops_every_child(
    up_process: tuple[subprocess.Popen[str], list[str], int], prefect_server: str, tmp_path: Path
) -> None:
    process, lines, receiver_port = up_process
    text = "".join(lines)
    assert f"Prefect server  {prefect_server.removesuffix('/api')}" in text
    assert f"receiver        http://127.0.0.1:{receiver_port}" in text
    assert "blocks saved as 'up'" in text and "at most 4 flow runs at once" in text

    state = json.loads(_state_file(tmp_path).read_text())
    assert state["pid"] == process.pid and state["api_url"] == prefect_server
    assert httpx.get(f"http://127.0.0.1:{receiver_port}/healthz", timeout=5).status_code == 200

    # Another `nxt` command, with no PREFECT_API_URL, finds this Prefect server through the state file.
    listed = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "blocks", "list"],
        cwd=ROOT,
        env=_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "WooCommerce Store  up " in listed.stdout, "the blocks --sandbox saved, on nxt up's server"

    served = len(deployments({"NXT_STORES": "up"}))  # one store, named `up`, as the environment above says
    assert f"serving         {served} deployments" in text, "nxt serve registered and polls them"
    # (served runs that really run: tests/deployments/test_deployments.py and test_scaling.py)

    children = _descendants(process.pid)
    assert len(children) >= 3, "the sandbox, the receiver and nxt serve, each a child process"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None
    assert "stopped" in process.stdout.read()
    assert [pid for pid in children if _alive(pid)] == [], "no process nxt up started outlives it"
    assert not _state_file(tmp_path).exists()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{receiver_port}/healthz", timeout=2)


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_port_in_use(tmp_path: Path, prefect_server: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_error_line(_nxt_up(_env(tmp_path, None), "--port", str(port)))
        assert f"port {port} on 127.0.0.1 is already in use" in line and "--port" in line
        assert "PREFECT_API_URL" in line, "a Prefect server may already be there"
        line = _one_error_line(_nxt_up(_env(tmp_path, prefect_server), "--receiver-port", str(port)))
        assert "the receiver cannot listen there" in line and "--receiver-port" in line


def test_prefect_api_url_that_does_not_answer(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/api"
    line = _one_error_line(_nxt_up(_env(tmp_path, url), "--receiver-port", str(_free_port())))
    assert f"cannot reach the Prefect API at PREFECT_API_URL={url}" in line


def test_already_running(tmp_path: Path) -> None:
    state = _state_file(tmp_path)
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"pid": os.getpid(), "api_url": "http://x/api", "ui_url": "http://x"}))
    line = _one_error_line(_nxt_up(_env(tmp_path, None)))
    assert f"nxt up is already running (pid {os.getpid()}" in line


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_missing_store_block(tmp_path: Path, prefect_server: str) -> None:
    env = _env(tmp_path, prefect_server, NXT_STORES="no-such-store")
    line = _one_error_line(_nxt_up(env, "--receiver-port", str(_free_port())))
    assert "no WooCommerce Store block named 'no-such-store'" in line


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_store_block_pointing_at_nothing(tmp_path: Path, prefect_server: str) -> None:
    from blocks import WooCommerceStore

    async def save() -> None:
        from prefect.client.orchestration import PrefectClient

        async with PrefectClient(prefect_server) as client:
            block = WooCommerceStore(
                site_url=f"http://127.0.0.1:{_free_port()}",
                consumer_key="ck_x",
                consumer_secret="cs_x",
                max_retries=0,
            )
            await block.asave("nowhere", overwrite=True, client=client)

    asyncio.run(save())
    receiver_port = _free_port()
    result = _nxt_up(
        _env(tmp_path, prefect_server, NXT_STORES="nowhere"), "--receiver-port", str(receiver_port)
    )
    line = _one_error_line(result)
    assert "127.0.0.1" in line
    assert not _state_file(tmp_path).exists()


@pytest.mark.slow
def test_a_failed_start_stops_the_server_it_started(tmp_path: Path) -> None:
    """No PREFECT_API_URL: `nxt up` starts a Prefect server, then finds no store block, and stops it."""
    port = _free_port()
    result = _nxt_up(_env(tmp_path, None), "--port", str(port), "--receiver-port", str(_free_port()))
    line = _one_error_line(result)
    assert "no WooCommerce Store block named 'default'" in line
    assert "starting a Prefect server" in result.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # the server is gone: its port is free again
    leftovers = [
        p for p in os.listdir("/proc") if p.isdigit() and str(tmp_path).encode() in _environ_of(int(p))
    ]
    assert leftovers == [], "no process of that nxt up (its PREFECT_HOME) is left"


def _environ_of(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


@pytest.mark.slow  # a real Prefect server and `nxt` processes: CI runs it in its `-m slow` step
def test_hub_that_does_not_answer(tmp_path: Path, prefect_server: str) -> None:
    env = _env(tmp_path, prefect_server, NXT_DATABASE_URL=f"postgresql://nxt@127.0.0.1:{_free_port()}/nxt")
    line = _one_error_line(_nxt_up(env, "--receiver-port", str(_free_port())))
    assert "127.0.0.1" in line and "postgresql" in line.lower()
