"""`nxt webhooks list/replay/api-token` and `nxt receiver`'s start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from deployments.cli import app
from hub import inbox
from hub.db import create_hub_engine
from hub.inbox import InboxItem
from hub.models import utcnow

runner = CliRunner()


@pytest.fixture(autouse=True)
def _prefect(prefect_harness: None) -> None:
    return None


def test_list_and_replay_failed_events(hub_url: str) -> None:
    engine = create_hub_engine(hub_url)
    with engine.begin() as conn:
        ids = [
            i
            for i, _ in inbox.insert_events(
                conn, [InboxItem("stripe", f"evt_{n}", "charge.refunded", {}) for n in range(3)]
            )
        ]
        inbox.claim(conn, ids[:2], owner="o", lease_until=utcnow(), run_key="k")
        rows = [r for r in inbox.due(conn, limit=10)]
        inbox.fail(conn, [inbox.get(conn, i) for i in ids[:2]], owner="o", error="ValueError: boom")  # type: ignore[misc]
    assert [r.id for r in rows] == ids[2:]
    listed = runner.invoke(app, ["webhooks", "list", "--status", "failed", "--url", hub_url, "--json"])
    assert listed.exit_code == 0, listed.output
    assert (
        sorted(int(line.split('"id": ')[1].split(",")[0]) for line in listed.output.splitlines()) == ids[:2]
    )
    assert "boom" in listed.output
    table = runner.invoke(app, ["webhooks", "list", "--url", hub_url])
    assert table.exit_code == 0 and "failed" in table.output  # a table (narrow in the test terminal)
    replayed = runner.invoke(app, ["webhooks", "replay", "--failed", "--url", hub_url])
    assert replayed.exit_code == 0 and f"replaying 2 event(s): {ids[0]}, {ids[1]}" in replayed.output
    with engine.connect() as conn:
        assert [inbox.get(conn, i).status for i in ids] == ["pending"] * 3  # type: ignore[union-attr]
    unknown = runner.invoke(app, ["webhooks", "replay", "999999", "--url", hub_url])
    assert unknown.exit_code == 2 and "not replayed" in unknown.output
    nothing = runner.invoke(app, ["webhooks", "replay", "--url", hub_url])
    assert nothing.exit_code == 2 and "--failed" in nothing.output


def test_api_token_is_made_once_and_rotated_on_request() -> None:
    from blocks import ReceiverAPI

    name = "cli-token-test"
    made = runner.invoke(app, ["webhooks", "api-token", "--name", name])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert ReceiverAPI.load(name).accepts(token)
    again = runner.invoke(app, ["webhooks", "api-token", "--name", name])
    assert again.exit_code == 2 and "--rotate" in again.output
    rotated = runner.invoke(app, ["webhooks", "api-token", "--name", name, "--rotate"])
    new = rotated.stdout.strip().splitlines()[0]
    assert new != token and ReceiverAPI.load(name).accepts(new) and not ReceiverAPI.load(name).accepts(token)


def test_receiver_with_an_unreachable_hub_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "NXT_DATABASE_URL": "postgresql://postgres:pw@127.0.0.1:1/x"}
    proc = subprocess.run(
        [sys.executable, "-m", "deployments.cli", "receiver", "--port", "4999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert (
        len(errors) == 1 and "cannot reach the hub database" in errors[0] and "Traceback" not in proc.stderr
    )
    assert "temporary local Prefect server" not in proc.stderr, "refused before Prefect starts"
