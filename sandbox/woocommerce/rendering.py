"""Records as WooCommerce's controllers render them, and the cache of their serialized bytes.

Money is a decimal string (but `line_items[].price` a number), dates carry no zone (`*_gmt` is UTC, the
others site time), and descriptions, addresses and images are re-derived from `(seed, id)` rather than
stored. `record_bytes()` keeps each record's JSON until a write calls `Store.touched()`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from typing import Any

from sandbox.world import CATEGORIES, GATEWAYS, Customer, Order, Product, Refund, Variation

from .encoding import iso, money, php_json
from .settings import TOPIC_HOOKS, WC_VERSION
from .store import Store, Webhook

__all__ = [
    "blank_address",
    "item_links",
    "local",
    "put_dates",
    "record_bytes",
    "record_json",
    "render",
    "render_customer",
    "render_order",
    "render_product",
    "render_refund",
    "render_variation",
    "render_webhook",
]

_PRICE_SPAN = (
    '<span class="woocommerce-Price-amount amount"><bdi>'
    '<span class="woocommerce-Price-currencySymbol">{sym}</span>{amount}</bdi></span>'
)
_BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)


def local(st: Store, t: int | None) -> str | None:
    """Epoch seconds as the site's wall clock (WordPress's non-`_gmt` dates)."""
    return None if t is None else iso(t + st.gmt_offset * 3600)


def put_dates(st: Store, d: dict[str, Any], name: str, t: int | None) -> None:
    """Set `name` (site time) and `name_gmt` (UTC) in `d`."""
    d[name] = local(st, t)
    d[name + "_gmt"] = None if t is None else iso(t)


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


def _address(r: random.Random, first: str, last: str, email: str | None, phone: str) -> dict[str, Any]:
    """A street address derived from the record's random stream; name, email and phone are the world's."""
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
    d["phone"] = phone
    return d


# --- records -----------------------------------------------------------------------------------------
def item_links(st: Store, collection: str, rec_id: int) -> dict[str, Any]:
    """`_links` of a top-level record, as WooCommerce 9 sends them (self with allowed methods)."""
    return {
        "self": [
            {
                "href": st.api(f"/{collection}/{rec_id}"),
                "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            }
        ],
        "collection": [{"href": st.api(f"/{collection}")}],
    }


def render_product(st: Store, p: Product) -> dict[str, Any]:
    base = st.base_url
    r = random.Random(st.seed * 1_000_003 + p.id)
    # generated fields first; a client's writes (p.doc) overlay them below
    longs, shorts = _paragraph_pool(st.seed)
    cat_id, cat_name, cat_slug = CATEGORIES[p.category]
    img_base = f"{base}/wp-content/uploads/2025/{(p.created // 2_592_000) % 12 + 1:02d}"
    images = []
    for i in range(r.randrange(1, 4)):
        img_id = 100_000 + p.id * 4 + i
        images.append(
            {
                "id": img_id,
                "date_created": local(st, p.created),
                "date_created_gmt": iso(p.created),
                "date_modified": local(st, p.created),
                "date_modified_gmt": iso(p.created),
                "src": f"{img_base}/{p.slug}-{i + 1}.jpg",
                "name": f"{p.slug}-{i + 1}",
                "alt": "",
            }
        )
    attrs = []
    if p.type == "variable":
        first = st.world.variations.get(p.variation_ids[0]) if p.variation_ids else None
        aname = first.attributes[0][0] if first else "Size"
        opts = [st.world.variations[v].attributes[0][1] for v in p.variation_ids if v in st.world.variations]
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
    amount = _PRICE_SPAN.format(sym=sym, amount=money(price))
    if on_sale:
        regular = _PRICE_SPAN.format(sym=sym, amount=money(p.regular_cents))
        price_html = (
            f'<del aria-hidden="true">{regular}</del> <span class="screen-reader-text">'
            f"Original price was: {sym}{money(p.regular_cents)}.</span>"
            f'<ins aria-hidden="true">{amount}</ins>'
        )
    else:
        price_html = amount
    manage = p.stock_quantity is not None
    out: dict[str, Any] = {"id": p.id, "name": p.name, "slug": p.slug}
    out["permalink"] = f"{base}/product/{p.slug}/"
    put_dates(st, out, "date_created", p.created)
    put_dates(st, out, "date_modified", p.modified)
    out.update(
        {
            "type": p.type,
            "status": p.status,
            "featured": d.pop("featured", False),
            "catalog_visibility": d.pop("catalog_visibility", "visible"),
            "description": d.pop("description", ""),
            "short_description": d.pop("short_description", ""),
            "sku": p.sku,
            "price": money(price),
            "regular_price": money(p.regular_cents),
            "sale_price": money(p.sale_cents) if on_sale and p.sale_cents is not None else "",
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
            "_links": item_links(st, "products", p.id),
        }
    )
    return out


def render_variation(st: Store, v: Variation) -> dict[str, Any]:
    parent = st.world.products.get(v.parent_id)
    r = random.Random(st.seed * 1_000_033 + v.id)
    price = v.sale_cents if v.sale_cents is not None else v.regular_cents
    manage = v.stock_quantity is not None
    pname = parent.name if parent else ""
    out: dict[str, Any] = {"id": v.id, "type": "variation"}
    put_dates(st, out, "date_created", v.created)
    put_dates(st, out, "date_modified", v.modified)
    extra = dict(v.doc) if v.doc is not None else {}
    out.update(
        {
            "description": extra.pop("description", f"<p>{_sentence(r, 10)}</p>"),
            "permalink": f"{st.base_url}/product/{parent.slug if parent else ''}/"
            f"?attribute_pa_{v.attributes[0][0].lower()}={v.attributes[0][1].lower()}",
            "sku": v.sku,
            "global_unique_id": "",
            "price": money(price),
            "regular_price": money(v.regular_cents),
            "sale_price": money(v.sale_cents) if v.sale_cents is not None else "",
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
            "attributes": [{"id": 1 if a == "Size" else 2, "name": a, "option": o} for a, o in v.attributes],
            "menu_order": 0,
            "meta_data": [],
            "name": f"{pname} - {', '.join(o for _, o in v.attributes)}",
            "parent_id": v.parent_id,
        }
    )
    out.update(extra)
    out["_links"] = {
        "self": [{"href": st.api(f"/products/{v.parent_id}/variations/{v.id}")}],
        "collection": [{"href": st.api(f"/products/{v.parent_id}/variations")}],
        "up": [{"href": st.api(f"/products/{v.parent_id}")}],
    }
    return out


def render_customer(st: Store, c: Customer) -> dict[str, Any]:
    r = random.Random(st.seed * 1_000_037 + c.id)
    out: dict[str, Any] = {"id": c.id}
    put_dates(st, out, "date_created", c.created)
    put_dates(st, out, "date_modified", c.modified)
    extra = dict(c.doc) if c.doc is not None else {}
    # The phone is the world's (`Customer.phone`), what the messaging stand-ins know (`World.contact_flags`).
    billing = extra.pop("billing", None) or _address(r, c.first_name, c.last_name, c.email, c.phone)
    billing = {**billing, "phone": c.phone}
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
    out["_links"] = item_links(st, "customers", c.id)
    return out


def render_order(st: Store, o: Order) -> dict[str, Any]:
    r = random.Random(st.seed * 1_000_039 + o.id)
    extra = dict(o.doc) if o.doc is not None else {}
    # Billing email and phone are the world's (`Order.billing_email`, `.billing_phone`): the customer's for
    # a registered customer, the guest's own otherwise, as the messaging stand-ins know them.
    billing = extra.pop("billing", None) or _address(
        r, o.billing_first, o.billing_last, o.billing_email, o.billing_phone
    )
    billing = {**billing, "email": o.billing_email, "phone": o.billing_phone}
    shipping = extra.pop("shipping", None) or {k: v for k, v in billing.items() if k != "email"}
    tax_rate_id = 1
    items = []
    for li in o.line_items:
        total = money(li.total_cents)
        tax = money(li.tax_cents)
        parent = st.world.products.get(li.product_id) if li.variation_id else None
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
                    "src": f"{st.base_url}/wp-content/uploads/2025/01/item-{li.product_id}.jpg"
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
    put_dates(st, out, "date_created", o.created)
    put_dates(st, out, "date_modified", o.modified)
    out.update(
        {
            "discount_total": money(o.discount_cents),
            "discount_tax": "0.00",
            "shipping_total": money(o.shipping_cents),
            "shipping_tax": money(o.shipping_tax_cents),
            "cart_tax": money(o.cart_tax_cents),
            "total": money(o.total_cents),
            "total_tax": money(o.cart_tax_cents + o.shipping_tax_cents),
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
    put_dates(st, out, "date_completed", o.completed)
    put_dates(st, out, "date_paid", o.paid)
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
                    "tax_total": money(o.cart_tax_cents),
                    "shipping_tax_total": money(o.shipping_tax_cents),
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
                    "total": money(o.shipping_cents),
                    "total_tax": money(o.shipping_tax_cents),
                    "taxes": [{"id": tax_rate_id, "total": money(o.shipping_tax_cents), "subtotal": ""}]
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
                {"id": rf.id, "reason": rf.reason, "total": money(-rf.amount_cents)}
                for rf in sorted(o.refunds, key=lambda x: -x.id)
            ],
            "payment_url": f"{st.base_url}/checkout/order-pay/{o.id}/?pay_for_order=true&key={o.order_key}",
            "is_editable": o.status in ("pending", "on-hold", "auto-draft"),
            "needs_payment": o.status in ("pending", "failed") and o.total_cents > 0,
            "needs_processing": True,
            "date_completed_gmt": out.pop("date_completed_gmt"),
            "date_paid_gmt": out.pop("date_paid_gmt"),
            "currency_symbol": "$" if o.currency == "USD" else o.currency,
        }
    )
    out.update(extra)
    links = item_links(st, "orders", o.id)
    if o.customer_id:
        links["customer"] = [{"href": st.api(f"/customers/{o.customer_id}")}]
    out["_links"] = links
    return out


def render_refund(st: Store, rf: Refund) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rf.id}
    put_dates(st, out, "date_created", rf.created)
    out.update(
        {
            "amount": money(rf.amount_cents),
            "reason": rf.reason,
            "refunded_by": 1,
            "refunded_payment": bool(rf.gateway_refund_id),
            "meta_data": [],
            "line_items": [],
            "shipping_lines": [],
            "tax_lines": [],
            "fee_lines": [],
            "_links": {
                "self": [{"href": st.api(f"/orders/{rf.order_id}/refunds/{rf.id}")}],
                "collection": [{"href": st.api(f"/orders/{rf.order_id}/refunds")}],
                "up": [{"href": st.api(f"/orders/{rf.order_id}")}],
            },
        }
    )
    return out


def render_webhook(st: Store, w: Webhook) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": w.id,
        "name": w.name,
        "status": w.status,
        "topic": w.topic,
        "resource": w.resource,
        "event": w.event,
        "hooks": [TOPIC_HOOKS.get(w.resource, w.topic)],
        "delivery_url": w.delivery_url,
    }
    put_dates(st, out, "date_created", w.created)
    put_dates(st, out, "date_modified", w.modified)
    out["_links"] = {
        "self": [{"href": st.api(f"/webhooks/{w.id}")}],
        "collection": [{"href": st.api("/webhooks")}],
    }
    return out


def blank_address(billing: bool) -> dict[str, Any]:
    """An order address with every field empty (what a REST-created order starts from)."""
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


# --- dispatch and cache ----------------------------------------------------------------------------
def render(st: Store, kind: str, rec: Any) -> dict[str, Any]:
    """Render a world record of `kind`, fresh (the renderers are looked up at call time)."""
    if kind == "product":
        return render_product(st, rec)
    if kind == "variation":
        return render_variation(st, rec)
    if kind == "customer":
        return render_customer(st, rec)
    if kind == "order":
        return render_order(st, rec)
    if kind == "refund":
        return render_refund(st, rec)
    if kind == "webhook":
        return render_webhook(st, rec)
    raise ValueError(f"no renderer for {kind!r}")


def record_bytes(st: Store, kind: str, rec: Any) -> bytes:
    """Serialized record, cached until the record is written."""
    cache = st.cache.get(kind)
    if cache is None:
        return php_json(render(st, kind, rec))
    b = cache.get(rec.id)
    if b is None:
        b = php_json(render(st, kind, rec))
        if st.cache_limit <= 0:
            return b
        if len(cache) >= st.cache_limit:  # bounds memory on 100k-record stores
            cache.pop(next(iter(cache)))
        cache[rec.id] = b
    return b


def record_json(st: Store, kind: str, rec_id: int) -> dict[str, Any] | None:
    """The record as a client would receive it (decoded), or None if it does not exist."""
    rec = st.table(kind).get(rec_id)
    return None if rec is None else json.loads(record_bytes(st, kind, rec))
