"""The dispatcher in a child process of the receiver: both ends of the pipe.

Why a process: the dispatcher's flow runs (`woocommerce-sync-records`, `ingest-ledger`, ...) execute
Python for every event. On the receiver's loop they shared its GIL and its garbage collector, and
acknowledgements waited behind them (at 300 webhooks/s, p99 57 ms instead of 13 ms; see
docs/performance.md). In a child process, at a lower CPU priority (`dispatch_nice`), they take what the
acknowledgements leave: a burst piles up in the inbox, which is what the inbox is for.

The parent (`DispatcherProcess`, run by the app's lifespan) starts `python -m receiver.dispatcher_process`
and talks to it over the child's stdin and stdout:
- stdin: first one JSON line `{"settings": ..., "log_level": ...}`, then one byte per wake-up (`w`: the
  writer committed new rows), and `q` when the receiver shuts down: the child stops taking rows and
  finishes the flow runs it holds. End of file without `q` means the receiver died (killed): the child
  exits at once, as if it had been killed with it, and the next one resumes its rows.
- stdout: a JSON line with the dispatcher's counters every second, for `/api/integrations/status` and
  `/metrics`. The child's own prints and logs go to stderr, which it shares with the receiver.
The parent restarts a child that exits on its own (with backoff), and on shutdown closes stdin, waits for
the child to finish what it holds, then terminates it. Rows a killed child held are resumed by the next
one (`Dispatcher.recover`: same `owner`); their flow runs carry idempotency keys, so none runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from typing import IO, Any

import orjson

from receiver.settings import ReceiverSettings

__all__ = ["DispatcherProcess", "main"]

logger = logging.getLogger("nxt.receiver")
REPORT_EVERY_S = 1.0
RESTART_MAX_S = 30.0


class DispatcherProcess:
    """Runs the dispatcher as a child process of the receiver, restarting it if it dies.

    Args:
        settings: The receiver's settings (the child gets the same).
        hub_url: The hub the receiver writes to (used when `settings.hub` names no block).
        prefect_api_url: The Prefect API the receiver's own client talks to: the child uses the same.
        log_level: The child's `nxt` log level.
    """

    def __init__(
        self, settings: ReceiverSettings, hub_url: str, prefect_api_url: str, *, log_level: str = "INFO"
    ) -> None:
        if not settings.hub:
            settings = settings.model_copy(update={"database_url": hub_url})
        self.settings = settings
        self.prefect_api_url = prefect_api_url
        self.log_level = log_level
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._report: dict[str, Any] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._started = asyncio.Event()

    async def start(self) -> None:
        """Start the child (and its supervisor); returns once it is running."""
        self._supervisor = asyncio.create_task(self._supervise(), name="nxt-receiver-dispatcher-process")
        await self._started.wait()

    def wake(self) -> None:
        """Tell the child new rows were committed: one byte, unless earlier ones still wait in this
        end's buffer (the child's read takes all the bytes that arrived as one wake-up)."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            return
        with contextlib.suppress(OSError, RuntimeError):
            if proc.stdin.transport.get_write_buffer_size() == 0:
                proc.stdin.write(b"w")

    def snapshot(self) -> dict[str, Any]:
        """The child's last counters (as `Dispatcher.snapshot`) and the process's state."""
        running = self._proc is not None and self._proc.returncode is None
        pid = self._proc.pid if self._proc is not None else None
        return self._report | {"process": {"pid": pid, "running": running, "restarts": self.restarts}}

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Close the child's stdin (it stops taking rows and finishes what it holds), then make sure
        it is gone: terminated after `timeout_s`, killed 5 s later."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    proc.stdin.write(b"q")
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), timeout_s)
            except TimeoutError:
                logger.warning("the dispatcher process did not stop within %.0fs; terminating it", timeout_s)
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5.0)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor

    async def _supervise(self) -> None:
        backoff = 1.0
        while not self._stopping:
            started = time.monotonic()
            try:
                proc = await self._spawn()
            except OSError as exc:
                logger.error("cannot start the dispatcher process: %s", exc)
                self._started.set()
            else:
                self._started.set()
                assert proc.stdout is not None
                async for line in proc.stdout:
                    with contextlib.suppress(ValueError):
                        self._report = orjson.loads(line)
                code = await proc.wait()
                if self._stopping:
                    return
                if time.monotonic() - started > 60:  # it had been running fine: not a crash loop
                    backoff = 1.0
                logger.error("the dispatcher process exited (code %s); restarting it in %.0fs", code, backoff)
            self.restarts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RESTART_MAX_S)

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = dict(os.environ)
        env.update(_prefect_key())
        env["PREFECT_API_URL"] = self.prefect_api_url
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "receiver.dispatcher_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        config = {"settings": self.settings.model_dump(mode="json"), "log_level": self.log_level}
        proc.stdin.write(orjson.dumps(config) + b"\n")
        self._proc = proc
        return proc


def _prefect_key() -> dict[str, str]:
    """The Prefect Cloud key this process uses (a profile's, or a temporary setting's), for the child."""
    from prefect.settings import get_current_settings

    key = get_current_settings().api.key
    return {"PREFECT_API_KEY": key.get_secret_value()} if key is not None else {}


# --------------------------------------------------------------------------------------------------
# The child


class _Wakes(asyncio.Protocol):
    """stdin after the settings line: `w` wakes the dispatcher, `q` stops the child gently; end of file
    without `q` (the receiver was killed) ends it at once."""

    def __init__(self, wake: Any, stop: asyncio.Event) -> None:
        self.wake, self.stop = wake, stop

    def data_received(self, data: bytes) -> None:
        if b"q" in data:
            self.stop.set()
        else:
            self.wake()

    def eof_received(self) -> bool:
        self._gone()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()

    def _gone(self) -> None:
        if not self.stop.is_set():
            # Not waiting for the flow runs in flight: a new receiver starts its own dispatcher, which
            # resumes the rows held here, and must not find this one still running them.
            logger.warning("the receiver is gone; the dispatcher process stops now")
            logging.shutdown()
            os._exit(1)


async def _dispatch(settings: ReceiverSettings, report: IO[bytes]) -> None:
    from receiver.credentials import Integrations
    from receiver.dispatch import Dispatcher, FlowStarter
    from receiver.handlers import default_registry

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # not on Windows' loop
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    engine = await asyncio.to_thread(settings.open_hub)
    creds = Integrations(settings)
    await creds.load()
    starter = FlowStarter(settings)
    dispatcher = Dispatcher(settings, engine, creds, default_registry(), starter)
    await loop.connect_read_pipe(lambda: _Wakes(dispatcher.wake, stop), os.fdopen(0, "rb", buffering=0))

    async def reports() -> None:
        last = None
        while True:
            now = orjson.dumps(dispatcher.snapshot())
            if now != last:
                report.write(now + b"\n")
                report.flush()
                last = now
            await asyncio.sleep(REPORT_EVERY_S)

    tasks = [
        asyncio.create_task(dispatcher.run_forever(), name="nxt-dispatcher"),
        asyncio.create_task(creds.refresh_forever(), name="nxt-dispatcher-blocks"),
        asyncio.create_task(reports(), name="nxt-dispatcher-reports"),
    ]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        await dispatcher.stop()
        await starter.close()
        await creds.current.aclose()
        engine.dispose()


def _read_config() -> dict[str, Any]:
    """The first line of stdin, read byte by byte: what follows it is read by the event loop."""
    line = bytearray()
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            raise SystemExit("the receiver closed the pipe before sending the settings")
        line += chunk
    return orjson.loads(line)  # type: ignore[no-any-return]


def main() -> None:
    """The child: `python -m receiver.dispatcher_process`, started by `DispatcherProcess`."""
    report = os.fdopen(os.dup(1), "wb")  # the channel to the receiver; fd 1 itself -> stderr
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the receiver decides
    config = _read_config()
    settings = ReceiverSettings.model_validate(config["settings"])
    _log_to_stderr(str(config.get("log_level", "INFO")))
    if settings.dispatch_nice and hasattr(os, "nice"):
        os.nice(settings.dispatch_nice)
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(_dispatch(settings, report))


def _log_to_stderr(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s (dispatcher): %(message)s"))
    nxt = logging.getLogger("nxt")
    nxt.addHandler(handler)
    nxt.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    nxt.propagate = False


if __name__ == "__main__":
    main()
