"""A faithful WooCommerce 9 store: the REST v3 API under `/wp-json/wc/v3`, its auth, and its webhooks.

It reads the shared `World` and renders it the way WooCommerce's controllers do: money as decimal strings
(but `line_items[].price` a number), dates without a zone (`*_gmt` is UTC), PHP's escaped slashes. Serialized
records are cached per id and invalidated on write; list pages are joined from cached bytes, and the sorted
id list for a query is cached per resource version, so paging a 100,000-product store stays cheap.

Where this differs from a real store is listed in docs/sandbox.md.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import math
import random
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import _wc_schemas as S
from sandbox._framework import Faults, Service, admin_json, read_json
from sandbox.world import (
    CATEGORIES,
    GATEWAYS,
    ORDER_STATUSES,
    Customer,
    LineItem,
    Order,
    Product,
    Refund,
    Variation,
    World,
    build_world,
    gateway_refund_id,
)

__all__ = ["API_PREFIX", "WooCommerceService", "WooError", "php_json", "sign_webhook"]

API_PREFIX = "/wp-json/wc/v3"
WC_VERSION = "9.4.2"
WP_VERSION = "6.7.1"
OAUTH_WINDOW = 15 * 60
BATCH_LIMIT = 100
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures

_JSON_CT = "application/json; charset=UTF-8"
_EMAIL_EXISTS = (
    'An account is already registered with your email address. <a href="#" class="showlogin">'
    "Please log in.</a>"
)
_PRICE_SPAN = (
    '<span class="woocommerce-Price-amount amount"><bdi>'
    '<span class="woocommerce-Price-currencySymbol">{sym}</span>{amount}</bdi></span>'
)
_BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
_CRITICAL = (
    '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/'
    'documentation/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>'
)
_WP_404 = (
    '<!DOCTYPE html>\n<html lang="en-US">\n<head><meta charset="UTF-8" />'
    '<title>Page not found &#8211; Sandbox Store</title></head>\n<body class="error404">'
    '<main><h1 class="page-title">Oops! That page can&rsquo;t be found.</h1></main></body>\n</html>\n'
)


# --- encoding helpers ----------------------------------------------------------------------------
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once: json.dumps(separators=) rebuilds it


def php_json(obj: Any) -> bytes:
    """Encode like `wp_json_encode`: compact, ASCII-only, and `/` escaped as `\\/`."""
    return _ENCODER.encode(obj).replace("/", "\\/").encode()


def sign_webhook(body: bytes, secret: str) -> str:
    """WooCommerce's webhook signature: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _iso(t: int | float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _cents(value: Any) -> int | None:
    """A WooCommerce decimal (string or number) to cents; None for "" or non-numbers."""
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    return int((d * 100).to_integral_value())


def _rawurlencode(s: str) -> str:
    return quote(s, safe="-_.~")


class WooError(Exception):
    """A WP_Error: rendered as `{"code","message","data":{"status",...}}`."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.data = code, message, status, data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return Response(php_json(self.body()), self.status, headers=headers, media_type=_JSON_CT)


def _invalid_param(errors: dict[str, tuple[str, str]]) -> WooError:
    return WooError(
        "rest_invalid_param",
        f"Invalid parameter(s): {', '.join(errors)}",
        400,
        params={k: m for k, (_, m) in errors.items()},
        details={k: {"code": c, "message": m, "data": None} for k, (c, m) in errors.items()},
    )


def parse_php_query(qs: str) -> dict[str, Any]:
    """Parse a query string the way PHP fills `$_GET`: last value wins, `a[]=` and `a[k]=` make arrays."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(qs, keep_blank_values=True):
        m = re.match(r"^([^\[]+)\[([^\]]*)\]$", key)
        if m:
            base, sub = m.group(1), m.group(2)
            cur = out.get(base)
            if not isinstance(cur, dict):
                cur = {}
                out[base] = cur
            cur[sub if sub else str(len(cur))] = value
        else:
            out[key] = value
    return out


def _parse_list(value: Any) -> list[str]:
    """`wp_parse_list`: an array, or a string split on commas and spaces."""
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [p for p in re.split(r"[\s,]+", str(value)) if p]


_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def _parse_wp_date(value: str, gmt_offset: float, as_gmt: bool) -> float | None:
    """The value a WP date_query compares against the column, as epoch seconds of that column's clock.

    A naive value is read in the column's clock (GMT or site-local). A value with a zone is converted to
    site-local time first (as `WP_Date_Query::build_mysql_datetime` does), then compared as is.
    """
    m = _DATE_RE.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        naive = datetime(y, mo, d, h, mi, s, tzinfo=UTC).timestamp()
    except ValueError:
        return None
    zone = m.group(8)
    if not zone:
        return naive
    if zone in ("Z", "z"):
        off = 0.0
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        off = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    utc = naive - off
    return utc + gmt_offset * 3600  # site-local wall clock, whatever the column


# --- argument validation (a subset of rest_validate_value_from_schema) ----------------------------
def _validate_args(spec: dict[str, Any], query: dict[str, Any], *, gmt_offset: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, tuple[str, str]] = {}
    for name, arg in spec.items():
        if name not in query:
            if "default" in arg:
                out[name] = arg["default"]
            continue
        raw = query[name]
        typ = arg.get("type")
        try:
            out[name] = _coerce(name, raw, arg, typ)
        except ValueError as exc:
            code, msg = exc.args
            errors[name] = (code, msg)
    if errors:
        raise _invalid_param(errors)
    return out


def _coerce(name: str, raw: Any, arg: dict[str, Any], typ: Any) -> Any:
    if typ == "integer":
        if isinstance(raw, dict | list) or not re.fullmatch(r"\s*-?\d+(\.0*)?\s*", str(raw)):
            raise ValueError("rest_invalid_type", f"{name} is not of type integer.")
        v = int(float(str(raw)))
        lo, hi = arg.get("minimum"), arg.get("maximum")
        if lo is not None and hi is not None and not lo <= v <= hi:
            raise ValueError(
                "rest_out_of_bounds", f"{name} must be between {lo} (inclusive) and {hi} (inclusive)"
            )
        if lo is not None and v < lo:
            raise ValueError("rest_out_of_bounds", f"{name} must be greater than or equal to {lo}")
        return v
    if typ == "boolean":
        s = str(raw).lower() if not isinstance(raw, dict | list) else "x"
        if s in ("true", "1", ""):
            return s != ""
        if s in ("false", "0"):
            return False
        raise ValueError("rest_invalid_type", f"{name} is not of type boolean.")
    if typ == "array":
        items = _parse_list(raw)
        item_spec = arg.get("items", {})
        return [_coerce(f"{name}[{i}]", v, item_spec, item_spec.get("type")) for i, v in enumerate(items)]
    if isinstance(raw, dict | list):
        raise ValueError("rest_invalid_type", f"{name} is not of type string.")
    s = str(raw)
    if "enum" in arg and s not in arg["enum"]:
        raise ValueError("rest_not_in_enum", f"{name} is not one of {', '.join(arg['enum'])}.")
    if arg.get("format") == "date-time" and not _DATE_RE.match(s.strip()):
        raise ValueError("rest_invalid_date", "Invalid date.")
    if arg.get("format") == "email" and s and "@" not in s:
        raise ValueError("rest_invalid_email", "Invalid email address.")
    return s


_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, str) and re.fullmatch(r"-?\d+", v) is not None)
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool) or v in ("true", "false", "1", "0", 0, 1),
    "array": lambda v: isinstance(v, list | dict),
    "object": lambda v: isinstance(v, dict | list),
    "null": lambda v: v is None,
}


def _validate_body(schema: dict[str, Any], body: dict[str, Any]) -> None:
    """Type- and enum-check the top-level writable fields WordPress would validate."""
    errors: dict[str, tuple[str, str]] = {}
    for key, value in body.items():
        prop = schema["properties"].get(key)
        if prop is None or prop.get("readonly"):
            continue
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            errors[key] = ("rest_invalid_type", f"{key} is not of type {','.join(types)}.")
        elif "enum" in prop and value not in prop["enum"]:
            errors[key] = ("rest_not_in_enum", f"{key} is not one of {', '.join(prop['enum'])}.")
    if errors:
        raise _invalid_param(errors)


def _as_int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


# --- descriptive text, derived from (seed, id) -----------------------------------------------------
_WORDS = (
    "crafted with care from responsibly sourced materials this piece brings lasting comfort and quiet "
    "style to everyday life designed in small batches tested for durability finished by hand easy to "
    "clean built to last made for gifting perfect for travel soft touch natural texture gentle on skin "
    "warm tones modern lines timeless shape balanced weight generous size thoughtful details"
).split()


def _sentence(r: random.Random, n: int) -> str:
    words = r.choices(_WORDS, k=n)
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


@functools.lru_cache(maxsize=8)
def _paragraph_pool(seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Long and short paragraphs for `seed`; records pick from them (cheap, still deterministic)."""
    r = random.Random(f"text-{seed}")
    return (
        tuple(_paragraphs(r, 1, 3) for _ in range(101)),
        tuple(_paragraphs(r, 1, 1) for _ in range(53)),
    )


def _paragraphs(r: random.Random, count: int, sentences: int) -> str:
    return "\n".join(
        "<p>" + " ".join(_sentence(r, r.randrange(8, 15)) for _ in range(sentences)) + "</p>"
        for _ in range(count)
    )


_STREETS = ("Main St", "Oak Ave", "Maple Rd", "Cedar Ln", "Park Blvd", "Elm St", "Lake Dr", "Hill Rd")
_CITIES = (
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Boston", "MA", "02108"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60601"),
    ("Atlanta", "GA", "30301"),
    ("Madison", "WI", "53703"),
)


def _address(r: random.Random, first: str, last: str, email: str | None) -> dict[str, Any]:
    city, state, zip_ = r.choice(_CITIES)
    d = {
        "first_name": first,
        "last_name": last,
        "company": r.choice(("", "", "", "Acme Inc", "Globex LLC")),
        "address_1": f"{r.randrange(1, 9999)} {r.choice(_STREETS)}",
        "address_2": r.choice(("", "", f"Apt {r.randrange(1, 99)}")),
        "city": city,
        "state": state,
        "postcode": zip_,
        "country": "US",
    }
    if email is not None:
        d["email"] = email
    d["phone"] = f"({r.randrange(200, 999)}) 555-{r.randrange(1000, 9999)}"
    return d


@dataclass(slots=True)
class ApiKey:
    key_id: int
    consumer_key: str
    consumer_secret: str
    permissions: str  # read | write | read_write
    nonces: dict[int, str] = field(default_factory=dict)  # timestamp -> nonce, as WC stores them


@dataclass(slots=True)
class Webhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    created: int
    modified: int
    failure_count: int = 0
    pending: set[int] = field(default_factory=set)

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else ""


_TOPIC_HOOKS = {
    "coupon": "woocommerce_process_shop_coupon_meta",
    "customer": "user_register",
    "order": "woocommerce_new_order",
    "product": "woocommerce_new_product",
}
_VALID_TOPICS = {f"{r}.{e}" for r in _TOPIC_HOOKS for e in ("created", "updated", "deleted", "restored")}
_VALID_TOPICS.discard("customer.restored")
_VALID_TOPICS.add("product.published")


@dataclass
class _Req:
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


@dataclass
class _Route:
    pattern: re.Pattern[str]
    display: str  # as WordPress lists it in the index
    handlers: dict[str, tuple[Callable[..., Any], str]]  # method -> (handler, permission kind)
    schema: str | None
    list_kind: str | None = None


class WooCommerceService(Service):
    """The WooCommerce stand-in. Build with a `World`; `asgi()` serves it."""

    name = "woocommerce"

    def __init__(
        self,
        world: World | None = None,
        *,
        faults: Faults | None = None,
        webhook_timeout: float = 60.0,
        webhook_delay_ms: float = 0.0,
        cache_records: int = 120_000,
    ) -> None:
        super().__init__(faults=faults)
        self.world = world if world is not None else build_world()
        self.seed = self.world.seed
        self.gmt_offset = self.world.gmt_offset_hours
        r = random.Random(f"keys-{self.seed}")
        self.keys: dict[str, ApiKey] = {}
        self.main_key = self.add_key("read_write", r)
        self.read_key = self.add_key("read", r)
        self.webhook_secret = "whsec_" + "".join(r.choices("abcdef0123456789", k=32))
        self.webhooks: dict[int, Webhook] = {}
        self.next_webhook_id = 0
        self.webhook_timeout = webhook_timeout
        self.webhook_delay_ms = webhook_delay_ms
        self.cache_limit = cache_records  # serialized records kept per resource (~3.6 KB each)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: httpx.AsyncClient | None = None
        self._cache: dict[str, dict[int, bytes]] = {
            k: {} for k in ("product", "variation", "customer", "order")
        }
        self._versions: dict[str, int] = dict.fromkeys(("product", "variation", "customer", "order"), 0)
        self._lists: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.sku_index: dict[str, int] = {}
        for p in self.world.products.values():
            self.sku_index[p.sku] = p.id
        for v in self.world.variations.values():
            self.sku_index[v.sku] = v.id
        self.emails: dict[str, int] = {c.email.lower(): c.id for c in self.world.customers.values()}
        self.routes = self._build_routes()

    # --- keys and credentials --------------------------------------------------------------------
    def add_key(self, permissions: str, r: random.Random | None = None) -> ApiKey:
        r = r or random.Random()
        hexd = "0123456789abcdef"
        key = ApiKey(
            key_id=len(self.keys) + 1,
            consumer_key="ck_" + "".join(r.choices(hexd, k=40)),
            consumer_secret="cs_" + "".join(r.choices(hexd, k=40)),
            permissions=permissions,
        )
        self.keys[key.consumer_key] = key
        return key

    def credentials(self) -> dict[str, Any]:
        return {
            "consumer_key": self.main_key.consumer_key,
            "consumer_secret": self.main_key.consumer_secret,
            "webhook_secret": self.webhook_secret,
            "read_only_consumer_key": self.read_key.consumer_key,
            "read_only_consumer_secret": self.read_key.consumer_secret,
        }

    def error_page(self, code: int) -> tuple[str, bytes]:
        if code == 500:  # PHP fatal inside WordPress: the REST fatal-error handler answers JSON
            body = {
                "code": "internal_server_error",
                "message": _CRITICAL,
                "data": {"status": 500},
                "additional_errors": [],
            }
            return _JSON_CT, php_json(body)
        return super().error_page(code)

    # --- time ------------------------------------------------------------------------------------
    def now(self) -> int:
        return int(time.time())

    def _local(self, t: int | None) -> str | None:
        return None if t is None else _iso(t + self.gmt_offset * 3600)

    def _dates(self, d: dict[str, Any], name: str, t: int | None) -> None:
        d[name] = self._local(t)
        d[name + "_gmt"] = None if t is None else _iso(t)

    def _touched(self, kind: str, rec_id: int) -> None:
        self._cache[kind].pop(rec_id, None)
        self._versions[kind] += 1

    # --- rendering -------------------------------------------------------------------------------
    def _api(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def _item_links(self, collection: str, rec_id: int) -> dict[str, Any]:
        """`_links` of a top-level record, as WooCommerce 9 sends them (self with allowed methods)."""
        return {
            "self": [
                {
                    "href": self._api(f"/{collection}/{rec_id}"),
                    "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                }
            ],
            "collection": [{"href": self._api(f"/{collection}")}],
        }

    def render_product(self, p: Product) -> dict[str, Any]:
        base = self.base_url
        r = random.Random(self.seed * 1_000_003 + p.id)
        # generated fields first; a client's writes (p.doc) overlay them below
        longs, shorts = _paragraph_pool(self.seed)
        cat_id, cat_name, cat_slug = CATEGORIES[p.category]
        img_base = f"{base}/wp-content/uploads/2025/{(p.created // 2_592_000) % 12 + 1:02d}"
        images = []
        for i in range(r.randrange(1, 4)):
            img_id = 100_000 + p.id * 4 + i
            images.append(
                {
                    "id": img_id,
                    "date_created": self._local(p.created),
                    "date_created_gmt": _iso(p.created),
                    "date_modified": self._local(p.created),
                    "date_modified_gmt": _iso(p.created),
                    "src": f"{img_base}/{p.slug}-{i + 1}.jpg",
                    "name": f"{p.slug}-{i + 1}",
                    "alt": "",
                }
            )
        attrs = []
        if p.type == "variable":
            first = self.world.variations.get(p.variation_ids[0]) if p.variation_ids else None
            aname = first.attributes[0][0] if first else "Size"
            opts = [
                self.world.variations[v].attributes[0][1]
                for v in p.variation_ids
                if v in self.world.variations
            ]
            attrs.append(
                {
                    "id": 1 if aname == "Size" else 2,
                    "name": aname,
                    "slug": "pa_" + aname.lower(),
                    "position": 0,
                    "visible": True,
                    "variation": True,
                    "options": opts,
                }
            )
        else:
            attrs.append(
                {
                    "id": 0,
                    "name": "Material",
                    "slug": "material",
                    "position": 0,
                    "visible": True,
                    "variation": False,
                    "options": [r.choice(("Cotton", "Wool", "Steel", "Oak", "Ceramic"))],
                }
            )
        tags = [
            {"id": 30 + t, "name": w, "slug": w.lower()}
            for t, w in enumerate(("New", "Gift", "Bestseller", "Eco"))
            if r.random() < 0.4
        ]
        d = {
            "featured": r.random() < 0.05,
            "catalog_visibility": "visible",
            "description": "\n".join(longs[(p.id * 7 + k * 31) % len(longs)] for k in range(3)),
            "short_description": shorts[p.id % len(shorts)],
            "virtual": False,
            "downloadable": False,
            "downloads": [],
            "download_limit": -1,
            "download_expiry": -1,
            "external_url": "",
            "button_text": "",
            "tax_status": "taxable",
            "tax_class": "",
            "backorders": "no",
            "low_stock_amount": None,
            "sold_individually": False,
            "weight": f"{r.randrange(1, 50) / 10:.1f}",
            "dimensions": {
                "length": str(r.randrange(5, 60)),
                "width": str(r.randrange(5, 40)),
                "height": str(r.randrange(1, 30)),
            },
            "shipping_required": True,
            "shipping_taxable": True,
            "shipping_class": "",
            "shipping_class_id": 0,
            "reviews_allowed": True,
            "average_rating": f"{r.choice((0, 3.5, 4, 4.25, 4.5, 4.8, 5)):.2f}",
            "rating_count": r.randrange(0, 40),
            "upsell_ids": [],
            "cross_sell_ids": [],
            "parent_id": 0,
            "purchase_note": "",
            "categories": [{"id": cat_id, "name": cat_name, "slug": cat_slug}],
            "brands": [],
            "tags": tags,
            "images": images,
            "attributes": attrs,
            "default_attributes": [],
            "grouped_products": [],
            "menu_order": 0,
            "related_ids": [],
            "meta_data": [
                {"id": p.id * 10 + 1, "key": "_wpcom_is_markdown", "value": "1"},
                {"id": p.id * 10 + 2, "key": "_last_editor_used_jetpack", "value": "block-editor"},
                {"id": p.id * 10 + 3, "key": "_yoast_wpseo_primary_product_cat", "value": str(cat_id)},
            ],
            "post_password": "",
            "global_unique_id": "",
        }
        if p.doc is not None:
            d.update(p.doc)
        price = p.price_cents
        on_sale = p.sale_cents is not None
        sym = "&#36;"
        amount = _PRICE_SPAN.format(sym=sym, amount=_money(price))
        if on_sale:
            regular = _PRICE_SPAN.format(sym=sym, amount=_money(p.regular_cents))
            price_html = (
                f'<del aria-hidden="true">{regular}</del> <span class="screen-reader-text">'
                f"Original price was: {sym}{_money(p.regular_cents)}.</span>"
                f'<ins aria-hidden="true">{amount}</ins>'
            )
        else:
            price_html = amount
        manage = p.stock_quantity is not None
        out: dict[str, Any] = {"id": p.id, "name": p.name, "slug": p.slug}
        out["permalink"] = f"{base}/product/{p.slug}/"
        self._dates(out, "date_created", p.created)
        self._dates(out, "date_modified", p.modified)
        out.update(
            {
                "type": p.type,
                "status": p.status,
                "featured": d.pop("featured", False),
                "catalog_visibility": d.pop("catalog_visibility", "visible"),
                "description": d.pop("description", ""),
                "short_description": d.pop("short_description", ""),
                "sku": p.sku,
                "price": _money(price),
                "regular_price": _money(p.regular_cents),
                "sale_price": _money(p.sale_cents) if on_sale else "",
                "date_on_sale_from": None,
                "date_on_sale_from_gmt": None,
                "date_on_sale_to": None,
                "date_on_sale_to_gmt": None,
                "on_sale": on_sale,
                "purchasable": p.status == "publish",
                "total_sales": p.total_sales,
            }
        )
        out.update(d)
        out.update(
            {
                "manage_stock": manage,
                "stock_quantity": p.stock_quantity,
                "stock_status": "instock" if not manage or (p.stock_quantity or 0) > 0 else "outofstock",
                "backorders_allowed": False,
                "backordered": False,
                "variations": list(p.variation_ids),
                "price_html": price_html,
                "has_options": p.type == "variable",
                "_links": self._item_links("products", p.id),
            }
        )
        return out

    def render_variation(self, v: Variation) -> dict[str, Any]:
        parent = self.world.products.get(v.parent_id)
        r = random.Random(self.seed * 1_000_033 + v.id)
        price = v.sale_cents if v.sale_cents is not None else v.regular_cents
        manage = v.stock_quantity is not None
        pname = parent.name if parent else ""
        out: dict[str, Any] = {"id": v.id, "type": "variation"}
        self._dates(out, "date_created", v.created)
        self._dates(out, "date_modified", v.modified)
        extra = dict(v.doc) if v.doc is not None else {}
        out.update(
            {
                "description": extra.pop("description", f"<p>{_sentence(r, 10)}</p>"),
                "permalink": f"{self.base_url}/product/{parent.slug if parent else ''}/"
                f"?attribute_pa_{v.attributes[0][0].lower()}={v.attributes[0][1].lower()}",
                "sku": v.sku,
                "global_unique_id": "",
                "price": _money(price),
                "regular_price": _money(v.regular_cents),
                "sale_price": _money(v.sale_cents) if v.sale_cents is not None else "",
                "date_on_sale_from": None,
                "date_on_sale_from_gmt": None,
                "date_on_sale_to": None,
                "date_on_sale_to_gmt": None,
                "on_sale": v.sale_cents is not None,
                "status": v.status,
                "purchasable": True,
                "virtual": False,
                "downloadable": False,
                "downloads": [],
                "download_limit": -1,
                "download_expiry": -1,
                "tax_status": "taxable",
                "tax_class": "",
                "manage_stock": manage,
                "stock_quantity": v.stock_quantity,
                "stock_status": "instock" if not manage or (v.stock_quantity or 0) > 0 else "outofstock",
                "backorders": "no",
                "backorders_allowed": False,
                "backordered": False,
                "low_stock_amount": None,
                "weight": "",
                "dimensions": {"length": "", "width": "", "height": ""},
                "shipping_class": "",
                "shipping_class_id": 0,
                "image": None,
                "attributes": [
                    {"id": 1 if a == "Size" else 2, "name": a, "option": o} for a, o in v.attributes
                ],
                "menu_order": 0,
                "meta_data": [],
                "name": f"{pname} - {', '.join(o for _, o in v.attributes)}",
                "parent_id": v.parent_id,
            }
        )
        out.update(extra)
        out["_links"] = {
            "self": [{"href": self._api(f"/products/{v.parent_id}/variations/{v.id}")}],
            "collection": [{"href": self._api(f"/products/{v.parent_id}/variations")}],
            "up": [{"href": self._api(f"/products/{v.parent_id}")}],
        }
        return out

    def render_customer(self, c: Customer) -> dict[str, Any]:
        r = random.Random(self.seed * 1_000_037 + c.id)
        out: dict[str, Any] = {"id": c.id}
        self._dates(out, "date_created", c.created)
        self._dates(out, "date_modified", c.modified)
        extra = dict(c.doc) if c.doc is not None else {}
        billing = extra.pop("billing", None) or _address(r, c.first_name, c.last_name, c.email)
        shipping = extra.pop("shipping", None) or {k: v for k, v in billing.items() if k != "email"}
        digest = hashlib.md5(c.email.lower().encode()).hexdigest()
        out.update(
            {
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "role": "customer",
                "username": c.username,
                "billing": billing,
                "shipping": shipping,
                "is_paying_customer": c.is_paying,
                "avatar_url": f"https://secure.gravatar.com/avatar/{digest}?s=96&d=mm&r=g",
                "meta_data": extra.pop("meta_data", []),
            }
        )
        out.update(extra)
        out["_links"] = self._item_links("customers", c.id)
        return out

    def render_order(self, o: Order) -> dict[str, Any]:
        r = random.Random(self.seed * 1_000_039 + o.id)
        extra = dict(o.doc) if o.doc is not None else {}
        billing = extra.pop("billing", None) or _address(r, o.billing_first, o.billing_last, o.billing_email)
        shipping = extra.pop("shipping", None) or {k: v for k, v in billing.items() if k != "email"}
        tax_rate_id = 1
        items = []
        for li in o.line_items:
            total = _money(li.total_cents)
            tax = _money(li.tax_cents)
            parent = self.world.products.get(li.product_id) if li.variation_id else None
            items.append(
                {
                    "id": li.id,
                    "name": li.name,
                    "product_id": li.product_id,
                    "variation_id": li.variation_id,
                    "quantity": li.quantity,
                    "tax_class": "",
                    "subtotal": total,
                    "subtotal_tax": tax,
                    "total": total,
                    "total_tax": tax,
                    "taxes": [{"id": tax_rate_id, "total": tax, "subtotal": tax}] if li.tax_cents else [],
                    "meta_data": [],
                    "sku": li.sku,
                    "global_unique_id": "",
                    "price": li.unit_cents // 100 if li.unit_cents % 100 == 0 else li.unit_cents / 100,
                    "image": {
                        "id": 100_000 + li.product_id * 4 if li.product_id else "",
                        "src": f"{self.base_url}/wp-content/uploads/2025/01/item-{li.product_id}.jpg"
                        if li.product_id
                        else "",
                    },
                    "parent_name": parent.name if parent else None,
                }
            )
        taxed = o.cart_tax_cents or o.shipping_tax_cents
        ship_id = o.id * 10 + 7
        out: dict[str, Any] = {
            "id": o.id,
            "parent_id": 0,
            "status": o.status,
            "currency": o.currency,
            "version": WC_VERSION,
            "prices_include_tax": False,
        }
        self._dates(out, "date_created", o.created)
        self._dates(out, "date_modified", o.modified)
        out.update(
            {
                "discount_total": _money(o.discount_cents),
                "discount_tax": "0.00",
                "shipping_total": _money(o.shipping_cents),
                "shipping_tax": _money(o.shipping_tax_cents),
                "cart_tax": _money(o.cart_tax_cents),
                "total": _money(o.total_cents),
                "total_tax": _money(o.cart_tax_cents + o.shipping_tax_cents),
                "customer_id": o.customer_id,
                "order_key": o.order_key,
                "billing": billing,
                "shipping": shipping,
                "payment_method": o.payment_method,
                "payment_method_title": GATEWAYS.get(o.payment_method, (o.payment_method, 0))[0],
                "transaction_id": o.transaction_id,
                "customer_ip_address": f"203.0.113.{o.id % 250 + 1}",
                "customer_user_agent": _BROWSER_UA,
                "created_via": extra.pop("created_via", "checkout"),
                "customer_note": extra.pop("customer_note", ""),
            }
        )
        self._dates(out, "date_completed", o.completed)
        self._dates(out, "date_paid", o.paid)
        out.update(
            {
                "cart_hash": hashlib.md5(f"{o.id}-{len(o.line_items)}".encode()).hexdigest(),
                "number": str(o.id),
                "meta_data": extra.pop(
                    "meta_data",
                    [
                        {"id": o.id * 10 + 1, "key": "is_vat_exempt", "value": "no"},
                        {
                            "id": o.id * 10 + 2,
                            "key": "_wc_order_attribution_source_type",
                            "value": r.choice(("typein", "organic", "referral", "utm")),
                        },
                        {
                            "id": o.id * 10 + 3,
                            "key": "_wc_order_attribution_device_type",
                            "value": r.choice(("Desktop", "Mobile", "Tablet")),
                        },
                    ],
                ),
                "line_items": items,
                "tax_lines": [
                    {
                        "id": o.id * 10 + 8,
                        "rate_code": "US-SALES-TAX-1",
                        "rate_id": tax_rate_id,
                        "label": "Sales Tax",
                        "compound": False,
                        "tax_total": _money(o.cart_tax_cents),
                        "shipping_tax_total": _money(o.shipping_tax_cents),
                        "rate_percent": 8,
                        "meta_data": [],
                    }
                ]
                if taxed
                else [],
                "shipping_lines": [
                    {
                        "id": ship_id,
                        "method_title": "Flat rate" if o.shipping_cents else "Free shipping",
                        "method_id": "flat_rate" if o.shipping_cents else "free_shipping",
                        "instance_id": "1" if o.shipping_cents else "2",
                        "total": _money(o.shipping_cents),
                        "total_tax": _money(o.shipping_tax_cents),
                        "taxes": [{"id": tax_rate_id, "total": _money(o.shipping_tax_cents), "subtotal": ""}]
                        if o.shipping_tax_cents
                        else [],
                        "tax_status": "taxable",
                        "meta_data": [
                            {
                                "id": ship_id * 10,
                                "key": "Items",
                                "value": ", ".join(f"{li.name} &times; {li.quantity}" for li in o.line_items),
                                "display_key": "Items",
                                "display_value": ", ".join(
                                    f"{li.name} &times; {li.quantity}" for li in o.line_items
                                ),
                            }
                        ],
                    }
                ],
                "fee_lines": [],
                "coupon_lines": [],
                "refunds": [
                    {"id": rf.id, "reason": rf.reason, "total": _money(-rf.amount_cents)}
                    for rf in sorted(o.refunds, key=lambda x: -x.id)
                ],
                "payment_url": f"{self.base_url}/checkout/order-pay/{o.id}/"
                f"?pay_for_order=true&key={o.order_key}",
                "is_editable": o.status in ("pending", "on-hold", "auto-draft"),
                "needs_payment": o.status in ("pending", "failed") and o.total_cents > 0,
                "needs_processing": True,
                "date_completed_gmt": out.pop("date_completed_gmt"),
                "date_paid_gmt": out.pop("date_paid_gmt"),
                "currency_symbol": "$" if o.currency == "USD" else o.currency,
            }
        )
        out.update(extra)
        links = self._item_links("orders", o.id)
        if o.customer_id:
            links["customer"] = [{"href": self._api(f"/customers/{o.customer_id}")}]
        out["_links"] = links
        return out

    def render_refund(self, rf: Refund) -> dict[str, Any]:
        out: dict[str, Any] = {"id": rf.id}
        self._dates(out, "date_created", rf.created)
        out.update(
            {
                "amount": _money(rf.amount_cents),
                "reason": rf.reason,
                "refunded_by": 1,
                "refunded_payment": bool(rf.gateway_refund_id),
                "meta_data": [],
                "line_items": [],
                "shipping_lines": [],
                "tax_lines": [],
                "fee_lines": [],
                "_links": {
                    "self": [{"href": self._api(f"/orders/{rf.order_id}/refunds/{rf.id}")}],
                    "collection": [{"href": self._api(f"/orders/{rf.order_id}/refunds")}],
                    "up": [{"href": self._api(f"/orders/{rf.order_id}")}],
                },
            }
        )
        return out

    def render_webhook(self, w: Webhook) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": w.id,
            "name": w.name,
            "status": w.status,
            "topic": w.topic,
            "resource": w.resource,
            "event": w.event,
            "hooks": [_TOPIC_HOOKS.get(w.resource, w.topic)],
            "delivery_url": w.delivery_url,
        }
        self._dates(out, "date_created", w.created)
        self._dates(out, "date_modified", w.modified)
        out["_links"] = {
            "self": [{"href": self._api(f"/webhooks/{w.id}")}],
            "collection": [{"href": self._api("/webhooks")}],
        }
        return out

    def _store(self, kind: str) -> dict[int, Any]:
        w = self.world
        return {"product": w.products, "variation": w.variations, "customer": w.customers, "order": w.orders}[
            kind
        ]

    def _render(self, kind: str, rec: Any) -> dict[str, Any]:
        return getattr(self, f"render_{kind}")(rec)

    def record_bytes(self, kind: str, rec: Any) -> bytes:
        """Serialized record, cached until the record is written."""
        cache = self._cache.get(kind)
        if cache is None:
            return php_json(self._render(kind, rec))
        b = cache.get(rec.id)
        if b is None:
            b = php_json(self._render(kind, rec))
            if self.cache_limit <= 0:
                return b
            if len(cache) >= self.cache_limit:  # bounds memory on 100k-record stores
                cache.pop(next(iter(cache)))
            cache[rec.id] = b
        return b

    def record_json(self, kind: str, rec_id: int) -> dict[str, Any] | None:
        """The record as a client would receive it (decoded), or None if it does not exist."""
        rec = self._store(kind).get(rec_id)
        return None if rec is None else json.loads(self.record_bytes(kind, rec))

    # --- routing ---------------------------------------------------------------------------------
    def _build_routes(self) -> list[_Route]:
        def rt(
            pattern: str,
            display: str,
            schema: str | None,
            handlers: dict[str, tuple[Callable[..., Any], str]],
            list_kind: str | None = None,
        ) -> _Route:
            return _Route(re.compile("^" + pattern + "$"), display, handlers, schema, list_kind)

        ID = r"(?P<id>\d+)"
        routes = [
            rt("", "", None, {"GET": (self.h_index, "public")}),
            rt("/system_status", "/system_status", "system_status", {"GET": (self.h_system_status, "list")}),
        ]
        for kind, base, schema in (
            ("product", "/products", "product"),
            ("customer", "/customers", "customer"),
            ("order", "/orders", "shop_order"),
        ):
            routes += [
                rt(
                    base,
                    base,
                    schema,
                    {"GET": (self._lister(kind), "list"), "POST": (self._creator(kind), "create")},
                    kind,
                ),
                rt(
                    base + "/batch",
                    base + "/batch",
                    schema,
                    {
                        "POST": (self._batcher(kind), "batch"),
                        "PUT": (self._batcher(kind), "batch"),
                        "PATCH": (self._batcher(kind), "batch"),
                    },
                ),
                rt(
                    f"{base}/{ID}",
                    base + "/(?P<id>[\\d]+)",
                    schema,
                    {
                        "GET": (self._getter(kind), "view"),
                        "PUT": (self._updater(kind), "edit"),
                        "PATCH": (self._updater(kind), "edit"),
                        "POST": (self._updater(kind), "edit"),
                        "DELETE": (self._deleter(kind), "delete"),
                    },
                ),
            ]
        var = r"/products/(?P<product_id>\d+)/variations"
        var_d = "/products/(?P<product_id>[\\d]+)/variations"
        routes += [
            rt(
                var,
                var_d,
                "product_variation",
                {"GET": (self._lister("variation"), "list"), "POST": (self._creator("variation"), "create")},
                "variation",
            ),
            rt(
                var + "/batch",
                var_d + "/batch",
                "product_variation",
                {
                    "POST": (self._batcher("variation"), "batch"),
                    "PUT": (self._batcher("variation"), "batch"),
                    "PATCH": (self._batcher("variation"), "batch"),
                },
            ),
            rt(
                f"{var}/{ID}",
                var_d + "/(?P<id>[\\d]+)",
                "product_variation",
                {
                    "GET": (self._getter("variation"), "view"),
                    "PUT": (self._updater("variation"), "edit"),
                    "PATCH": (self._updater("variation"), "edit"),
                    "POST": (self._updater("variation"), "edit"),
                    "DELETE": (self._deleter("variation"), "delete"),
                },
            ),
        ]
        ref = r"/orders/(?P<order_id>\d+)/refunds"
        ref_d = "/orders/(?P<order_id>[\\d]+)/refunds"
        routes += [
            rt(
                ref,
                ref_d,
                "shop_order_refund",
                {"GET": (self.h_refunds_list, "list"), "POST": (self.h_refund_create, "create")},
                "refund",
            ),
            rt(
                f"{ref}/{ID}",
                ref_d + "/(?P<id>[\\d]+)",
                "shop_order_refund",
                {"GET": (self.h_refund_get, "view"), "DELETE": (self.h_refund_delete, "delete")},
            ),
            rt(
                "/webhooks",
                "/webhooks",
                "webhook",
                {"GET": (self.h_webhooks_list, "list"), "POST": (self.h_webhook_create, "create")},
                "webhook",
            ),
            rt(
                f"/webhooks/{ID}",
                "/webhooks/(?P<id>[\\d]+)",
                "webhook",
                {
                    "GET": (self.h_webhook_get, "view"),
                    "PUT": (self.h_webhook_update, "edit"),
                    "PATCH": (self.h_webhook_update, "edit"),
                    "POST": (self.h_webhook_update, "edit"),
                    "DELETE": (self.h_webhook_delete, "delete"),
                },
            ),
        ]
        return routes

    def vendor_app(self) -> ASGIApp:
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                return
            body = bytearray()
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                body += msg.get("body", b"")
                if not msg.get("more_body"):
                    break
            try:
                resp = await self.handle(scope, bytes(body))
            except WooError as exc:
                resp = exc.response()
            except Exception:
                self.log_exception()
                media, page = self.error_page(500)
                resp = Response(page, 500, media_type=media)
            await resp(scope, receive, send)

        return app

    async def handle(self, scope: Scope, body: bytes) -> Response:
        path: str = scope["path"]
        if not (path == "/wp-json" or path.startswith("/wp-json/")):
            return Response(_WP_404, 404, media_type="text/html; charset=UTF-8")
        if path in ("/wp-json", "/wp-json/"):
            return self._json(self._wp_root())
        route_path = path[len("/wp-json") :].rstrip("/") or "/"
        if not (route_path == "/wc/v3" or route_path.startswith("/wc/v3/")):
            raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)
        qs = scope.get("query_string", b"").decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"].upper()
        query = parse_php_query(qs)
        if method == "POST":
            override = headers.get("x-http-method-override") or query.get("_method")
            if isinstance(override, str) and override.upper() in ("PUT", "PATCH", "DELETE", "GET"):
                method = override.upper()
        req = _Req(
            method=method,
            route=route_path[len("/wc/v3") :],
            raw_path=scope.get("raw_path", path.encode()).decode("latin-1").split("?")[0],
            query=query,
            query_pairs=parse_qsl(qs, keep_blank_values=True),
            headers=headers,
            body=body,
            https=scope.get("scheme") == "https",
        )
        key, auth_error = self.authenticate(req, scope["method"].upper())
        if auth_error is not None:
            raise auth_error
        for route in self.routes:
            m = route.pattern.match(req.route)
            if not m:
                continue
            req.params = m.groupdict()
            if method == "OPTIONS":
                return self._options(route)
            if method == "HEAD" and "GET" in route.handlers:
                method = "GET"
            if method not in route.handlers:
                break
            handler, perm = route.handlers[method]
            if route.list_kind and method == "GET":
                req.args = _validate_args(
                    S.collection_args(route.list_kind), req.query, gmt_offset=self.gmt_offset
                )
            if perm != "public":
                self._check_permission(key, perm, method)
            result = handler(req)
            if asyncio.iscoroutine(result):
                result = await result
            return result
        raise WooError("rest_no_route", "No route was found matching the URL and request method.", 404)

    # --- auth ------------------------------------------------------------------------------------
    def authenticate(self, req: _Req, real_method: str) -> tuple[ApiKey | None, WooError | None]:
        """`WC_REST_Authentication::authenticate`: Basic/query keys over HTTPS, else OAuth 1.0a."""
        error: WooError | None = None
        if req.https:
            ck = req.query.get("consumer_key")
            cs = req.query.get("consumer_secret")
            if not (isinstance(ck, str) and ck and isinstance(cs, str) and cs):
                ck = cs = None
                auth = req.headers.get("authorization", "")
                if auth[:6].lower() == "basic ":
                    try:
                        user, _, pw = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                    except (ValueError, UnicodeDecodeError):
                        user = pw = ""
                    if user and pw:
                        ck, cs = user, pw
            if ck and cs:
                key = self.keys.get(ck)
                if key is not None:
                    if hmac.compare_digest(key.consumer_secret, cs):
                        return key, None
                    error = WooError(
                        "woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401
                    )
        params = self._oauth_params(req)
        if isinstance(params, WooError):
            return None, params
        if not params:
            return None, error
        key = self.keys.get(str(params["oauth_consumer_key"]))
        if key is None:
            return None, WooError("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
        sig_error = self._check_signature(req, real_method, key, params)
        if sig_error is not None:
            return None, sig_error
        ts_raw = str(params["oauth_timestamp"])
        nonce = str(params["oauth_nonce"])
        now = int(time.time())
        if not re.fullmatch(r"\d+", ts_raw) or not now - OAUTH_WINDOW <= int(ts_raw) <= now + OAUTH_WINDOW:
            return None, WooError("woocommerce_rest_authentication_error", "Invalid timestamp.", 401)
        if nonce in key.nonces.values():
            return None, WooError(
                "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used.", 401
            )
        key.nonces[int(ts_raw)] = nonce  # keyed by timestamp, as WooCommerce stores them
        for t in [t for t in key.nonces if t < now - OAUTH_WINDOW]:
            del key.nonces[t]
        return key, None

    def _oauth_params(self, req: _Req) -> dict[str, Any] | WooError:
        params: dict[str, Any] = dict(req.query)
        if "application/x-www-form-urlencoded" in req.headers.get("content-type", ""):
            params.update(parse_php_query(req.body.decode("utf-8", "replace")))
        header = req.headers.get("authorization", "").strip()
        if header.startswith("OAuth "):
            for name, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(?::?"([^"]*)"|([^,]*))', header):
                params[name] = unquote(quoted or bare)
        names = (
            "oauth_consumer_key",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
            "oauth_signature_method",
        )
        missing = [n for n in names if not params.get(n) or params.get(n) == "0"]
        if len(missing) == len(names):
            return {}
        if missing:
            word = "parameter" if len(missing) == 1 else "parameters"
            return WooError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {word} {', '.join(missing)}",
                401,
            )
        return params

    def _check_signature(
        self, req: _Req, method: str, key: ApiKey, params: dict[str, Any]
    ) -> WooError | None:
        params = dict(params)
        consumer_sig = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
        base_uri = _rawurlencode(self.base_url + req.raw_path)
        parts: list[str] = []

        for k in sorted(params, key=lambda s: s.encode()):
            v = params[k]
            ek = _rawurlencode(k)
            if isinstance(v, dict):  # PHP arrays: key%5Bsub%5D=value, values encoded, sub-keys raw
                for sk, sv in v.items():
                    parts.append(_rawurlencode(f"{ek}%5B{sk}%5D={_rawurlencode(str(sv))}"))
            else:
                parts.append(_rawurlencode(f"{ek}={_rawurlencode(str(v))}"))
        string_to_sign = f"{method}&{base_uri}&{'%26'.join(parts)}"
        sm = params.get("oauth_signature_method")
        if sm not in ("HMAC-SHA1", "HMAC-SHA256"):
            return WooError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
                401,
            )
        algo = hashlib.sha1 if sm == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(
            hmac.new((key.consumer_secret + "&").encode(), string_to_sign.encode(), algo).digest()
        ).decode()
        if not hmac.compare_digest(expected, consumer_sig):
            return WooError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
                401,
            )
        return None

    def _check_permission(self, key: ApiKey | None, perm: str, method: str) -> None:
        if key is None:
            messages = {
                "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
                "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
                "create": (
                    "woocommerce_rest_cannot_create",
                    "Sorry, you are not allowed to create resources.",
                ),
                "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
                "delete": (
                    "woocommerce_rest_cannot_delete",
                    "Sorry, you are not allowed to delete this resource.",
                ),
                "batch": (
                    "woocommerce_rest_cannot_batch",
                    "Sorry, you are not allowed to batch manipulate this resource.",
                ),
            }
            code, msg = messages[perm]
            raise WooError(code, msg, 401)
        if method in ("GET", "HEAD") and key.permissions not in ("read", "read_write"):
            raise WooError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have read permissions.",
                401,
            )
        if method in ("POST", "PUT", "PATCH", "DELETE") and key.permissions not in ("write", "read_write"):
            raise WooError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
                401,
            )

    # --- responses -------------------------------------------------------------------------------
    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return self._raw(php_json(obj), status, headers)

    def _raw(self, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
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
        return Response(body, status, headers=h, media_type=_JSON_CT)

    def _fields(self, req: _Req, body: bytes) -> bytes:
        """`_fields=a,b`: WordPress trims the response to those top-level fields."""
        fields_arg = req.query.get("_fields")
        if not fields_arg:
            return body
        wanted = set(_parse_list(fields_arg))
        data = json.loads(body)
        if isinstance(data, list):
            return php_json([{k: v for k, v in d.items() if k in wanted} for d in data])
        return php_json({k: v for k, v in data.items() if k in wanted})

    def _paged(self, req: _Req, path: str, ids: list[int], render: Callable[[int], bytes]) -> Response:
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
            links.append(f'<{self._api(path)}?{urlencode(base_pairs + [("page", str(prev))])}>; rel="prev"')
        if max_pages > page:
            links.append(
                f'<{self._api(path)}?{urlencode(base_pairs + [("page", str(page + 1))])}>; rel="next"'
            )
        if links:
            headers["Link"] = ", ".join(links)
        return self._raw(self._fields(req, body), 200, headers)

    def _options(self, route: _Route) -> Response:
        methods = sorted(
            set(route.handlers) - {"PATCH", "POST"} | ({"POST"} if "POST" in route.handlers else set())
        )
        methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in route.handlers]
        endpoints = []
        for m in methods:
            if m == "GET" and route.list_kind:
                args = S.collection_args(route.list_kind)
            elif m == "GET":
                args = S.item_args(route.schema or "")
            elif route.schema and m in ("POST", "PUT", "PATCH"):
                props = S.SCHEMAS[route.schema]["properties"]
                args = {
                    k: {kk: vv for kk, vv in v.items() if kk != "context"} | {"required": False}
                    for k, v in props.items()
                    if not v.get("readonly")
                }
            else:
                args = {
                    "force": {
                        "type": "boolean",
                        "default": False,
                        "description": "Whether to bypass trash and force deletion.",
                        "required": False,
                    }
                }
            endpoints.append({"methods": [m], "args": args})
        data: dict[str, Any] = {"namespace": "wc/v3", "methods": methods, "endpoints": endpoints}
        if route.schema:
            data["schema"] = S.SCHEMAS[route.schema]
        return self._json(data, headers={"Allow": ", ".join(methods)})

    def _wp_root(self) -> dict[str, Any]:
        return {
            "name": "Sandbox Store",
            "description": "A WooCommerce stand-in",
            "url": self.base_url,
            "home": self.base_url,
            "gmt_offset": str(self.gmt_offset).rstrip("0").rstrip(".") or "0",
            "timezone_string": "",
            "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wp/v2"],
            "authentication": [],
            "routes": {},
        }

    def h_index(self, req: _Req) -> Response:
        routes: dict[str, Any] = {}
        for route in self.routes:
            name = "/wc/v3" + route.display
            methods = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m in route.handlers]
            entry: dict[str, Any] = {
                "namespace": "wc/v3",
                "methods": methods,
                "endpoints": [{"methods": [m], "args": {}} for m in methods],
            }
            if "(?P" not in route.display:
                entry["_links"] = {"self": [{"href": f"{self.base_url}/wp-json{name}"}]}
            routes[name] = entry
        return self._json(
            {
                "namespace": "wc/v3",
                "routes": routes,
                "_links": {"up": [{"href": f"{self.base_url}/wp-json/"}]},
            }
        )

    def h_system_status(self, req: _Req) -> Response:
        w = self.world
        counts = dict.fromkeys(ORDER_STATUSES, 0)
        for o in w.orders.values():
            counts[o.status] = counts.get(o.status, 0) + 1
        data = {
            "environment": {
                "home_url": self.base_url,
                "site_url": self.base_url,
                "store_id": hashlib.md5(f"store-{self.seed}".encode()).hexdigest(),
                "version": WC_VERSION,
                "log_directory": "/var/www/html/wp-content/uploads/wc-logs/",
                "log_directory_writable": True,
                "wp_version": WP_VERSION,
                "wp_multisite": False,
                "wp_memory_limit": 268435456,
                "wp_debug_mode": False,
                "wp_cron": True,
                "language": "en_US",
                "external_object_cache": None,
                "server_info": "nginx/1.25.3",
                "php_version": "8.2.15",
                "php_post_max_size": 67108864,
                "php_max_execution_time": 30,
                "php_max_input_vars": 1000,
                "curl_version": "8.5.0, OpenSSL/3.0.13",
                "suhosin_installed": False,
                "max_upload_size": 67108864,
                "mysql_version": "8.0.36",
                "mysql_version_string": "8.0.36",
                "default_timezone": "UTC",
                "fsockopen_or_curl_enabled": True,
                "soapclient_enabled": True,
                "domdocument_enabled": True,
                "gzip_enabled": True,
                "mbstring_enabled": True,
                "remote_post_successful": True,
                "remote_post_response": 200,
                "remote_get_successful": True,
                "remote_get_response": 200,
            },
            "database": {
                "wc_database_version": WC_VERSION,
                "database_prefix": "wp_",
                "maxmind_geoip_database": "",
                "database_tables": {"woocommerce": {}, "other": {}},
                "database_size": {"data": 42.1, "index": 12.3},
            },
            "active_plugins": [
                {
                    "plugin": "woocommerce/woocommerce.php",
                    "name": "WooCommerce",
                    "version": WC_VERSION,
                    "version_latest": WC_VERSION,
                    "url": "https://woocommerce.com/",
                    "author_name": "Automattic",
                    "author_url": "https://woocommerce.com",
                    "network_activated": False,
                },
                {
                    "plugin": "woocommerce-gateway-stripe/woocommerce-gateway-stripe.php",
                    "name": "WooCommerce Stripe Gateway",
                    "version": "8.9.0",
                    "version_latest": "8.9.0",
                    "url": "https://woocommerce.com/products/stripe/",
                    "author_name": "Stripe",
                    "author_url": "https://woocommerce.com/",
                    "network_activated": False,
                },
                {
                    "plugin": "woocommerce-paypal-payments/woocommerce-paypal-payments.php",
                    "name": "WooCommerce PayPal Payments",
                    "version": "2.9.4",
                    "version_latest": "2.9.4",
                    "url": "https://woocommerce.com/products/woocommerce-paypal-payments/",
                    "author_name": "WooCommerce",
                    "author_url": "https://woocommerce.com",
                    "network_activated": False,
                },
                {
                    "plugin": "woocommerce-square/woocommerce-square.php",
                    "name": "WooCommerce Square",
                    "version": "4.8.3",
                    "version_latest": "4.8.3",
                    "url": "https://woocommerce.com/products/square/",
                    "author_name": "WooCommerce",
                    "author_url": "https://woocommerce.com/",
                    "network_activated": False,
                },
                {
                    "plugin": "woocommerce-gateway-authorize-net-cim/"
                    "woocommerce-gateway-authorize-net-cim.php",
                    "name": "WooCommerce Authorize.Net Gateway",
                    "version": "3.10.6",
                    "version_latest": "3.10.6",
                    "url": "https://woocommerce.com/products/authorize-net/",
                    "author_name": "SkyVerge",
                    "author_url": "https://woocommerce.com/",
                    "network_activated": False,
                },
            ],
            "inactive_plugins": [],
            "dropins_mu_plugins": {"dropins": [], "mu_plugins": []},
            "theme": {
                "name": "Storefront",
                "version": "4.6.0",
                "version_latest": "4.6.0",
                "author_url": "https://woocommerce.com/",
                "is_child_theme": False,
                "has_woocommerce_support": True,
                "has_woocommerce_file": False,
                "has_outdated_templates": False,
                "overrides": [],
                "parent_name": "",
                "parent_version": "",
                "parent_version_latest": "",
                "parent_author_url": "",
            },
            "settings": {
                "api_enabled": True,
                "force_ssl": False,
                "currency": w.currency,
                "currency_symbol": "&#36;" if w.currency == "USD" else w.currency,
                "currency_position": "left",
                "thousand_separator": ",",
                "decimal_separator": ".",
                "number_of_decimals": 2,
                "geolocation_enabled": False,
                "taxonomies": {
                    "external": "external",
                    "grouped": "grouped",
                    "simple": "simple",
                    "variable": "variable",
                },
                "product_visibility_terms": {
                    "exclude-from-catalog": "exclude-from-catalog",
                    "exclude-from-search": "exclude-from-search",
                    "featured": "featured",
                    "outofstock": "outofstock",
                },
                "woocommerce_com_connected": "no",
                "enforce_approved_download_dirs": True,
                "order_datastore": "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\"
                "OrdersTableDataStore",
                "HPOS_enabled": True,
                "HPOS_sync_enabled": False,
            },
            "security": {"secure_connection": req.https, "hide_errors": True},
            "pages": [
                {
                    "page_name": "Shop base",
                    "page_id": "5",
                    "page_set": True,
                    "page_exists": True,
                    "page_visible": True,
                    "shortcode": "",
                    "block": "",
                    "shortcode_required": False,
                    "shortcode_present": False,
                    "block_present": False,
                    "block_required": False,
                },
                {
                    "page_name": "Cart",
                    "page_id": "6",
                    "page_set": True,
                    "page_exists": True,
                    "page_visible": True,
                    "shortcode": "[woocommerce_cart]",
                    "block": "woocommerce/cart",
                    "shortcode_required": False,
                    "shortcode_present": False,
                    "block_present": True,
                    "block_required": True,
                },
                {
                    "page_name": "Checkout",
                    "page_id": "7",
                    "page_set": True,
                    "page_exists": True,
                    "page_visible": True,
                    "shortcode": "[woocommerce_checkout]",
                    "block": "woocommerce/checkout",
                    "shortcode_required": False,
                    "shortcode_present": False,
                    "block_present": True,
                    "block_required": True,
                },
            ],
            "post_type_counts": [
                {"type": "product", "count": str(len(w.products))},
                {"type": "product_variation", "count": str(len(w.variations))},
                {"type": "shop_order_placehold", "count": str(len(w.orders))},
            ],
            "logging": {
                "logging_enabled": True,
                "default_handler": "Automattic\\WooCommerce\\Internal\\Admin\\Logging\\LogHandlerFileV2",
                "retention_period_days": 30,
                "level_threshold": "none",
                "log_directory_size": "0 B",
            },
        }
        return self._json(data)

    # --- queries ---------------------------------------------------------------------------------
    def _matching_ids(self, kind: str, args: dict[str, Any], parent: int | None = None) -> list[int]:
        key_args = tuple(
            sorted(
                (k, tuple(v) if isinstance(v, list) else v)
                for k, v in args.items()
                if k not in ("page", "per_page", "offset", "context")
            )
        )
        cache_key = (kind, self._versions[kind], parent, key_args)
        hit = self._lists.get(cache_key)
        if hit is not None:
            self._lists.move_to_end(cache_key)
            return hit
        ids = self._query(kind, args, parent)
        self._lists[cache_key] = ids
        if len(self._lists) > 64:
            self._lists.popitem(last=False)
        return ids

    def _query(self, kind: str, args: dict[str, Any], parent: int | None) -> list[int]:
        store = self._store(kind)
        if kind == "variation":
            p = self.world.products.get(parent or 0)
            recs: list[Any] = [store[v] for v in (p.variation_ids if p else []) if v in store]
        else:
            recs = list(store.values())
        include = args.get("include") or []
        exclude = set(args.get("exclude") or [])
        search = (args.get("search") or "").lower()
        off = self.gmt_offset * 3600
        gmt = bool(args.get("dates_are_gmt"))
        shift = 0 if gmt else off
        bounds = []
        for name, attr, after in (
            ("after", "created", True),
            ("before", "created", False),
            ("modified_after", "modified", True),
            ("modified_before", "modified", False),
        ):
            if args.get(name):
                v = _parse_wp_date(args[name], self.gmt_offset, gmt)
                if v is not None:
                    bounds.append((attr, after, v))
        if include:
            inc = set(include)
            recs = [r for r in recs if r.id in inc]
        if exclude:
            recs = [r for r in recs if r.id not in exclude]
        for attr, after, v in bounds:  # WP date_query after/before are exclusive
            if after:
                recs = [r for r in recs if getattr(r, attr) + shift > v]
            else:
                recs = [r for r in recs if getattr(r, attr) + shift < v]
        if kind in ("product", "variation", "order"):
            status = args.get("status", "any")
            statuses = set(status if isinstance(status, list) else [status])
            if "any" in statuses:
                recs = [
                    r for r in recs if r.status != "trash" or (statuses - {"any"} and r.status in statuses)
                ]
            else:
                recs = [r for r in recs if r.status in statuses]
        if kind == "product":
            if args.get("type"):
                recs = [r for r in recs if r.type == args["type"]]
            if args.get("sku"):
                skus = set(_parse_list(args["sku"]))
                recs = [r for r in recs if r.sku in skus]
            if args.get("slug"):
                recs = [r for r in recs if r.slug == args["slug"]]
            if args.get("category"):
                cats = {c[0]: i for i, c in enumerate(CATEGORIES)}
                want = {cats.get(_as_int(c), -1) for c in _parse_list(args["category"])}
                recs = [r for r in recs if r.category in want]
            if args.get("stock_status"):
                recs = [
                    r
                    for r in recs
                    if (r.stock_quantity is None or r.stock_quantity > 0)
                    == (args["stock_status"] == "instock")
                ]
            if args.get("parent"):
                recs = [r for r in recs if 0 in set(args["parent"])]
            if search:
                recs = [r for r in recs if search in r.name.lower() or search in r.sku.lower()]
        elif kind == "variation":
            if args.get("sku"):
                skus = set(_parse_list(args["sku"]))
                recs = [r for r in recs if r.sku in skus]
            if search:
                recs = [r for r in recs if search in r.sku.lower()]
        elif kind == "customer":
            if args.get("email"):
                recs = [r for r in recs if r.email.lower() == args["email"].lower()]
            if args.get("role") not in (None, "all", "customer"):
                recs = []
            if search:
                recs = [
                    r
                    for r in recs
                    if search in r.email.lower()
                    or search in r.username.lower()
                    or search in f"{r.first_name} {r.last_name}".lower()
                ]
        elif kind == "order":
            if args.get("customer") is not None:
                recs = [r for r in recs if r.customer_id == args["customer"]]
            if args.get("product"):
                pid = args["product"]
                recs = [r for r in recs if any(li.product_id == pid for li in r.line_items)]
            if search:
                recs = [
                    r
                    for r in recs
                    if search == str(r.id)
                    or search in r.billing_email.lower()
                    or search in f"{r.billing_first} {r.billing_last}".lower()
                    or search in r.transaction_id.lower()
                ]
        return self._sorted(kind, recs, args, include)

    def _sorted(self, kind: str, recs: list[Any], args: dict[str, Any], include: list[int]) -> list[int]:
        orderby = args.get("orderby", "name" if kind == "customer" else "date")
        desc = args.get("order", "asc" if kind == "customer" else "desc") == "desc"
        if orderby == "include" and include:
            pos = {v: i for i, v in enumerate(include)}
            recs.sort(key=lambda r: pos.get(r.id, 0))
            return [r.id for r in recs]
        if orderby == "id":
            key: Callable[[Any], Any] = lambda r: r.id  # noqa: E731
        elif orderby in ("date", "registered_date"):
            key = lambda r: (r.created, r.id)  # noqa: E731
        elif orderby == "modified":
            key = lambda r: (r.modified, r.id)  # noqa: E731
        elif orderby == "title":
            key = lambda r: (getattr(r, "name", ""), r.id)  # noqa: E731
        elif orderby == "slug":
            key = lambda r: (getattr(r, "slug", ""), r.id)  # noqa: E731
        elif orderby == "name":
            key = lambda r: (f"{r.first_name} {r.last_name}", r.id)  # noqa: E731
        elif orderby == "price":
            key = lambda r: (r.price_cents, r.id)  # noqa: E731
        elif orderby == "popularity":
            key = lambda r: (r.total_sales, r.id)  # noqa: E731
        else:
            key = lambda r: (0, r.id)  # noqa: E731
        recs.sort(key=key, reverse=desc)
        return [r.id for r in recs]

    # --- generic handlers ------------------------------------------------------------------------
    def _invalid_id(self, kind: str) -> WooError:
        code = {
            "product": ("woocommerce_rest_product_invalid_id", "Invalid ID."),
            "variation": ("woocommerce_rest_product_variation_invalid_id", "Invalid ID."),
            "customer": ("woocommerce_rest_invalid_id", "Invalid resource ID."),
            "order": ("woocommerce_rest_shop_order_invalid_id", "Invalid ID."),
        }[kind]
        return WooError(code[0], code[1], 404)

    def _get_rec(self, kind: str, req: _Req, rec_id: int | None = None) -> Any:
        rid = rec_id if rec_id is not None else _as_int(req.params.get("id"))
        rec = self._store(kind).get(rid)
        if rec is None:
            raise self._invalid_id(kind)
        if kind == "variation":
            if rec.parent_id != _as_int(req.params.get("product_id")):
                raise self._invalid_id(kind)
        return rec

    def _lister(self, kind: str) -> Callable[[_Req], Response]:
        def handler(req: _Req) -> Response:
            parent = None
            path = {"product": "/products", "customer": "/customers", "order": "/orders"}.get(kind, "")
            if kind == "variation":
                parent = _as_int(req.params["product_id"])
                path = f"/products/{parent}/variations"
            ids = self._matching_ids(kind, req.args, parent)
            store = self._store(kind)
            return self._paged(req, path, ids, lambda i: self.record_bytes(kind, store[i]))

        return handler

    def _getter(self, kind: str) -> Callable[[_Req], Response]:
        def handler(req: _Req) -> Response:
            rec = self._get_rec(kind, req)
            return self._raw(self._fields(req, self.record_bytes(kind, rec)))

        return handler

    def _creator(self, kind: str) -> Callable[[_Req], Any]:
        async def handler(req: _Req) -> Response:
            body = req.params_json()
            parent = _as_int(req.params.get("product_id")) if kind == "variation" else None
            rec = self.create(kind, body, parent=parent)
            return self._raw(
                self.record_bytes(kind, rec), 201, {"Location": self._api(self._path(kind, rec))}
            )

        return handler

    def _updater(self, kind: str) -> Callable[[_Req], Any]:
        async def handler(req: _Req) -> Response:
            body = req.params_json()
            rec = self._get_rec(kind, req)
            self.update(kind, rec, body)
            return self._raw(self.record_bytes(kind, rec))

        return handler

    def _deleter(self, kind: str) -> Callable[[_Req], Any]:
        async def handler(req: _Req) -> Response:
            rec = self._get_rec(kind, req)
            force = str(req.query.get("force", "")).lower() in ("true", "1")
            if not force:
                try:
                    force = bool(req.params_json().get("force") in (True, "true", "1", 1))
                except WooError:
                    force = False
            data = self.delete(kind, rec, force=force)
            return self._json(data)

        return handler

    def _batcher(self, kind: str) -> Callable[[_Req], Any]:
        async def handler(req: _Req) -> Response:
            body = req.params_json()
            groups = {k: body.get(k) or [] for k in ("create", "update", "delete")}
            for k, v in groups.items():
                if not isinstance(v, list):
                    raise _invalid_param({k: ("rest_invalid_type", f"{k} is not of type array.")})
            n = sum(len(v) for v in groups.values())
            if n > BATCH_LIMIT:
                raise WooError(
                    "woocommerce_rest_request_entity_too_large",
                    f"Unable to accept more than {BATCH_LIMIT} items for this request.",
                    413,
                )
            parent = _as_int(req.params.get("product_id")) if kind == "variation" else None
            out: dict[str, list[Any]] = {}
            if groups["create"]:
                out["create"] = []
                for item in groups["create"]:
                    try:
                        if not isinstance(item, dict):
                            raise _invalid_param(
                                {"create": ("rest_invalid_type", "create[] is not of type object.")}
                            )
                        rec = self.create(kind, item, parent=parent)
                        out["create"].append(json.loads(self.record_bytes(kind, rec)))
                    except WooError as exc:
                        out["create"].append({"id": 0, "error": exc.body()})
            if groups["update"]:
                out["update"] = []
                for item in groups["update"]:
                    rid = _as_int(item.get("id")) if isinstance(item, dict) else 0
                    try:
                        if not isinstance(item, dict):
                            raise _invalid_param(
                                {"update": ("rest_invalid_type", "update[] is not of type object.")}
                            )
                        rec = self._store(kind).get(rid)
                        if rec is None or (kind == "variation" and rec.parent_id != parent):
                            raise self._invalid_id(kind)
                        self.update(kind, rec, item)
                        out["update"].append(json.loads(self.record_bytes(kind, rec)))
                    except WooError as exc:
                        out["update"].append({"id": rid, "error": exc.body()})
            if groups["delete"]:
                out["delete"] = []
                for item in groups["delete"]:
                    rid = _as_int(item.get("id") if isinstance(item, dict) else item)
                    try:
                        rec = self._store(kind).get(rid)
                        if rec is None or (kind == "variation" and rec.parent_id != parent):
                            raise self._invalid_id(kind)
                        out["delete"].append(self.delete(kind, rec, force=True))
                    except WooError as exc:
                        out["delete"].append({"id": rid, "error": exc.body()})
            return self._json(out)

        return handler

    def _path(self, kind: str, rec: Any) -> str:
        if kind == "variation":
            return f"/products/{rec.parent_id}/variations/{rec.id}"
        return f"/{kind}s/{rec.id}"

    # --- writes (shared by REST handlers, batch and the admin endpoints) -------------------------
    def create(
        self, kind: str, body: dict[str, Any], *, parent: int | None = None, webhooks: bool = True
    ) -> Any:
        schema = S.SCHEMAS[
            {
                "product": "product",
                "variation": "product_variation",
                "customer": "customer",
                "order": "shop_order",
            }[kind]
        ]
        _validate_body(schema, body)
        w = self.world
        now = self.now()
        if kind == "product":
            sku = str(body.get("sku") or "")
            if sku and sku in self.sku_index:
                raise WooError(
                    "product_invalid_sku",
                    "Invalid or duplicated SKU.",
                    400,
                    resource_id=self.sku_index[sku],
                    unique_sku=sku,
                )
            pid = w.new_post_id()
            name = str(body.get("name") or "Product")
            rec: Any = Product(
                id=pid,
                type=str(body.get("type") or "simple"),
                name=name,
                slug=str(body.get("slug") or f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}-{pid}"),
                sku=sku,
                regular_cents=_cents(body.get("regular_price")) or 0,
                sale_cents=_cents(body.get("sale_price")),
                stock_quantity=_as_int(body["stock_quantity"])
                if body.get("stock_quantity") is not None
                else None,
                status=str(body.get("status") or "publish"),
                created=now,
                modified=now,
                category=0,
            )
            if sku:
                self.sku_index[sku] = pid
            w.products[pid] = rec
        elif kind == "variation":
            p = w.products.get(parent or 0)
            if p is None:
                raise WooError("woocommerce_rest_product_variation_invalid_parent", "Invalid parent ID.", 404)
            sku = str(body.get("sku") or "")
            if sku and sku in self.sku_index:
                raise WooError(
                    "product_invalid_sku",
                    "Invalid or duplicated SKU.",
                    400,
                    resource_id=self.sku_index[sku],
                    unique_sku=sku,
                )
            vid = w.new_post_id()
            attrs = tuple(
                (str(a.get("name", "")), str(a.get("option", "")))
                for a in body.get("attributes") or []
                if isinstance(a, dict)
            ) or (("Option", str(vid)),)
            rec = Variation(
                vid,
                p.id,
                sku,
                attrs,
                _cents(body.get("regular_price")) or 0,
                _cents(body.get("sale_price")),
                _as_int(body["stock_quantity"]) if body.get("stock_quantity") is not None else None,
                now,
                now,
            )
            w.variations[vid] = rec
            p.variation_ids.append(vid)
            if sku:
                self.sku_index[sku] = vid
            self._touched("product", p.id)
        elif kind == "customer":
            email = str(body.get("email") or "").strip()
            if not email:
                raise WooError(
                    "rest_missing_callback_param", "Missing parameter(s): email", 400, params=["email"]
                )
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise WooError(
                    "registration-error-invalid-email", "Please provide a valid email address.", 400
                )
            if email.lower() in self.emails:
                raise WooError(
                    "registration-error-email-exists",
                    _EMAIL_EXISTS,
                    400,
                )
            uid = w.new_user_id()
            username = str(body.get("username") or email.split("@")[0])
            rec = Customer(
                uid,
                str(body.get("first_name") or ""),
                str(body.get("last_name") or ""),
                email,
                username,
                now,
                now,
            )
            w.customers[uid] = rec
            self.emails[email.lower()] = uid
        else:
            rec = self._create_order(body, now)
        if kind != "order":
            self._apply_doc(kind, rec, body)
        self._touched(kind, rec.id)
        if webhooks:
            self.emit(kind, "created", rec.id)
        return rec

    def _create_order(self, body: dict[str, Any], now: int) -> Order:
        w = self.world
        cid = _as_int(body.get("customer_id"))
        if cid and cid not in w.customers:
            raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
        items = self._line_items(body.get("line_items") or [])
        billing = body.get("billing") if isinstance(body.get("billing"), dict) else {}
        status = str(body.get("status") or "pending")
        oid = w.new_post_id()
        order = Order(
            id=oid,
            status=status,
            customer_id=cid,
            currency=str(body.get("currency") or w.currency),
            created=now,
            modified=now,
            paid=None,
            completed=now if status == "completed" else None,
            payment_method=str(body.get("payment_method") or ""),
            transaction_id=str(body.get("transaction_id") or ""),
            line_items=items,
            shipping_cents=sum(
                _cents(s.get("total")) or 0 for s in body.get("shipping_lines") or [] if isinstance(s, dict)
            ),
            shipping_tax_cents=0,
            discount_cents=0,
            order_key="wc_order_"
            + "".join(random.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=13)),
            billing_first=str(billing.get("first_name") or ""),
            billing_last=str(billing.get("last_name") or ""),
            billing_email=str(billing.get("email") or ""),
        )
        if body.get("set_paid") in (True, "true", "1", 1):
            order.paid = now
            if order.status in ("pending", "on-hold", "failed"):
                order.status = "processing"
        w.orders[oid] = order
        doc: dict[str, Any] = {}
        if billing:
            doc["billing"] = {**self.render_order_blank_address(True), **billing}
        if isinstance(body.get("shipping"), dict):
            doc["shipping"] = {**self.render_order_blank_address(False), **body["shipping"]}
        if "customer_note" in body:
            doc["customer_note"] = str(body["customer_note"])
        if isinstance(body.get("meta_data"), list):
            doc["meta_data"] = self._meta(body["meta_data"], [])
        doc["created_via"] = "rest-api"
        order.doc = doc
        return order

    @staticmethod
    def render_order_blank_address(billing: bool) -> dict[str, Any]:
        keys = [
            "first_name",
            "last_name",
            "company",
            "address_1",
            "address_2",
            "city",
            "state",
            "postcode",
            "country",
        ]
        d: dict[str, Any] = dict.fromkeys(keys, "")
        if billing:
            d["email"] = ""
        d["phone"] = ""
        return d

    def _line_items(self, raw: Any) -> list[LineItem]:
        w = self.world
        items = []
        for li in raw if isinstance(raw, list) else []:
            if not isinstance(li, dict):
                continue
            pid, vid = _as_int(li.get("product_id")), _as_int(li.get("variation_id"))
            qty = max(_as_int(li.get("quantity"), 1), 0)
            if vid:
                v = w.variations.get(vid)
                if v is None:
                    raise WooError(
                        "woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400
                    )
                unit, name, sku = (
                    v.regular_cents,
                    f"{w.products[v.parent_id].name} - {v.attributes[0][1]}",
                    v.sku,
                )
                pid = v.parent_id
            else:
                p = w.products.get(pid)
                if p is None:
                    raise WooError(
                        "woocommerce_rest_invalid_product_id", "Product ID provided is invalid.", 400
                    )
                unit, name, sku = p.price_cents, p.name, p.sku
            if li.get("total") not in (None, "") and _cents(li.get("total")) is not None and qty:
                unit = (_cents(li["total"]) or 0) // qty
            items.append(LineItem(w.new_item_id(), pid, vid, name, sku, qty, unit, 0))
        return items

    @staticmethod
    def _meta(new: list[Any], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [dict(m) for m in old]
        for m in new:
            if not isinstance(m, dict) or "key" not in m:
                continue
            for cur in out:
                if (m.get("id") and cur.get("id") == m.get("id")) or (
                    not m.get("id") and cur.get("key") == m["key"]
                ):
                    cur["value"] = m.get("value")
                    break
            else:
                out.append({"id": random.randrange(10**6, 10**7), "key": m["key"], "value": m.get("value")})
        return out

    def _apply_doc(self, kind: str, rec: Any, body: dict[str, Any]) -> None:
        """Keep a client's writable fields (descriptions, addresses, meta) on the record."""
        current = self._render(kind, rec)
        schema = S.SCHEMAS[
            {
                "product": "product",
                "variation": "product_variation",
                "customer": "customer",
                "order": "shop_order",
            }[kind]
        ]["properties"]
        core = {
            "id",
            "name",
            "slug",
            "sku",
            "regular_price",
            "sale_price",
            "price",
            "stock_quantity",
            "status",
            "type",
            "email",
            "first_name",
            "last_name",
            "username",
            "_links",
            "variations",
            "line_items",
            "refunds",
        }
        writable = {k for k, v in schema.items() if not v.get("readonly")}
        doc = {
            k: v for k, v in current.items() if k in writable and k not in core and not k.startswith("date_")
        }
        for k, v in body.items():
            prop = schema.get(k)
            if (
                prop is None
                or prop.get("readonly")
                or k in core
                or k.startswith("date_")
                or k in ("password", "set_paid")
            ):
                continue
            if k == "meta_data" and isinstance(v, list):
                doc[k] = self._meta(v, doc.get(k) or [])
            elif isinstance(v, dict) and isinstance(doc.get(k), dict):
                doc[k] = {**doc[k], **v}
            else:
                doc[k] = v
        rec.doc = doc

    def update(self, kind: str, rec: Any, body: dict[str, Any], *, webhooks: bool = True) -> None:
        schema = S.SCHEMAS[
            {
                "product": "product",
                "variation": "product_variation",
                "customer": "customer",
                "order": "shop_order",
            }[kind]
        ]
        _validate_body(schema, body)
        if kind in ("product", "variation"):
            if "sku" in body:
                sku = str(body["sku"] or "")
                if sku and self.sku_index.get(sku, rec.id) != rec.id:
                    raise WooError(
                        "product_invalid_sku",
                        "Invalid or duplicated SKU.",
                        400,
                        resource_id=self.sku_index[sku],
                        unique_sku=sku,
                    )
                self.sku_index.pop(rec.sku, None)
                rec.sku = sku
                if sku:
                    self.sku_index[sku] = rec.id
            if "regular_price" in body:
                rec.regular_cents = _cents(body["regular_price"]) or 0
            if "sale_price" in body:
                rec.sale_cents = _cents(body["sale_price"])
            if "stock_quantity" in body:
                rec.stock_quantity = (
                    None if body["stock_quantity"] is None else _as_int(body["stock_quantity"])
                )
            if body.get("manage_stock") is False:
                rec.stock_quantity = None
            if "status" in body:
                rec.status = str(body["status"])
            if kind == "product":
                if "name" in body:
                    rec.name = str(body["name"])
                if "slug" in body:
                    rec.slug = str(body["slug"])
                if "type" in body:
                    rec.type = str(body["type"])
            else:
                self._touched("product", rec.parent_id)
        elif kind == "customer":
            if "email" in body:
                email = str(body["email"]).strip()
                if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                    raise WooError(
                        "registration-error-invalid-email", "Please provide a valid email address.", 400
                    )
                other = self.emails.get(email.lower())
                if other is not None and other != rec.id:
                    raise WooError(
                        "registration-error-email-exists",
                        _EMAIL_EXISTS,
                        400,
                    )
                self.emails.pop(rec.email.lower(), None)
                rec.email = email
                self.emails[email.lower()] = rec.id
            for f in ("first_name", "last_name"):
                if f in body:
                    setattr(rec, f, str(body[f]))
            if "username" in body and body["username"] != rec.username:
                raise WooError("woocommerce_rest_customer_invalid_argument", "Username isn't editable.", 400)
        else:
            self._update_order(rec, body)
        self._apply_doc(kind, rec, body)
        rec.modified = self.now()
        self._touched(kind, rec.id)
        if webhooks:
            self.emit(kind, "updated", rec.id)

    def _update_order(self, o: Order, body: dict[str, Any]) -> None:
        if "customer_id" in body:
            cid = _as_int(body["customer_id"])
            if cid and cid not in self.world.customers:
                raise WooError("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
            o.customer_id = cid
        if "line_items" in body and isinstance(body["line_items"], list):
            by_id = {li.id: li for li in o.line_items}
            new = []
            for li in body["line_items"]:
                if isinstance(li, dict) and _as_int(li.get("id")) in by_id:
                    cur = by_id[_as_int(li["id"])]
                    if "quantity" in li:
                        q = _as_int(li["quantity"], cur.quantity)
                        if q <= 0:
                            o.line_items.remove(cur)
                        else:
                            cur.quantity = q
                elif isinstance(li, dict):
                    new.append(li)
            o.line_items.extend(self._line_items(new))
        for f in ("payment_method", "transaction_id", "currency"):
            if f in body:
                setattr(o, f, str(body[f] or ""))
        if isinstance(body.get("billing"), dict):
            b = body["billing"]
            o.billing_first = str(b.get("first_name", o.billing_first))
            o.billing_last = str(b.get("last_name", o.billing_last))
            o.billing_email = str(b.get("email", o.billing_email))
        now = self.now()
        if body.get("set_paid") in (True, "true", "1", 1) and o.paid is None:
            o.paid = now
            if o.status in ("pending", "on-hold", "failed"):
                o.status = "processing"
        if "status" in body:
            status = str(body["status"])
            if status == "completed" and o.completed is None:
                o.completed = now
            if (
                status in ("processing", "completed")
                and o.paid is None
                and o.payment_method not in ("bacs", "cod", "")
            ):
                o.paid = now
            o.status = status
        for f in ("billing", "shipping"):
            if isinstance(body.get(f), dict):
                rendered = self.render_order(o)[f]
                o.doc = dict(o.doc or {})
                o.doc[f] = {**rendered, **body[f]}

    def delete(self, kind: str, rec: Any, *, force: bool, webhooks: bool = True) -> dict[str, Any]:
        """DELETE semantics: products/orders go to the trash unless `force`; others need `force`."""
        label = {
            "product": "product",
            "order": "order",
            "variation": "product_variation",
            "customer": "customer",
        }[kind]
        if not force and kind in ("customer", "variation"):
            what = "Customers" if kind == "customer" else "Variations"
            raise WooError("woocommerce_rest_trash_not_supported", f"{what} do not support trashing.", 501)
        previous = json.loads(self.record_bytes(kind, rec))
        if not force:
            if rec.status == "trash":
                raise WooError(
                    "woocommerce_rest_already_trashed", f"The {label} has already been deleted.", 410
                )
            self.trash(kind, rec, webhooks=webhooks)
            return json.loads(self.record_bytes(kind, rec))
        self._store(kind).pop(rec.id, None)
        self._touched(kind, rec.id)
        if kind in ("product", "variation"):
            self.sku_index.pop(rec.sku, None)
        if kind == "product":
            for vid in rec.variation_ids:
                v = self.world.variations.pop(vid, None)
                if v is not None:
                    self.sku_index.pop(v.sku, None)
                    self._touched("variation", vid)
        elif kind == "variation":
            parent = self.world.products.get(rec.parent_id)
            if parent is not None and rec.id in parent.variation_ids:
                parent.variation_ids.remove(rec.id)
                self._touched("product", parent.id)
        elif kind == "customer":
            self.emails.pop(rec.email.lower(), None)
        if webhooks and kind != "variation":
            self.emit(kind, "deleted", rec.id)
        return previous

    def trash(self, kind: str, rec: Any, *, webhooks: bool = True) -> None:
        if kind == "order":
            rec.pre_trash_status = rec.status
        rec.status = "trash"
        rec.modified = self.now()
        self._touched(kind, rec.id)
        if webhooks:
            self.emit(kind, "deleted", rec.id)

    def restore(self, kind: str, rec: Any, *, webhooks: bool = True) -> None:
        if rec.status != "trash":
            return
        rec.status = (rec.pre_trash_status or "pending") if kind == "order" else "draft"
        rec.modified = self.now()
        self._touched(kind, rec.id)
        if webhooks:
            self.emit(kind, "restored", rec.id)

    def touch(
        self, kind: str, ids: Iterable[int], *, at: int | None = None, webhooks: bool = True
    ) -> list[int]:
        """Bump `date_modified` (a store-side edit): to `at` (epoch seconds) or now."""
        store = self._store(kind)
        done = []
        when = self.now() if at is None else at
        for rid in ids:
            rec = store.get(rid)
            if rec is None:
                continue
            rec.modified = when
            self._touched(kind, rid)
            if kind == "variation":
                self._touched("product", rec.parent_id)
            done.append(rid)
            if webhooks and kind != "variation":
                self.emit(kind, "updated", rid)
        return done

    # --- refunds ---------------------------------------------------------------------------------
    def _order_for(self, req: _Req) -> Order:
        o = self.world.orders.get(_as_int(req.params.get("order_id")))
        if o is None:
            raise WooError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        return o

    def h_refunds_list(self, req: _Req) -> Response:
        o = self._order_for(req)
        refunds = sorted(o.refunds, key=lambda r: (r.created, r.id), reverse=True)
        by_id = {r.id: r for r in refunds}
        return self._paged(
            req,
            f"/orders/{o.id}/refunds",
            [r.id for r in refunds],
            lambda i: php_json(self.render_refund(by_id[i])),
        )

    def _refund(self, req: _Req) -> tuple[Order, Refund]:
        o = self._order_for(req)
        rid = _as_int(req.params.get("id"))
        for rf in o.refunds:
            if rf.id == rid:
                return o, rf
        raise WooError("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)

    def h_refund_get(self, req: _Req) -> Response:
        return self._json(self.render_refund(self._refund(req)[1]))

    async def h_refund_delete(self, req: _Req) -> Response:
        o, rf = self._refund(req)
        if str(req.query.get("force", "")).lower() not in ("true", "1"):
            raise WooError("woocommerce_rest_trash_not_supported", "Refunds do not support trashing.", 501)
        data = self.render_refund(rf)
        o.refunds.remove(rf)
        o.modified = self.now()
        self._touched("order", o.id)
        self.emit("order", "updated", o.id)
        return self._json(data)

    async def h_refund_create(self, req: _Req) -> Response:
        o = self._order_for(req)
        body = req.params_json()
        rf = self.create_refund(o, body)
        return self._json(
            self.render_refund(rf), 201, {"Location": self._api(f"/orders/{o.id}/refunds/{rf.id}")}
        )

    def create_refund(self, o: Order, body: dict[str, Any]) -> Refund:
        amount = _cents(body.get("amount"))
        if amount is None and isinstance(body.get("line_items"), list):
            amount = sum(
                _cents(li.get("refund_total")) or 0 for li in body["line_items"] if isinstance(li, dict)
            )
        if amount is None or amount < 0:
            raise WooError(
                "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400
            )
        remaining = o.total_cents - o.refunded_cents
        if amount <= 0 or amount > remaining:
            raise WooError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
        api_refund = body.get("api_refund", True) not in (False, "false", "0", 0)
        gw_id = ""
        if api_refund:
            if (
                o.payment_method not in GATEWAYS
                or o.payment_method in ("bacs", "cod")
                or not o.transaction_id
            ):
                raise WooError(
                    "woocommerce_rest_cannot_create_order_refund",
                    "The payment gateway for this order does not support automatic refunds.",
                    500,
                )
            gw_id = gateway_refund_id(
                random.Random(f"{self.seed}-refund-{o.id}-{len(o.refunds)}"), o.payment_method
            )
        now = self.now()
        rf = Refund(self.world.new_post_id(), o.id, amount, str(body.get("reason") or ""), now, gw_id)
        o.refunds.append(rf)
        if o.refunded_cents >= o.total_cents:
            o.status = "refunded"
        o.modified = now
        self._touched("order", o.id)
        self.emit("order", "updated", o.id)
        return rf

    # --- webhooks --------------------------------------------------------------------------------
    def _webhook(self, req: _Req) -> Webhook:
        w = self.webhooks.get(_as_int(req.params.get("id")))
        if w is None:
            raise WooError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        return w

    def h_webhooks_list(self, req: _Req) -> Response:
        status = req.args.get("status", "all")
        hooks = [w for w in self.webhooks.values() if status == "all" or w.status == status]
        include = req.args.get("include") or []
        if include:
            hooks = [w for w in hooks if w.id in include]
        desc = req.args.get("order", "desc") == "desc"
        hooks.sort(key=lambda w: (w.created, w.id), reverse=desc)
        by_id = {w.id: w for w in hooks}
        return self._paged(
            req, "/webhooks", [w.id for w in hooks], lambda i: php_json(self.render_webhook(by_id[i]))
        )

    def h_webhook_get(self, req: _Req) -> Response:
        return self._json(self.render_webhook(self._webhook(req)))

    def _check_webhook_body(self, body: dict[str, Any], creating: bool) -> None:
        _validate_body(S.SCHEMAS["webhook"], {k: v for k, v in body.items() if k != "delivery_url"})
        if creating:
            missing = [k for k in ("topic", "delivery_url") if not body.get(k)]
            if missing:
                raise WooError(
                    "rest_missing_callback_param",
                    f"Missing parameter(s): {', '.join(missing)}",
                    400,
                    params=missing,
                )
        if "topic" in body:
            topic = str(body["topic"])
            if topic not in _VALID_TOPICS and not re.fullmatch(r"action\.(woocommerce|wc)_\w+", topic):
                raise WooError(
                    "woocommerce_rest_webhook_invalid_topic",
                    "Webhook topic is required and must be valid.",
                    400,
                )
        if "delivery_url" in body:
            url = str(body["delivery_url"])
            if not re.match(r"^https?://[^\s/]+", url):
                raise WooError(
                    "woocommerce_rest_webhook_invalid_delivery_url",
                    "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                    400,
                )

    async def h_webhook_create(self, req: _Req) -> Response:
        body = req.params_json()
        self._check_webhook_body(body, True)
        now = self.now()
        self.next_webhook_id += 1
        w = Webhook(
            id=self.next_webhook_id,
            name=str(
                body.get("name")
                or f"Webhook created on {time.strftime('%B %d, %Y @ %I:%M %p', time.gmtime(now))}"
            ),
            status=str(body.get("status") or "active"),
            topic=str(body["topic"]),
            delivery_url=str(body["delivery_url"]),
            secret=str(body.get("secret") or self.webhook_secret),
            created=now,
            modified=now,
        )
        self.webhooks[w.id] = w
        await self.deliver_ping(w)
        return self._json(self.render_webhook(w), 201, {"Location": self._api(f"/webhooks/{w.id}")})

    async def h_webhook_update(self, req: _Req) -> Response:
        w = self._webhook(req)
        body = req.params_json()
        self._check_webhook_body(body, False)
        for f in ("name", "status", "topic", "delivery_url", "secret"):
            if f in body and body[f] is not None:
                setattr(w, f, str(body[f]))
        if body.get("status") == "active":
            w.failure_count = 0
        w.modified = self.now()
        return self._json(self.render_webhook(w))

    async def h_webhook_delete(self, req: _Req) -> Response:
        w = self._webhook(req)
        if str(req.query.get("force", "")).lower() not in ("true", "1"):
            raise WooError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        data = self.render_webhook(w)
        del self.webhooks[w.id]
        return self._json(data)

    def emit(self, kind: str, event: str, rec_id: int) -> None:
        """Queue deliveries for `<kind>.<event>` like Action Scheduler: one pending job per hook+id."""
        topic = f"{kind}.{event}"
        if kind == "order":
            o = self.world.orders.get(rec_id)
            if o is not None and o.status in ("draft", "auto-draft", "new", "checkout-draft"):
                return
        for w in list(self.webhooks.values()):
            if w.status != "active" or w.topic != topic or rec_id in w.pending:
                continue
            w.pending.add(rec_id)
            self._schedule(self._deliver(w, rec_id, topic))

    def _schedule(self, coro: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif self.loop is not None:
            asyncio.run_coroutine_threadsafe(coro, self.loop)
        else:
            coro.close()

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False, timeout=self.webhook_timeout)
        return self._http

    def payload(self, kind: str, event: str, rec_id: int) -> bytes:
        if event == "deleted":
            return php_json({"id": rec_id})
        store = self._store(kind)
        rec = store.get(rec_id)
        return php_json({"id": rec_id}) if rec is None else self.record_bytes(kind, rec)

    async def _deliver(self, w: Webhook, rec_id: int, topic: str, *, manual: bool = False) -> dict[str, Any]:
        if self.webhook_delay_ms and not manual:
            await asyncio.sleep(self.webhook_delay_ms / 1000)
        w.pending.discard(rec_id)
        kind, event = topic.split(".", 1)
        body = self.payload(kind, event, rec_id)
        delivery_id = hashlib.md5(f"{w.id}{time.time()}{random.random()}".encode()).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})",
            "X-WC-Webhook-Source": self.base_url + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": kind,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign_webhook(body, w.secret),
            "X-WC-Webhook-ID": str(w.id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        record: dict[str, Any] = {
            "kind": "delivery",
            "delivery_id": delivery_id,
            "webhook_id": w.id,
            "topic": topic,
            "resource_id": rec_id,
            "url": w.delivery_url,
            "request_headers": headers,
            "body": body.decode(),
            "time": time.time(),
        }
        started = time.monotonic()
        code = 0
        try:
            resp = await self._client().post(w.delivery_url, content=body, headers=headers)
            code = resp.status_code
            record["response_body"] = resp.text[:1000]
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        record["status_code"] = code
        record["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        if 200 <= code < 303:
            w.failure_count = 0
            record["success"] = True
        else:
            record["success"] = False
            if w.failure_count > MAX_FAILURES:
                w.status = "disabled"
            else:
                w.failure_count += 1
        record["failure_count"] = w.failure_count
        record["webhook_status"] = w.status
        self.deliveries.add(record)
        return record

    async def deliver_ping(self, w: Webhook) -> dict[str, Any]:
        """The unsigned form post WooCommerce sends when a webhook is created; its result is ignored."""
        body = f"webhook_id={w.id}".encode()
        headers = {
            "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        record: dict[str, Any] = {
            "kind": "ping",
            "webhook_id": w.id,
            "url": w.delivery_url,
            "request_headers": headers,
            "body": body.decode(),
            "time": time.time(),
        }
        try:
            resp = await self._client().post(
                w.delivery_url, content=body, headers=headers, timeout=min(self.webhook_timeout, 5.0)
            )
            record["status_code"] = resp.status_code
        except httpx.HTTPError as exc:
            record["status_code"] = 0
            record["error"] = f"{type(exc).__name__}: {exc}"
        self.deliveries.add(record)
        return record

    async def flush(self) -> None:
        """Wait until every queued delivery has been attempted."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def on_shutdown(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- admin (under /_sandbox/woocommerce) -----------------------------------------------------
    def admin_routes(self) -> list[Route]:
        kinds = {"products": "product", "variations": "variation", "customers": "customer", "orders": "order"}

        def kind_of(request: Request) -> str:
            k = kinds.get(request.path_params["resource"])
            if k is None:
                raise WooError("sandbox_unknown_resource", f"resource must be one of {', '.join(kinds)}", 404)
            return k

        def wrap(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
            async def inner(request: Request) -> Response:
                try:
                    data = fn(request)
                    if asyncio.iscoroutine(data):
                        data = await data
                    return data if isinstance(data, Response) else admin_json(data)
                except WooError as exc:
                    return admin_json({"error": exc.message, "code": exc.code}, exc.status)
                except (ValueError, KeyError, TypeError) as exc:
                    return admin_json({"error": str(exc)}, 400)

            return inner

        async def body_of(request: Request) -> dict[str, Any]:
            data = await read_json(request)
            if not isinstance(data, dict):
                raise ValueError("send a JSON object")
            return data

        async def info(request: Request) -> Any:
            w = self.world
            statuses: dict[str, int] = {}
            for o in w.orders.values():
                statuses[o.status] = statuses.get(o.status, 0) + 1
            return {
                "seed": w.seed,
                "counts": {
                    "products": len(w.products),
                    "variations": len(w.variations),
                    "customers": len(w.customers),
                    "orders": len(w.orders),
                },
                "order_statuses": statuses,
                "gmt_offset": self.gmt_offset,
                "credentials": self.credentials(),
            }

        async def touch(request: Request) -> Any:
            data = await body_of(request)
            kind = kind_of(request)
            ids = [int(i) for i in data.get("ids") or []]
            if not ids and data.get("count"):
                store = sorted(self._store(kind))
                ids = random.Random(data.get("seed", 0)).sample(store, min(int(data["count"]), len(store)))
            at = data.get("at")
            if isinstance(at, str):
                parsed = _parse_wp_date(at, 0, True)
                if parsed is None:
                    raise ValueError("at: use an ISO 8601 date or epoch seconds")
                at = int(parsed)
            done = self.touch(kind, ids, at=at, webhooks=data.get("webhooks", True))
            return {"touched": done}

        async def create(request: Request) -> Any:
            data = await body_of(request)
            kind = kind_of(request)
            parent = data.pop("parent_id", None) if kind == "variation" else None
            webhooks = data.pop("webhooks", True)
            rec = self.create(kind, data, parent=parent, webhooks=webhooks)
            return self.record_json(kind, rec.id)

        async def one(request: Request) -> Any:
            kind = kind_of(request)
            rid = int(request.path_params["id"])
            rec = self._store(kind).get(rid)
            if rec is None:
                raise self._invalid_id(kind)
            action = request.path_params.get("action")
            if request.method == "GET":
                return self.record_json(kind, rid)
            if request.method == "DELETE":
                return self.delete(kind, rec, force=True)
            data = await body_of(request)
            webhooks = data.pop("webhooks", True)
            if action == "trash":
                self.trash(kind, rec, webhooks=webhooks)
            elif action == "restore":
                self.restore(kind, rec, webhooks=webhooks)
            elif action is None:
                self.update(kind, rec, data, webhooks=webhooks)
            else:
                raise ValueError(f"unknown action {action!r}: use trash or restore")
            return self.record_json(kind, rid)

        async def refund(request: Request) -> Any:
            o = self.world.orders.get(int(request.path_params["id"]))
            if o is None:
                raise self._invalid_id("order")
            rf = self.create_refund(o, await body_of(request))
            return self.render_refund(rf)

        async def hooks(request: Request) -> Any:
            return [
                self.render_webhook(w)
                | {"secret": w.secret, "failure_count": w.failure_count, "pending": sorted(w.pending)}
                for w in self.webhooks.values()
            ]

        async def deliver(request: Request) -> Any:
            w = self.webhooks.get(int(request.path_params["id"]))
            if w is None:
                raise WooError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
            data = await body_of(request)
            rid = int(data["resource_id"])
            topic = str(data.get("topic") or w.topic)
            return await self._deliver(w, rid, topic, manual=True)

        async def emit(request: Request) -> Any:
            data = await body_of(request)
            kind, event = str(data["topic"]).split(".", 1)
            self.emit(kind, event, int(data["resource_id"]))
            if data.get("wait", True):
                await self.flush()
            return {"queued": True}

        async def flush(request: Request) -> Any:
            await self.flush()
            return {"pending": 0}

        async def keys(request: Request) -> Any:
            data = await body_of(request)
            perm = str(data.get("permissions", "read_write"))
            if perm not in ("read", "write", "read_write"):
                raise ValueError("permissions must be read, write or read_write")
            k = self.add_key(perm)
            return {"consumer_key": k.consumer_key, "consumer_secret": k.consumer_secret, "permissions": perm}

        p = "/woocommerce"
        return [
            Route(p, wrap(info), methods=["GET"]),
            Route(p + "/webhooks", wrap(hooks), methods=["GET"]),
            Route(p + "/webhooks/flush", wrap(flush), methods=["POST"]),
            Route(p + "/webhooks/emit", wrap(emit), methods=["POST"]),
            Route(p + "/webhooks/{id:int}/deliver", wrap(deliver), methods=["POST"]),
            Route(p + "/keys", wrap(keys), methods=["POST"]),
            Route(p + "/orders/{id:int}/refunds", wrap(refund), methods=["POST"]),
            Route(p + "/{resource}/touch", wrap(touch), methods=["POST"]),
            Route(p + "/{resource}", wrap(create), methods=["POST"]),
            Route(p + "/{resource}/{id:int}", wrap(one), methods=["GET", "PATCH", "PUT", "DELETE"]),
            Route(p + "/{resource}/{id:int}/{action}", wrap(one), methods=["POST"]),
        ]
