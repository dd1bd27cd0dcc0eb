"""Recipients: phone numbers validated and normalised to E.164, email addresses checked, before anything
is sent or grouped.

Both checks raise `InvalidRecipient` with one line saying what is wrong; the dispatch records that line on
the outbox row (status `failed`) and the direct-send API answers it as a 400. An address SendGrid would
refuse must never reach a request: one bad address makes SendGrid refuse the whole request (up to 1,000
personalizations).
"""

from __future__ import annotations

import re

import phonenumbers

__all__ = ["InvalidRecipient", "normalize_email", "normalize_phone"]

MAX_EMAIL = 320  # RFC 5321: 64 (local) + 1 + 255 (domain)
# Enough of RFC 5322's dot-atom for what providers refuse: one @, no spaces or commas, a dotted domain
# with a top-level label of letters. Stricter than SendGrid in places (quoted local parts are refused).
_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


class InvalidRecipient(ValueError):
    """A phone number or email address no provider would take; the message says which and why.

    Attributes:
        code: `invalid_phone` or `invalid_email`.
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """The number in E.164 (`+15551234567`).

    Args:
        raw: As the customer typed it: `+1 (555) 123-4567`, `555-123-4567` (with `default_region`).
        default_region: ISO 3166 country (e.g. `US`) for numbers written without a country code.

    Raises:
        InvalidRecipient: not a number, or not one that can exist (wrong length for its country).
            Whether the number is in service is Twilio's to say (21211 then fails the row).
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidRecipient("the phone number is empty", code="invalid_phone")
    region = (default_region or "").upper() or None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if text.startswith("+") or region else " (no country code, and no default region is set)"
        raise InvalidRecipient(
            f"{_show(text)} is not a phone number{hint}: {_reason(exc)}", code="invalid_phone"
        ) from None
    # Possible (the right length for its country), not "valid" (an assigned area code): the library's
    # list of assigned codes ages, and a number it does not know yet is the provider's to refuse.
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidRecipient(
            f"{_show(text)} is not a phone number: wrong length for its country code", code="invalid_phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    """The address trimmed, its domain lower-cased (the local part is the mailbox owner's business).

    Raises:
        InvalidRecipient: not an address SendGrid would take.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidRecipient("the email address is empty", code="invalid_email")
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        raise InvalidRecipient(f"{_show(text)} is not a valid email address", code="invalid_email")
    local, _, domain = text.rpartition("@")
    if len(local) > 64:
        raise InvalidRecipient(
            f"{_show(text)} is not a valid email address (the part before @ is over 64 characters)",
            code="invalid_email",
        )
    return f"{local}@{domain.lower()}"


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _reason(exc: phonenumbers.NumberParseException) -> str:
    return {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "it does not look like a number",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, str(exc))
