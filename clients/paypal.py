"""The PayPal REST API client: OAuth2 tokens, Orders v2, Payments v2, Transaction Search, webhooks.

`PayPalClient` fetches an access token with the app's client credentials, caches it until shortly before
`expires_in` runs out, and fetches a new one once when PayPal answers 401 `invalid_token` (an expired or
revoked token) before repeating the call. Every POST that creates or moves money carries a
`PayPal-Request-Id` (one per logical call, generated unless given), so repeating it after a timeout or a
5xx is safe: PayPal answers the first request's result instead of doing it again. Errors arrive as
`clients.errors` types whose `vendor_code` is PayPal's issue name (`ORDER_NOT_APPROVED`,
`REFUND_AMOUNT_EXCEEDED`, ...; the OAuth `error` for token problems) and whose `request_id` is the
`PayPal-Debug-Id`. Refusals of a payment itself (`INSTRUMENT_DECLINED`, `DUPLICATE_INVOICE_ID`, ...) are
`Declined`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
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
from ._http import ApiClient, ErrorInfo, HttpClient, api_error, aware_utc, decode_json, display_url, http_url
from .errors import ApiError, AuthFailed, ClientError, Declined, InvalidConfig, NotFound

__all__ = ["PayPalClient", "TransactionPage"]

logger = logging.getLogger("nxt.clients")

#: Transaction Search refuses ranges over 31 days and pages over 500 items.
MAX_SEARCH_RANGE = dt.timedelta(days=31)
MAX_PAGE_SIZE = 500
#: Refusals of the payment itself (the request was processed and said no).
DECLINE_ISSUES = frozenset(
    {
        "INSTRUMENT_DECLINED",
        "TRANSACTION_REFUSED",
        "PAYER_CANNOT_PAY",
        "DUPLICATE_INVOICE_ID",
        "PAYEE_BLOCKED_TRANSACTION",
        "TRANSACTION_BLOCKED_BY_PAYEE",
        "COMPLIANCE_VIOLATION",
        "CARD_EXPIRED",
    }
)
_ZERO_DECIMAL = frozenset({"HUF", "JPY", "TWD"})
_HINTS = {
    "invalid_client": "check client_id and client_secret (and that they belong to this environment)",
    "ORDER_NOT_APPROVED": "the buyer must approve the order first (its 'approve' link)",
    "ORDER_ALREADY_CAPTURED": "the order is captured already: read it to find its capture",
    "REFUND_AMOUNT_EXCEEDED": "refund at most what remains on the capture",
    "CAPTURE_FULLY_REFUNDED": "the capture is refunded in full already",
    "DUPLICATE_INVOICE_ID": "an invoice id can be paid once: this order was paid already",
    "INVALID_RESOURCE_ID": "no such object at PayPal (check the id and the environment)",
}


@dataclass(frozen=True)
class TransactionPage:
    """One page of Transaction Search.

    Attributes:
        items: The page's `transaction_details` as PayPal sent them.
        page: The page number (1-based) within its window.
        total_pages: Pages in the window.
        total_items: Items in the window.
        window_start: Start of the (at most 31-day) window this page belongs to, aware UTC.
        window_end: End of that window (inclusive), aware UTC.
    """

    items: list[dict[str, Any]]
    page: int
    total_pages: int
    total_items: int
    window_start: dt.datetime
    window_end: dt.datetime


def format_amount(amount: Decimal, currency: str) -> str:
    """`Decimal("12.5"), "USD"` -> `"12.50"`; raises ValueError for a float or more decimals than allowed."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__} (money is never a float)")
    places = 0 if currency.upper() in _ZERO_DECIMAL else 2
    quantum = Decimal(1).scaleb(-places)
    rounded = amount.quantize(quantum)
    if rounded != amount:
        raise ValueError(f"{amount} has more decimals than {currency.upper()} allows ({places})")
    return str(rounded)


def _rfc3339(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class PayPalClient(ApiClient):
    """Async client for PayPal's REST APIs, with token caching, retries, rate limit and breaker.

    Example:
        ```python
        async with PayPalClient(
            base_url="https://api-m.paypal.com", client_id="A...", client_secret="E..."
        ) as pp:
            order = await pp.create_order({"intent": "CAPTURE", "purchase_units": [...]})
            async for page in pp.search_transactions(start, end):
                save(page.items)
        ```

    Args:
        base_url: The API address (`https://api-m.paypal.com`, the sandbox's, or the stand-in's).
        client_id: The REST app's client id.
        client_secret: The REST app's secret.
        verify: TLS verification: True (honours SSL_CERT_FILE), False, or a CA bundle path.
        timeout: Seconds for each of connect, read, write and pool waits.
        retry: Retry policy (transport failures, 429 and 5xx; POSTs only with a PayPal-Request-Id).
        rate_limit: Client-side budget shared by every client of this base URL in the process.
        max_concurrency: Requests in flight at once.
        breaker: Circuit breaker settings (shared per base URL).
        transport: httpx transport for tests.
        deadline: Seconds one attempt may take in all (default `max(2 * timeout, 60)`).
        max_response_bytes: Largest answer body accepted.
        token_margin: Seconds before `expires_in` runs out at which a cached token is replaced.
        clock: Monotonic clock (seconds) for the token's expiry; injectable for tests.

    Attributes:
        base_url, service: Where it calls. stats: request counters (`RequestStats`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit: RateLimit | None = None,
        max_concurrency: int = 4,
        breaker: BreakerConfig = DEFAULT_BREAKER,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        token_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise InvalidConfig(
                "client_id and client_secret are required (PayPal developer dashboard > Apps)"
            )
        self.base_url, _ = http_url(base_url, name="base_url", example="https://api-m.paypal.com")
        self.service = f"PayPal at {self.base_url}"
        self.timeout = timeout
        self.verify = verify
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        self._basic = f"Basic {basic}"
        self._token: str | None = None
        self._token_expires = -math.inf
        self._token_margin = token_margin
        self._clock = clock
        self._token_lock: asyncio.Lock | None = None
        self._http = HttpClient.for_service(
            base_url=self.base_url,
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
            secrets=(client_id, client_secret, basic),
            error_factory=self._error,
        )

    def __repr__(self) -> str:
        return f"PayPalClient(base_url={self.base_url!r})"

    # -- errors

    def _error(self, response: httpx.Response) -> ApiError:
        code, message = None, None
        try:
            data = decode_json(response.content)
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict):
            if "error" in data:  # the OAuth shape
                code, message = str(data["error"]), str(data.get("error_description") or "")
            else:
                details = data.get("details") if isinstance(data.get("details"), list) else []
                first = details[0] if details and isinstance(details[0], dict) else {}
                code = str(first.get("issue") or data.get("name") or "") or None
                message = str(first.get("description") or data.get("message") or "") or None
                if first.get("field"):
                    message = f"{message} ({first['field']})"
        error = api_error(
            response,
            service=self.service,
            info=ErrorInfo(code, message),
            hint=_HINTS.get(code or ""),
            redact=self._http.redact,
        )
        error.request_id = response.headers.get("paypal-debug-id") or error.request_id
        if isinstance(error, NotFound):
            error.gone = code == "INVALID_RESOURCE_ID"
        if response.status_code == 422 and code in DECLINE_ISSUES:
            return Declined(
                error.message,
                reason=code,
                service=self.service,
                status=error.status,
                vendor_code=code,
                request_id=error.request_id,
                body=error.body,
            )
        return error

    # -- tokens

    async def access_token(self, *, refresh: bool = False) -> str:
        """A live access token: the cached one, or a new one from `/v1/oauth2/token`.

        Args:
            refresh: Fetch a new token even if the cached one has not expired.

        Raises:
            AuthFailed: The client credentials are wrong (`invalid_client`).
        """
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if not refresh and self._token is not None and self._clock() < self._token_expires:
                return self._token
            started = self._clock()
            response = await self._http.request(
                "POST",
                "/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"authorization": self._basic},
                idempotent=True,  # a second token is harmless
            )
            data = self._json(response)
            token = data.get("access_token") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                raise ApiError(
                    f"{self.service} answered the token request without an access_token",
                    service=self.service,
                    status=response.status_code,
                    body=self._http.redact(response.text),
                )
            ttl = float(data.get("expires_in") or 0)
            self._token = token
            self._token_expires = started + max(0.0, ttl - min(self._token_margin, ttl / 2))
            return token

    async def _refresh_after(self, rejected: str) -> str:
        """A new token after PayPal rejected `rejected` (only one fetch when several calls saw it)."""
        if self._token is not None and self._token != rejected:
            return self._token
        logger.info("PayPal rejected the access token (expired or revoked): fetching a new one")
        return await self.access_token(refresh=True)

    # -- requests

    def _json(self, response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return decode_json(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                f"{self.service} answered {response.request.method} {display_url(response.request.url)} "
                "with a body that is not JSON",
                service=self.service,
                status=response.status_code,
                body=self._http.redact(response.text),
            ) from None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One API call with the bearer token; a 401 `invalid_token` gets one new token and one retry."""
        query = [(k, str(v)) for k, v in (params or {}).items() if v is not None]
        extra = dict(headers or {})
        if content is not None:
            extra["content-type"] = "application/json"
        token = await self.access_token()
        for attempt in (1, 2):
            try:
                response = await self._http.request(
                    method,
                    path,
                    params=query or None,
                    json=json_body,
                    content=content,
                    headers=extra | {"authorization": f"Bearer {token}"},
                    idempotent=idempotent,
                )
            except AuthFailed as exc:
                if exc.vendor_code != "invalid_token" or attempt == 2:
                    raise
                token = await self._refresh_after(token)
                continue
            return self._json(response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """`_call` for an answer that must be a JSON object."""
        data = await self._call(method, path, **kwargs)
        if not isinstance(data, dict):
            raise ApiError(
                f"{self.service} answered {method} {path} with JSON that is not an object",
                service=self.service,
            )
        return data

    @staticmethod
    def _request_id(request_id: str | None) -> str:
        return request_id or str(uuid.uuid4())

    # -- orders

    async def create_order(
        self, body: Mapping[str, Any], *, request_id: str | None = None, prefer: str = "return=representation"
    ) -> dict[str, Any]:
        """`POST /v2/checkout/orders`.

        Args:
            body: The order request (`intent`, `purchase_units`, optional `payment_source`).
            request_id: The `PayPal-Request-Id`; one is generated when omitted (so retries are safe).
            prefer: `return=representation` (default: the whole order) or `return=minimal`.

        Returns:
            The order as PayPal answered it (a repeated request id answers the same order).
        """
        headers = {"paypal-request-id": self._request_id(request_id), "prefer": prefer}
        return await self._object(
            "POST", "/v2/checkout/orders", json_body=dict(body), headers=headers, idempotent=True
        )

    async def get_order(self, order_id: str) -> dict[str, Any]:
        """`GET /v2/checkout/orders/{id}`."""
        return await self._object("GET", f"/v2/checkout/orders/{_segment(order_id)}")

    async def capture_order(
        self, order_id: str, *, request_id: str | None = None, prefer: str = "return=representation"
    ) -> dict[str, Any]:
        """`POST /v2/checkout/orders/{id}/capture`: the order with its captures.

        A declined card capture is not an error at PayPal: the order is `COMPLETED` and its capture's
        `status` is `DECLINED`; check it.

        Raises:
            ApiError: `ORDER_NOT_APPROVED` before the buyer approved, `ORDER_ALREADY_CAPTURED` after a
                capture made with another request id.
            Declined: The payment was refused (`DUPLICATE_INVOICE_ID`, `INSTRUMENT_DECLINED`, ...).
        """
        headers = {"paypal-request-id": self._request_id(request_id), "prefer": prefer}
        path = f"/v2/checkout/orders/{_segment(order_id)}/capture"
        return await self._object("POST", path, content=b"{}", headers=headers, idempotent=True)

    async def authorize_order(
        self, order_id: str, *, request_id: str | None = None, prefer: str = "return=representation"
    ) -> dict[str, Any]:
        """`POST /v2/checkout/orders/{id}/authorize` (orders created with `intent=AUTHORIZE`)."""
        headers = {"paypal-request-id": self._request_id(request_id), "prefer": prefer}
        path = f"/v2/checkout/orders/{_segment(order_id)}/authorize"
        return await self._object("POST", path, content=b"{}", headers=headers, idempotent=True)

    # -- payments

    async def get_capture(self, capture_id: str) -> dict[str, Any]:
        """`GET /v2/payments/captures/{id}`."""
        return await self._object("GET", f"/v2/payments/captures/{_segment(capture_id)}")

    async def refund_capture(
        self,
        capture_id: str,
        *,
        amount: Decimal | None = None,
        currency: str | None = None,
        invoice_id: str | None = None,
        note_to_payer: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """`POST /v2/payments/captures/{id}/refund`: in full (no amount) or in part.

        Args:
            capture_id: The capture (what WooCommerce stores as the order's transaction id).
            amount: The part to refund, a `Decimal` in the capture's currency; None refunds what remains.
            currency: The amount's currency (required with `amount`).
            invoice_id: The shop's reference for this refund.
            note_to_payer: Shown to the buyer.
            request_id: The `PayPal-Request-Id`; generated when omitted. Pass the same one when repeating
                a refund whose answer was lost: PayPal returns that refund instead of making another.

        Returns:
            The refund (`id`, `status`, `amount`, `seller_payable_breakdown`, ...).

        Raises:
            ApiError: `REFUND_AMOUNT_EXCEEDED`, `CAPTURE_FULLY_REFUNDED`, `TRANSACTION_DISPUTED`, ...
        """
        body: dict[str, Any] = {}
        if amount is not None:
            if not currency:
                raise ValueError("currency is required with amount")
            body["amount"] = {"currency_code": currency.upper(), "value": format_amount(amount, currency)}
        if invoice_id:
            body["invoice_id"] = invoice_id
        if note_to_payer:
            body["note_to_payer"] = note_to_payer
        headers = {"paypal-request-id": self._request_id(request_id), "prefer": "return=representation"}
        path = f"/v2/payments/captures/{_segment(capture_id)}/refund"
        return await self._object("POST", path, json_body=body, headers=headers, idempotent=True)

    async def get_refund(self, refund_id: str) -> dict[str, Any]:
        """`GET /v2/payments/refunds/{id}`."""
        return await self._object("GET", f"/v2/payments/refunds/{_segment(refund_id)}")

    # -- reporting

    async def search_transactions(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        fields: str = "all",
        page_size: int = MAX_PAGE_SIZE,
        transaction_id: str | None = None,
        transaction_type: str | None = None,
        transaction_status: str | None = None,
        balance_affecting_records_only: bool = True,
    ) -> AsyncIterator[TransactionPage]:
        """Every page of `GET /v1/reporting/transactions` from `start` to `end` (inclusive).

        A range longer than PayPal's 31 days is split into consecutive windows (each second in exactly
        one), and each window is read to its last page. Remember PayPal's reporting lag: transactions can
        take up to three hours to appear, so re-read recent windows later.

        Args:
            start: Aware datetime; the search starts here.
            end: Aware datetime; the search ends here (inclusive).
            fields: `all`, or PayPal's comma-separated `transaction_info,payer_info,...`.
            page_size: 1-500 items per page.
            transaction_id, transaction_type, transaction_status: PayPal's filters.
            balance_affecting_records_only: PayPal's default (`Y`); False lists every record (`N`).

        Yields:
            `TransactionPage`s in order.
        """
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, got {page_size}")
        start, end = aware_utc(start, "start"), aware_utc(end, "end")
        if end < start:
            raise ValueError(f"end ({end}) is before start ({start})")
        window_start = start
        while window_start <= end:
            window_end = min(end, window_start + MAX_SEARCH_RANGE)
            page, pages = 1, 1
            while page <= pages:
                data = await self._call(
                    "GET",
                    "/v1/reporting/transactions",
                    params={
                        "start_date": _rfc3339(window_start),
                        "end_date": _rfc3339(window_end),
                        "fields": fields,
                        "page_size": page_size,
                        "page": page,
                        "transaction_id": transaction_id,
                        "transaction_type": transaction_type,
                        "transaction_status": transaction_status,
                        "balance_affecting_records_only": "Y" if balance_affecting_records_only else "N",
                    },
                )
                items = list(data.get("transaction_details") or [])
                pages = int(data.get("total_pages") or 0)
                yield TransactionPage(
                    items=items,
                    page=page,
                    total_pages=pages,
                    total_items=int(data.get("total_items") or 0),
                    window_start=window_start,
                    window_end=window_end,
                )
                page += 1
            window_start = window_end + dt.timedelta(seconds=1)

    # -- webhooks

    async def create_webhook(self, url: str, event_types: list[str]) -> dict[str, Any]:
        """`POST /v1/notifications/webhooks`: subscribe `url` to `event_types` (`["*"]` for all)."""
        body = {"url": url, "event_types": [{"name": name} for name in event_types]}
        return await self._object("POST", "/v1/notifications/webhooks", json_body=body, idempotent=False)

    async def list_webhooks(self) -> list[dict[str, Any]]:
        """`GET /v1/notifications/webhooks`."""
        data = await self._call("GET", "/v1/notifications/webhooks")
        return list(data.get("webhooks") or [])

    async def verify_webhook_signature(
        self, *, headers: Mapping[str, str], body: bytes, webhook_id: str
    ) -> bool:
        """Ask PayPal whether a delivery is genuine (`POST /v1/notifications/verify-webhook-signature`).

        The event is sent as the raw bytes received, never re-serialised: PayPal compares them with what
        it signed, so parsing and dumping the JSON would make a genuine delivery fail.

        Args:
            headers: The delivery's headers (any case).
            body: The delivery's raw body.
            webhook_id: The subscription the delivery was sent to (the block's webhook id).

        Returns:
            True for `SUCCESS`; False for `FAILURE` or when a transmission header is missing.
        """
        lower = {k.lower(): v for k, v in headers.items()}
        names = {
            "auth_algo": "paypal-auth-algo",
            "cert_url": "paypal-cert-url",
            "transmission_id": "paypal-transmission-id",
            "transmission_sig": "paypal-transmission-sig",
            "transmission_time": "paypal-transmission-time",
        }
        fields = {key: lower.get(header, "") for key, header in names.items()}
        if not all(fields.values()) or not webhook_id or not body.strip():
            return False
        fields["webhook_id"] = webhook_id
        head = json.dumps(fields, separators=(",", ":"))[:-1]  # the object without its closing brace
        content = f'{head},"webhook_event":'.encode() + body.strip() + b"}"
        data = await self._call(
            "POST", "/v1/notifications/verify-webhook-signature", content=content, idempotent=True
        )
        return isinstance(data, dict) and data.get("verification_status") == "SUCCESS"


def _segment(value: str) -> str:
    """An id as one path segment (PayPal ids are alphanumeric; anything else is refused here)."""
    text = str(value).strip()
    if not text or "/" in text or "?" in text or "#" in text:
        raise ClientError(f"{value!r} is not a PayPal id")
    return text
