"""Customer phone numbers and emails, and the flags the messaging stand-ins honour.

Every customer, and the billing contact of every guest order, gets an E.164 phone number from the range
the NANP keeps for fiction (`+1 NPA 555 01XX`, unique per contact while 71,200 last, then `+1 NPA 555 XXXX`
beyond) and keeps its email. A configurable share of contacts carries one **flag**, on one channel:

| channel | flag | what the provider does | `error_code` |
|---|---|---|---|
| sms | `invalid` | the number is not a number ("+1555", "12345"): Twilio refuses the send | 21211 |
| sms | `unsubscribed` | the recipient replied STOP: Twilio refuses the send | 21610 |
| sms | `landline` | not a mobile number: Twilio refuses the send | 21614 |
| sms | `unreachable` | accepted, then `undelivered` with this delivery error | 30003-30008 |
| email | `invalid` | bad syntax (a typo such as `jane.doe@example,com`): SendGrid answers 400 | 400 |
| email | `bouncing` | accepted, then a `bounce` event (`550 5.1.1`) | 550 |
| email | `spamreport` | delivered, then a `spamreport` event | None |
| email | `unsubscribe` | delivered, then an `unsubscribe` event | None |

`ContactBook.lookup(recipient)` answers for ANY number or address a stand-in receives: a flagged contact
gives its flag; an unknown, well-formed E.164 number or email is deliverable (`None`); anything malformed is
`invalid`. Flags are deterministic from the seed and listed in the answer key.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.world import Customer, Order

__all__ = [
    "DEFAULT_CONTACT_FLAG_RATE",
    "EMAIL_FLAGS",
    "SMS_FLAGS",
    "UNREACHABLE_CODES",
    "ContactBook",
    "ContactFlag",
    "assign_contacts",
    "is_valid_email",
    "is_valid_phone",
]

DEFAULT_CONTACT_FLAG_RATE = 0.05
SMS_FLAGS = ("invalid", "unsubscribed", "landline", "unreachable")
EMAIL_FLAGS = ("invalid", "bouncing", "spamreport", "unsubscribe")
#: Twilio delivery errors of an `undelivered` message (unreachable, blocked, unknown number, landline or
#: unreachable carrier, carrier filtered, unknown error).
UNREACHABLE_CODES = (30003, 30004, 30005, 30006, 30007, 30008)
_SMS_CODES = {"invalid": 21211, "unsubscribed": 21610, "landline": 21614}
_EMAIL_CODES: dict[str, int | None] = {
    "invalid": 400,
    "bouncing": 550,
    "spamreport": None,
    "unsubscribe": None,
}
_DETAIL = {
    ("sms", "invalid"): "Twilio 21211: the 'To' number is not a valid phone number",
    ("sms", "unsubscribed"): "Twilio 21610: the recipient replied STOP",
    ("sms", "landline"): "Twilio 21614: the 'To' number is not a mobile number",
    ("sms", "unreachable"): "Twilio accepts the message, then it is undelivered",
    ("email", "invalid"): "SendGrid 400: does not contain a valid address",
    ("email", "bouncing"): "SendGrid bounce event: 550 5.1.1 the email account does not exist",
    ("email", "spamreport"): "SendGrid spamreport event after delivery",
    ("email", "unsubscribe"): "SendGrid unsubscribe event after delivery",
}

# Area codes: first digit 2-9, not N11, not N9X (reserved for expansion).
_NPAS = tuple(n for n in range(200, 1000) if n % 100 != 11 and (n // 10) % 10 != 9)
_FICTION_LINES = 100  # 555-0100 .. 555-0199
_E164 = re.compile(r"\+[1-9]\d{6,14}")
_NANP = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
# Enough of RFC 5322's dot-atom for what providers refuse: one @, no spaces, dotted domain with a TLD.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def is_valid_phone(number: str) -> bool:
    """E.164 (`+` and 7-15 digits); North American numbers must also follow the NANP (`+1 NXX NXX XXXX`)."""
    if not _E164.fullmatch(number):
        return False
    return not number.startswith("+1") or bool(_NANP.fullmatch(number))


def is_valid_email(address: str) -> bool:
    return len(address) <= 254 and bool(_EMAIL.fullmatch(address))


@dataclass(frozen=True, slots=True)
class ContactFlag:
    """One recipient the providers treat specially (see the module docstring for each flag)."""

    channel: str  # sms | email
    recipient: str
    flag: str
    error_code: int | None
    detail: str
    customer_id: int = 0  # 0 for a guest or an unknown recipient
    order_id: int | None = None  # the guest order whose billing contact this is

    def to_key(self) -> dict[str, Any]:
        """The answer-key entry (JSON-ready)."""
        return {
            "category": "contact",
            "channel": self.channel,
            "recipient": self.recipient,
            "flag": self.flag,
            "error_code": self.error_code,
            "detail": self.detail,
        }


def _normal(recipient: str) -> str:
    return recipient.strip().lower()  # emails compare case-insensitively; numbers have no case


class ContactBook:
    """Flagged contacts by recipient (compared case-insensitively), in the order they were flagged."""

    __slots__ = ("_flags",)

    def __init__(self, flags: Iterable[ContactFlag] = ()) -> None:
        self._flags: dict[str, ContactFlag] = {_normal(f.recipient): f for f in flags}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ContactBook) and list(self._flags.values()) == list(other._flags.values())

    def __len__(self) -> int:
        return len(self._flags)

    def add(self, flag: ContactFlag) -> None:
        self._flags[_normal(flag.recipient)] = flag

    def flagged(self) -> list[ContactFlag]:
        return list(self._flags.values())

    def lookup(self, recipient: str, channel: str | None = None) -> ContactFlag | None:
        """The flag for any phone number or email address; None when a provider would deliver to it.

        `channel` ("sms" or "email") says what the caller received; without it a string containing `@`
        is an email and anything else a phone number.
        """
        known = self._flags.get(_normal(recipient))
        if known is not None and (channel is None or known.channel == channel):
            return known
        r = recipient.strip()
        if channel == "email" or (channel is None and "@" in r):
            if is_valid_email(r):
                return None
            return ContactFlag("email", recipient, "invalid", 400, _DETAIL[("email", "invalid")])
        if is_valid_phone(r):
            return None
        return ContactFlag("sms", recipient, "invalid", 21211, _DETAIL[("sms", "invalid")])


def _phones(rng: random.Random, n: int) -> list[str]:
    """`n` distinct numbers, shuffled by the seed: fiction lines first, then the rest of each 555 exchange."""
    fiction = len(_NPAS) * _FICTION_LINES
    picks = rng.sample(range(fiction), min(n, fiction))
    out = [f"+1{_NPAS[k // _FICTION_LINES]}5550{100 + k % _FICTION_LINES}" for k in picks]
    k = 0
    while len(out) < n:  # beyond 71,200 contacts: 555-0000..0099 and 555-0200..9999 of each area code
        npa, line = _NPAS[k % len(_NPAS)], k // len(_NPAS)
        line = line if line < 100 else line + 100
        out.append(f"+1{npa}555{line:04d}")
        k += 1
    return out


def _invalid_phone(rng: random.Random, good: str) -> str:
    """A typo of `good` that no provider accepts, unique as `good` is (so the flag maps to one contact)."""
    return rng.choice(
        (
            good[:6] + good[7:],  # a digit dropped: 9 digits after +1
            good + "0",  # a digit too many
            good[:8] + "O" + good[9:],  # the letter O for a zero
            good[:2] + "-" + good[2:5] + "-" + good[5:8] + "-" + good[8:] + "#",  # not a number at all
        )
    )


def _invalid_email(rng: random.Random, good: str) -> str:
    local, _, domain = good.partition("@")
    return rng.choice(
        (
            f"{local}@{domain.replace('.', ',', 1)}",  # a comma for a dot
            f"{local}@@{domain}",
            f"{local}{domain}",  # the @ forgotten
            f"{local}@{domain.rsplit('.', 1)[0]}",  # no TLD
            f"{local} @{domain}",
        )
    )


def assign_contacts(
    customers: dict[int, Customer], orders: dict[int, Order], *, seed: int, rate: float
) -> ContactBook:
    """Give every customer and guest order a phone number, and flag a share `rate` of those contacts.

    A positive rate flags at least one contact of each of the eight kinds when there are enough contacts,
    so even a small world exercises every provider error. Flagging an email as `invalid` rewrites it (on the
    customer and on the customer's orders) into a typo of itself. Mutates the records; returns the book.
    """
    rng = random.Random(seed * 1_000_081 + 7)
    guests = [o for o in orders.values() if o.customer_id == 0]
    phones = _phones(rng, len(customers) + len(guests))
    for c, phone in zip(customers.values(), phones, strict=False):
        c.phone = phone
    for o, phone in zip(guests, phones[len(customers) :], strict=False):
        o.billing_phone = phone
    for o in orders.values():
        if o.customer_id and o.customer_id in customers:
            o.billing_phone = customers[o.customer_id].phone

    book = ContactBook()
    total = len(customers) + len(guests)
    kinds = [("sms", f) for f in SMS_FLAGS] + [("email", f) for f in EMAIL_FLAGS]
    n = 0 if rate <= 0 else min(total, max(round(rate * total), len(kinds)))
    if n == 0:
        return book
    picks = sorted(rng.sample(range(total), n))
    cust_list = list(customers.values())
    by_customer: dict[int, list[Order]] = {}
    for o in orders.values():
        if o.customer_id:
            by_customer.setdefault(o.customer_id, []).append(o)
    order_kinds = kinds[:]
    rng.shuffle(order_kinds)
    for i, k in enumerate(picks):
        channel, flag = order_kinds[i % len(order_kinds)]
        code = _SMS_CODES.get(flag) if channel == "sms" else _EMAIL_CODES[flag]
        if channel == "sms" and flag == "unreachable":
            code = rng.choice(UNREACHABLE_CODES)
        detail = _DETAIL[(channel, flag)]
        if flag == "unreachable":
            detail = f"{detail} (error {code})"
        if k < len(cust_list):
            c = cust_list[k]
            if channel == "sms":
                if flag == "invalid":
                    c.phone = _invalid_phone(rng, c.phone)
                    for o in by_customer.get(c.id, ()):
                        o.billing_phone = c.phone
                c.phone_flag, c.phone_error_code = flag, code
                recipient = c.phone
            else:
                if flag == "invalid":
                    c.email = _invalid_email(rng, c.email)
                    for o in by_customer.get(c.id, ()):
                        o.billing_email = c.email
                c.email_flag = flag
                recipient = c.email
            book.add(ContactFlag(channel, recipient, flag, code, detail, customer_id=c.id))
        else:
            o = guests[k - len(cust_list)]
            if channel == "sms":
                if flag == "invalid":
                    o.billing_phone = _invalid_phone(rng, o.billing_phone)
                o.billing_phone_flag, o.billing_phone_error_code = flag, code
                recipient = o.billing_phone
            else:
                if flag == "invalid":
                    o.billing_email = _invalid_email(rng, o.billing_email)
                o.billing_email_flag = flag
                recipient = o.billing_email
            book.add(ContactFlag(channel, recipient, flag, code, detail, order_id=o.id))
    return book
