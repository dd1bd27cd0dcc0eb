"""The dispatch's decisions between claim and provider: what ends before a call, how emails are grouped
into Mail Send requests, and what each provider answer does to its rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.dispatch import (
    HTML_TAG,
    TEXT_TAG,
    Prepared,
    mail_outcome,
    mail_requests,
    prepare,
    recovered_mail_outcome,
    recovered_sms_outcome,
    sms_outcome,
    status_callback_for,
)
from hub.notifications import order_context
from hub.outbox import OutboxRow
from hub.templates import Templates

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ORDER = {"id": 1, "number": "1001", "total": "5.00", "currency": "USD", "billing": {"first_name": "Al"}}


def _row(i: int, channel: str = "email", template: str = "order-confirmation", **kw: Any) -> OutboxRow:
    values: dict[str, Any] = {
        "id": i,
        "key": f"k{i}",
        "channel": channel,
        "recipient": f"c{i}@example.com" if channel == "email" else f"+1415555{i:04d}",
        "template": template,
        "payload": order_context("s1", ORDER),
        "status": "claimed",
        "priority": 0,
        "reference": None,
        "send_at": None,
        "attempts": 0,
        "fallback_email": None,
        "rendered": None,
        "provider_id": None,
        "claimed_at": NOW,
        "lease_until": None,
        "created_at": NOW,
    }
    values.update(kw)
    return OutboxRow(**values)


def _prepare(
    rows: list[OutboxRow], suppressed: set[str] = frozenset(), **kw: Any
) -> tuple[list[Prepared], list[Any]]:
    options: dict[str, Any] = {
        "templates": Templates.load(),
        "shop": {"name": "Acme", "url": None},
        "default_region": "US",
        "customer_channels": ("email", "sms"),
        "customer_events": ("order-confirmation", "order-completed", "refund-issued", "payment-failed"),
        "is_suppressed": lambda channel, recipients: {r for r in recipients if r in suppressed},
    }
    options.update(kw)
    return prepare(rows, **options)


def test_rows_that_cannot_or_must_not_be_sent_end_before_any_call() -> None:
    rows = [
        _row(1),
        _row(2, recipient="jane.doe@example,com"),
        _row(3, channel="sms"),
        _row(4, template="payment-failed"),
        _row(5, template="no-such-event"),
        _row(6, payload={}),  # the template's variables are missing
        _row(7, recipient="Opted@Example.com"),
        _row(
            8,
            channel="sms",
            template="operator-alert",
            payload={
                "alert": {"subject": "s", "message": "m", "severity": "error", "source": "x", "details": {}}
            },
        ),
    ]
    ready, ended = _prepare(
        rows,
        suppressed={"Opted@example.com"},
        customer_channels=("email",),
        customer_events=("order-confirmation",),
    )

    assert [p.row.id for p in ready] == [1, 8], "operator alerts ignore the customer settings"
    outcome = {o.id: (o.status, o.error_code) for o in ended}
    assert outcome == {
        2: ("failed", "invalid_email"),
        3: ("cancelled", "cancelled"),
        4: ("cancelled", "cancelled"),
        5: ("failed", "template"),
        6: ("failed", "template"),
        7: ("suppressed", "suppressed"),
    }
    assert ready[0].rendered["subject"] == "Order Confirmation - #1001"
    assert [o for o in ended if o.id == 2][0].fallback, "an unusable contact is a permanent failure"


def test_direct_sends_are_sent_as_given() -> None:
    sms = _row(1, channel="sms", template="direct", payload={"body": "Code 1234"}, recipient="(415) 555-0142")
    email = _row(2, template="direct", payload={"subject": "Hi", "content": "<h1>Hello</h1><p>there</p>"})
    plain = _row(3, template="direct", payload={"subject": "Hi", "content": "line 1\n\nline <2>"})

    ready, ended = _prepare([sms, email, plain])

    assert ended == []
    by_id = {p.row.id: p for p in ready}
    assert by_id[1].recipient == "+14155550142" and by_id[1].rendered == {"body": "Code 1234"}
    assert by_id[2].rendered == {
        "subject": "Hi",
        "text": "Hello\n\nthere",
        "html": "<h1>Hello</h1><p>there</p>",
    }
    assert by_id[3].rendered["html"] == "<p>line 1</p><p>line &lt;2&gt;</p>"


def _prepared(n: int, template: str = "order-confirmation", **kw: Any) -> list[Prepared]:
    return [
        Prepared(
            _row(i, template=template, **kw),
            f"c{i}@example.com",
            {"subject": f"S{i}", "text": "t", "html": "<p>h</p>"},
        )
        for i in range(n)
    ]


def test_emails_sharing_a_template_and_send_time_go_1000_to_a_request() -> None:
    later = NOW + timedelta(hours=1)
    items = _prepared(2500) + _prepared(3, template="order-completed") + _prepared(2, send_at=later)

    requests = mail_requests(items, from_email="shop@example.com", from_name="Acme")

    assert [len(r.rows) for r in requests] == [1000, 1000, 500, 3, 2]
    body = requests[0].body
    assert body["from"] == {"email": "shop@example.com", "name": "Acme"}
    assert body["content"] == [
        {"type": "text/plain", "value": TEXT_TAG},
        {"type": "text/html", "value": HTML_TAG},
    ]
    first = body["personalizations"][0]
    assert first["to"] == [{"email": "c0@example.com"}] and first["subject"] == "S0"
    assert first["custom_args"] == {"nxt_id": "0", "nxt_event": "order-confirmation"}
    assert first["substitutions"] == {TEXT_TAG: "t", HTML_TAG: "<p>h</p>"}
    assert body["categories"] == ["order-confirmation"]


def test_an_email_too_large_for_substitutions_goes_alone_with_its_content_inline() -> None:
    big = Prepared(_row(9), "c9@example.com", {"subject": "S", "text": "t" * 6000, "html": "h" * 6000})
    requests = mail_requests([big, *_prepared(2)], from_email="shop@example.com")
    assert [len(r.rows) for r in requests] == [2, 1]
    alone = requests[1].body
    assert "substitutions" not in alone["personalizations"][0]
    assert alone["content"][0] == {"type": "text/plain", "value": "t" * 6000}


def test_what_sendgrid_answers_does_to_each_row() -> None:
    [request] = mail_requests(_prepared(3), from_email="shop@example.com")

    def outcome(kind: str, **kw: Any) -> list[tuple[str, Any]]:
        result = mail_outcome(
            request,
            outcome=kind,
            now=NOW,
            retry_delay=lambda n: 30.0 * n,
            event_window=timedelta(hours=1),
            **kw,
        )
        return [(o.status, o.retry_at) for o in result]

    assert outcome("accepted", message_id="M1") == [("sent", None)] * 3
    refused = outcome(
        "refused",
        errors=[{"field": "personalizations.1.to.0.email", "message": "Does not contain a valid address."}],
    )
    assert [s for s, _ in refused] == ["queued", "failed", "queued"], "only the named personalization fails"
    assert outcome("retry", retry_after=90.0) == [("queued", NOW + timedelta(seconds=90))] * 3
    assert outcome("in_doubt") == [("sending", NOW + timedelta(hours=1))] * 3, "held for SendGrid's events"
    assert [s for s, _ in outcome("config")] == ["queued"] * 3


@pytest.mark.parametrize(
    ("kind", "status", "flags"),
    [
        ("accepted", "sent", ()),
        ("refused", "failed", ("fallback",)),
        ("opted_out", "suppressed", ("suppress",)),
        ("retry", "queued", ()),
        ("in_doubt", "sending", ()),
        ("config", "queued", ()),
    ],
)
def test_what_twilio_answers_does_to_a_text(kind: str, status: str, flags: tuple[str, ...]) -> None:
    item = Prepared(_row(1, channel="sms"), "+14155550001", {"body": "x"})
    result = sms_outcome(
        item, outcome=kind, provider_id="SM1", message="m", now=NOW, retry_delay=lambda n: 30.0
    )
    assert result.status == status
    assert result.fallback == ("fallback" in flags) and result.suppress == ("suppress" in flags)
    if status in ("queued", "sending") and kind != "config":
        assert result.retry_at == NOW + timedelta(seconds=30)


def test_recovery_decisions() -> None:
    row = _row(1, channel="sms", claimed_at=NOW - timedelta(hours=2))
    delay = lambda n: 60.0  # noqa: E731
    found = recovered_sms_outcome(
        row,
        found_sid="SM9",
        found_status="sent",
        lookup_error=None,
        now=NOW,
        give_up_after=timedelta(days=1),
        retry_delay=delay,
    )
    missing = recovered_sms_outcome(
        row,
        found_sid=None,
        found_status=None,
        lookup_error=None,
        now=NOW,
        give_up_after=timedelta(days=1),
        retry_delay=delay,
    )
    cannot = recovered_sms_outcome(
        row,
        found_sid=None,
        found_status=None,
        lookup_error="page error",
        now=NOW,
        give_up_after=timedelta(days=1),
        retry_delay=delay,
    )
    gave_up = recovered_sms_outcome(
        row,
        found_sid=None,
        found_status=None,
        lookup_error="page error",
        now=NOW,
        give_up_after=timedelta(hours=1),
        retry_delay=delay,
    )
    assert (found.status, found.provider_id) == ("sent", "SM9")
    assert missing.status == "queued" and cannot.status == "sending" and gave_up.status == "unknown"

    email = _row(2, claimed_at=NOW - timedelta(minutes=10))
    assert recovered_mail_outcome(email, now=NOW, event_window=timedelta(hours=1)).status == "sending"
    late = recovered_mail_outcome(email, now=NOW, event_window=timedelta(minutes=5))
    assert late.status == "unknown" and "nxt notify retry 2" in (late.error or "")


def test_status_callback_urls_name_the_row() -> None:
    assert status_callback_for(None, 5) is None
    assert (
        status_callback_for("https://h.example/api/webhooks/twilio", 5)
        == "https://h.example/api/webhooks/twilio?nxt_id=5"
    )
    assert status_callback_for("https://h.example/cb?token=x", 5) == "https://h.example/cb?token=x&nxt_id=5"
