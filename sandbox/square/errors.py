"""Square's errors: `{"errors": [{"category", "code", "detail", "field"}]}` with the status of the first.

Every handler raises `SquareError`; the router renders it. The helpers below are the errors the stand-in
answers most, worded as Square words them where that is known (docs/sandbox.md lists the guesses).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .encoding import dumps
from .settings import JSON_CT

__all__ = [
    "SquareError",
    "bad_request",
    "expected_integer",
    "invalid_value",
    "missing",
    "not_found",
    "too_long",
]

INVALID = "INVALID_REQUEST_ERROR"


class SquareError(Exception):
    """One or more Square errors and the HTTP status they are answered with.

    `extra` is merged into the body beside `errors` (a declined CreatePayment also returns the FAILED
    payment).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        category: str = INVALID,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        error: dict[str, Any] = {"category": category, "code": code, "detail": detail}
        if field is not None:
            error["field"] = field
        self.status = status
        self.errors = [error]
        self.extra = extra or {}

    @property
    def code(self) -> str:
        return str(self.errors[0]["code"])

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors, **self.extra}

    def body_bytes(self) -> bytes:
        return dumps(self.body())

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return Response(self.body_bytes(), self.status, headers=headers, media_type=JSON_CT)


def missing(field: str) -> SquareError:
    return SquareError(400, "MISSING_REQUIRED_PARAMETER", "Field must be set", field=field)


def invalid_value(field: str, detail: str) -> SquareError:
    return SquareError(400, "INVALID_VALUE", detail, field=field)


def expected_integer(field: str) -> SquareError:
    return SquareError(400, "EXPECTED_INTEGER", "Expected an integer value.", field=field)


def too_long(field: str, limit: int) -> SquareError:
    return SquareError(
        400, "VALUE_TOO_LONG", f"Field must not be longer than {limit} characters.", field=field
    )


def bad_request(detail: str) -> SquareError:
    return SquareError(400, "BAD_REQUEST", detail)


def not_found(what: str, ident: str) -> SquareError:
    return SquareError(404, "NOT_FOUND", f"Could not find {what} with id: {ident}")
