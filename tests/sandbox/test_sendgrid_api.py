"""The SendGrid stand-in's v3 API through the official SDK: Mail Send and its validation, auth, rate-limit
headers, faults, and the Event Webhook settings API. Error bodies are checked against SendGrid's OpenAPI
contract (tests/sandbox/contracts/tsg_mail_v3.json)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from messaging_sandbox import SIZES, flagged, sendgrid_client
from openapi_contract import assert_conforms, contract
from python_http_client.exceptions import (
    BadRequestsError,
    ForbiddenError,
    HTTPError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UnauthorizedError,
)
from sendgrid import SendGridAPIClient
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.mail import Bcc, Category, CustomArg, Mail, Personalization, To

from sandbox.server import Sandbox, run_sandbox

CONTRACT = "tsg_mail_v3.json"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with run_sandbox(services=("sendgrid",), **SIZES) as sb:
        yield sb


@pytest.fixture
def sg(sb: Sandbox) -> SendGridAPIClient:
    return sendgrid_client(sb)


@pytest.fixture
def sender(sb: Sandbox) -> str:
    return str(sb.credentials["sendgrid"]["from_email"])


def good_mail(sender: str, **changes: Any) -> dict[str, Any]:
    """A valid Mail Send body; `changes` replace top-level keys (None removes one)."""
    body: dict[str, Any] = {
        "personalizations": [
            {"to": [{"email": "ada@example.com", "name": "Ada"}], "custom_args": {"n": "1"}}
        ],
        "from": {"email": sender, "name": "Shop"},
        "subject": "Your order",
        "content": [{"type": "text/plain", "value": "Hi"}, {"type": "text/html", "value": "<p>Hi</p>"}],
    }
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def error_body(exc: HTTPError) -> dict[str, Any]:
    body = json.loads(exc.body)
    # The contract types `help` as an object; SendGrid sends a link (a string) or null, as we do.
    schema = contract(CONTRACT)["components"]["schemas"]["ErrorResponse"]
    relaxed = json.loads(
        json.dumps(schema).replace('"help": {"type": "object"', '"help": {"type": ["string", "null"]')
    )
    assert_conforms(body, CONTRACT, relaxed)
    return body


def test_credentials_have_sendgrid_shapes(sb: Sandbox) -> None:
    creds = sb.credentials["sendgrid"]
    assert set(creds) == {"api_key", "from_email", "verification_key"}
    assert re.fullmatch(r"SG\.[A-Za-z0-9]{22}\.[A-Za-z0-9_-]{43}", creds["api_key"])
    EventWebhook(creds["verification_key"])  # a base64 SPKI P-256 key the SDK helper loads
    assert base64.b64decode(creds["verification_key"])[:2] == b"\x30\x59"  # DER SubjectPublicKeyInfo, P-256


def test_same_seed_same_keys_other_seed_other_keys() -> None:
    with run_sandbox(services=("sendgrid",), **SIZES) as a, run_sandbox(services=("sendgrid",), **SIZES) as b:
        assert a.credentials["sendgrid"] == b.credentials["sendgrid"]
    with run_sandbox(services=("sendgrid",), **(SIZES | {"seed": 6})) as c:
        assert c.credentials["sendgrid"]["verification_key"] != a.credentials["sendgrid"]["verification_key"]


def test_send_is_202_with_an_empty_body_and_a_message_id(
    sb: Sandbox, sg: SendGridAPIClient, sender: str
) -> None:
    mail = Mail(from_email=sender, to_emails="ada@example.com", subject="Hi", plain_text_content="x")
    mail.add_custom_arg(CustomArg("notification_id", "n-1"))
    mail.add_category(Category("order-confirmation"))
    r = sg.send(mail)
    assert r.status_code == 202 and r.body == b""
    message_id = r.headers["X-Message-Id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", message_id)
    assert r.headers["X-RateLimit-Limit"] == "10000" and r.headers["X-RateLimit-Remaining"] == "9999"
    assert int(r.headers["X-RateLimit-Reset"]) >= int(time.time())
    (email,) = sb.call(sb.sendgrid.emails)
    assert email["x_message_id"] == message_id and email["to"] == ["ada@example.com"]
    assert email["custom_args"] == {"notification_id": "n-1"} and email["categories"] == [
        "order-confirmation"
    ]
    assert email["subject"] == "Hi" and email["from"] == sender
    assert sb.call(sb.sendgrid.calls)[0]["status"] == 202
    assert sg.send(mail).headers["X-RateLimit-Remaining"] == "9998"


def test_a_thousand_personalizations_per_call(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    for batch in range(2):
        personalizations = [
            {
                "to": [{"email": f"c{batch}-{i}@example.com"}],
                "custom_args": {"notification_id": f"{batch}-{i}"},
            }
            for i in range(1000)
        ]
        assert sg.send(good_mail(sender, personalizations=personalizations)).status_code == 202
    summary = sb.call(sb.sendgrid.summary)
    assert (summary["mail_send_calls"], summary["emails"], summary["recipients"]) == (2, 2000, 2000)
    assert summary["duplicates"] == 0
    emails = sb.call(sb.sendgrid.emails, notification_id="1-999")
    assert [e["to"] for e in emails] == [["c1-999@example.com"]]


def test_message_and_personalization_custom_args_merge(
    sb: Sandbox, sg: SendGridAPIClient, sender: str
) -> None:
    body = good_mail(sender, custom_args={"store": "main", "n": "message"})
    body["personalizations"][0]["custom_args"] = {"n": "personal"}
    sg.send(body)
    assert sb.call(sb.sendgrid.emails)[0]["custom_args"] == {"store": "main", "n": "personal"}


def test_personalization_subject_and_send_at(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    at = int(time.time()) + 3600
    body = good_mail(sender, subject=None)
    body["personalizations"][0] |= {"subject": "Yours", "send_at": at}
    assert sg.send(body).status_code == 202
    email = sb.call(sb.sendgrid.emails)[0]
    assert (email["subject"], email["send_at"]) == ("Yours", at)


def _personalizations(n: int, per: int = 1) -> list[dict[str, Any]]:
    return [{"to": [{"email": f"r{i}-{j}@example.com"} for j in range(per)]} for i in range(n)]


def _one(**lists: list[str]) -> list[dict[str, Any]]:
    """One personalization with these address lists (`to=[...]`, `cc=[...]`, `bcc=[...]`)."""
    return [{name: [{"email": a} for a in addresses] for name, addresses in lists.items()}]


PLAIN = {"type": "text/plain", "value": "x"}
HTML = {"type": "text/html", "value": "<p>x</p>"}

# (id, changes to a good body, the fields SendGrid names)
BAD_BODIES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("no-personalizations", {"personalizations": None}, ["personalizations"]),
    ("empty-personalizations", {"personalizations": []}, ["personalizations"]),
    ("1001-personalizations", {"personalizations": _personalizations(1001)}, ["personalizations"]),
    ("1001-recipients", {"personalizations": _personalizations(2, per=501)}, ["personalizations"]),
    ("no-to", {"personalizations": _one(cc=["a@example.com"])}, ["personalizations.0.to"]),
    ("bad-to", {"personalizations": _one(to=["not-an-email"])}, ["personalizations.0.to.0.email"]),
    (
        "to-without-email",
        {"personalizations": [{"to": [{"name": "Ada"}]}]},
        ["personalizations.0.to.0.email"],
    ),
    (
        "bad-bcc",
        {"personalizations": _one(to=["a@example.com"], bcc=["x@"])},
        ["personalizations.0.bcc.0.email"],
    ),
    (
        "duplicate",
        {"personalizations": _one(to=["a@example.com"], cc=["A@example.com"])},
        ["personalizations.0"],
    ),
    ("no-from", {"from": None}, ["from.email"]),
    ("bad-from", {"from": {"email": "shop at example"}}, ["from.email"]),
    ("no-subject", {"subject": None}, ["subject"]),
    ("no-content", {"content": None}, ["content"]),
    ("empty-content", {"content": [{"type": "text/plain", "value": ""}]}, ["content.0.value"]),
    ("html-before-plain", {"content": [HTML, PLAIN]}, ["content"]),
    ("two-plain", {"content": [PLAIN, PLAIN]}, ["content"]),
    ("custom-arg-number", {"custom_args": {"order_id": 12}}, ["custom_args.order_id"]),
    ("custom-args-string", {"custom_args": "order=12"}, ["custom_args"]),
    ("custom-args-too-big", {"custom_args": {"blob": "x" * 10_000}}, ["personalizations.0.custom_args"]),
    ("send-at-73h", {"send_at": int(time.time()) + 73 * 3600}, ["send_at"]),
    ("send-at-string", {"send_at": "tomorrow"}, ["send_at"]),
    ("11-categories", {"categories": [f"c{i}" for i in range(11)]}, ["categories"]),
    ("long-category", {"categories": ["x" * 256]}, ["categories.0"]),
    (
        "reply-to-both",
        {"reply_to": {"email": "a@example.com"}, "reply_to_list": [{"email": "b@example.com"}]},
        ["reply_to"],
    ),
    ("bad-reply-to", {"reply_to": {"email": "nope"}}, ["reply_to.email"]),
    (
        "not-base64",
        {"attachments": [{"content": "not base64!", "filename": "a.txt"}]},
        ["attachments.0.content"],
    ),
]


@pytest.mark.parametrize(
    ("changes", "fields"), [(c, f) for _, c, f in BAD_BODIES], ids=[i for i, _, _ in BAD_BODIES]
)
def test_invalid_mail_is_400_with_sendgrids_fields(
    sb: Sandbox, sg: SendGridAPIClient, sender: str, changes: dict[str, Any], fields: list[str]
) -> None:
    with pytest.raises(BadRequestsError) as exc:
        sg.send(good_mail(sender, **changes))
    assert exc.value.status_code == 400
    body = error_body(exc.value)
    assert [e["field"] for e in body["errors"]] == fields
    assert all(e["message"] for e in body["errors"])
    assert sb.call(sb.sendgrid.emails) == []


def test_every_problem_is_listed_with_sendgrids_words(sg: SendGridAPIClient, sender: str) -> None:
    body = good_mail(sender, **{"from": {"email": "bad"}, "subject": None})
    body["personalizations"][0]["to"][0]["email"] = "also bad"
    with pytest.raises(BadRequestsError) as exc:
        sg.send(body)
    errors = error_body(exc.value)["errors"]
    assert errors == [
        {
            "message": "Does not contain a valid address.",
            "field": "personalizations.0.to.0.email",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations",
        },
        {
            "message": "The from email does not contain a valid address.",
            "field": "from.email",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.from",
        },
        {
            "message": "The subject is required. You can get around this requirement if you use a template "
            "with a subject defined or if every personalization has a subject defined.",
            "field": "subject",
            "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.subject",
        },
    ]


def test_duplicate_recipient_message_names_the_address(sg: SendGridAPIClient, sender: str) -> None:
    p = Personalization()
    p.add_to(To("ada@example.com"))
    p.add_bcc(Bcc("ada@example.com"))
    mail = Mail(from_email=sender, subject="x", plain_text_content="x")
    mail.add_personalization(p)
    with pytest.raises(BadRequestsError) as exc:
        sg.send(mail)
    (error,) = error_body(exc.value)["errors"]
    assert error["message"] == (
        "Each email address in the personalization block should be unique between to, cc, and bcc. We found "
        "the first duplicate instance of [ada@example.com] in the personalizations.0.bcc field."
    )


def test_template_id_replaces_subject_and_content(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    body = good_mail(sender, subject=None, content=None, template_id="d-0123456789abcdef")
    assert sg.send(body).status_code == 202
    assert sb.call(sb.sendgrid.emails)[0]["template_id"] == "d-0123456789abcdef"


def test_world_invalid_email_is_never_accepted(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    bad = flagged(sb, "email", "invalid")
    body = good_mail(
        sender, personalizations=[{"to": [{"email": "ok@example.com"}]}, {"to": [{"email": bad}]}]
    )
    with pytest.raises(BadRequestsError) as exc:
        sg.send(body)
    assert [e["field"] for e in error_body(exc.value)["errors"]] == ["personalizations.1.to.0.email"]


def test_unverified_sender_is_403(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    with pytest.raises(ForbiddenError) as exc:
        sg.send(good_mail(sender, **{"from": {"email": "someone@else.example"}}))
    (error,) = error_body(exc.value)["errors"]
    assert error["field"] == "from"
    assert error["message"].startswith("The from address does not match a verified Sender Identity.")
    body = good_mail(sender)
    body["personalizations"][0]["from"] = {"email": "team@else.example"}
    with pytest.raises(ForbiddenError):
        sg.send(body)
    sb.call(sb.sendgrid.verify_sender, "team@else.example")
    assert sg.send(body).status_code == 202
    assert sb.call(sb.sendgrid.emails)[0]["from"] == "team@else.example"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "authorization required"),
        (
            {"Authorization": "Bearer SG.wrong"},
            "The provided authorization grant is invalid, expired, or revoked",
        ),
        (
            {"Authorization": "Basic Zm9vOmJhcg=="},
            "The provided authorization grant is invalid, expired, or revoked",
        ),
    ],
)
def test_bad_auth_is_401(sb: Sandbox, headers: dict[str, str], message: str) -> None:
    r = httpx.post(sb.urls["sendgrid"] + "/v3/mail/send", json={}, headers=headers)
    assert r.status_code == 401
    assert r.json() == {"errors": [{"field": None, "message": message}]}


def test_sdk_raises_unauthorized_for_a_wrong_key(sb: Sandbox, sender: str) -> None:
    with pytest.raises(UnauthorizedError):
        sendgrid_client(sb, api_key="SG.nope").send(good_mail(sender))


def test_bad_json_is_400(sb: Sandbox) -> None:
    key = sb.credentials["sendgrid"]["api_key"]
    r = httpx.post(
        sb.urls["sendgrid"] + "/v3/mail/send", content=b"{nope", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["message"] == "Bad Request"


def test_oversized_request_is_413(sg: SendGridAPIClient, sender: str) -> None:
    body = good_mail(sender, content=[{"type": "text/plain", "value": "x" * (31 * 1024 * 1024)}])
    with pytest.raises(PayloadTooLargeError):
        sg.send(body)


def test_sandbox_mode_validates_but_sends_nothing(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    r = sg.send(good_mail(sender, mail_settings={"sandbox_mode": {"enable": True}}))
    assert r.status_code == 200 and r.body == b""
    assert sb.call(sb.sendgrid.emails) == [] and sb.call(sb.sendgrid.events) == []
    with pytest.raises(BadRequestsError):
        sg.send(good_mail(sender, subject=None, mail_settings={"sandbox_mode": {"enable": True}}))


def test_unknown_path_and_method(sg: SendGridAPIClient) -> None:
    with pytest.raises(NotFoundError):
        sg.client.suppression.bounces.get()
    with pytest.raises(MethodNotAllowedError):
        sg.client.mail.send.get()


def test_rate_limit_fault_answers_sendgrids_429(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    sb.set_faults("sendgrid", script=[429])
    with pytest.raises(TooManyRequestsError) as exc:
        sg.send(good_mail(sender))
    assert json.loads(exc.value.body) == {"errors": [{"field": None, "message": "too many requests"}]}
    assert exc.value.headers["X-RateLimit-Remaining"] == "0"
    assert int(exc.value.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert sb.call(sb.sendgrid.emails) == []


def test_the_endpoints_own_limit_answers_429(sb: Sandbox, sg: SendGridAPIClient) -> None:
    for _ in range(600):  # the settings endpoints allow 600 requests a minute
        last = sg.client.user.webhooks.event.settings.get()
    assert last.headers["X-RateLimit-Remaining"] == "0"
    with pytest.raises(TooManyRequestsError):
        sg.client.user.webhooks.event.settings.get()


def test_server_error_fault_is_sendgrids_json(sb: Sandbox, sg: SendGridAPIClient, sender: str) -> None:
    from python_http_client.exceptions import InternalServerError

    sb.set_faults("sendgrid", script=[500])
    with pytest.raises(InternalServerError) as exc:
        sg.send(good_mail(sender))
    assert json.loads(exc.value.body) == {"errors": [{"field": None, "message": "internal server error"}]}


def test_event_webhook_settings_api(sb: Sandbox, sg: SendGridAPIClient) -> None:
    settings = sg.client.user.webhooks.event.settings
    current = json.loads(settings.get().body)
    assert current["enabled"] is False and current["url"] == "" and current["delivered"] is True
    changed = json.loads(
        settings.patch(request_body={"enabled": True, "url": "https://hooks.example/sg", "open": False}).body
    )
    assert (changed["enabled"], changed["url"], changed["open"], changed["click"]) == (
        True,
        "https://hooks.example/sg",
        False,
        True,
    )
    assert json.loads(settings.get().body) == changed
    for bad in ({"enabled": "yes"}, {"url": "ftp://hooks.example"}, {"enabled": True, "url": ""}):
        with pytest.raises(BadRequestsError):
            settings.patch(request_body=bad)
    assert json.loads(settings.get().body) == changed  # a refused change changes nothing


def test_signed_webhook_settings(sb: Sandbox, sg: SendGridAPIClient) -> None:
    signed = sg.client.user.webhooks.event.settings.signed
    key = sb.credentials["sendgrid"]["verification_key"]
    assert json.loads(signed.get().body) == {"public_key": key}
    assert json.loads(signed.patch(request_body={"enabled": False}).body) == {"public_key": ""}
    assert json.loads(signed.get().body) == {"public_key": ""}
    assert json.loads(signed.patch(request_body={"enabled": True}).body) == {"public_key": key}
    with pytest.raises(BadRequestsError):
        signed.patch(request_body={})


def test_answer_key_email_flags(sb: Sandbox) -> None:
    key = httpx.get(sb.admin_url("sendgrid") + "/answer-key", params={"channel": "email"}).json()
    assert {i["flag"] for i in key["items"]} == {"invalid", "bouncing", "spamreport", "unsubscribe"}
    for item in key["items"]:
        flag = sb.world.contact_flags(item["recipient"], "email")
        assert flag is not None and flag.flag == item["flag"]
