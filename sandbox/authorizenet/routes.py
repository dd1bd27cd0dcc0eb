"""The dispatcher: the one JSON endpoint (`POST /xml/v1/request.api`) and the REST webhooks API.

A request is `{"<name>Request": {...}}`. It is parsed keeping member order, checked against the XSD
(`schema.validate`, E00003), authenticated (`merchantAuthentication`, E00007), then answered by the
request's handler. Every answer is HTTP 200 with a UTF-8 BOM before the JSON, errors included, and echoes
the request's `refId` once the request got past the schema check.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from . import reporting, webhooks
from .encoding import Obj, dumps, loads
from .errors import AnetError, error_body
from .schema import validate
from .settings import API_PATH, JSON_CT, MESSAGES, NAMESPACE, REQUESTS, REST_PREFIX
from .state import AnetState
from .transactions import create_transaction

__all__ = ["handle"]

Handler = Callable[[AnetState, dict[str, Any]], tuple[dict[str, Any], str]]

_REPORTS: dict[str, Handler] = {
    "getSettledBatchListRequest": reporting.settled_batch_list,
    "getTransactionListRequest": reporting.transaction_list,
    "getUnsettledTransactionListRequest": reporting.unsettled_transaction_list,
    "getTransactionDetailsRequest": reporting.transaction_details,
}


def _answer(data: dict[str, Any]) -> Response:
    return Response(dumps(data), 200, media_type=JSON_CT)


def _ok(payload: dict[str, Any], code: str, ref_id: str | None) -> dict[str, Any]:
    out = dict(payload)
    if ref_id is not None:
        out["refId"] = ref_id
    out["messages"] = {"resultCode": "Ok", "message": [{"code": code, "text": MESSAGES[code]}]}
    return out


def _parse(body: bytes) -> tuple[str, Any]:
    text = body.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise AnetError("E00003", "Root element is missing.")
    try:
        data = loads(text)
    except ValueError as exc:
        line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        pos = getattr(exc, "pos", 0)
        ch = text[pos] if pos < len(text) else ""
        raise AnetError(
            "E00003",
            f"Unexpected character encountered while parsing value: {ch}. Path '', line {line}, position "
            f"{col}.",
        ) from None
    if not isinstance(data, Obj) or not data:
        raise AnetError("E00003", "Root element is missing.")
    if len(data) > 1:
        raise AnetError("E00003", "There are multiple root elements.")
    name, value = data[0]
    if name not in REQUESTS:
        raise AnetError("E00003", f"The '{NAMESPACE}:{name}' element is not declared.")
    return name, value


def _authenticate(st: AnetState, request: dict[str, Any]) -> None:
    auth = request["merchantAuthentication"]
    name, key = str(auth.get("name", "")), auth.get("transactionKey")
    if not isinstance(key, str) or not (
        hmac.compare_digest(name.encode(), st.api_login_id.encode())
        and hmac.compare_digest(key.encode(), st.transaction_key.encode())
    ):
        raise AnetError("E00007")


def _api(st: AnetState, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in ("text/xml", "application/xml") or body.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        raise AnetError("E00002", "The content-type specified is not supported by the sandbox (send JSON).")
    name, value = _parse(body)
    request = validate(name, value)
    ref_id = request.get("refId")
    try:
        _authenticate(st, request)
    except AnetError as exc:
        return error_body(exc.code, exc.text, ref_id)
    if name == "authenticateTestRequest":
        return _ok({}, "I00001", ref_id)
    if name == "createTransactionRequest":
        response, ok = create_transaction(st, request, ref_id)
        if ok:
            return _ok({"transactionResponse": response}, "I00001", ref_id)
        return error_body("E00027", MESSAGES["E00027"], ref_id, {"transactionResponse": response})
    try:
        payload, code = _REPORTS[name](st, request)
    except AnetError as exc:
        return error_body(exc.code, exc.text, ref_id)
    return _ok(payload, code, ref_id)


def handle(st: AnetState, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
    if path == API_PATH:
        if method != "POST":
            return Response(b"", 405, headers={"Allow": "POST"})
        try:
            return _answer(_api(st, headers, body))
        except AnetError as exc:
            return _answer(error_body(exc.code, exc.text))
    if path == REST_PREFIX or path.startswith(REST_PREFIX + "/"):
        return webhooks.handle_rest(st, method, path, headers, body)
    return Response(b"<h2>404 - File or directory not found.</h2>", 404, media_type="text/html")
