"""`TwilioError`: an error answered as Twilio's JSON, and the error codes the stand-in uses.

Twilio's REST errors are `{"code", "message", "more_info", "status"}` (401s add `detail`); the SDK turns
them into `TwilioRestException(status, uri, msg, code)`. A body carrying `type` and `title` as well would
make the SDK raise its RFC 9457 `TwilioServiceException` instead, so those keys are never sent.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .encoding import json_response
from .settings import MORE_INFO

__all__ = ["TwilioError", "auth_error", "not_found"]


class TwilioError(Exception):
    """An error response: Twilio `code`, `message` and HTTP `status` (400 unless said otherwise)."""

    def __init__(
        self,
        code: int,
        message: str,
        status: int = 400,
        *,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.detail, self.headers = detail, headers

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.detail is not None:
            out["detail"] = self.detail
        out["more_info"] = MORE_INFO.format(code=self.code)
        out["status"] = self.status
        return out

    def response(self) -> Response:
        return json_response(self.body(), self.status, self.headers)


def auth_error() -> TwilioError:
    return TwilioError(
        20003,
        "Authenticate",
        401,
        detail="Your AccountSid or AuthToken was incorrect.",
        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
    )


def not_found(path: str) -> TwilioError:
    return TwilioError(20404, f"The requested resource {path} was not found", 404)
