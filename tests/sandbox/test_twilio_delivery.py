"""The Twilio stand-in's message lifecycle: status progression on a controllable clock, signed status
callbacks verified with the SDK's `RequestValidator`, per-sender throughput queues, 20429 and faults."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from messaging_sandbox import DELIVERABLE, SIZES, flagged, twilio_client
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from sandbox.server import Sandbox, run_sandbox
from sandbox.testing import ReceivedRequest, WebhookReceiver


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("twilio",), **SIZES) as sb:
        sb.call(sb.twilio.freeze)  # nothing moves unless a test advances the clock
        yield sb


@pytest.fixture
def client(sb: Sandbox) -> Client:
    return twilio_client(sb)


@pytest.fixture
def creds(sb: Sandbox) -> dict[str, Any]:
    return sb.credentials["twilio"]


@pytest.fixture
def rx() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as rx:
        yield rx


def callback_url(rx: WebhookReceiver) -> str:
    return rx.url + "?notification=n%2F42&attempt=1"  # the query is part of what Twilio signs


def received(rx: WebhookReceiver, sb: Sandbox) -> list[dict[str, str]]:
    sb.call(sb.twilio.flush)
    return [dict(parse_qsl(r.body.decode())) for r in rx.received]


def verify(rx: WebhookReceiver, req: ReceivedRequest, token: str) -> bool:
    base = rx.url.rsplit("/", 1)[0]
    url = f"{base}{req.path}" + (f"?{req.query}" if req.query else "")
    return RequestValidator(token).validate(
        url, dict(parse_qsl(req.body.decode())), req.headers["x-twilio-signature"]
    )


def history(sb: Sandbox, sid: str) -> list[str]:
    return [h["status"] for h in sb.call(sb.twilio.message, sid)["status_history"]]


def test_status_moves_with_the_clock_and_callbacks_are_signed(
    sb: Sandbox, client: Client, creds: dict[str, Any], rx: WebhookReceiver
) -> None:
    m = client.messages.create(
        to=DELIVERABLE, from_=creds["from_number"], body="hi", status_callback=callback_url(rx)
    )
    assert m.status == "queued"
    sb.call(sb.twilio.advance, 0)  # the sender's queue is empty: it leaves at once
    assert client.messages(m.sid).fetch().status == "sending"
    sb.call(sb.twilio.advance, 0.05)
    assert client.messages(m.sid).fetch().status == "sent"
    sb.call(sb.twilio.advance, 0.2)
    assert client.messages(m.sid).fetch().status == "delivered"
    assert history(sb, m.sid) == ["queued", "sending", "sent", "delivered"]
    calls = received(rx, sb)
    assert [c["MessageStatus"] for c in calls] == [
        "sending",
        "sent",
        "delivered",
    ]  # none for the initial status
    for c in calls:
        assert c["SmsStatus"] == c["MessageStatus"]
        assert c["MessageSid"] == c["SmsSid"] == m.sid
        assert (c["AccountSid"], c["From"], c["To"], c["ApiVersion"]) == (
            creds["account_sid"],
            creds["from_number"],
            DELIVERABLE,
            "2010-04-01",
        )
        assert "ErrorCode" not in c and "MessagingServiceSid" not in c
    for req in rx.received:
        assert req.method == "POST" and req.headers["content-type"].startswith(
            "application/x-www-form-urlencoded"
        )
        assert req.query == "notification=n%2F42&attempt=1"
        assert verify(rx, req, creds["auth_token"])
        assert not verify(rx, req, "0" * 32)  # the check can fail


def test_tampered_callback_fails_validation(
    sb: Sandbox, client: Client, creds: dict[str, Any], rx: WebhookReceiver
) -> None:
    client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="hi", status_callback=rx.url)
    sb.call(sb.twilio.settle)
    received(rx, sb)
    req = rx.received[0]
    params = dict(parse_qsl(req.body.decode()))
    params["MessageStatus"] = "delivered"
    assert not RequestValidator(creds["auth_token"]).validate(
        rx.url, params, req.headers["x-twilio-signature"]
    )


def test_messaging_service_callbacks_start_at_queued(
    sb: Sandbox, client: Client, creds: dict[str, Any], rx: WebhookReceiver
) -> None:
    mg = creds["messaging_service_sid"]
    m = client.messages.create(to=DELIVERABLE, messaging_service_sid=mg, body="hi", status_callback=rx.url)
    assert m.status == "accepted"
    sb.call(sb.twilio.settle)
    calls = received(rx, sb)
    assert [c["MessageStatus"] for c in calls] == ["queued", "sending", "sent", "delivered"]
    assert all(c["MessagingServiceSid"] == mg for c in calls)
    assert history(sb, m.sid) == ["accepted", "queued", "sending", "sent", "delivered"]


def test_unreachable_number_ends_undelivered_with_its_code(
    sb: Sandbox, client: Client, creds: dict[str, Any], rx: WebhookReceiver
) -> None:
    to = flagged(sb, "sms", "unreachable")
    code = next(f.error_code for f in sb.world.contacts.flagged() if f.recipient == to)
    m = client.messages.create(to=to, from_=creds["from_number"], body="hi", status_callback=rx.url)
    sb.call(sb.twilio.settle)
    fetched = client.messages(m.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", code)
    calls = received(rx, sb)
    assert calls[-1]["MessageStatus"] == "undelivered" and calls[-1]["ErrorCode"] == str(code)
    assert "ErrorCode" not in calls[0]


def test_callbacks_are_recorded_even_when_they_fail(
    sb: Sandbox, client: Client, creds: dict[str, Any]
) -> None:
    with WebhookReceiver(status=500) as rx:
        m = client.messages.create(
            to=DELIVERABLE, from_=creds["from_number"], body="x", status_callback=rx.url
        )
        sb.call(sb.twilio.settle)
        received(rx, sb)
    log = [d for d in sb.call(lambda: sb.twilio.deliveries.list(kind="status_callback")) if d["sid"] == m.sid]
    assert [d["status_code"] for d in log] == [500, 500, 500]  # Twilio does not retry status callbacks
    assert all(d["success"] is False for d in log)
    assert client.messages(m.sid).fetch().status == "delivered"  # the message itself is unaffected


def test_sends_above_the_rate_are_queued_and_spaced(
    sb: Sandbox, client: Client, creds: dict[str, Any]
) -> None:
    sids = [
        client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body=f"m{i}").sid for i in range(5)
    ]
    # accepted, not rejected: the first leaves at once, the others wait their turn
    assert [client.messages(s).fetch().status for s in sids[1:]] == ["queued"] * 4
    sb.call(sb.twilio.settle)
    records = [sb.call(sb.twilio.message, s) for s in sids]
    sent = [r["date_sent"] for r in records]
    gaps = [round(b - a, 6) for a, b in zip(sent, sent[1:], strict=False)]
    assert gaps == [1.0, 1.0, 1.0, 1.0]  # a long code sends one segment per second
    assert {r["status"] for r in records} == {"delivered"}
    summary = sb.call(sb.twilio.summary)["senders"][creds["from_number"]]
    assert summary["max_received_per_s"] == 5 and summary["max_sent_per_s"] == 1 and summary["mps"] == 1.0


def test_each_sender_has_its_own_rate(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    numbers = sb.call(sb.twilio.info)["numbers"]
    for number in (numbers["toll_free"], numbers["short_code"]):
        for i in range(7):
            client.messages.create(to=DELIVERABLE, from_=number, body=f"{i}")
    mg = creds["messaging_service_sid"]
    for i in range(9):
        client.messages.create(to=DELIVERABLE, messaging_service_sid=mg, body=f"{i}")
    sb.call(sb.twilio.settle)
    senders = sb.call(sb.twilio.summary)["senders"]
    assert senders[numbers["toll_free"]]["max_sent_per_s"] == 3
    assert senders[numbers["short_code"]]["max_sent_per_s"] == 7  # 100/s: all in one second
    assert senders[mg]["mps"] == 4.0 and senders[mg]["max_sent_per_s"] == 4  # long code + toll-free


def test_long_messages_use_the_rate_per_segment(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    a = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x" * 300)  # 2 segments
    b = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="y")
    sb.call(sb.twilio.settle)
    gap = sb.call(sb.twilio.message, b.sid)["date_sent"] - sb.call(sb.twilio.message, a.sid)["date_sent"]
    assert round(gap, 6) == 2.0


def test_rate_is_configurable_per_sender(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    r = httpx.put(sb.admin_url("twilio") + f"/twilio/senders/{creds['from_number']}", json={"mps": 10})
    assert r.json()["mps"] == 10.0
    sids = [
        client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body=f"{i}").sid for i in range(25)
    ]
    sb.call(sb.twilio.settle)
    assert sb.call(sb.twilio.summary)["senders"][creds["from_number"]]["max_sent_per_s"] == 10
    sent = [sb.call(sb.twilio.message, s)["date_sent"] for s in sids]
    assert round(sent[-1] - sent[0], 6) == 2.4
    for bad in ({"mps": 0}, {}, {"mps": "fast"}):
        r = httpx.put(sb.admin_url("twilio") + f"/twilio/senders/{creds['from_number']}", json=bad)
        assert r.status_code == 400, bad
    senders = sb.call(sb.twilio.info)["senders"]
    assert senders[creds["messaging_service_sid"]] == {"kind": "messaging_service", "mps": 13.0}  # 10 + 3


def test_queued_past_validity_period_fail_30001(
    sb: Sandbox, client: Client, creds: dict[str, Any], rx: WebhookReceiver
) -> None:
    sids = [
        client.messages.create(
            to=DELIVERABLE, from_=creds["from_number"], body=f"{i}", validity_period=2, status_callback=rx.url
        ).sid
        for i in range(5)
    ]
    sb.call(sb.twilio.settle)
    records = [sb.call(sb.twilio.message, s) for s in sids]
    assert [r["status"] for r in records] == ["delivered", "delivered", "delivered", "failed", "failed"]
    assert [r["error_code"] for r in records[3:]] == [30001, 30001]
    assert records[3]["date_sent"] is None
    failed = client.messages(sids[4]).fetch()
    assert failed.error_message == "Queue overflow"
    assert failed.date_updated - failed.date_created <= timedelta(seconds=2)
    calls = [c for c in received(rx, sb) if c["MessageSid"] == sids[4]]
    assert [(c["MessageStatus"], c.get("ErrorCode")) for c in calls] == [("failed", "30001")]
    # the dropped messages did not take slots: the next send goes right after the third
    late = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="late")
    sb.call(sb.twilio.settle)
    assert sb.call(sb.twilio.message, late.sid)["date_sent"] - records[2]["date_sent"] == pytest.approx(1.0)


def test_admin_clock_and_settle_over_http(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    admin = sb.admin_url("twilio") + "/twilio"
    m = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    clock = httpx.patch(admin + "/clock", json={"advance_s": 0}).json()  # it left the queue: sending
    assert clock["frozen"] is True and clock["pending_changes"] == 2
    httpx.patch(admin + "/clock", json={"advance_s": 0.06})
    assert client.messages(m.sid).fetch().status == "sent"
    assert httpx.post(admin + "/settle", json={}).json()["applied"] == 1
    assert client.messages(m.sid).fetch().status == "delivered"
    assert httpx.patch(admin + "/clock", json={"advance_s": -1}).status_code == 400
    listed = httpx.get(admin + "/messages", params={"to": DELIVERABLE}).json()
    assert [r["sid"] for r in listed] == [m.sid]
    assert listed[0]["params"] == [["To", DELIVERABLE], ["From", creds["from_number"]], ["Body", "x"]]
    assert httpx.get(admin + f"/messages/{m.sid}").json()["status"] == "delivered"
    assert httpx.get(admin + "/messages/SMnope").status_code == 404


def test_delays_are_configurable(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    admin = sb.admin_url("twilio") + "/twilio"
    assert httpx.patch(admin + "/settings", json={"delivery_delay_s": 30}).json()["delivery_delay_s"] == 30
    assert httpx.patch(admin + "/settings", json={"nope": 1}).status_code == 400
    assert httpx.patch(admin + "/settings", json={"sending_delay_s": -1}).status_code == 400
    m = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    sb.call(sb.twilio.advance, 29)
    assert client.messages(m.sid).fetch().status == "sent"
    sb.call(sb.twilio.advance, 1.1)
    assert client.messages(m.sid).fetch().status == "delivered"


def test_running_clock_delivers_by_itself() -> None:
    with run_sandbox(services=("twilio",), **SIZES) as sb, WebhookReceiver() as rx:
        client = twilio_client(sb)
        creds = sb.credentials["twilio"]
        client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x", status_callback=rx.url)
        calls = rx.wait_for(3)  # sending, sent, delivered within the default small delays
        assert [dict(parse_qsl(c.body.decode()))["MessageStatus"] for c in calls] == [
            "sending",
            "sent",
            "delivered",
        ]


def test_rate_limit_fault_answers_twilios_20429(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    sb.set_faults("twilio", script=[429])
    with pytest.raises(TwilioRestException) as exc:
        client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    assert (exc.value.status, exc.value.code) == (429, 20429)
    sb.set_faults("twilio", rate_limit_rpm=1)
    client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    r = httpx.get(
        f"{sb.urls['twilio']}/2010-04-01/Accounts/{creds['account_sid']}/Messages.json",
        auth=(creds["account_sid"], creds["auth_token"]),
    )
    assert r.status_code == 429 and r.json()["code"] == 20429 and int(r.headers["retry-after"]) >= 1


def test_too_many_concurrent_requests_is_20429(sb: Sandbox, creds: dict[str, Any]) -> None:
    sb.call(sb.twilio.configure, concurrency_limit=2)
    sb.set_faults("twilio", latency_ms=300)
    url = f"{sb.urls['twilio']}/2010-04-01/Accounts/{creds['account_sid']}/Messages.json"
    auth = (creds["account_sid"], creds["auth_token"])
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: httpx.get(url, auth=auth), range(6)))
    codes = sorted(r.status_code for r in responses)
    assert 429 in codes and 200 in codes
    assert all(r.json()["code"] == 20429 for r in responses if r.status_code == 429)


def test_server_error_faults_answer_twilio_json(sb: Sandbox, client: Client) -> None:
    sb.set_faults("twilio", script=[500, 503])
    for status, code in ((500, 20500), (503, 20503)):
        with pytest.raises(TwilioRestException) as exc:
            client.messages("SM" + "0" * 32).fetch()
        assert (exc.value.status, exc.value.code) == (status, code)
    assert sb.call(lambda: sb.twilio.errors) == []
