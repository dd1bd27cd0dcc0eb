"""`nxt db`: upgrade and downgrade on both backends; bad input gives one line, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from deployments.cli import app
from hub.migrate import head_revision

runner = CliRunner()


def test_upgrade_current_downgrade(hub_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--url", hub_url])
    assert result.exit_code == 0, result.output
    assert f"empty -> {head_revision()}" in result.output
    result = runner.invoke(app, ["db", "current", "--url", hub_url])
    assert "up to date" in result.output
    result = runner.invoke(app, ["db", "downgrade", "base", "--url", hub_url])
    assert result.exit_code == 0 and f"{head_revision()} -> base" in result.output


@pytest.mark.parametrize(
    ("env_url", "expected"),
    [
        ("foo", "NXT_DATABASE_URL is not a database URL"),
        ("postgresql://postgres:pw@127.0.0.1:1/x", "cannot reach the hub database"),
    ],
    ids=["malformed", "unreachable"],
)
def test_bad_database_url_is_one_clear_line(env_url: str, expected: str) -> None:
    """Run the real console script: what a user sees is exactly one line and exit code 2."""
    env = {**os.environ, "NXT_DATABASE_URL": env_url}
    proc = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "db", "upgrade"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert "Traceback" not in proc.stderr and ":pw@" not in proc.stderr


def test_unknown_revision(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = runner.invoke(app, ["db", "downgrade", "nope", "--url", url])
    assert result.exit_code == 2
    assert "Can't locate revision" in result.output
