"""`nxt notify`: the outbox, retries and suppressions from the shell, and a text sent from the shell; bad
input is one `error:` line with exit code 2."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from deployments.cli import app
from hub import outbox
from hub.db import create_hub_engine
from hub.outbox import NewMessage, Outcome

runner = CliRunner()


@pytest.fixture
def engine(hub_url: str) -> sa.Engine:
    return create_hub_engine(hub_url)


def _failed_row(engine: sa.Engine) -> int:
    [row_id] = outbox.enqueue(
        engine, [NewMessage(key="k1", channel="sms", recipient="+14155550142", template="direct")]
    )
    outbox.claim(engine, "sms", "w", 1, lease=timedelta(minutes=1))
    outbox.mark_sending(engine, "w", {row_id: ("+14155550142", {"body": "x"})}, lease=timedelta(minutes=1))
    outbox.record(
        engine, [Outcome(row_id, "failed", error="Twilio 21211: invalid number", error_code="21211")]
    )
    return row_id


def test_outbox_lists_rows_and_counts(engine: sa.Engine, hub_url: str) -> None:
    row_id = _failed_row(engine)
    outbox.enqueue(
        engine, [NewMessage(key="k2", channel="email", recipient="a@example.com", template="direct")]
    )

    table = runner.invoke(app, ["notify", "outbox", "--url", hub_url])
    only_failed = runner.invoke(app, ["notify", "outbox", "--status", "failed", "--json", "--url", hub_url])

    assert table.exit_code == 0, table.output
    assert "email: 1 queued; sms: 1 failed" in table.output and "outbox" in table.output
    rows = [json.loads(line) for line in only_failed.stdout.splitlines()]
    assert [r["id"] for r in rows] == [row_id] and rows[0]["error_code"] == "21211"


def test_retry_and_its_refusals(engine: sa.Engine, hub_url: str) -> None:
    row_id = _failed_row(engine)

    neither = runner.invoke(app, ["notify", "retry", "--url", hub_url])
    missing = runner.invoke(app, ["notify", "retry", "999", "--url", hub_url])
    done = runner.invoke(app, ["notify", "retry", "--failed", "--url", hub_url])
    again = runner.invoke(app, ["notify", "retry", str(row_id), "--url", hub_url])

    assert neither.exit_code == 2 and "give outbox ids, or --failed" in neither.output
    assert missing.exit_code == 2 and "error: no outbox row 999" in missing.output
    assert done.exit_code == 0 and "queued 1 message again" in done.output
    assert again.exit_code == 2 and "is queued; only failed" in again.output
    assert outbox.load(engine, [row_id])[0].status == "queued"


def test_suppressions_list_and_remove(engine: sa.Engine, hub_url: str) -> None:
    outbox.suppress(engine, "sms", [("+14155550142", "Twilio 21610: the recipient replied STOP")])

    listed = runner.invoke(app, ["notify", "suppressions", "--url", hub_url])
    needs_channel = runner.invoke(
        app, ["notify", "suppressions", "--remove", "+14155550142", "--url", hub_url]
    )
    removed = runner.invoke(
        app, ["notify", "suppressions", "--remove", "+14155550142", "--channel", "sms", "--url", hub_url]
    )
    gone = runner.invoke(app, ["notify", "suppressions", "--url", hub_url])

    assert "+14155550142" in listed.output and "replied STOP" in listed.output
    assert needs_channel.exit_code == 2 and "--remove needs --channel" in needs_channel.output
    assert removed.exit_code == 0 and "may receive sms messages again" in removed.output
    assert "no suppressions" in gone.output


def test_a_bad_status_is_one_line(hub_url: str) -> None:
    result = runner.invoke(app, ["notify", "outbox", "--status", "lost", "--url", hub_url])
    assert result.exit_code == 2 and "error: --status 'lost' is not a status" in result.output


@pytest.fixture
def sms_block(
    prefect_harness: None, hub_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, object]]:
    from blocks import TwilioSMS
    from sandbox.server import run_sandbox
    from sandbox.world import DEFAULT_END

    monkeypatch.setenv("NXT_DATABASE_URL", hub_url)
    with run_sandbox(
        services=("twilio",), products=5, customers=10, orders=10, seed=5, now=DEFAULT_END
    ) as sb:
        creds = sb.credentials["twilio"]
        name = f"t-{uuid.uuid4().hex[:8]}"
        TwilioSMS(
            account_sid=creds["account_sid"],
            auth_token=creds["auth_token"],
            from_number=creds["from_number"],
            base_url=sb.urls["twilio"],
        ).save(name)
        yield name, sb


def test_send_sms_from_the_shell(sms_block: tuple[str, object]) -> None:
    name, sb = sms_block

    sent = runner.invoke(
        app, ["notify", "send-sms", "--to", "+14155550142", "--message", "hi", "--sms", name, "--json"]
    )
    bad = runner.invoke(app, ["notify", "send-sms", "--to", "12345", "--message", "hi", "--sms", name])

    assert sent.exit_code == 0, sent.output
    body = json.loads(sent.stdout.strip().splitlines()[-1])
    assert body["success"] is True and body["data"]["sid"].startswith("SM")
    assert bad.exit_code == 2 and "error: '12345' is not a phone number" in bad.output
    assert "Traceback" not in bad.output
