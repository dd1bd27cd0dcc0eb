"""The WordPress REST envelope: a parsed request, JSON responses with WordPress's headers, `_fields`, paging.

`Req` is what the router hands every handler. `paged()` answers a listing the way `WC_REST_CRUD_Controller`
does: `X-WP-Total`, `X-WP-TotalPages` and a `Link` header repeating the query.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from .encoding import parse_list, parse_php_query, php_json
from .errors import WooError
from .settings import JSON_CT
from .store import Store

__all__ = ["Req", "json_response", "paged", "raw_response", "trim_fields"]


@dataclass
class Req:
    method: str
    route: str  # after API_PREFIX, e.g. "/products/12"
    raw_path: str
    query: dict[str, Any]
    query_pairs: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    https: bool
    params: dict[str, str] = field(default_factory=dict)  # path params
    args: dict[str, Any] = field(default_factory=dict)  # validated query args

    _json: Any = None

    def json(self) -> Any:
        if self._json is None:
            ctype = self.headers.get("content-type", "")
            if not self.body.strip():
                self._json = {}
            elif "application/x-www-form-urlencoded" in ctype:
                self._json = parse_php_query(self.body.decode("utf-8", "replace"))
            else:
                try:
                    self._json = json.loads(self.body.decode("utf-8-sig"))
                except (ValueError, UnicodeDecodeError):
                    raise WooError(
                        "rest_invalid_json",
                        "Invalid JSON body passed.",
                        400,
                        json_error_code=4,
                        json_error_message="Syntax error",
                    ) from None
        return self._json

    def params_json(self) -> dict[str, Any]:
        """Request params as WP merges them: JSON body over query string."""
        body = self.json()
        if not isinstance(body, dict):
            raise WooError("rest_invalid_json", "Invalid JSON body passed.", 400)
        return body


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return raw_response(php_json(obj), status, headers)


def raw_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    h = {
        "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Expose-Headers": "X-WP-Total, X-WP-TotalPages, Link",
        "Access-Control-Allow-Headers": (
            "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"
        ),
    }
    if headers:
        h.update(headers)
    return Response(body, status, headers=h, media_type=JSON_CT)


def trim_fields(req: Req, body: bytes) -> bytes:
    """`_fields=a,b`: WordPress trims the response to those top-level fields."""
    fields_arg = req.query.get("_fields")
    if not fields_arg:
        return body
    wanted = set(parse_list(fields_arg))
    data = json.loads(body)
    if isinstance(data, list):
        return php_json([{k: v for k, v in d.items() if k in wanted} for d in data])
    return php_json({k: v for k, v in data.items() if k in wanted})


def paged(st: Store, req: Req, path: str, ids: list[int], render: Callable[[int], bytes]) -> Response:
    """One page of `ids` (rendered by `render`), with WordPress's paging headers."""
    args = req.args
    per_page = args.get("per_page", 10)
    page = args.get("page", 1)
    offset = args.get("offset")
    total = len(ids)
    start = offset if offset is not None else (page - 1) * per_page
    chunk = ids[max(start, 0) : max(start, 0) + per_page]
    body = b"[" + b",".join(render(i) for i in chunk) + b"]"
    max_pages = math.ceil(total / per_page) if per_page else 0
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    links = []
    base_pairs: list[tuple[str, str]] = []  # $_GET as PHP parsed it, re-encoded by add_query_arg
    for k, v in req.query.items():
        if k == "page":
            continue
        if isinstance(v, dict):
            base_pairs.extend((f"{k}[{sk}]", str(sv)) for sk, sv in v.items())
        else:
            base_pairs.append((k, str(v)))
    if page > 1:
        prev = min(page - 1, max_pages) if max_pages else page - 1
        links.append(f'<{st.api(path)}?{urlencode(base_pairs + [("page", str(prev))])}>; rel="prev"')
    if max_pages > page:
        links.append(f'<{st.api(path)}?{urlencode(base_pairs + [("page", str(page + 1))])}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return raw_response(trim_fields(req, body), 200, headers)
