"""The events SendGrid reports for an accepted email, per recipient, as the world's email flags decide.

| recipient | events |
|---|---|
| suppressed (bounced, reported spam or unsubscribed earlier) | dropped |
| flagged `bouncing` | processed, bounce (550 5.1.1), then suppressed |
| flagged `spamreport` | processed, delivered, spamreport, then suppressed |
| flagged `unsubscribe` | processed, delivered, unsubscribe, then suppressed |
| any other | processed, (deferred), delivered, (open), (click) |

An `invalid` address never gets here: Mail Send refuses it. Deferrals, opens and clicks happen to a share
of recipients (`deferred_rate`, `open_rate`, `click_rate`), chosen by a hash of the recipient's
`sg_message_id`, so the same run gives the same events. Every event carries `email`, `timestamp`,
`event`, `sg_event_id`, `sg_message_id` (`<X-Message-Id>.<suffix>`), `smtp-id`, `category` (a string for
one category, an array for several) and the email's `custom_args` as top-level keys (SendGrid's own keys
win a clash).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .settings import EVENT_DELAYS_S
from .store import Email, Store

__all__ = ["events_for"]

_BOUNCE_REASON = (
    "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the "
    "recipient's email address for typos or unnecessary spaces."
)
_CLICK_URL = "https://nxt-sandbox-store.example/orders"
_SUPPRESSED_BY = {"bounce": "Bounced Address", "spamreport": "Spam Reporting Address"}


def _share(key: str, salt: str) -> float:
    """A stable number in [0, 1) for `key` (which recipient gets opens, clicks, deferrals)."""
    digest = hashlib.sha256(f"{salt}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _event(
    st: Store, email: Email, base: dict[str, Any], sent_at: float, kind: str, **extra: Any
) -> tuple[float, dict[str, Any]]:
    due = sent_at + EVENT_DELAYS_S[kind]
    body: dict[str, Any] = dict(email.custom_args)  # SendGrid's own keys below win a clash
    body.update(base)
    body.update({"timestamp": int(due), "event": kind, "sg_event_id": st.new_id()})
    body.update(extra)
    return due, body


def events_for(st: Store, email: Email) -> list[tuple[float, dict[str, Any]]]:
    """(due time, event) for every recipient of `email`; also records its suppressions."""
    sent_at = email.received_at
    if email.send_at and email.send_at > email.received_at:
        sent_at = float(email.send_at)
    category: Any = None
    if len(email.categories) == 1:
        category = email.categories[0]
    elif email.categories:
        category = list(email.categories)
    out: list[tuple[float, dict[str, Any]]] = []
    for n, address in enumerate(email.recipients()):
        sg_message_id = f"{email.x_message_id}.filterdrecv-{st.new_id(8).lower()}-{email.index}-{n}-0"
        email.sg_message_ids[address] = sg_message_id
        base: dict[str, Any] = {
            "email": address,
            "sg_message_id": sg_message_id,
            "smtp-id": f"<{email.x_message_id}@ismtpd0001p1las1.sendgrid.net>",
        }
        if category is not None:
            base["category"] = category
        if email.asm_group_id is not None:
            base["asm_group_id"] = email.asm_group_id

        def add(kind: str, base: dict[str, Any] = base, **extra: Any) -> None:
            out.append(_event(st, email, base, sent_at, kind, **extra))

        key = address.lower()
        suppressed = st.suppressions.get(key)
        if suppressed is not None and suppressed[1] <= sent_at:
            add("dropped", reason=suppressed[0], status="5.0.0")
            continue
        flag = st.world.contact_flags(address, "email")
        kind = flag.flag if flag is not None else ""
        add("processed")
        if kind == "bouncing":
            add(
                "bounce",
                type="bounce",
                status="5.1.1",
                reason=_BOUNCE_REASON,
                bounce_classification="Invalid Address",
            )
            st.suppressions[key] = (_SUPPRESSED_BY["bounce"], sent_at + EVENT_DELAYS_S["bounce"])
            continue
        if kind == "" and _share(sg_message_id, "deferred") < st.deferred_rate:
            add("deferred", response="421 4.7.0 Try again later", attempt="1")
        add("delivered", response="250 2.0.0 OK", ip="149.72.123.24", tls=1)
        if kind == "spamreport":
            add("spamreport")
            st.suppressions[key] = (_SUPPRESSED_BY["spamreport"], sent_at + EVENT_DELAYS_S["spamreport"])
        elif kind == "unsubscribe":
            add("unsubscribe")
            st.suppressions[key] = ("Unsubscribed Address", sent_at + EVENT_DELAYS_S["unsubscribe"])
        elif _share(sg_message_id, "open") < st.open_rate:
            agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
            add("open", useragent=agent, ip="203.0.113.7", sg_machine_open=False)
            if _share(sg_message_id, "click") < st.click_rate / max(st.open_rate, 1e-9):
                add("click", url=_CLICK_URL, useragent=agent, ip="203.0.113.7")
    return out
