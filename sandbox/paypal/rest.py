"""The request envelope of the PayPal REST API: a parsed request, JSON bodies, `Prefer`, JSON responses.

`Req` is what the router hands every handler. A body that is not JSON is PayPal's 400
`MALFORMED_REQUEST_JSON`; a body sent with another content type is 415 `UNSUPPORTED_MEDIA_TYPE`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from .encoding import dumps
from .errors import PayPalError, debug_id, detail, invalid_request
from .settings import JSON_CT, ORDERS_DOCS

__all__ = ["Req", "json_response"]


@dataclass
class Req:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    docs: str = ORDERS_DOCS

    _json: Any = None

    def arg(self, name: str) -> str | None:
        """The first query value of `name` (PayPal reads the first)."""
        for k, v in self.query:
            if k == name:
                return v
        return None

    @property
    def request_id(self) -> str | None:
        value = self.headers.get("paypal-request-id", "").strip()
        return value or None

    @property
    def minimal(self) -> bool:
        """`Prefer: return=minimal` is the default; only `return=representation` asks for everything."""
        return "return=representation" not in self.headers.get("prefer", "").replace(" ", "").lower()

    def json(self, *, required: bool = False) -> Any:
        """The JSON body ({} when empty, unless `required`)."""
        if self._json is not None:
            return self._json
        if not self.body.strip():
            if required:
                raise invalid_request(
                    [
                        detail(
                            "MALFORMED_REQUEST_JSON",
                            "The request JSON is not well formed.",
                            field="/",
                            location="body",
                        )
                    ],
                    docs=self.docs,
                )
            self._json = {}
            return self._json
        ctype = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype and ctype != "application/json" and not ctype.endswith("+json"):
            raise PayPalError(415, "UNSUPPORTED_MEDIA_TYPE", docs=self.docs)
        try:
            self._json = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise invalid_request(
                [
                    detail(
                        "MALFORMED_REQUEST_JSON",
                        "The request JSON is not well formed.",
                        field="/",
                        location="body",
                    )
                ],
                docs=self.docs,
            ) from None
        return self._json


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A PayPal JSON answer, with the `PayPal-Debug-Id` every PayPal answer carries."""
    h = {"PayPal-Debug-Id": debug_id()}
    if headers:
        h.update(headers)
    return Response(dumps(data), status, media_type=JSON_CT, headers=h)
