"""Notification templates: every shipped event renders, a folder overrides them file by file, a broken
template fails at load with its file and line, and a missing variable fails the message, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.notifications import CUSTOMER_EVENTS, order_context
from hub.templates import (
    MAX_SMS_CHARS,
    RenderProblem,
    TemplateProblem,
    Templates,
    html_to_text,
)

SHOP = {"name": "Acme & Co", "url": "https://acme.example"}
ORDER = {
    "id": 12,
    "number": "1012",
    "status": "processing",
    "total": "29.35",
    "currency": "USD",
    "billing": {"first_name": "<Jane>", "email": "jane@example.com", "phone": "+14155550142"},
    "line_items": [{"name": "Mug", "quantity": 2, "total": "20.00"}],
}


def _context(**extra: object) -> dict[str, object]:
    return {**order_context("s1", ORDER), "shop": SHOP, **extra}


@pytest.mark.parametrize("event", CUSTOMER_EVENTS)
def test_every_shipped_event_renders_an_sms_and_an_email(event: str) -> None:
    templates = Templates.load()
    context = _context(refund={"id": "5", "amount": "4.00", "reason": "damaged"})

    sms = templates.render_sms(event, context)
    email = templates.render_email(event, context)

    assert "1012" in sms and len(sms) <= 160, "one SMS segment for the shipped texts"
    assert "1012" in email.subject and "\n" not in email.subject
    assert "1012" in email.text and "1012" in email.html
    assert "&lt;Jane&gt;" in email.html and "<Jane>" not in email.html, "HTML is escaped"
    assert "<Jane>" in email.text, "plain text is not"


def test_operator_alerts_render() -> None:
    alert = {
        "subject": "Sync failed",
        "message": "store down",
        "severity": "error",
        "source": "sync",
        "details": {"run": "7"},
    }
    templates = Templates.load()
    assert templates.render_sms("operator-alert", {"alert": alert, "shop": SHOP}).startswith(
        "[ERROR] Sync failed"
    )
    email = templates.render_email("operator-alert", {"alert": alert, "shop": SHOP})
    assert email.subject == "[Acme & Co] ERROR: Sync failed" and "run: 7" in email.text


def test_a_folder_overrides_file_by_file_and_adds_events(tmp_path: Path) -> None:
    (tmp_path / "order-confirmation.sms.j2").write_text(
        "Merci {{ customer.first_name }}! #{{ order.number }}"
    )
    (tmp_path / "back-in-stock.sms.j2").write_text("{{ product }} is back")

    templates = Templates.load(tmp_path)

    assert templates.render_sms("order-confirmation", _context()) == "Merci <Jane>! #1012"
    assert "1012" in templates.render_email("order-confirmation", _context()).subject, "the rest is shipped"
    assert templates.render_sms("back-in-stock", {"product": "Mug", "shop": SHOP}) == "Mug is back"
    assert templates.has("back-in-stock", "sms") and not templates.has("back-in-stock", "email")
    assert "back-in-stock" in templates.events()


def test_a_broken_template_fails_at_load_with_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "order-completed.html.j2").write_text("<p>fine</p>\n<p>{% if order.number %}\n</p>\n")

    with pytest.raises(TemplateProblem) as caught:
        Templates.load(tmp_path)

    message = str(caught.value)
    assert "order-completed.html.j2" in message and "line 3" in message
    with pytest.raises(TemplateProblem, match="does not exist"):
        Templates.load(tmp_path / "nope")


def test_a_missing_variable_fails_the_message_naming_template_line_and_variable(tmp_path: Path) -> None:
    (tmp_path / "payment-failed.sms.j2").write_text("Hi\n{{ order.tracking_number }}")

    with pytest.raises(RenderProblem) as caught:
        Templates.load(tmp_path).render_sms("payment-failed", _context())

    message = str(caught.value)
    assert "payment-failed.sms.j2, line 2" in message and "tracking_number" in message


def test_texts_that_cannot_be_sent_are_refused(tmp_path: Path) -> None:
    (tmp_path / "order-completed.sms.j2").write_text("{% if false %}x{% endif %}   ")
    (tmp_path / "payment-failed.sms.j2").write_text("{{ 'x' * 1601 }}")
    templates = Templates.load(tmp_path)

    with pytest.raises(RenderProblem, match="empty"):
        templates.render_sms("order-completed", _context())
    with pytest.raises(RenderProblem, match=f"at most {MAX_SMS_CHARS:,}"):
        templates.render_sms("payment-failed", _context())
    with pytest.raises(RenderProblem, match="no template nope.sms.j2"):
        templates.render_sms("nope", _context())


def test_templates_cannot_reach_python_internals(tmp_path: Path) -> None:
    (tmp_path / "order-completed.sms.j2").write_text("{{ order.__class__.__mro__ }}")
    with pytest.raises(RenderProblem):
        Templates.load(tmp_path).render_sms("order-completed", _context())


def test_html_to_text() -> None:
    assert html_to_text("<h1>Thanks!</h1><p>Order <b>#12</b> &amp; more</p><style>p{}</style>") == (
        "Thanks!\n\nOrder #12 & more"
    )
