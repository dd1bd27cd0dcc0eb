"""`SendGridError`: an error answered as SendGrid's `{"errors": [{"message", "field", "help"}]}`.

The SDK (python-http-client) raises a class per status: `BadRequestsError` (400), `UnauthorizedError`
(401), `ForbiddenError` (403), `NotFoundError` (404), `MethodNotAllowedError` (405),
`PayloadTooLargeError` (413), `UnsupportedMediaTypeError` (415), `TooManyRequestsError` (429), ...
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from .settings import HELP, JSON_CT

__all__ = ["SendGridError", "field_error", "json_response"]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, separators=(",", ":")), status, media_type=JSON_CT, headers=headers)


def field_error(message: str, field: str | None, anchor: str | None = None) -> dict[str, Any]:
    """One entry of `errors`: SendGrid sends `help` as a link to its errors page, or null."""
    return {"message": message, "field": field, "help": HELP.format(anchor=anchor) if anchor else None}


class SendGridError(Exception):
    def __init__(
        self, status: int, errors: list[dict[str, Any]], *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors[0]["message"] if errors else str(status))
        self.status, self.errors, self.headers = status, errors, headers or {}

    @classmethod
    def one(cls, status: int, message: str, field: str | None = None) -> SendGridError:
        return cls(status, [{"field": field, "message": message}])

    def response(self) -> Response:
        return json_response({"errors": self.errors}, self.status, self.headers)
