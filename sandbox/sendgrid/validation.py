"""Mail Send validation as SendGrid does it: every problem found is listed, each with its field.

SendGrid validates a request against its schema and its own rules and answers 400 with all the errors
it found (`{"errors": [{"message", "field", "help"}]}`); type errors read like its JSON Schema
validator's ("Invalid type. Expected: string, given: integer."). The sender check (403) comes after, in
`mail`. Messages for the limits SendGrid documents (1,000 personalizations and recipients, duplicate
recipients, content, from, subject) are SendGrid's; those for `send_at`, `categories`, the `custom_args`
size and `reply_to_list` are worded after its errors page (see docs/sandbox.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import field_error
from .settings import (
    CATEGORIES_MAX,
    CATEGORY_MAX_LEN,
    CUSTOM_ARGS_MAX_BYTES,
    PERSONALIZATIONS_MAX,
    RECIPIENTS_MAX,
    SEND_AT_MAX_AHEAD_S,
)
from .store import Store

__all__ = ["json_type", "merged_custom_args", "validate_mail"]

Errors = list[dict[str, Any]]

_FROM_REQUIRED = (
    "The from object must be provided for every email send. It is an object that requires the email "
    'parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or '
    '{"email" : "example@example.com", "name" : "Example Recipient"}.'
)
_CONTENT_REQUIRED = (
    "Unless a valid template_id is provided, the content parameter is required. There must be at least "
    "one defined content block. We typically suggest both text/plain and text/html blocks are included, "
    "but only one block is required."
)
_SUBJECT_REQUIRED = (
    "The subject is required. You can get around this requirement if you use a template with a subject "
    "defined or if every personalization has a subject defined."
)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_error(expected: str, value: Any, field: str) -> dict[str, Any]:
    return field_error(f"Invalid type. Expected: {expected}, given: {json_type(value)}.", field)


def _valid_email(st: Store, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    flag = st.world.contact_flags(value, "email")
    return flag is None or flag.flag != "invalid"


def _recipients(st: Store, items: Any, field: str, errors: Errors) -> list[str]:
    """Validate a `to`/`cc`/`bcc` list; returns the addresses (valid or not) in order."""
    if not isinstance(items, list):
        errors.append(_type_error("array", items, field))
        return []
    out = []
    for j, item in enumerate(items):
        email = item.get("email") if isinstance(item, dict) else None
        if not _valid_email(st, email):
            errors.append(
                field_error(
                    "Does not contain a valid address.", f"{field}.{j}.email", "message.personalizations"
                )
            )
        if isinstance(item, dict) and "name" in item and not isinstance(item["name"], str):
            errors.append(_type_error("string", item["name"], f"{field}.{j}.name"))
        out.append(email if isinstance(email, str) else "")
    return out


def _custom_args(value: Any, field: str, errors: Errors) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(_type_error("object", value, field))
        return {}
    for key, v in value.items():
        if not isinstance(v, str):
            errors.append(_type_error("string", v, f"{field}.{key}"))
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _send_at(value: Any, field: str, now: float, errors: Errors) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(_type_error("integer", value, field))
    elif value > now + SEND_AT_MAX_AHEAD_S:
        errors.append(
            field_error(
                "The send_at parameter can not be scheduled more than 72 hours in advance.",
                field,
                "message.send_at",
            )
        )


def _from(st: Store, value: Any, field: str, errors: Errors) -> None:
    if not isinstance(value, dict) or not value.get("email"):
        errors.append(field_error(_FROM_REQUIRED, f"{field}.email", "message.from"))
    elif not _valid_email(st, value["email"]):
        errors.append(
            field_error(
                f"The {field} email does not contain a valid address.", f"{field}.email", "message.from"
            )
        )


def _first_duplicate(lists: dict[str, list[str]]) -> tuple[str, str] | None:
    """The first address seen twice (case-insensitively) across to, cc and bcc, and the list it is in."""
    seen: set[str] = set()
    for name, addresses in lists.items():
        for address in addresses:
            if not address:
                continue
            if address.lower() in seen:
                return address, name
            seen.add(address.lower())
    return None


def merged_custom_args(message: dict[str, Any], personalization: dict[str, Any]) -> dict[str, str]:
    """Message-level custom_args with the personalization's keys replacing them (SendGrid's merge)."""
    merged = {k: v for k, v in (message.get("custom_args") or {}).items() if isinstance(v, str)}
    merged.update({k: v for k, v in (personalization.get("custom_args") or {}).items() if isinstance(v, str)})
    return merged


def validate_mail(st: Store, data: dict[str, Any], now: float) -> Errors:
    errors: Errors = []
    template_id = data.get("template_id")
    if template_id is not None and not isinstance(template_id, str):
        errors.append(_type_error("string", template_id, "template_id"))
    message_args = _custom_args(data.get("custom_args"), "custom_args", errors)
    _send_at(data.get("send_at"), "send_at", now, errors)

    personalizations = data.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            field_error(
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
                "-Personalizations-Errors",
            )
        )
        personalizations = []
    elif len(personalizations) > PERSONALIZATIONS_MAX:
        errors.append(
            field_error(
                f"The personalization block is limited to {PERSONALIZATIONS_MAX} personalizations per API "
                f"request. You have provided {len(personalizations)} personalizations. Please consider "
                "splitting this into multiple requests and resending your request.",
                "personalizations",
                "message.personalizations",
            )
        )
        personalizations = []

    total = 0
    every_has_subject = True
    for i, p in enumerate(personalizations):
        field = f"personalizations.{i}"
        if not isinstance(p, dict):
            errors.append(_type_error("object", p, field))
            every_has_subject = False
            continue
        if not isinstance(p.get("to"), list) or not p["to"]:
            errors.append(
                field_error(
                    "The to array is required for all personalization objects, and must have at least one "
                    "email object with a valid email address.",
                    f"{field}.to",
                    "message.personalizations",
                )
            )
            to: list[str] = []
        else:
            to = _recipients(st, p["to"], f"{field}.to", errors)
        lists = {"to": to}
        for name in ("cc", "bcc"):
            lists[name] = _recipients(st, p[name], f"{field}.{name}", errors) if name in p else []
        total += sum(len(v) for v in lists.values())
        duplicate = _first_duplicate(lists)
        if duplicate is not None:
            address, name = duplicate
            errors.append(
                field_error(
                    "Each email address in the personalization block should be unique between to, cc, "
                    f"and bcc. We found the first duplicate instance of [{address}] in the "
                    f"{field}.{name} field.",
                    field,
                    "message.recipient-errors",
                )
            )
        if "from" in p:
            _from(st, p["from"], f"{field}.from", errors)
        subject = p.get("subject")
        if subject is not None and not isinstance(subject, str):
            errors.append(_type_error("string", subject, f"{field}.subject"))
        if not subject:
            every_has_subject = False
        args = _custom_args(p.get("custom_args"), f"{field}.custom_args", errors)
        size = len(json.dumps(message_args | args, separators=(",", ":")).encode())
        if size >= CUSTOM_ARGS_MAX_BYTES:
            errors.append(
                field_error(
                    f"The custom_args parameter may not exceed {CUSTOM_ARGS_MAX_BYTES} bytes; this "
                    f"personalization has {size}.",
                    f"{field}.custom_args",
                    "message.custom_args",
                )
            )
        _send_at(p.get("send_at"), f"{field}.send_at", now, errors)
    if total > RECIPIENTS_MAX:
        errors.append(
            field_error(
                "There is a limit of 1000 total recipients (to + cc + bcc) per request.",
                "personalizations",
                "message.personalizations",
            )
        )

    _from(st, data.get("from"), "from", errors)

    subject = data.get("subject")
    if subject is not None and not isinstance(subject, str):
        errors.append(_type_error("string", subject, "subject"))
    elif not template_id and not subject and not every_has_subject:
        errors.append(field_error(_SUBJECT_REQUIRED, "subject", "message.subject"))

    _content(data.get("content"), bool(template_id), errors)
    _categories(data.get("categories"), errors)
    _reply_to(st, data, errors)
    _attachments(data.get("attachments"), errors)
    return errors


def _content(content: Any, has_template: bool, errors: Errors) -> None:
    if content is None or content == []:
        if not has_template:
            errors.append(field_error(_CONTENT_REQUIRED, "content", "message.content"))
        return
    if not isinstance(content, list):
        errors.append(_type_error("array", content, "content"))
        return
    types: list[str] = []
    for i, block in enumerate(content):
        if not isinstance(block, dict):
            errors.append(_type_error("object", block, f"content.{i}"))
            continue
        ctype, value = block.get("type"), block.get("value")
        if not isinstance(ctype, str) or not ctype:
            errors.append(
                field_error(
                    "The content type must be a string at least one character in length.",
                    f"content.{i}.type",
                    "message.content.type",
                )
            )
        else:
            types.append(ctype.lower())
        if not isinstance(value, str) or not value:
            errors.append(
                field_error(
                    "The content value must be a string at least one character in length.",
                    f"content.{i}.value",
                    "message.content.value",
                )
            )
    if types.count("text/plain") > 1 or types.count("text/html") > 1:
        errors.append(
            field_error(
                "If present, text/plain and text/html may only be provided once.",
                "content",
                "message.content",
            )
        )
    elif ("text/plain" in types and types.index("text/plain") != 0) or (
        "text/html" in types and any(t != "text/plain" for t in types[: types.index("text/html")])
    ):
        errors.append(
            field_error(
                "If present, text/plain must be first, followed by text/html, followed by any other content.",
                "content",
                "message.content",
            )
        )


def _categories(categories: Any, errors: Errors) -> None:
    if categories is None:
        return
    if not isinstance(categories, list):
        errors.append(_type_error("array", categories, "categories"))
        return
    if len(categories) > CATEGORIES_MAX:
        errors.append(
            field_error(
                f"Too many categories: you may assign at most {CATEGORIES_MAX} categories to a message.",
                "categories",
                "message.categories",
            )
        )
    for i, c in enumerate(categories):
        if not isinstance(c, str):
            errors.append(_type_error("string", c, f"categories.{i}"))
        elif len(c) > CATEGORY_MAX_LEN:
            errors.append(
                field_error(
                    f"A category name cannot exceed {CATEGORY_MAX_LEN} characters.",
                    f"categories.{i}",
                    "message.categories",
                )
            )
    strings = [c for c in categories if isinstance(c, str)]
    if len(set(strings)) != len(strings):
        errors.append(field_error("Categories must be unique.", "categories", "message.categories"))


def _reply_to(st: Store, data: dict[str, Any], errors: Errors) -> None:
    if "reply_to" in data and "reply_to_list" in data:
        errors.append(
            field_error(
                "The reply_to and reply_to_list parameters are mutually exclusive: use one or the other.",
                "reply_to",
                "message.reply_to",
            )
        )
        return
    if "reply_to" in data:
        value = data["reply_to"]
        email = value.get("email") if isinstance(value, dict) else None
        if not _valid_email(st, email):
            errors.append(
                field_error(
                    "The reply_to email does not contain a valid address.",
                    "reply_to.email",
                    "message.reply_to",
                )
            )
    elif "reply_to_list" in data:
        _recipients(st, data["reply_to_list"], "reply_to_list", errors)


def _attachments(attachments: Any, errors: Errors) -> None:
    if attachments is None:
        return
    if not isinstance(attachments, list):
        errors.append(_type_error("array", attachments, "attachments"))
        return
    for i, a in enumerate(attachments):
        if not isinstance(a, dict):
            errors.append(_type_error("object", a, f"attachments.{i}"))
            continue
        try:
            base64.b64decode(str(a.get("content") or ""), validate=True)
            ok = bool(a.get("content"))
        except (binascii.Error, ValueError):
            ok = False
        if not ok:
            errors.append(
                field_error(
                    "The attachment content must be base64 encoded.",
                    f"attachments.{i}.content",
                    "message.attachments.content",
                )
            )
        if not isinstance(a.get("filename"), str) or not a["filename"]:
            errors.append(
                field_error(
                    "The attachment filename parameter is required.",
                    f"attachments.{i}.filename",
                    "message.attachments.filename",
                )
            )
