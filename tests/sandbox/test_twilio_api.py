"""The Twilio stand-in's Messages API through the official SDK: create, fetch, list and page, errors.

Responses are checked against Twilio's OpenAPI contract (tests/sandbox/contracts/twilio_messages.json),
errors by the SDK's `TwilioRestException` (status, code) and the raw JSON Twilio sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from messaging_sandbox import DELIVERABLE, SIZES, flagged, twilio_client
from messaging_sandbox import twilio_raw as raw
from openapi_contract import assert_conforms, contract
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from sandbox.server import Sandbox, run_sandbox

CONTRACT = "twilio_messages.json"
MESSAGE_SCHEMA = {"$ref": "#/components/schemas/api.v2010.account.message"}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("twilio",), **SIZES) as sb:
        yield sb


@pytest.fixture
def client(sb: Sandbox) -> Client:
    return twilio_client(sb)


@pytest.fixture
def creds(sb: Sandbox) -> dict[str, Any]:
    return sb.credentials["twilio"]


def _is_rfc2822(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000", value))


def test_credentials_have_twilio_shapes(creds: dict[str, Any]) -> None:
    assert set(creds) == {"account_sid", "auth_token", "from_number", "messaging_service_sid"}
    assert re.fullmatch(r"AC[0-9a-f]{32}", creds["account_sid"])
    assert re.fullmatch(r"[0-9a-f]{32}", creds["auth_token"])
    assert re.fullmatch(r"MG[0-9a-f]{32}", creds["messaging_service_sid"])
    assert re.fullmatch(r"\+1\d{10}", creds["from_number"])


def test_same_seed_same_credentials() -> None:
    with run_sandbox(services=("twilio",), **SIZES) as a, run_sandbox(services=("twilio",), **SIZES) as b:
        assert a.credentials["twilio"] == b.credentials["twilio"]


def test_create_answers_201_with_the_contracts_message(sb: Sandbox, creds: dict[str, Any]) -> None:
    with raw(sb) as http:
        r = http.post(
            "/Messages.json",
            data={"To": DELIVERABLE, "From": creds["from_number"], "Body": "Order 12 shipped"},
        )
    assert r.status_code == 201
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert_conforms(body, CONTRACT, MESSAGE_SCHEMA)
    props = contract(CONTRACT)["components"]["schemas"]["api.v2010.account.message"]["properties"]
    assert set(body) == set(props)
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["status"] == "queued"
    assert body["num_segments"] == "1" and body["num_media"] == "0"  # strings, as Twilio sends them
    assert body["price"] is None and body["error_code"] is None and body["error_message"] is None
    assert body["direction"] == "outbound-api" and body["api_version"] == "2010-04-01"
    assert body["date_sent"] is None
    assert _is_rfc2822(body["date_created"]) and _is_rfc2822(body["date_updated"])
    assert body["uri"] == f"/2010-04-01/Accounts/{creds['account_sid']}/Messages/{body['sid']}.json"
    assert body["subresource_uris"]["media"] == body["uri"][: -len(".json")] + "/Media.json"
    assert body["messaging_service_sid"] is None


def test_sdk_create_fetch_and_settle(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    m = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="hi")
    assert m.status == "queued" and m.to == DELIVERABLE and m.from_ == creds["from_number"]
    sb.call(sb.twilio.settle)
    fetched = client.messages(m.sid).fetch()
    assert fetched.status == "delivered"
    assert fetched.price == "-0.00790" and fetched.price_unit == "USD"
    assert fetched.date_sent is not None and fetched.date_sent >= fetched.date_created


def test_segments_count_gsm7_and_unicode(client: Client, creds: dict[str, Any]) -> None:
    send = lambda body: client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body=body)  # noqa: E731
    assert send("a" * 160).num_segments == "1"
    assert send("a" * 161).num_segments == "2"  # 153 per part once split
    assert send("{" * 80).num_segments == "1"  # extension characters take two septets
    assert send("{" * 81).num_segments == "2"
    assert send("é" * 160).num_segments == "1"  # é is in GSM-7
    assert send("ł" * 70).num_segments == "1"  # not GSM-7: UCS-2, 70 per segment
    assert send("ł" * 71).num_segments == "2"


def test_messaging_service_send_is_accepted_then_gets_a_pool_number(
    sb: Sandbox, client: Client, creds: dict[str, Any]
) -> None:
    m = client.messages.create(
        to=DELIVERABLE, messaging_service_sid=creds["messaging_service_sid"], body="hi"
    )
    assert m.status == "accepted"
    assert m.from_ is None and m.num_segments == "0"  # Twilio's answer before the service processes it
    assert m.messaging_service_sid == creds["messaging_service_sid"]
    sb.call(sb.twilio.settle)
    fetched = client.messages(m.sid).fetch()
    assert fetched.status == "delivered" and fetched.num_segments == "1"
    pool = sb.call(sb.twilio.info)["messaging_services"][creds["messaging_service_sid"]]["numbers"]
    assert fetched.from_ in pool


def test_api_key_authenticates(sb: Sandbox, creds: dict[str, Any]) -> None:
    key_sid, secret = sb.call(sb.twilio.api_key)
    client = Client(key_sid, secret, creds["account_sid"])
    client.api.base_url = sb.urls["twilio"]
    m = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="via key")
    assert sb.call(sb.twilio.message, m.sid)["credential"] == key_sid


@pytest.mark.parametrize(
    "make",
    [
        lambda c: Client(c["account_sid"], "0" * 32),
        lambda c: Client("AC" + "1" * 32, c["auth_token"]),
        lambda c: Client(c["account_sid"], c["auth_token"], "AC" + "2" * 32),  # another account's path
    ],
    ids=["wrong-token", "unknown-account", "other-account-path"],
)
def test_bad_credentials_are_20003(sb: Sandbox, creds: dict[str, Any], make: Callable[..., Client]) -> None:
    client = make(creds)
    client.api.base_url = sb.urls["twilio"]
    with pytest.raises(TwilioRestException) as exc:
        client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    assert (exc.value.status, exc.value.code) == (401, 20003)


def test_no_auth_header_is_20003_with_basic_challenge(sb: Sandbox, creds: dict[str, Any]) -> None:
    r = httpx.get(f"{sb.urls['twilio']}/2010-04-01/Accounts/{creds['account_sid']}/Messages.json")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
    body = r.json()
    assert body == {
        "code": 20003,
        "message": "Authenticate",
        "detail": "Your AccountSid or AuthToken was incorrect.",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


# (id, changes to a good send, Twilio code); None removes the field, "@<flag>" is a recipient the world flags
BAD_SENDS: list[tuple[str, dict[str, Any], int]] = [
    ("missing-to", {"to": ""}, 21604),
    ("no-sender", {"from_": None}, 21603),
    ("foreign-from", {"from_": "+15005550006"}, 21606),
    ("from-not-a-number", {"from_": "not a sender!"}, 21212),
    ("unknown-service", {"from_": None, "messaging_service_sid": "MG" + "0" * 32}, 21701),
    ("no-body", {"body": None}, 21602),
    ("body-too-long", {"body": "x" * 1601}, 21617),
    ("validity-0", {"validity_period": 0}, 21624),
    ("validity-too-long", {"validity_period": 36001}, 21624),
    ("bad-callback", {"status_callback": "ftp://x"}, 21609),
    ("to-is-from", {"to": "@from"}, 21266),
    ("malformed-to", {"to": "+1555"}, 21211),
    ("world-invalid", {"to": "@invalid"}, 21211),
    ("world-unsubscribed", {"to": "@unsubscribed"}, 21610),
    ("world-landline", {"to": "@landline"}, 21614),
]


@pytest.mark.parametrize(
    ("changes", "code"), [(c, n) for _, c, n in BAD_SENDS], ids=[i for i, _, _ in BAD_SENDS]
)
def test_bad_sends_raise_twilios_codes(
    sb: Sandbox, client: Client, creds: dict[str, Any], changes: dict[str, Any], code: int
) -> None:
    kwargs: dict[str, Any] = {"to": DELIVERABLE, "from_": creds["from_number"], "body": "x"}
    for key, value in changes.items():
        if value is None:
            kwargs.pop(key)
        elif value == "@from":
            kwargs[key] = creds["from_number"]
        elif isinstance(value, str) and value.startswith("@"):
            kwargs[key] = flagged(sb, "sms", value[1:])
        else:
            kwargs[key] = value
    with pytest.raises(TwilioRestException) as exc:
        client.messages.create(**kwargs)
    assert exc.value.status == 400
    assert exc.value.code == code
    assert exc.value.msg.startswith("Unable to create record: ")
    assert sb.call(sb.twilio.messages) == []  # nothing was accepted


def test_error_json_is_twilios(sb: Sandbox) -> None:
    with raw(sb) as http:
        r = http.post(
            "/Messages.json",
            data={"To": "+1555", "From": sb.credentials["twilio"]["from_number"], "Body": "x"},
        )
    assert r.status_code == 400
    assert r.json() == {
        "code": 21211,
        "message": "The 'To' number +1555 is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }


def test_fetch_unknown_is_20404(client: Client) -> None:
    with pytest.raises(TwilioRestException) as exc:
        client.messages("SM" + "0" * 32).fetch()
    assert (exc.value.status, exc.value.code) == (404, 20404)


def test_unknown_path_and_method(sb: Sandbox) -> None:
    with raw(sb) as http:
        assert http.get("/Calls.json").json()["code"] == 20404
        r = http.delete("/Messages.json")
        assert (r.status_code, r.json()["code"]) == (405, 20004)


def _send(client: Client, creds: dict[str, Any], n: int, to: str = DELIVERABLE) -> list[str]:
    return [client.messages.create(to=to, from_=creds["from_number"], body=f"msg {i}").sid for i in range(n)]


def test_list_pages_to_the_end_newest_first(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    sids = _send(client, creds, 7)
    _send(client, creds, 2, to="+14155550143")
    listed = [m.sid for m in client.messages.list(to=DELIVERABLE, page_size=3)]
    assert listed == sids[::-1]
    assert len(client.messages.list(page_size=2)) == 9
    assert [m.sid for m in client.messages.list(to=DELIVERABLE, limit=4)] == sids[::-1][:4]


def test_list_page_json_matches_the_contract(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    sids = _send(client, creds, 5)
    with raw(sb) as http:
        first = http.get("/Messages.json", params={"To": DELIVERABLE, "PageSize": 2}).json()
        assert_conforms(first, CONTRACT, contract(CONTRACT)["list_message_response"])
        assert [m["sid"] for m in first["messages"]] == sids[::-1][:2]
        assert (first["page"], first["page_size"], first["start"], first["end"]) == (0, 2, 0, 1)
        assert first["previous_page_uri"] is None
        assert first["first_page_uri"] == first["uri"]
        assert (
            "To=%2B14155550142" in first["uri"] and "PageSize=2" in first["uri"] and "Page=0" in first["uri"]
        )
        assert "Page=1" in first["next_page_uri"] and "PageToken=PA" in first["next_page_uri"]
        base = sb.urls["twilio"]
        second = httpx.get(base + first["next_page_uri"], auth=http.auth).json()
        assert [m["sid"] for m in second["messages"]] == sids[::-1][2:4]
        assert (second["page"], second["start"], second["end"]) == (1, 2, 3)
        assert second["previous_page_uri"] is not None
        back = httpx.get(base + second["previous_page_uri"], auth=http.auth).json()
        assert [m["sid"] for m in back["messages"]] == sids[::-1][:2]
        third = httpx.get(base + second["next_page_uri"], auth=http.auth).json()
        assert [m["sid"] for m in third["messages"]] == sids[::-1][4:]
        assert third["next_page_uri"] is None
        empty = http.get("/Messages.json", params={"To": "+14155550199"}).json()
        assert empty["messages"] == [] and empty["next_page_uri"] is None and empty["end"] == 0


def test_page_token_keeps_pages_stable_while_messages_arrive(
    sb: Sandbox, client: Client, creds: dict[str, Any]
) -> None:
    sids = _send(client, creds, 4)
    page = client.messages.page(to=DELIVERABLE, page_size=2)
    assert [m.sid for m in page] == sids[::-1][:2]
    _send(client, creds, 3)  # newer messages must not push old ones onto the next page twice
    assert [m.sid for m in page.next_page()] == sids[::-1][2:]


def test_bad_page_token_is_an_error(sb: Sandbox) -> None:
    with raw(sb) as http:
        r = http.get("/Messages.json", params={"PageToken": "PAnope", "Page": 1})
    assert r.status_code == 400 and r.json()["code"] == 20001


def test_from_filter(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    _send(client, creds, 2)
    svc = client.messages.create(
        to=DELIVERABLE, messaging_service_sid=creds["messaging_service_sid"], body="s"
    )
    sb.call(sb.twilio.settle)
    assert len(client.messages.list(from_=creds["from_number"])) == 2 + (
        client.messages(svc.sid).fetch().from_ == creds["from_number"]
    )


def test_date_sent_filters(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    sb.call(sb.twilio.freeze)
    early = _send(client, creds, 1)[0]
    sb.call(sb.twilio.advance, 3600)  # an hour later
    late = _send(client, creds, 1)[0]
    sb.call(sb.twilio.set_rate, creds["from_number"], 0.0001)  # one message every 10,000 s from now on
    sent_soon, held = _send(client, creds, 2, to="+14155550145")
    sb.call(sb.twilio.advance, 1)
    early_sent = client.messages(early).fetch().date_sent
    assert client.messages(late).fetch().date_sent - early_sent == timedelta(hours=1)
    assert client.messages(sent_soon).fetch().date_sent is not None
    assert client.messages(held).fetch().date_sent is None  # still in the sender's queue

    def sids(**kw: Any) -> set[str]:
        return {m.sid for m in client.messages.list(**kw)}

    cut = early_sent + timedelta(minutes=30)
    assert sids(date_sent_after=cut) == {late, sent_soon}  # a queued message has no date_sent to match
    assert sids(date_sent_before=cut) == {early}
    assert sids(date_sent_after=early_sent) == {early, late, sent_soon}  # inclusive
    assert early in sids(date_sent=early_sent.date()) and held not in sids(date_sent=early_sent.date())
    with raw(sb) as http:
        r = http.get("/Messages.json", params={"DateSent>": "yesterday"})
    assert (r.status_code, r.json()["code"]) == (400, 20001)


def test_date_sent_accepts_twilios_formats(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    sid = _send(client, creds, 1)[0]
    sb.call(sb.twilio.settle)
    sent = client.messages(sid).fetch().date_sent
    before = (sent - timedelta(seconds=5)).astimezone(UTC)
    with raw(sb) as http:
        for value in (
            before.strftime("%Y-%m-%dT%H:%M:%SZ"),
            before.strftime("%a, %d %b %Y %H:%M:%S -0000"),
            before.strftime("%Y-%m-%d %H:%M:%S.000"),
            before.strftime("%Y-%m-%d"),
        ):
            got = http.get("/Messages.json", params={"DateSent>": value}).json()["messages"]
            assert [m["sid"] for m in got] == [sid], value
            assert parsedate_to_datetime(got[0]["date_sent"]) == sent


def test_answer_key_matches_what_the_api_serves(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    key = httpx.get(sb.admin_url("twilio") + "/answer-key", params={"channel": "sms"}).json()
    items = key["items"]
    assert {i["flag"] for i in items} == {"invalid", "unsubscribed", "landline", "unreachable"}
    sent = {}
    for item in items:
        try:
            sent[item["recipient"]] = client.messages.create(
                to=item["recipient"], from_=creds["from_number"], body="x"
            )
        except TwilioRestException as exc:
            assert item["flag"] != "unreachable"
            assert exc.code == item["error_code"], item
    sb.call(sb.twilio.settle)
    for item in items:
        if item["flag"] == "unreachable":
            m = client.messages(sent[item["recipient"]].sid).fetch()
            assert (m.status, m.error_code) == ("undelivered", item["error_code"])
            assert 30003 <= m.error_code <= 30008 and m.error_message


def test_dates_are_whole_seconds_utc(sb: Sandbox, client: Client, creds: dict[str, Any]) -> None:
    m = client.messages.create(to=DELIVERABLE, from_=creds["from_number"], body="x")
    assert m.date_created.tzinfo is not None and m.date_created.microsecond == 0
    assert abs(m.date_created - datetime.now(UTC)) < timedelta(minutes=5)
