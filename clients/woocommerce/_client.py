"""The WooCommerce REST API client."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from .._config import (
    DEFAULT_BREAKER,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_RETRY,
    BreakerConfig,
    RateLimit,
    RetryPolicy,
)
from .._http import (
    ErrorInfo,
    HttpClient,
    RequestStats,
    api_error,
    decode_json,
    display_url,
    request_id_of,
    shared_breaker,
    shared_limiter,
)
from ..errors import ApiError, ClientError, InvalidConfig, NotFound, NotWooCommerce
from ._auth import build_auth
from ._batch import BatchResult, absorb, chunk_body, plan_chunks
from ._pages import Page, fetch_in_order, fetch_sequential, read_totals, trusted_totals
from ._reads import FetchResult, check_id, ids_of, resolve, unique_ids
from ._reads import fetch_by_ids as _fetch_by_ids
from .settings import (
    API_PREFIX,
    BATCH_MAX,
    DEFAULT_VERSION,
    GONE_CODE,
    NO_ROUTE_CODE,
    PER_PAGE_MAX,
    RESOURCES,
)

__all__ = ["WooCommerceClient"]

logger = logging.getLogger("nxt.clients")

USER_AGENT = "nxt-integrations (+httpx)"
SETUP_HINT = (
    "base_url must be the WordPress site address with WooCommerce active and pretty permalinks enabled"
)


def _normalise_base_url(base_url: str) -> httpx.URL:
    text = (base_url or "").strip()
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InvalidConfig(f"base_url {text!r} is not a valid URL ({exc})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidConfig(
            f"base_url {text!r} must be an http(s) URL of the store, e.g. https://shop.example.com"
        )
    if url.userinfo:
        raise InvalidConfig("base_url must not contain a user or password; use the consumer key")
    path = url.path.rstrip("/")
    # Forgive a base_url copied with the API prefix, e.g. https://shop/wp-json/wc/v3.
    if API_PREFIX in path:
        path = path[: path.index(API_PREFIX)]
    return url.copy_with(path=path or "", query=None, fragment=None)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8 or ::1 (IPv4-mapped too)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def insecure_setting(site: httpx.URL, verify: bool | str) -> str | None:
    """Why talking to `site` this way exposes the store's data, or None when it does not.

    Traffic to a loopback address never leaves the machine (the sandbox), so it is fine.
    """
    if is_loopback(site.host):
        return None
    if site.scheme == "http":
        return (
            f"{site} is plain http: customer names, addresses and orders travel in clear, and "
            "OAuth 1.0a signs no body (it is the only auth WooCommerce accepts over http), so "
            "anyone on the path can read them and change what is written; use the store's "
            "https:// address"
        )
    if verify is False:
        return (
            f"TLS verification is off for {site}: anyone on the path can read and change the "
            "API traffic, keys included, by presenting any certificate; give the store's CA "
            "bundle instead (verify='/path/to/ca.pem' or the block's CA bundle)"
        )
    return None


def _basic_token(key: str, secret: str) -> str:
    return base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_query_value(v) for v in value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query pairs: None dropped, bools as true/false, lists comma-separated (WP REST style)."""
    return [(k, _query_value(v)) for k, v in (params or {}).items() if v is not None]


class WooCommerceClient:
    """Async client for the WooCommerce REST API (v3), with retries, rate limit and breaker.

    Authentication follows what WooCommerce accepts: HTTP Basic over https (or the keys in the
    query string with `query_string_auth=True`), OAuth 1.0a HMAC-SHA256 over plain http.

    Example:
        ```python
        async with WooCommerceClient(
            base_url="https://shop.example.com", consumer_key="ck_...", consumer_secret="cs_..."
        ) as wc:
            await wc.check()
            async for page in wc.iter_pages("products", params={"orderby": "id", "order": "asc"}):
                save(page.items)
        ```

    Args:
        base_url: The WordPress site address, e.g. https://shop.example.com.
        consumer_key: REST API consumer key (`ck_...`).
        consumer_secret: REST API consumer secret (`cs_...`).
        api_version: REST namespace, `wc/v3` by default.
        verify: TLS verification: True (honours SSL_CERT_FILE), False, or a CA bundle path.
            False, or a plain-http `base_url`, on a host that is not loopback is accepted
            with a warning on the `nxt.clients` logger.
        timeout: Seconds for each of connect, read, write and pool waits.
        retry: Retry policy for TransportFailure, RateLimited and ServerError.
        rate_limit: Client-side budget, shared by every client of this store in the process;
            None means none (a 429's Retry-After still pauses every request).
        max_concurrency: Requests in flight at once (also the page window of `iter_pages`).
        query_string_auth: Over https, send the keys as query parameters instead of Basic.
        breaker: Circuit breaker settings; the breaker is shared per store in the process.
        transport: httpx transport, e.g. `httpx.MockTransport`, for tests.
        before_request: An async callable awaited before every request this client sends
            (retries, the credential check, every page and per-id read included), before the
            local rate limiter: where a flow takes a slot of a budget shared across workers.
        deadline: Seconds one attempt may take in all, from sending to the last byte of the
            body (httpx's `timeout` is per read); default `max(2 * timeout, 60)`.
        max_response_bytes: Largest answer body accepted; larger raises `ResponseTooLarge`.

    Attributes:
        base_url, api_url, api_version, service, auth_method: Where and how it calls.
        retry, rate_limit, timeout, deadline, verify, max_concurrency: The settings in use.
        stats: Request counters (`RequestStats`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        api_version: str = DEFAULT_VERSION,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit: RateLimit | None = None,
        max_concurrency: int = 4,
        query_string_auth: bool = False,
        breaker: BreakerConfig = DEFAULT_BREAKER,
        transport: httpx.AsyncBaseTransport | None = None,
        before_request: Callable[[], Awaitable[None]] | None = None,
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        site = _normalise_base_url(base_url)
        if not consumer_key or not consumer_secret:
            raise InvalidConfig(
                "consumer_key and consumer_secret are required; create a key in WooCommerce > "
                "Settings > Advanced > REST API"
            )
        if max_concurrency < 1:
            raise InvalidConfig(f"max_concurrency must be >= 1, got {max_concurrency}")
        danger = insecure_setting(site, verify)
        if danger:
            logger.warning("%s", danger)
        self.base_url = str(site).rstrip("/")
        self.api_version = api_version.strip("/")
        self.api_url = f"{self.base_url}{API_PREFIX}/{self.api_version}/"
        self.max_concurrency = max_concurrency
        self.retry = retry
        self.rate_limit = rate_limit
        self.timeout = timeout
        self.verify = verify
        self.service = f"WooCommerce at {self.base_url}"
        auth, self.auth_method = build_auth(
            site.scheme, consumer_key, consumer_secret, query_string_auth=query_string_auth
        )
        self._http = HttpClient(
            base_url=self.api_url,
            service=self.service,
            auth=auth,
            headers={"accept": "application/json", "user-agent": USER_AGENT},
            timeout=timeout,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
            verify=verify,
            retry=retry,
            limiter=shared_limiter(self.base_url, rate_limit),
            breaker=shared_breaker(self.base_url, breaker, name=self.service),
            max_concurrency=max_concurrency,
            transport=transport,
            # The Basic header's base64 too, in case a proxy echoes request headers back.
            secrets=(consumer_key, consumer_secret, _basic_token(consumer_key, consumer_secret)),
            error_factory=self._error,
            before_request=before_request,
        )

    @property
    def deadline(self) -> float:
        """Seconds one attempt may take in all (send, headers, body)."""
        return self._http.deadline

    def __repr__(self) -> str:
        return (
            f"WooCommerceClient(base_url={self.base_url!r}, api_version={self.api_version!r}, "
            f"auth={self.auth_method!r})"
        )

    async def __aenter__(self) -> WooCommerceClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def stats(self) -> RequestStats:
        """Request counters so far: requests, by status, retries, 429s seen, waits."""
        return self._http.stats

    # -- errors

    def _error(self, response: httpx.Response) -> ApiError:
        """The `ApiError` for a non-2xx answer, with WooCommerce-specific fixes."""
        status = response.status_code
        request = response.request
        what = f"{request.method} {display_url(request.url)}"
        info = _wc_error_info(response)
        common: dict[str, Any] = {
            "service": self.service,
            "status": status,
            "vendor_code": info.code,
            "request_id": request_id_of(response),
            "body": self._http.redact(response.text) if response.content else None,
        }
        if 300 <= status < 400:
            target = httpx.URL(response.headers.get("location", ""))
            where = str(target.copy_with(query=None, fragment=None)) if target.host else "?"
            site = f"{target.scheme}://{target.netloc.decode()}" if target.host else "its address"
            return NotWooCommerce(
                f"{self.service} redirected {what} ({status}) to {self._http.redact(where)}; "
                f"set base_url to {site} (the address WordPress itself uses)",
                **common,
            )
        if status == 404 and info.code is None:
            return NotWooCommerce(
                f"{self.service} has no WordPress REST API at {what} (404 without a REST error); "
                f"{SETUP_HINT}",
                **common,
            )
        hint: str | None = None
        if status in (401, 403):
            message = (info.message or "").lower()
            if "permission" in message:
                hint = "give the key Read/Write permission in WooCommerce > Settings > Advanced > REST API"
            elif self.auth_method != "oauth1" and info.code in (
                "woocommerce_rest_cannot_view",
                "woocommerce_rest_cannot_create",
                "woocommerce_rest_cannot_edit",
                "woocommerce_rest_cannot_delete",
                "woocommerce_rest_cannot_batch",
            ):
                hint = (
                    "check consumer_key/consumer_secret on the block; if they are right, "
                    "WordPress does not see the request as HTTPS (behind a proxy?) and so ignores "
                    "the keys, or the key's user lacks the capability"
                )
            else:
                hint = "check consumer_key/consumer_secret on the block"
        elif status == 404 and info.code == NO_ROUTE_CODE:
            hint = (
                f"check the path and api_version ({self.api_version}); if WooCommerce has this "
                "route, a plugin, security rule or proxy is answering for it"
            )
        elif status == 404 and is_gone_code(info.code):
            hint = "no such record in the store (deleted, or never there)"
        elif status == 413:
            hint = f"send at most {BATCH_MAX} items per batch request"
        elif status == 400 and info.code == "rest_invalid_param":
            hint = "fix the parameter named in the message"
        error = api_error(
            response,
            service=self.service,
            info=info,
            hint=hint,
            redact=self._http.redact,
        )
        if isinstance(error, NotFound):
            error.gone = is_gone_code(info.code)
        return error

    def _not_json(self, response: httpx.Response) -> NotWooCommerce:
        request = response.request
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        snippet = " ".join(response.text[:80].split())
        fix = SETUP_HINT
        if any(word in response.text[:2000] for word in ("Deprecated</b>", "Warning</b>", "Notice</b>")):
            # PHP printed notices in front of the JSON.
            fix = "the site prints PHP notices into API answers: set WP_DEBUG_DISPLAY to false"
        return NotWooCommerce(
            f"{self.service} answered {request.method} {display_url(request.url)} with {kind} "
            f"that is not JSON ({self._http.redact(snippet)!r}); {fix}",
            service=self.service,
            status=response.status_code,
            request_id=request_id_of(response),
            body=self._http.redact(response.text),
        )

    # -- requests

    def _path(self, path: str) -> str:
        if "://" in path or path.startswith("//"):
            raise InvalidConfig(f"path {path!r} must be relative to the API root, e.g. 'products/12'")
        return path.strip().lstrip("/")

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        retry: RetryPolicy | None = None,
    ) -> tuple[Any, httpx.Response]:
        url = self._path(path)
        try:
            response = await self._http.request(
                method, url, params=_query(params), json=json, idempotent=idempotent, retry=retry
            )
        except NotFound as exc:
            # rest_no_route for any path: tell "wrong path" from "WooCommerce is not there".
            if exc.vendor_code == NO_ROUTE_CODE and not await self._namespace_exists():
                raise self._no_namespace(exc) from None
            raise
        if not response.content.strip():
            return None, response
        try:
            return decode_json(response.content), response
        except (ValueError, UnicodeDecodeError):
            raise self._not_json(response) from None

    def _no_namespace(self, exc: ApiError | None = None) -> NotWooCommerce:
        return NotWooCommerce(
            f"{self.service} runs WordPress but has no {self.api_version} REST namespace "
            f"(404 {NO_ROUTE_CODE}); install and activate WooCommerce, or fix api_version",
            service=self.service,
            status=404,
            vendor_code=NO_ROUTE_CODE,
            request_id=exc.request_id if exc else None,
            body=exc.body if exc else None,
        )

    async def _namespace_index(self, retry: RetryPolicy | None = None) -> dict[str, Any]:
        """GET /wp-json/{api_version}: the namespace's route index (proves it is WooCommerce)."""
        url = self.api_url.rstrip("/")
        try:
            response = await self._http.request("GET", url, retry=retry)
        except NotFound as exc:
            raise self._no_namespace(exc) from None
        try:
            data = decode_json(response.content)
        except (ValueError, UnicodeDecodeError):
            raise self._not_json(response) from None
        if not isinstance(data, dict) or data.get("namespace", self.api_version) != (self.api_version):
            raise NotWooCommerce(
                f"{self.service} answered GET {API_PREFIX}/{self.api_version} with JSON that is "
                f"not the {self.api_version} route index; {SETUP_HINT}",
                service=self.service,
                status=response.status_code,
                body=self._http.redact(response.text),
            )
        return data

    async def _namespace_exists(self) -> bool:
        try:
            await self._namespace_index(RetryPolicy(max_retries=0))
        except NotWooCommerce:
            return False
        except ClientError:
            return True  # unknown: keep the original error
        return True

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET one resource or endpoint under the API root and return its decoded JSON.

        Args:
            path: Path under `/wp-json/{api_version}/`, e.g. "products/12" or "system_status".
            params: Query parameters (bools as true/false, lists comma-separated).

        Raises:
            NotFound: No such record (`.gone` is True: `woocommerce_rest_*_invalid_id`), or no
                such route (`.gone` is False: `rest_no_route`, a plugin or proxy in the way).
            NotWooCommerce: A 404 without a WordPress REST error: not WooCommerce answering.
            ClientError: Any other failure, see `clients.errors`.
        """
        data, _ = await self._call("GET", path, params=params)
        return data

    async def post(self, path: str, json: Any, *, params: Mapping[str, Any] | None = None) -> Any:
        """POST `json` to a path under the API root (e.g. create an order note or webhook).

        Retried only where it provably was not processed (a connect failure or a 429); never
        after a 5xx (503 included), a timeout or a dropped connection, because the store may
        have applied it.
        """
        data, _ = await self._call("POST", path, params=params, json=json)
        return data

    async def put(self, path: str, json: Any, *, params: Mapping[str, Any] | None = None) -> Any:
        """PUT `json` to a path under the API root (update one record); retried like a GET."""
        data, _ = await self._call("PUT", path, params=params, json=json)
        return data

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """DELETE a path under the API root (`{"force": True}` deletes instead of trashing)."""
        data, _ = await self._call("DELETE", path, params=params)
        return data

    async def list_page(
        self,
        path: str,
        *,
        page: int = 1,
        per_page: int = PER_PAGE_MAX,
        params: Mapping[str, Any] | None = None,
    ) -> Page:
        """GET one page of a collection, with the totals WooCommerce reports in headers.

        The totals are believed only when `X-WP-TotalPages` is `ceil(X-WP-Total / per_page)`
        and at most `settings.MAX_TOTAL_PAGES`; otherwise (and when the store sends none) they
        are -1, "unknown", and a warning on the `nxt.clients` logger says why.

        Args:
            path: Collection path, e.g. "products" or "orders/12/refunds".
            page: 1-based page number.
            per_page: Page size, 1..100.
            params: Other query parameters (filters, `orderby`, `modified_after`, ...);
                `page` and `per_page` here are overridden by the arguments.
        """
        return await self._list_page(path, page=page, per_page=per_page, params=params, warn=True)

    async def _list_page(
        self,
        path: str,
        *,
        page: int,
        per_page: int,
        params: Mapping[str, Any] | None,
        warn: bool,
    ) -> Page:
        if not 1 <= per_page <= PER_PAGE_MAX:
            raise InvalidConfig(f"per_page must be between 1 and {PER_PAGE_MAX}, got {per_page}")
        if page < 1:
            raise InvalidConfig(f"page must be >= 1, got {page}")
        query = {**(params or {}), "page": page, "per_page": per_page}
        data, response = await self._call("GET", path, params=query)
        if not isinstance(data, list):
            raise NotWooCommerce(
                f"{self.service} answered GET {display_url(response.request.url)} with "
                f"{type(data).__name__} where a JSON list was expected; is {path!r} a collection?",
                service=self.service,
                status=response.status_code,
                body=self._http.redact(response.text),
            )
        total, total_pages, problem = trusted_totals(*read_totals(response.headers), per_page)
        if problem and warn:
            logger.warning(
                "%s sent page totals that cannot be trusted for GET %s (%s); reading page after "
                "page until a short one instead",
                self.service,
                display_url(response.request.url),
                problem,
            )
        return Page(items=data, page=page, per_page=per_page, total=total, total_pages=total_pages)

    async def iter_pages(
        self,
        path: str,
        *,
        per_page: int = PER_PAGE_MAX,
        params: Mapping[str, Any] | None = None,
        start_page: int = 1,
    ) -> AsyncIterator[Page]:
        """Yield every page of a collection from `start_page` on, in page order.

        Fetches `start_page`, reads `X-WP-TotalPages`, then fetches the remaining pages
        concurrently (at most `max_concurrency` in flight) while yielding them strictly in
        order, so the caller can commit page by page and advance a cursor. At most about
        `max_concurrency` pages are held in memory. If the store sends no totals, or totals
        that cannot be believed (see `list_page`), pages are read one after another until a
        short page, and at most `settings.MAX_TOTAL_PAGES` of them.

        For a stable read pass an explicit order, e.g. `{"orderby": "id", "order": "asc"}`
        (or `modified` ascending with `modified_after`; see `settings.RESOURCES`). If you may
        stop early, wrap it in `contextlib.aclosing(...)` so the pages still in flight are
        cancelled at once rather than when the generator is garbage-collected.

        Raises:
            ApiError: Without totals, the store was still sending full pages at
                `settings.MAX_TOTAL_PAGES`.
            ClientError: Any failure of a page, after retries, in page order.
        """
        first = await self.list_page(path, page=start_page, per_page=per_page, params=params)
        yield first

        async def fetch(number: int) -> Page:
            return await self._list_page(path, page=number, per_page=per_page, params=params, warn=False)

        if first.total_pages < 0:

            def too_many(cap: int) -> ApiError:
                return ApiError(
                    f"{self.service} kept sending full pages of {path!r} without page totals: "
                    f"stopped after {cap} pages (more than {cap} pages is not a listing the "
                    "client reads); check for a plugin or proxy that rewrites paged answers",
                    service=self.service,
                    status=200,
                )

            rest = fetch_sequential(fetch, first, too_many)
        else:
            rest = fetch_in_order(fetch, start_page + 1, first.total_pages, self.max_concurrency)
        async with contextlib.aclosing(rest):
            async for page in rest:
                yield page

    # -- resource-level reads

    async def fetch_by_ids(
        self, resource: str, ids: Sequence[int], *, parent_id: int | None = None
    ) -> FetchResult:
        """Read the records of `resource` with these ids, whatever their status.

        Ids are asked for 100 per request with `include=`, in every listing that together
        shows all records (`settings.RESOURCES[resource].statuses`: orders and products with
        `status=any`, then the ids still missing with `status=trash`; customers with
        `role=all`). Ids that no listing shows are then read one by one (`GET {path}/{id}`).
        Requests run concurrently within `max_concurrency`.

        Args:
            resource: A `settings.RESOURCES` name: "products", "variations", "orders",
                "refunds" or "customers".
            ids: Record ids (positive integers); repeats are read once.
            parent_id: The parent product (variations) or order (refunds); only for those.

        Returns:
            `FetchResult` with `found` (id -> record, in the order asked) and `gone` (ids the
            store answered with a `woocommerce_rest_*_invalid_id` 404).

        Raises:
            InvalidConfig: Unknown resource, a missing or needless `parent_id`, or an id that
                is not a positive integer (before any request).
            NotFound: A per-id read answered 404 without saying the record is gone
                (`rest_no_route`: a plugin or proxy in the way); nothing is returned then.
            ClientError: Any other failure, after retries.

        Example:
            ```python
            result = await wc.fetch_by_ids("orders", [101, 102, 103])
            upsert(result.found.values())
            tombstone(result.gone)
            ```
        """
        spec, path = resolve(resource, parent_id)
        wanted = unique_ids(ids)
        if not wanted:
            return FetchResult()

        async def list_page(collection: str, params: Mapping[str, Any]) -> Page:
            return await self.list_page(collection, page=1, per_page=PER_PAGE_MAX, params=params)

        async def get_one(record_path: str) -> dict[str, Any]:
            data = await self.get(record_path)
            if not isinstance(data, dict):
                raise NotWooCommerce(
                    f"{self.service} answered GET {record_path} with {type(data).__name__} "
                    "where a record (JSON object) was expected",
                    service=self.service,
                    status=200,
                )
            return data

        return await _fetch_by_ids(list_page, get_one, spec, path, wanted, self.max_concurrency)

    async def variations(self, parent_id: int) -> list[dict[str, Any]]:
        """Every variation of the variable product `parent_id`, all pages, ordered by id.

        Pages after the first are fetched concurrently within `max_concurrency`. A variation
        seen twice (the listing shifted while it was read) is returned once.

        Raises:
            InvalidConfig: `parent_id` is not a positive integer.
            NotFound: The store has no such product (`.gone` is True) or route.
            ClientError: Any other failure, after retries.
        """
        _, path = resolve("variations", check_id(parent_id, "parent_id"))
        seen: dict[int, dict[str, Any]] = {}
        extra: list[dict[str, Any]] = []
        params = {"orderby": "id", "order": "asc"}
        async for page in self.iter_pages(path, per_page=PER_PAGE_MAX, params=params):
            for item in page.items:
                item_id = item.get("id") if isinstance(item, dict) else None
                if isinstance(item_id, int):
                    seen.setdefault(item_id, item)
                elif isinstance(item, dict):
                    extra.append(item)  # no id: kept, for the caller to judge (quarantine)
        return [*seen.values(), *extra]

    async def list_ids(
        self,
        path_or_resource: str,
        *,
        params: Mapping[str, Any] | None = None,
        parent_id: int | None = None,
        field: str = "date_modified_gmt",
    ) -> dict[int, str | None]:
        """The ids of every record in a listing window, with one field (for completeness checks).

        Reads the listing with `_fields=id,{field}`, 100 per page, every page (concurrently
        within `max_concurrency`), so a paged read can be checked for records it missed while
        the listing shifted. The window is `params` as given (filters, `status`, `role`, ...);
        without an `orderby` it is read by id ascending, which new records cannot shift.

        Args:
            path_or_resource: A `settings.RESOURCES` name ("orders", or "variations" with
                `parent_id`) or a collection path ("orders", "products/12/variations").
            params: The listing's filters, e.g. `{"modified_after": ..., "dates_are_gmt":
                True, "status": "trash"}`; `page`, `per_page` and `_fields` are set here.
            parent_id: The parent, when `path_or_resource` is "variations" or "refunds".
            field: The field returned with each id; None when a record has no value.

        Returns:
            {id: the field's value as text, or None}.

        Raises:
            ApiError: Without page totals, the listing went on past `settings.MAX_TOTAL_PAGES`.
            ClientError: Any failure of a page, after retries.
        """
        if path_or_resource in RESOURCES:
            _, path = resolve(path_or_resource, parent_id)
        elif parent_id is not None:
            raise InvalidConfig(f"parent_id is only for a resource name, not the path {path_or_resource!r}")
        else:
            path = path_or_resource
        query: dict[str, Any] = {"orderby": "id", "order": "asc"} if "orderby" not in (params or {}) else {}
        query.update(params or {})
        query["_fields"] = f"id,{field}"
        out: dict[int, str | None] = {}
        async for page in self.iter_pages(path, per_page=PER_PAGE_MAX, params=query):
            out.update(ids_of(page.items, field))
        return out

    async def batch(
        self,
        path: str,
        *,
        create: Sequence[dict[str, Any]] = (),
        update: Sequence[dict[str, Any]] = (),
        delete: Sequence[int] = (),
    ) -> BatchResult:
        """Create, update and delete records through `{path}/batch`, 100 items per request.

        Requests are sent one after another (creates first, then updates, then deletes). A
        request that contains creates is retried only after a connect failure or a 429, never
        after a 5xx or a timeout, because it may have been applied; the error is raised with
        `.batch_result` holding what earlier requests did. Per-item errors never raise; they
        are collected in `BatchResult.errors`.

        Args:
            path: Collection path, e.g. "products" or "products/12/variations".
            create: New records.
            update: Changes, each with its "id".
            delete: Ids to delete (permanently: WooCommerce batch delete uses force=true).
        """
        collection = self._path(path).rstrip("/")
        collection = collection.removesuffix("/batch")
        result = BatchResult()
        for chunk in plan_chunks(create, update, delete, BATCH_MAX, result):
            try:
                answer, _ = await self._call(
                    "POST",
                    f"{collection}/batch",
                    json=chunk_body(chunk),
                    idempotent=not chunk["create"],
                )
            except ClientError as exc:
                exc.batch_result = result
                raise
            result.requests += 1
            absorb(result, chunk, answer)
        return result

    async def system_status(self) -> dict[str, Any]:
        """GET system_status: environment, database and settings report of the store.

        Needs a key whose user can manage WooCommerce; also a credentials check.
        """
        data = await self.get("system_status")
        if not isinstance(data, dict):
            raise NotWooCommerce(
                f"{self.service} answered system_status with {type(data).__name__}, not an "
                f"object; {SETUP_HINT}",
                service=self.service,
                status=200,
            )
        return data

    async def check(self) -> None:
        """Fail fast, with one clear error, unless the store answers as WooCommerce to our keys.

        Reads the namespace index (is it WooCommerce?) and one product id (are the keys
        accepted?). Transient failures are retried with short waits (at most 0.5 s, 1 s, 2 s;
        Retry-After up to 5 s).

        Raises:
            NotWooCommerce: The URL answers, but not as the WooCommerce REST API.
            AuthFailed: The keys are wrong or lack read permission.
            TransportFailure: The store cannot be reached.
            CircuitOpen: The store failed repeatedly just before.
        """
        # The client's retries, with short waits: a store that is down fails within seconds.
        quick = RetryPolicy(
            max_retries=self.retry.max_retries,
            base_delay=min(self.retry.base_delay, 0.5),
            max_delay=min(self.retry.max_delay, 2.0),
            jitter=self.retry.jitter,
            max_retry_after=min(self.retry.max_retry_after, 5.0),
        )
        await self._namespace_index(quick)
        await self._call("GET", "products", params={"per_page": 1, "_fields": "id"}, retry=quick)


def is_gone_code(code: str | None) -> bool:
    """Whether a 404's WooCommerce error code says the record does not exist (`GONE_CODE`)."""
    return bool(code) and GONE_CODE.fullmatch(code or "") is not None


def _wc_error_info(response: httpx.Response) -> ErrorInfo:
    """`{"code", "message", "data": {"status"}}`, WordPress REST's error shape."""
    try:
        data = decode_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return ErrorInfo()
    if not isinstance(data, dict) or "code" not in data:
        return ErrorInfo()
    message = data.get("message")
    return ErrorInfo(str(data["code"]), str(message) if message is not None else None)
