"""Sending one SMS through the official Twilio SDK, and what its answer means for the outbox.

`send_sms` never raises for what Twilio (or the network) answers: it returns a `SendResult` whose
`outcome` says what may be done next:

- `accepted`: Twilio created the message (`provider_id` is its SID).
- `refused`: permanent, do not retry (21211 invalid number, 21614 landline, 21408 region, other 4xx).
- `opted_out`: 21610, the recipient replied STOP: suppress the number.
- `retry`: definitely not created (429/20429, a connection that was never made): send again later.
- `in_doubt`: Twilio may have created it (a timeout or connection lost after the request left, a 5xx):
  look for it (`find_sent`) before sending again.
- `config`: our side is wrong (credentials, a sender that is not the account's, a bad callback URL):
  stop sending on this account until someone fixes the block.

`find_sent` lists the messages Twilio has to one number since a time, newest first, and returns those
whose body is exactly ours. Messages still waiting in the sender's queue have no `date_sent` (and no
`DateSent` filter matches them), so the listing filters on `To` only and compares `date_created`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twilio.rest import Client

__all__ = [
    "ACCEPTED",
    "CONFIG",
    "IN_DOUBT",
    "LookupFailed",
    "OPTED_OUT",
    "REFUSED",
    "RETRY",
    "SendResult",
    "SentMessage",
    "find_sent",
    "send_sms",
]

ACCEPTED = "accepted"
REFUSED = "refused"
OPTED_OUT = "opted_out"
RETRY = "retry"
IN_DOUBT = "in_doubt"
CONFIG = "config"

UNSUBSCRIBED = 21610
TOO_MANY_REQUESTS = 20429
# Codes that mean the account, the sender or the request's set-up is wrong, not the recipient.
CONFIG_CODES = frozenset({20003, 20005, 20008, 20403, 20404, 21212, 21603, 21606, 21609, 21701, 21705})
MESSAGE_LIMIT = 300  # characters of Twilio's message kept on the row


@dataclass(frozen=True)
class SendResult:
    """What one send came to (see the module docstring for `outcome`)."""

    outcome: str
    provider_id: str | None = None
    provider_status: str | None = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class SentMessage:
    """A message Twilio has: its SID, status and creation time."""

    sid: str
    status: str
    date_created: datetime | None


class LookupFailed(Exception):
    """Twilio's message list could not be read now (an error page, the network); try again later."""


def send_sms(
    client: Client,
    *,
    to: str,
    body: str,
    from_: str | None = None,
    messaging_service_sid: str | None = None,
    status_callback: str | None = None,
) -> SendResult:
    """Create one message. `to` must already be E.164; the sender is a number or a Messaging Service."""
    import requests  # with the SDK, here: loading them costs every `nxt` command ~0.15 s
    from twilio.base.exceptions import TwilioException, TwilioRestException

    kwargs: dict[str, Any] = {"to": to, "body": body}
    if messaging_service_sid:
        kwargs["messaging_service_sid"] = messaging_service_sid
    else:
        kwargs["from_"] = from_
    if status_callback:
        kwargs["status_callback"] = status_callback
    try:
        message = client.messages.create(**kwargs)
    except TwilioRestException as exc:
        return classify_rest_error(exc.status, exc.code, exc.msg)
    except requests.exceptions.SSLError as exc:
        return SendResult(CONFIG, message=f"TLS failure reaching Twilio: {_first_line(exc)}")
    except (requests.exceptions.ConnectTimeout, requests.exceptions.InvalidURL) as exc:
        return SendResult(RETRY, message=f"could not connect to Twilio: {type(exc).__name__}")
    except requests.exceptions.ConnectionError as exc:
        if _never_connected(exc):
            return SendResult(RETRY, message=f"could not connect to Twilio: {_first_line(exc)}")
        return SendResult(IN_DOUBT, message=f"connection lost after sending: {type(exc).__name__}")
    except requests.exceptions.RequestException as exc:  # read timeouts, broken responses
        return SendResult(IN_DOUBT, message=f"no answer from Twilio: {type(exc).__name__}")
    except TwilioException as exc:
        return SendResult(IN_DOUBT, message=f"unreadable answer from Twilio: {_first_line(exc)}")
    return SendResult(ACCEPTED, provider_id=message.sid, provider_status=message.status)


def classify_rest_error(status: int, code: int | None, msg: str) -> SendResult:
    """What an error answer from Twilio's create means (HTTP status, Twilio code, message)."""
    text = (msg or "").removeprefix("Unable to create record: ")[:MESSAGE_LIMIT]
    code_text = str(code) if code is not None else str(status)
    described = f"Twilio {code_text}: {text}" if text else f"Twilio {code_text}"
    if code == UNSUBSCRIBED:
        return SendResult(OPTED_OUT, code=code_text, message=described)
    if status == 429 or code == TOO_MANY_REQUESTS:
        return SendResult(RETRY, code=code_text, message=described)
    if status >= 500:
        return SendResult(IN_DOUBT, code=code_text, message=described)
    if status in (401, 403) or code in CONFIG_CODES:
        return SendResult(CONFIG, code=code_text, message=described)
    if status == 404 and code is None:  # no Twilio error body: the base URL is not Twilio's API
        return SendResult(CONFIG, code=code_text, message=f"{described} (is the block's base_url Twilio's?)")
    return SendResult(REFUSED, code=code_text, message=described)


def find_sent(
    client: Client,
    *,
    to: str,
    body: str,
    since: datetime,
    exclude: Collection[str] = (),
    page_size: int = 50,
    max_messages: int = 1000,
) -> list[SentMessage]:
    """Messages to `to` created at or after `since` whose body is exactly `body`, newest first.

    Messages in `exclude` (SIDs already recorded on other outbox rows) are left out. Reads at most
    `max_messages` messages back.

    Raises:
        LookupFailed: the list could not be read (the SDK raises a plain `TwilioException` on an error
            page), or it ran past `max_messages` without reaching `since`.
    """
    import requests
    from twilio.base.exceptions import TwilioException

    found: list[SentMessage] = []
    seen = 0
    try:
        for message in client.messages.stream(to=to, page_size=page_size):
            created = message.date_created
            if created is not None and created < since:
                return found
            seen += 1
            if message.body == body and message.sid not in exclude:
                found.append(SentMessage(message.sid, message.status, created))
            if seen >= max_messages:
                raise LookupFailed(f"more than {max_messages} messages to {to} since {since.isoformat()}")
    except TwilioException as exc:
        raise LookupFailed(f"Twilio's message list failed: {_first_line(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise LookupFailed(f"Twilio's message list failed: {type(exc).__name__}") from None
    return found


def _never_connected(exc: BaseException) -> bool:
    """True when the connection was never made (refused, no route, DNS): the request never left."""
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectionRefusedError):
            return True
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException) and _never_connected_one(arg):
                return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException) and _never_connected_one(reason):
            return True
        current = current.__cause__ or current.__context__
    return False


def _never_connected_one(exc: BaseException) -> bool:
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, NewConnectionError | ConnectionRefusedError):
        return True
    reason = getattr(exc, "reason", None)
    return isinstance(reason, NewConnectionError | ConnectionRefusedError)


def _first_line(exc: BaseException) -> str:
    text = (getattr(exc, "msg", None) or str(exc)).strip() or type(exc).__name__
    return text.splitlines()[0][:MESSAGE_LIMIT]
