"""The Event Webhook settings API: `/v3/user/webhooks/event/settings` and its `/signed` variant.

`GET`/`PATCH .../settings` read and change `enabled`, `url` and which events are posted;
`GET .../settings/signed` gives the verification key (`public_key`, base64 SPKI; empty while signing is
off) and `PATCH` with `{"enabled": bool}` switches signing.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from .errors import SendGridError
from .settings import DEFAULT_EVENT_SETTINGS
from .store import Store

__all__ = ["get_settings", "get_signed", "patch_settings", "patch_signed"]


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SendGridError.one(400, "Bad Request") from None
    if not isinstance(data, dict):
        raise SendGridError.one(400, "Bad Request")
    return data


def get_settings(st: Store) -> dict[str, Any]:
    return dict(st.event_settings)


def patch_settings(st: Store, body: bytes) -> dict[str, Any]:
    data = _json_object(body)
    errors = []
    for key, value in data.items():
        if key not in DEFAULT_EVENT_SETTINGS:
            continue  # SendGrid ignores unknown properties
        expected = str if isinstance(DEFAULT_EVENT_SETTINGS[key], str) else bool
        if not isinstance(value, expected):
            errors.append({"field": key, "message": f"{key} must be a {expected.__name__}"})
    url = data.get("url", st.event_settings["url"])
    if isinstance(url, str) and url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append({"field": "url", "message": "url must be a valid http or https URL"})
    if data.get("enabled", st.event_settings["enabled"]) is True and not url:
        errors.append({"field": "url", "message": "url is required when the webhook is enabled"})
    if errors:
        raise SendGridError(400, errors)
    st.event_settings.update({k: v for k, v in data.items() if k in DEFAULT_EVENT_SETTINGS})
    return dict(st.event_settings)


def get_signed(st: Store) -> dict[str, Any]:
    return {"public_key": st.signing_key.public_key if st.signed else ""}


def patch_signed(st: Store, body: bytes) -> dict[str, Any]:
    data = _json_object(body)
    if not isinstance(data.get("enabled"), bool):
        raise SendGridError(
            400, [{"field": "enabled", "message": "enabled is required and must be a boolean"}]
        )
    st.signed = data["enabled"]
    return get_signed(st)
