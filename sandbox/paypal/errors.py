"""PayPal's error answers: `{name, message, debug_id, details[], links}` with a `PayPal-Debug-Id` header.

`PayPalError` is raised anywhere a request is refused and turned into the response by the dispatcher. The
OAuth endpoint and an expired bearer token answer the OAuth shape `{error, error_description}` instead
(`OAuthError`); the v1 notifications API answers `VALIDATION_ERROR` with `information_link`.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import Response

from .encoding import dumps
from .settings import JSON_CT, ORDERS_DOCS

__all__ = [
    "MESSAGES",
    "OAuthError",
    "PayPalError",
    "debug_id",
    "detail",
    "invalid_request",
    "not_found",
    "unprocessable",
]

#: The `message` that goes with each error `name` (the contracts' `error_4xx` schemas).
MESSAGES = {
    "INVALID_REQUEST": "Request is not well-formed, syntactically incorrect, or violates schema.",
    "AUTHENTICATION_FAILURE": (
        "Authentication failed due to invalid authentication credentials or a missing Authorization header."
    ),
    "NOT_AUTHORIZED": "Authorization failed due to insufficient permissions.",
    "RESOURCE_NOT_FOUND": "The specified resource does not exist.",
    "METHOD_NOT_SUPPORTED": "The server does not implement the requested HTTP method.",
    "UNSUPPORTED_MEDIA_TYPE": "The server does not support the request payload's media type.",
    "UNPROCESSABLE_ENTITY": (
        "The requested action could not be performed, semantically incorrect, or failed business validation."
    ),
    "RESOURCE_CONFLICT": "The server has detected a conflict while processing this request.",
    "INTERNAL_SERVER_ERROR": "An internal server error occurred.",
    "VALIDATION_ERROR": "Invalid request - see details",
}


def debug_id() -> str:
    """PayPal's correlation id: 13 hex characters."""
    return secrets.token_hex(7)[:13]


def detail(
    issue: str,
    description: str,
    *,
    field: str | None = None,
    value: Any = None,
    location: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if field is not None:
        out["field"] = field
    if value is not None:
        out["value"] = value if isinstance(value, str) else str(value)
    if location is not None:
        out["location"] = location
    out["issue"] = issue
    out["description"] = description
    return out


class PayPalError(Exception):
    """A refusal in PayPal's JSON error shape."""

    def __init__(
        self,
        status: int,
        name: str,
        details: list[dict[str, Any]] | None = None,
        *,
        message: str | None = None,
        docs: str = ORDERS_DOCS,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.name = name
        self.message = message or MESSAGES.get(name, name)
        self.details = details or []
        self.docs = docs
        self.extra = extra or {}
        super().__init__(f"{status} {name}: {self.message}")

    def body(self, dbg: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.details:
            out["details"] = self.details
        out["message"] = self.message
        out["debug_id"] = dbg
        out.update(self.extra)
        issue = self.details[0]["issue"] if self.details else self.name
        out.setdefault("links", [{"href": self.docs + issue, "rel": "information_link", "method": "GET"}])
        return out

    def response(self) -> Response:
        dbg = debug_id()
        return Response(
            dumps(self.body(dbg)), self.status, media_type=JSON_CT, headers={"PayPal-Debug-Id": dbg}
        )


class OAuthError(Exception):
    """The OAuth 2.0 error shape PayPal's token endpoint (and an expired token) answers."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status, self.error, self.description = status, error, description

    def response(self) -> Response:
        body = dumps({"error": self.error, "error_description": self.description})
        return Response(body, self.status, media_type=JSON_CT, headers={"PayPal-Debug-Id": debug_id()})


def invalid_request(
    details: list[dict[str, Any]], *, message: str | None = None, docs: str = ORDERS_DOCS
) -> PayPalError:
    return PayPalError(400, "INVALID_REQUEST", details, message=message, docs=docs)


def unprocessable(issue: str, description: str, *, docs: str = ORDERS_DOCS, **where: Any) -> PayPalError:
    return PayPalError(422, "UNPROCESSABLE_ENTITY", [detail(issue, description, **where)], docs=docs)


def not_found(field: str, value: str, *, docs: str = ORDERS_DOCS) -> PayPalError:
    return PayPalError(
        404,
        "RESOURCE_NOT_FOUND",
        [
            detail(
                "INVALID_RESOURCE_ID",
                "Specified resource ID does not exist. Please check the resource ID and try again.",
                field=field,
                value=value,
                location="path",
            )
        ],
        docs=docs,
    )
