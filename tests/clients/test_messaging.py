"""What Twilio's and SendGrid's answers mean for the outbox, through the official SDKs against the
stand-ins (real HTTP): accepted, refused, opted out, retry, in doubt, configuration; finding a text already
sent; and the per-sender send-rate limit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from messaging_sandbox import DELIVERABLE, SIZES, flagged

from blocks import SendGridEmail, TwilioSMS
from clients import SenderRateLimit
from clients.sendgrid import send_mail
from clients.twilio import LookupFailed, find_sent, send_sms
from sandbox.server import Sandbox, run_sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("twilio", "sendgrid"), **SIZES) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _no_faults(sb: Sandbox) -> Iterator[None]:
    yield
    sb.set_faults("twilio")
    sb.set_faults("sendgrid")


def _sms_block(sb: Sandbox, **kw: object) -> TwilioSMS:
    creds = sb.credentials["twilio"]
    options = {
        "account_sid": creds["account_sid"],
        "auth_token": creds["auth_token"],
        "from_number": creds["from_number"],
        "base_url": sb.urls["twilio"],
        "max_retries": 0,
        **kw,
    }
    return TwilioSMS(**options)  # type: ignore[arg-type]


def _email_block(sb: Sandbox, **kw: object) -> SendGridEmail:
    creds = sb.credentials["sendgrid"]
    options = {
        "api_key": creds["api_key"],
        "from_email": creds["from_email"],
        "base_url": sb.urls["sendgrid"],
        **kw,
    }
    return SendGridEmail(**options)  # type: ignore[arg-type]


def _send(sb: Sandbox, to: str, body: str = "hello", **block: object) -> object:
    b = _sms_block(sb, **block)
    return send_sms(b.client(), to=to, body=body, from_=b.from_number)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_twilio_answers(sb: Sandbox) -> None:
    ok = _send(sb, DELIVERABLE)
    invalid = _send(sb, flagged(sb, "sms", "invalid"))
    landline = _send(sb, flagged(sb, "sms", "landline"))
    stopped = _send(sb, flagged(sb, "sms", "unsubscribed"))
    bad_token = _send(sb, DELIVERABLE, auth_token="0" * 32)
    bad_sender = _send(sb, DELIVERABLE, from_number="+15005550009")

    assert ok.outcome == "accepted" and ok.provider_id.startswith("SM") and ok.provider_status == "queued"  # type: ignore[attr-defined]
    assert (invalid.outcome, invalid.code) == ("refused", "21211")  # type: ignore[attr-defined]
    assert invalid.message.startswith("Twilio 21211: ")  # type: ignore[attr-defined]
    assert (landline.outcome, landline.code) == ("refused", "21614")  # type: ignore[attr-defined]
    assert (stopped.outcome, stopped.code) == ("opted_out", "21610")  # type: ignore[attr-defined]
    assert (bad_token.outcome, bad_token.code) == ("config", "20003")  # type: ignore[attr-defined]
    assert (bad_sender.outcome, bad_sender.code) == ("config", "21606")  # type: ignore[attr-defined]


def test_twilio_failures_that_may_or_may_not_have_sent(sb: Sandbox) -> None:
    sb.set_faults("twilio", script=[429, 503, "drop", "slow"], slow_ms=5000, paths=("/Messages.json",))
    throttled = _send(sb, DELIVERABLE)
    unavailable = _send(sb, DELIVERABLE)
    dropped = _send(sb, DELIVERABLE)
    slow = _send(sb, DELIVERABLE, timeout_ms=300)
    refused = send_sms(
        _sms_block(sb, base_url=f"http://127.0.0.1:{_free_port()}").client(),
        to=DELIVERABLE,
        body="x",
        from_="+1",
    )

    assert (throttled.outcome, throttled.code) == ("retry", "20429")  # type: ignore[attr-defined]
    assert unavailable.outcome == "in_doubt", "a 5xx is checked with Twilio before sending again"  # type: ignore[attr-defined]
    assert dropped.outcome == "in_doubt" and slow.outcome == "in_doubt"  # type: ignore[attr-defined]
    assert refused.outcome == "retry", "a connection never made sent nothing"


def test_find_sent_matches_the_body_since_a_time_and_skips_known_sids(sb: Sandbox) -> None:
    to = "+14155550177"
    client = _sms_block(sb).client()
    since = datetime.now(UTC) - timedelta(minutes=1)
    first = send_sms(client, to=to, body="code 1", from_=sb.credentials["twilio"]["from_number"])
    second = send_sms(client, to=to, body="code 1", from_=sb.credentials["twilio"]["from_number"])
    send_sms(client, to=to, body="code 2", from_=sb.credentials["twilio"]["from_number"])

    found = find_sent(client, to=to, body="code 1", since=since, page_size=2)
    assert [m.sid for m in found] == [second.provider_id, first.provider_id], "newest first, across pages"
    assert [
        m.sid for m in find_sent(client, to=to, body="code 1", since=since, exclude={second.provider_id})
    ] == [first.provider_id]
    assert find_sent(client, to=to, body="code 1", since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert find_sent(client, to=to, body="code 3", since=since) == []

    sb.set_faults("twilio", script=[500], paths=("/Messages.json",))
    with pytest.raises(LookupFailed, match="message list failed"):
        find_sent(client, to=to, body="code 1", since=since)


def _mail(to: str, **extra: object) -> dict[str, object]:
    return {
        "personalizations": [{"to": [{"email": to}], "custom_args": {"nxt_id": "1"}}],
        "from": {"email": "x"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "hello"}],
        **extra,
    }


def test_sendgrid_answers(sb: Sandbox) -> None:
    client = _email_block(sb).client()
    sender = {"email": sb.credentials["sendgrid"]["from_email"]}

    ok = send_mail(client, _mail("a@example.com", **{"from": sender}))
    bad = send_mail(client, _mail(flagged(sb, "email", "invalid"), **{"from": sender}))
    unverified = send_mail(client, _mail("a@example.com", **{"from": {"email": "nobody@elsewhere.example"}}))
    wrong_key = send_mail(
        _email_block(sb, api_key="SG.wrong").client(), _mail("a@example.com", **{"from": sender})
    )

    assert ok.outcome == "accepted" and ok.status == 202 and ok.message_id
    assert bad.outcome == "refused" and bad.errors[0]["field"] == "personalizations.0.to.0.email"
    assert unverified.outcome == "config" and unverified.status == 403
    assert wrong_key.outcome == "config" and wrong_key.status == 401


def test_sendgrid_failures(sb: Sandbox) -> None:
    client = _email_block(sb).client()
    sender = {"email": sb.credentials["sendgrid"]["from_email"]}
    sb.set_faults("sendgrid", script=[429, 500, "drop", "slow"], slow_ms=5000, paths=("/v3/mail/send",))

    throttled = send_mail(client, _mail("a@example.com", **{"from": sender}))
    failed = send_mail(client, _mail("a@example.com", **{"from": sender}))
    dropped = send_mail(client, _mail("a@example.com", **{"from": sender}))
    slow = send_mail(_email_block(sb, timeout_ms=300).client(), _mail("a@example.com", **{"from": sender}))
    unreachable = send_mail(
        _email_block(sb, base_url=f"http://127.0.0.1:{_free_port()}").client(), _mail("a@example.com")
    )

    assert throttled.outcome == "retry" and throttled.retry_after is not None
    assert failed.outcome == "retry" and failed.status == 500
    assert dropped.outcome == "in_doubt" and slow.outcome == "in_doubt"
    assert unreachable.outcome == "retry"


def _fake_time() -> tuple[list[float], dict[str, object]]:
    now = [0.0]
    return now, {"clock": lambda: now[0], "sleep": lambda s: now.__setitem__(0, now[0] + s)}


def test_the_send_rate_is_never_exceeded_in_any_second() -> None:
    now, fake = _fake_time()
    limit = SenderRateLimit(10, **fake)  # type: ignore[arg-type]
    starts: list[float] = []
    for _ in range(100):
        send = limit.acquire()
        starts.append(now[0])
        limit.done(send)
    limit.pause(2.0)
    limit.done(limit.acquire())

    windows = [sum(1 for t in starts if a <= t < a + 1.0) for a in starts]
    assert max(windows) == 10
    assert starts[1] - starts[0] == pytest.approx(0.102), "evenly spaced, not bursts of ten"
    assert now[0] == pytest.approx(starts[-1] + 2.0), "a pause holds every send back"
    with pytest.raises(ValueError, match="above 0"):
        SenderRateLimit(0)


def test_a_late_answer_holds_the_next_sends_back() -> None:
    """The provider counts arrivals: the k-th send waits a window after the (k-N)-th send's answer."""
    now, fake = _fake_time()
    limit = SenderRateLimit(2, **fake)  # type: ignore[arg-type]
    first = limit.acquire()
    second = limit.acquire()
    assert now[0] == pytest.approx(0.51)
    now[0] = 5.0  # the first send's answer took five seconds (it may have arrived just now)
    limit.done(first)
    limit.done(second)

    limit.acquire()

    assert now[0] == pytest.approx(5.0 + 1.02)
    slow = SenderRateLimit(0.5, **fake)  # type: ignore[arg-type]
    start = now[0]
    slow.done(slow.acquire())
    slow.acquire()
    assert now[0] - start == pytest.approx(2.04), "below one a second: one per 1/rate seconds"
