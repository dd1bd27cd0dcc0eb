"""Child processes that `nxt up` supervises: each in its own process group, logged to a file, stopped as a
group so that nothing it started (flow-run subprocesses of `nxt serve`, uvicorn workers) outlives it.

Every child also asks the kernel (Linux `PR_SET_PDEATHSIG`) for SIGTERM should `nxt up` itself die without
cleaning up (SIGKILL, OOM), so even that leaves no orphan server behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Child", "port_in_use", "stop_all"]

STOP_GRACE_S = 20.0  # SIGTERM first; SIGKILL the group after this


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    """One supervised process: its name (`prefect server`), command, environment and log file."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                list(self.argv),
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C reaches `nxt up` only, which stops it
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only async-signal-safe work (one prctl)
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def log_tail(self, lines: int = 1) -> str:
        """The last non-empty line(s) of its log, for a one-line error."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(kept[-lines:])[:300]

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll `ready()` until it holds.

        Raises:
            ChildFailed: the process exited first, or `timeout_s` passed.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            if ready():
                return
            code = self.exit_code()
            if code is not None:
                raise ChildFailed(
                    f"{self.name} exited (code {code}) before {what}: {self.log_tail() or 'no output'} "
                    f"(log: {self.log_path})"
                )
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"{self.name} did not get {what} within {timeout_s:.0f}s; see {self.log_path}"
                )
            time.sleep(0.25)

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


class ChildFailed(RuntimeError):
    """A supervised process died or never became ready; the message is one line."""


def stop_all(children: Sequence[Child], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM every child's process group (last started first), wait, then SIGKILL what is left.

    The group is signalled again after its leader exits, so processes the leader started and left
    behind (flow runs) go too.
    """
    started = [c for c in reversed(children) if c.process is not None]
    for child in started:
        if child.exit_code() is None:
            child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in started:
        assert child.process is not None
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        child.signal_group(signal.SIGKILL)  # the leader if still there, and any straggler in its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)


def port_in_use(host: str, port: int) -> bool:
    """Whether `host:port` cannot be bound (something already listens there)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False
