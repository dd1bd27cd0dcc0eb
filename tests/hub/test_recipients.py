"""Phone numbers normalised to E.164 and email addresses checked before anything is sent or grouped."""

from __future__ import annotations

import pytest

from hub.recipients import InvalidRecipient, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+14155550142", None, "+14155550142"),
        (" +1 (415) 555-0142 ", None, "+14155550142"),
        ("(415) 555-0142", "US", "+14155550142"),
        ("415.555.0142", "us", "+14155550142"),
        ("+13755550157", None, "+13755550157"),  # an area code the library may not know: Twilio decides
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("", "US", "empty"),
        ("+1555", None, "wrong length"),
        ("12345", "US", "wrong length"),
        ("555-0142", "US", "wrong length"),
        ("call me", "US", "does not look like a number"),
        ("4155550142", None, "no country code, and no default region"),
        ("+999 1234567", None, "unknown country code"),
    ],
)
def test_numbers_that_cannot_exist_are_refused_with_the_reason(
    raw: str, region: str | None, reason: str
) -> None:
    with pytest.raises(InvalidRecipient, match=reason) as caught:
        normalize_phone(raw, region)
    assert caught.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Jane@Example.COM", "Jane@example.com"), (" a.b+tag@sub.example.org ", "a.b+tag@sub.example.org")],
)
def test_emails_keep_their_mailbox_and_lower_their_domain(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "jane.doe@example,com",
        "jane@",
        "@example.com",
        "jane doe@example.com",
        "a@b",
        "x" * 65 + "@example.com",
    ],
)
def test_addresses_sendgrid_would_refuse_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRecipient) as caught:
        normalize_email(raw)
    assert caught.value.code == "invalid_email"
