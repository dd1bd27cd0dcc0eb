"""Which Prefect API a command uses, and the temporary server started when none is configured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments import prefect_api
from deployments.errors import CommandError


@pytest.fixture
def prefect_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PREFECT_HOME of its own, nothing configured; the process's settings restored afterwards."""
    home = tmp_path / ".prefect"
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH")}
    monkeypatch.setenv("PREFECT_HOME", str(home))
    for name in saved:
        monkeypatch.delenv(name, raising=False)
    yield home
    # The code under test sets PREFECT_API_URL itself and refreshes Prefect's global settings: put both
    # back, or threads of later tests in this worker (which read the global settings) would talk to a
    # dead server. (monkeypatch does not restore a variable that was absent when it was deleted.)
    monkeypatch.undo()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    prefect_api._refresh_prefect_settings()


def test_the_active_profiles_api_url_counts_as_configured(prefect_env: Path) -> None:
    prefect_env.mkdir()
    (prefect_env / "profiles.toml").write_text(
        'active = "work"\n[profiles.work]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
        '[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n'
    )
    wait, configured = prefect_api.begin_api(lambda line: None)
    assert configured == "http://prefect.internal:4200/api"  # no temporary server for a configured one


def test_a_temporary_server_that_cannot_start_is_one_clear_line(
    prefect_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database URL the server cannot open: it exits during start-up, and its own log says why.
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    lines: list[str] = []
    wait, configured = prefect_api.begin_api(lines.append)
    assert configured is None and "starting a temporary local Prefect server" in lines[0]
    with pytest.raises(CommandError) as caught:
        wait()
    message = str(caught.value)
    assert "\n" not in message and "the temporary Prefect server did not start" in message
    assert "nxt-temporary-server.log" in message and "prefect server start" in message
    assert "exited with code" in message


@pytest.mark.slow  # a first start: Prefect creates its database (about 25 s of CPU here)
def test_a_temporary_server_answers_and_is_stopped(prefect_env: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    server = prefect_api.TemporaryServer.start(lambda line: None)
    try:
        url = server.wait_ready()
        assert PREFECT_API_URL.value() == url, "this process's Prefect now talks to it"
    finally:
        server.stop()
    assert server.process.poll() is not None
