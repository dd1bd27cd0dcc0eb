"""The Authorize.Net API client: one JSON endpoint, its XSD's element order, its errors in HTTP 200s.

`AuthorizeNetClient.request(name, body)` sends `{"<name>": {"merchantAuthentication": ..., ...}}` to the
API URL with the members in the order of Authorize.Net's XSD (the API refuses any other order with
`E00003`), reads the answer past its UTF-8 byte order mark with money as `Decimal`, and turns
`messages.resultCode: "Error"` into `clients.errors` types: bad credentials (`E00007`, ...) `AuthFailed`,
`E00040` `NotFound`, a declined or duplicate transaction `Declined` (its `reason` the response reason
code, e.g. "2" declined, "11" duplicate), any other refusal `ApiError` whose `vendor_code` is the
transaction's error code ("54", "55", ...) or the message code ("E00003", ...).

Reporting calls are read-only and retried like GETs; `createTransactionRequest` is retried only when it
provably never reached the gateway (a connect failure), since a payment cannot be asked for twice: the
gateway's own duplicate check (same amount, card and invoice within two minutes) is the backstop.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

import httpx

from ._config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RETRY,
    BreakerConfig,
    RateLimit,
    RetryPolicy,
)
from ._http import UTF8_BOM, ApiClient, HttpClient, aware_utc, http_url
from .errors import ApiError, AuthFailed, Declined, InvalidConfig, NotFound, ServerError

__all__ = ["AuthorizeNetClient", "order_members"]

API_PATH = "/xml/v1/request.api"
MAX_BATCH_RANGE = dt.timedelta(days=31)
MAX_PAGE_SIZE = 1000

#: Each element's children in the order of AnetApiSchema.xsd (the requests this client builds).
_BASE = ["merchantAuthentication", "clientId", "refId"]
ORDER: dict[str, list[str]] = {
    "authenticateTestRequest": _BASE,
    "createTransactionRequest": [*_BASE, "transactionRequest"],
    "getSettledBatchListRequest": [*_BASE, "includeStatistics", "firstSettlementDate", "lastSettlementDate"],
    "getTransactionListRequest": [*_BASE, "batchId", "sorting", "paging"],
    "getUnsettledTransactionListRequest": [*_BASE, "status", "sorting", "paging"],
    "getTransactionDetailsRequest": [*_BASE, "transId"],
    "merchantAuthentication": ["name", "transactionKey", "sessionToken", "password", "mobileDeviceId"],
    "transactionRequest": [
        "transactionType", "amount", "currencyCode", "payment", "profile", "solution", "callId",
        "terminalNumber", "authCode", "refTransId", "splitTenderId", "order", "lineItems", "tax", "duty",
        "shipping", "taxExempt", "poNumber", "customer", "billTo", "shipTo", "customerIP",
        "cardholderAuthentication", "retail", "employeeId", "transactionSettings", "userFields", "surcharge",
        "merchantDescriptor", "subMerchant", "tip", "processingOptions", "subsequentAuthInformation",
        "otherTax", "shipFrom", "authorizationIndicatorType",
    ],
    "payment": [
        "creditCard", "bankAccount", "trackData", "encryptedTrackData", "payPal", "opaqueData", "emv",
    ],
    "creditCard": ["cardNumber", "expirationDate", "cardCode", "isPaymentToken", "cryptogram"],
    "opaqueData": ["dataDescriptor", "dataValue", "dataKey"],
    "order": ["invoiceNumber", "description", "discountAmount", "taxIsAfterDiscount"],
    "lineItems": ["lineItem"],
    "lineItem": ["itemId", "name", "description", "quantity", "unitPrice", "taxable"],
    "tax": ["amount", "name", "description"],
    "duty": ["amount", "name", "description"],
    "shipping": ["amount", "name", "description"],
    "tip": ["amount", "name", "description"],
    "customer": ["type", "id", "email", "driversLicense", "taxId"],
    "billTo": [
        "firstName", "lastName", "company", "address", "city", "state", "zip", "country", "phoneNumber",
        "faxNumber", "email",
    ],
    "shipTo": ["firstName", "lastName", "company", "address", "city", "state", "zip", "country"],
    "transactionSettings": ["setting"],
    "setting": ["settingName", "settingValue"],
    "sorting": ["orderBy", "orderDescending"],
    "paging": ["limit", "offset"],
}  # fmt: skip
_AUTH_CODES = frozenset({"E00005", "E00006", "E00007", "E00008", "E00010", "E00011", "E00059"})
_DECLINED_RESPONSE_CODES = frozenset({"2", "4"})
_DUPLICATE = "11"
_HINTS = {
    "E00003": "the request does not fit Authorize.Net's schema (member order, a required member, a value)",
    "E00007": "check api_login_id and transaction_key (and that they belong to this environment)",
    "E00040": "no such record at Authorize.Net",
    "54": "only settled transactions can be refunded (void an unsettled one), with the card's last 4 digits",
    "55": "refund at most what remains of the original transaction",
    "16": "no such transaction to capture or void (a settled one must be refunded instead)",
}


def order_members(element: str, value: Any) -> Any:
    """`value` with every object's members in the XSD's order (unknown members after, as given)."""
    if isinstance(value, Mapping):
        known = ORDER.get(element, [])
        rank = {name: i for i, name in enumerate(known)}
        keys = sorted(value, key=lambda k: (rank.get(k, len(known)), 0))
        return {k: order_members(k, value[k]) for k in keys}
    if isinstance(value, list | tuple):
        return [order_members(element, v) for v in value]
    return value


def _money(amount: Decimal) -> str:
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__} (money is never a float)")
    rounded = amount.quantize(Decimal("0.01"))
    if rounded != amount:
        raise ValueError(f"{amount} has more than two decimals")
    return str(rounded)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(f"cannot send a {type(value).__name__} to Authorize.Net")


class AuthorizeNetClient(ApiClient):
    """Async client for the Authorize.Net API (JSON), with retries, rate limit and breaker.

    Example:
        ```python
        async with AuthorizeNetClient(
            api_url="https://api.authorize.net/xml/v1/request.api", api_login_id="...", transaction_key="..."
        ) as anet:
            async for batch in anet.settled_batches(start, end):
                async for page in anet.batch_transactions(batch["batchId"]):
                    save(page)
        ```

    Args:
        api_url: The full request URL (`https://api.authorize.net/xml/v1/request.api`); a base URL without
            the path gets `/xml/v1/request.api` appended.
        api_login_id: The merchant's API login id.
        transaction_key: The merchant's transaction key.
        verify: TLS verification: True (honours SSL_CERT_FILE), False, or a CA bundle path.
        timeout: Seconds for each of connect, read, write and pool waits.
        retry: Retry policy (reporting calls like GETs; transactions only when never sent).
        rate_limit: Client-side budget shared by every client of this URL in the process.
        max_concurrency: Requests in flight at once.
        breaker: Circuit breaker settings (shared per URL).
        transport: httpx transport for tests.
        deadline: Seconds one attempt may take in all.
        max_response_bytes: Largest answer accepted.

    Attributes:
        api_url, service: Where it calls. stats: request counters.
    """

    def __init__(
        self,
        *,
        api_url: str,
        api_login_id: str,
        transaction_key: str,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit: RateLimit | None = None,
        max_concurrency: int = 4,
        breaker: BreakerConfig = DEFAULT_BREAKER,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if not api_login_id or not transaction_key:
            raise InvalidConfig("api_login_id and transaction_key are required (Account > Security Settings)")
        text, url = http_url(api_url, name="api_url", example=f"https://api.authorize.net{API_PATH}")
        if not url.path.endswith(API_PATH):
            text = text + API_PATH
        self.api_url = text
        self.service = f"Authorize.Net at {httpx.URL(text).copy_with(path='/', query=None)}".rstrip("/")
        self._auth = {"name": api_login_id, "transactionKey": transaction_key}
        self._http = HttpClient.for_service(
            base_url=self.api_url,
            service=self.service,
            rate_limit=rate_limit,
            breaker=breaker,
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            verify=verify,
            retry=retry,
            max_concurrency=max_concurrency,
            transport=transport,
            secrets=(transaction_key,),
        )

    def __repr__(self) -> str:
        return f"AuthorizeNetClient(api_url={self.api_url!r})"

    # -- the one endpoint

    async def request(
        self, name: str, body: Mapping[str, Any] | None = None, *, idempotent: bool | None = None
    ) -> dict[str, Any]:
        """Send one API request and return its answer (BOM stripped, money as `Decimal`).

        Args:
            name: The request, e.g. `getSettledBatchListRequest` (the `Request` suffix may be left out).
            body: Its members, in any order (they are put in the XSD's order); `merchantAuthentication`
                is added.
            idempotent: Whether repeating it is harmless; default True for everything but
                `createTransactionRequest`.

        Raises:
            AuthFailed, NotFound, Declined, ApiError: the answer's `resultCode` was `Error`.
        """
        name = name if name.endswith("Request") else name + "Request"
        if idempotent is None:
            idempotent = name != "createTransactionRequest"
        members = {"merchantAuthentication": self._auth, **dict(body or {})}
        payload = {name: order_members(name, members)}
        content = json.dumps(payload, default=_encode, separators=(",", ":")).encode()
        response = await self._http.request(
            "POST",
            self.api_url,
            content=content,
            headers={"content-type": "application/json"},
            idempotent=idempotent,
        )
        data = self._decode(response)
        messages = data.get("messages") or {}
        if messages.get("resultCode") != "Error":
            return data
        raise self._error(name, data, response)

    def _decode(self, response: httpx.Response) -> dict[str, Any]:
        body = response.content.lstrip()
        if body.startswith(UTF8_BOM):
            body = body[len(UTF8_BOM) :]
        try:
            data = json.loads(body.decode("utf-8"), parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                f"{self.service} answered with a body that is not JSON",
                service=self.service,
                status=response.status_code,
                body=self._http.redact(response.text),
            ) from None
        if not isinstance(data, dict):
            raise ApiError(f"{self.service} answered with JSON that is not an object", service=self.service)
        return data

    def _error(self, name: str, data: dict[str, Any], response: httpx.Response) -> ApiError:
        first = (data["messages"].get("message") or [{}])[0]
        code, text = str(first.get("code", "")), str(first.get("text", ""))
        txn = data.get("transactionResponse") if isinstance(data.get("transactionResponse"), dict) else None
        errors = (txn or {}).get("errors") or []
        reason, reason_text = (
            (str(errors[0].get("errorCode")), str(errors[0].get("errorText"))) if errors else ("", "")
        )
        vendor = reason or code
        said = f"{code}{' ' + reason if reason else ''}: {reason_text or text}"
        hint = _HINTS.get(vendor) or _HINTS.get(code)
        message = f"{self.service} refused {name} ({said})" + (f"; {hint}" if hint else "")
        kwargs: dict[str, Any] = {
            "service": self.service,
            "status": response.status_code,
            "vendor_code": vendor,
            "body": self._http.redact(response.text),
        }
        if code in _AUTH_CODES:
            return AuthFailed(
                f"{self.service} rejected the credentials ({said}); {_HINTS['E00007']}", **kwargs
            )
        if code == "E00040":
            return NotFound(message, gone=True, **kwargs)
        if txn is not None and (
            str(txn.get("responseCode")) in _DECLINED_RESPONSE_CODES or reason == _DUPLICATE
        ):
            trans_id = str(txn.get("transId") or "")
            return Declined(
                message,
                reason=reason,
                transaction_id=trans_id if trans_id not in ("", "0") else None,
                **kwargs,
            )
        if code == "E00001" and name != "createTransactionRequest":
            return ServerError(message, **kwargs)  # "Please try again": safe for a read
        return ApiError(message, **kwargs)

    # -- helpers: transactions

    async def authenticate_test(self) -> None:
        """`authenticateTestRequest`: raises `AuthFailed` unless the credentials work."""
        await self.request("authenticateTestRequest")

    async def charge(
        self,
        amount: Decimal,
        *,
        card_number: str,
        expiration_date: str,
        card_code: str | None = None,
        invoice_number: str | None = None,
        description: str | None = None,
        customer_email: str | None = None,
        bill_to: Mapping[str, str] | None = None,
        auth_only: bool = False,
        ref_id: str | None = None,
    ) -> dict[str, Any]:
        """`authCaptureTransaction` (or `authOnlyTransaction`); returns the `transactionResponse`.

        Not retried after it may have reached the gateway: on a `TransportFailure` look the invoice up
        (`unsettled_transactions`) before charging again.
        """
        card: dict[str, Any] = {"cardNumber": card_number, "expirationDate": expiration_date}
        if card_code:
            card["cardCode"] = card_code
        tr: dict[str, Any] = {
            "transactionType": "authOnlyTransaction" if auth_only else "authCaptureTransaction",
            "amount": _money(amount),
            "payment": {"creditCard": card},
        }
        if invoice_number or description:
            tr["order"] = {
                k: v for k, v in (("invoiceNumber", invoice_number), ("description", description)) if v
            }
        if customer_email:
            tr["customer"] = {"email": customer_email}
        if bill_to:
            tr["billTo"] = dict(bill_to)
        return await self._transaction(tr, ref_id)

    async def capture(
        self, trans_id: str, amount: Decimal | None = None, *, ref_id: str | None = None
    ) -> dict[str, Any]:
        """`priorAuthCaptureTransaction` of an authorisation (in full, or `amount`)."""
        tr: dict[str, Any] = {"transactionType": "priorAuthCaptureTransaction", "refTransId": trans_id}
        if amount is not None:
            tr["amount"] = _money(amount)
        return await self._transaction(tr, ref_id)

    async def refund(
        self, trans_id: str, amount: Decimal, *, card_last4: str, ref_id: str | None = None
    ) -> dict[str, Any]:
        """`refundTransaction` of a settled transaction; Authorize.Net wants the card's last 4 digits.

        Raises:
            ApiError: vendor_code "54" when the transaction is not settled yet (void it instead) or the
                digits do not match; "55" when the amount is more than remains.
        """
        if not (len(card_last4) == 4 and card_last4.isdigit()):
            raise ValueError(f"card_last4 must be the card's last four digits, got {card_last4!r}")
        tr = {
            "transactionType": "refundTransaction",
            "amount": _money(amount),
            "payment": {"creditCard": {"cardNumber": card_last4, "expirationDate": "XXXX"}},
            "refTransId": trans_id,
        }
        return await self._transaction(tr, ref_id)

    async def void(self, trans_id: str, *, ref_id: str | None = None) -> dict[str, Any]:
        """`voidTransaction` of an unsettled transaction (an authorisation or a capture not yet settled)."""
        return await self._transaction({"transactionType": "voidTransaction", "refTransId": trans_id}, ref_id)

    async def _transaction(self, tr: dict[str, Any], ref_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"transactionRequest": tr}
        if ref_id:
            body["refId"] = ref_id
        data = await self.request("createTransactionRequest", body)
        return dict(data.get("transactionResponse") or {})

    # -- helpers: reporting

    async def transaction_details(self, trans_id: str) -> dict[str, Any]:
        """`getTransactionDetailsRequest`: the transaction (raises `NotFound` for an unknown transId)."""
        data = await self.request("getTransactionDetailsRequest", {"transId": trans_id})
        return dict(data.get("transaction") or {})

    async def settled_batches(
        self, first: dt.datetime, last: dt.datetime, *, statistics: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        """Every batch settled from `first` to `last` (inclusive), in windows of at most 31 days."""
        first, last = aware_utc(first, "first"), aware_utc(last, "last")
        if last < first:
            raise ValueError(f"last ({last}) is before first ({first})")
        start = first
        while start <= last:
            end = min(last, start + MAX_BATCH_RANGE)
            data = await self.request(
                "getSettledBatchListRequest",
                {"includeStatistics": statistics, "firstSettlementDate": start, "lastSettlementDate": end},
            )
            for batch in data.get("batchList") or []:
                yield batch
            start = end + dt.timedelta(seconds=1)

    async def batch_transactions(
        self, batch_id: str, *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The transactions of a settled batch, one page (oldest first) at a time."""
        async for page in self._pages("getTransactionListRequest", {"batchId": batch_id}, page_size):
            yield page

    async def unsettled_transactions(
        self, *, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The transactions not settled yet, one page (oldest first) at a time."""
        async for page in self._pages("getUnsettledTransactionListRequest", {}, page_size):
            yield page

    async def _pages(
        self, name: str, body: dict[str, Any], page_size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, got {page_size}")
        page = 1
        while True:
            data = await self.request(
                name,
                {
                    **body,
                    "sorting": {"orderBy": "submitTimeUTC", "orderDescending": False},
                    "paging": {"limit": page_size, "offset": page},
                },
            )
            items = list(data.get("transactions") or [])
            if items:
                yield items
            total = int(data.get("totalNumInResultSet") or 0)
            if not items or page * page_size >= total:
                return
            page += 1
