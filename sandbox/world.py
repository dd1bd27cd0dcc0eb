"""One seeded world that every stand-in reads.

The world is pure data: compact records (slotted dataclasses) derived deterministically from a seed. It holds
what the business *is* (products, customers, orders, payments, refunds), not how any vendor prints it: the
WooCommerce stand-in renders these records as WooCommerce JSON, and the gateway stand-ins render the same
orders' payments as Stripe charges, PayPal captures, Square payments and Authorize.Net transactions. Orders
therefore carry what a gateway needs: amount in minor units, currency, gateway id, transaction id, paid time
and refunds (with the gateway's refund id).

Beside the store's records the world holds `contacts` (phone numbers and emails some of which the messaging
providers refuse, `sandbox.contacts`) and `ledger`, the gateways' records generated from the orders with
planted discrepancies (`sandbox.ledger`, `sandbox.history`); `answer_key()` lists what was planted.

Descriptive text (descriptions, addresses, images) is not stored: it is re-derived from `(seed, id)` when a
record is rendered, which keeps a 100,000-product world small and fast to build.

Times are integer epoch seconds (UTC). WordPress stores seconds, so two writes in one second share a
`date_modified`, exactly the boundary case incremental syncs must survive. History covers the two years
before `World.now` (the `end` of `build_world`; the sandbox passes the time it starts).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.contacts import DEFAULT_CONTACT_FLAG_RATE, ContactBook, ContactFlag, assign_contacts
from sandbox.gateway_ids import METHOD_GATEWAY, gateway_refund_id, gateway_transaction_id
from sandbox.history import DEFAULT_DISCREPANCY_RATE, build_history
from sandbox.ledger import SETTLEMENT_CUTOFF, Ledger

__all__ = [
    "DEFAULT_CONTACT_FLAG_RATE",
    "DEFAULT_DISCREPANCY_RATE",
    "DEFAULT_END",
    "DEFAULT_HISTORY_DAYS",
    "DEFAULT_VARIABLE_SHARE",
    "GATEWAYS",
    "METHOD_GATEWAY",
    "Customer",
    "LineItem",
    "Order",
    "Product",
    "Refund",
    "Variation",
    "World",
    "build_world",
    "gateway_transaction_id",
    "gateway_refund_id",
]

#: WooCommerce payment method id -> (title shown on orders, share of paid orders).
GATEWAYS: dict[str, tuple[str, float]] = {
    "stripe": ("Credit Card (Stripe)", 0.38),
    "ppcp-gateway": ("PayPal", 0.24),
    "square_credit_card": ("Credit Card (Square)", 0.14),
    "authorize_net_cim_credit_card": ("Credit Card (Authorize.Net)", 0.12),
    "bacs": ("Direct bank transfer", 0.07),
    "cod": ("Cash on delivery", 0.05),
}
#: Gateways that return a transaction id (bacs/cod leave `transaction_id` empty).
CARD_GATEWAYS = ("stripe", "ppcp-gateway", "square_credit_card", "authorize_net_cim_credit_card")

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
)
_STATUS_WEIGHTS = (5, 14, 4, 60, 5, 4, 4, 4)
PAID_STATUSES = frozenset({"processing", "completed", "refunded"})

DEFAULT_END = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
#: Share of products that are variable (each with 3-6 variations).
DEFAULT_VARIABLE_SHARE = 0.10
DEFAULT_HISTORY_DAYS = 2 * 365

_ALNUM = string.ascii_letters + string.digits


@dataclass(slots=True)
class Variation:
    id: int
    parent_id: int
    sku: str
    attributes: tuple[tuple[str, str], ...]  # (attribute name, option)
    regular_cents: int
    sale_cents: int | None
    stock_quantity: int | None
    created: int
    modified: int
    status: str = "publish"
    doc: dict[str, Any] | None = None  # full representation once a client has written to it


@dataclass(slots=True)
class Product:
    id: int
    type: str  # simple | variable
    name: str
    slug: str
    sku: str
    regular_cents: int
    sale_cents: int | None
    stock_quantity: int | None
    status: str  # publish | draft | pending | private | trash
    created: int
    modified: int
    category: int  # index into the category list
    variation_ids: list[int] = field(default_factory=list)
    total_sales: int = 0
    doc: dict[str, Any] | None = None

    @property
    def price_cents(self) -> int:
        return self.sale_cents if self.sale_cents is not None else self.regular_cents


@dataclass(slots=True)
class Customer:
    id: int
    first_name: str
    last_name: str
    email: str
    username: str
    created: int
    modified: int
    is_paying: bool = False
    doc: dict[str, Any] | None = None
    phone: str = ""  # E.164 (or, when phone_flag is "invalid", the malformed number the store holds)
    phone_flag: str = ""  # "" | invalid | unsubscribed | landline | unreachable (sandbox.contacts)
    phone_error_code: int | None = None  # the Twilio code the flag produces (30003-30008 for unreachable)
    email_flag: str = ""  # "" | invalid | bouncing | spamreport | unsubscribe


@dataclass(slots=True)
class LineItem:
    id: int
    product_id: int
    variation_id: int
    name: str
    sku: str
    quantity: int
    unit_cents: int
    tax_cents: int

    @property
    def total_cents(self) -> int:
        return self.unit_cents * self.quantity


@dataclass(slots=True)
class Refund:
    id: int
    order_id: int
    amount_cents: int  # positive
    reason: str
    created: int
    gateway_refund_id: str  # what the gateway calls this refund ("" for bacs/cod)


@dataclass(slots=True)
class Order:
    id: int
    status: str
    customer_id: int  # 0 = guest
    currency: str
    created: int
    modified: int
    paid: int | None
    completed: int | None
    payment_method: str
    transaction_id: str
    line_items: list[LineItem]
    shipping_cents: int
    shipping_tax_cents: int
    discount_cents: int
    order_key: str
    billing_first: str
    billing_last: str
    billing_email: str
    refunds: list[Refund] = field(default_factory=list)
    pre_trash_status: str = ""
    doc: dict[str, Any] | None = None
    billing_phone: str = ""  # the customer's phone, or the guest's own
    # A guest's contact flags (a registered customer's live on the Customer).
    billing_phone_flag: str = ""
    billing_phone_error_code: int | None = None
    billing_email_flag: str = ""

    @property
    def cart_tax_cents(self) -> int:
        return sum(li.tax_cents for li in self.line_items)

    @property
    def total_cents(self) -> int:
        """Order total in minor units: what the gateway charged for a paid order."""
        items = sum(li.total_cents for li in self.line_items)
        return items + self.cart_tax_cents + self.shipping_cents + self.shipping_tax_cents

    @property
    def amount_minor(self) -> int:
        return self.total_cents

    @property
    def refunded_cents(self) -> int:
        return sum(r.amount_cents for r in self.refunds)

    @property
    def gateway(self) -> str:
        return self.payment_method

    @property
    def effective_status(self) -> str:
        """The status that decides what the gateway holds: a trashed order keeps its pre-trash status."""
        return self.pre_trash_status or self.status


@dataclass(slots=True)
class World:
    """The seeded model. Mutable: the stand-ins write into it, and the id sequences continue from it."""

    seed: int
    currency: str
    gmt_offset_hours: float
    products: dict[int, Product]
    variations: dict[int, Variation]
    customers: dict[int, Customer]
    orders: dict[int, Order]
    next_post_id: int  # WordPress shares one id sequence for products, variations, orders, refunds
    next_user_id: int
    next_item_id: int
    now: int = DEFAULT_END  # where the seeded history ends (the sandbox's start, unless pinned)
    history_days: int = DEFAULT_HISTORY_DAYS  # how far back before `now` the seeded history starts
    contacts: ContactBook = field(default_factory=ContactBook)
    ledger: Ledger = field(default_factory=lambda: Ledger(seed=0))
    discrepancy_rate: float = 0.0

    def new_post_id(self) -> int:
        self.next_post_id += 1
        return self.next_post_id

    def new_user_id(self) -> int:
        self.next_user_id += 1
        return self.next_user_id

    def new_item_id(self) -> int:
        self.next_item_id += 1
        return self.next_item_id

    def paid_orders(self) -> list[Order]:
        """Orders a gateway has a record of (what the gateway stand-ins will serve)."""
        return [o for o in self.orders.values() if o.paid is not None and o.transaction_id]

    def contact_flags(self, recipient: str, channel: str | None = None) -> ContactFlag | None:
        """How the providers treat ANY phone number or email: its flag, or None when deliverable.

        Flagged contacts give their flag; unknown well-formed E.164 numbers and emails are deliverable;
        anything malformed is `invalid` (Twilio 21211, SendGrid 400). See `sandbox.contacts`.
        """
        return self.contacts.lookup(recipient, channel)

    def answer_key(self) -> list[dict[str, Any]]:
        """What was planted, JSON-ready: the ledger's discrepancies, then the flagged contacts.

        Discrepancies: `{"category", "gateway", "order_id", "gateway_id", "detail"}`; contacts:
        `{"category": "contact", "channel", "recipient", "flag", "error_code", "detail"}`.
        """
        return self.ledger.answer_key() + [f.to_key() for f in self.contacts.flagged()]


# --- word lists: small, so names stay short but varied -------------------------------------------
_ADJ = (
    "Classic Organic Vintage Deluxe Rustic Modern Handmade Premium Essential Everyday Compact "
    "Lightweight Heavy-Duty Artisan Nordic Coastal Urban Alpine Midnight Golden Velvet Linen Copper "
    "Bamboo Merino Walnut Ceramic Recycled Smart Wireless Portable"
).split()
_NOUN = (
    "Mug Backpack Lamp Notebook Candle Blanket Tote Bottle Chair Scarf Hoodie T-Shirt Sneakers Watch "
    "Wallet Planter Kettle Speaker Headphones Journal Pillow Apron Cap Jacket Beanie Bowl Teapot Vase "
    "Keyboard Desk-Mat Tumbler Grinder"
).split()
_COLORS = ("Red", "Blue", "Green", "Black", "White", "Grey", "Navy", "Olive", "Sand", "Rose")
_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard "
    "Susan Joseph Jessica Thomas Sarah Charles Karen Amara Sofia Mateo Liam Noah Olivia Emma Ava Mia "
    "Lucas Chloe Ethan Zoe Hiro Yuki Priya Arjun Fatima Omar Lena Jonas Ingrid Pierre Camille"
).split()
_LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Clark Lewis Walker "
    "Young Allen King Nguyen Kim Patel Schmidt Muller Rossi Dubois Silva Tanaka Kowalski Okafor"
).split()
CATEGORIES = (
    (15, "Uncategorized", "uncategorized"),
    (16, "Clothing", "clothing"),
    (17, "Accessories", "accessories"),
    (18, "Home & Living", "home-living"),
    (19, "Kitchen", "kitchen"),
    (20, "Electronics", "electronics"),
    (21, "Stationery", "stationery"),
    (22, "Outdoor", "outdoor"),
)
REFUND_REASONS = ("", "Customer request", "Damaged in transit", "Wrong size", "Duplicate order")


def _rid(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def _money_cents(rng: random.Random) -> int:
    # Prices like 4.99, 24.50, 129.00: a store's mix of cheap and dear things.
    dollars = int(rng.lognormvariate(3.2, 0.8)) + 1
    return dollars * 100 + rng.choice((0, 0, 50, 95, 99))


def build_world(
    *,
    seed: int = 1,
    products: int = 200,
    customers: int = 100,
    orders: int = 300,
    currency: str = "USD",
    gmt_offset_hours: float = 0.0,
    end: int = DEFAULT_END,
    discrepancy_rate: float = DEFAULT_DISCREPANCY_RATE,
    contact_flag_rate: float = DEFAULT_CONTACT_FLAG_RATE,
    variable_share: float = DEFAULT_VARIABLE_SHARE,
    history_days: int = DEFAULT_HISTORY_DAYS,
) -> World:
    """Build the world for `seed`. Same arguments, same world, byte for byte.

    History spans the `history_days` (default two years, 30 to 3650) before `end` (epoch seconds; the
    default is a fixed instant so a world built without one never depends on the clock; the sandbox passes
    the time it starts). Writes made later through a stand-in carry the real current time and so sort
    after it. `discrepancy_rate` is the share of paid orders given one planted gateway discrepancy
    (`sandbox.history`), `contact_flag_rate` the share of contacts given a messaging flag
    (`sandbox.contacts`); both in [0, 1]. `variable_share` (in [0, 1]) is the share of products that are
    variable: exactly `round(variable_share * products)` of
    them, picked by the seed (5,000 products at 0.1962 have 981 variable ones).
    """
    if min(products, customers, orders) < 0:
        raise ValueError("sizes must be >= 0")
    if not 30 <= history_days <= 3650:
        raise ValueError(f"history_days must be between 30 and 3650, got {history_days}")
    rates = (
        ("discrepancy_rate", discrepancy_rate),
        ("contact_flag_rate", contact_flag_rate),
        ("variable_share", variable_share),
    )
    for name, rate in rates:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {rate}")
    rng = random.Random(seed)
    start = end - history_days * 86400
    post_id = 10  # a fresh WordPress install has a few posts and pages already
    prods: dict[int, Product] = {}
    variations: dict[int, Variation] = {}
    choices, rand, randrange = rng.choices, rng.random, rng.randrange
    # Which products are variable: an exact count (a benchmark gets the mix it asks for), drawn from a
    # stream of its own.
    n_variable = min(products, round(variable_share * products))
    variable_at = set(random.Random(seed * 1_000_151 + 11).sample(range(products), n_variable))

    for n in range(products):
        post_id += 1
        pid = post_id
        name = f"{choices(_ADJ)[0]} {choices(_NOUN)[0]}"
        created = randrange(start, end - 86400)
        modified = min(created + int(rand() ** 3 * (end - created)), end)
        variable = n in variable_at
        regular = _money_cents(rng)
        sale = regular - regular // 5 if rand() < 0.15 else None
        status = "publish" if rand() < 0.94 else choices(("draft", "private", "pending", "trash"))[0]
        sku = f"SKU-{pid:06d}"
        p = Product(
            id=pid,
            type="variable" if variable else "simple",
            name=name,
            slug=f"{name.lower().replace(' ', '-')}-{n + 1}",
            sku=sku,
            regular_cents=regular,
            sale_cents=sale,
            stock_quantity=randrange(0, 250) if rand() < 0.7 else None,
            status=status,
            created=created,
            modified=modified,
            category=randrange(len(CATEGORIES)),
            total_sales=randrange(0, 500),
        )
        if variable:
            kind = rand() < 0.5
            opts = _SIZES if kind else _COLORS
            k = randrange(3, 7)
            for opt in opts[:k]:
                post_id += 1
                vcreated = created + randrange(0, 600)
                variations[post_id] = Variation(
                    id=post_id,
                    parent_id=pid,
                    sku=f"{sku}-{opt.upper()}",
                    attributes=(("Size" if kind else "Color", opt),),
                    regular_cents=regular + (randrange(0, 5) * 100 if kind else 0),
                    sale_cents=None,
                    stock_quantity=randrange(0, 80),
                    created=vcreated,
                    modified=max(vcreated, modified - randrange(0, 3600)),
                )
                p.variation_ids.append(post_id)
        prods[pid] = p

    custs: dict[int, Customer] = {}
    for uid in range(2, customers + 2):  # user 1 is the site admin
        first, last = choices(_FIRST)[0], choices(_LAST)[0]
        created = randrange(start, end - 86400)
        custs[uid] = Customer(
            id=uid,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}{uid}@example.com",
            username=f"{first.lower()}{uid}",
            created=created,
            modified=min(created + int(rand() ** 2 * (end - created)), end),
        )
    cust_ids = list(custs)

    sellable: list[tuple[int, int]] = []  # (product id, variation id)
    for p in prods.values():
        if p.status != "publish":
            continue
        if p.variation_ids:
            sellable.extend((p.id, v) for v in p.variation_ids)
        else:
            sellable.append((p.id, 0))
    if not sellable:
        sellable = [(0, 0)]

    gw_names = list(GATEWAYS)
    gw_weights = [share for _, share in GATEWAYS.values()]
    ords: dict[int, Order] = {}
    item_id = 0
    for _ in range(orders):
        post_id += 1
        oid = post_id
        status = choices(ORDER_STATUSES, _STATUS_WEIGHTS)[0]
        pre_trash = ""
        if status == "trash":
            pre_trash = choices(("completed", "cancelled", "pending", "failed"), (5, 3, 2, 1))[0]
        effective = pre_trash or status
        gateway = choices(gw_names, gw_weights)[0]
        if effective == "on-hold" and rand() < 0.7:
            gateway = "bacs"
        created = randrange(start, end - 3600)
        cid = choices(cust_ids)[0] if cust_ids and rand() < 0.8 else 0
        if cid:
            c = custs[cid]
            first, last, email = c.first_name, c.last_name, c.email
        else:
            first, last = choices(_FIRST)[0], choices(_LAST)[0]
            email = f"{first.lower()}.{last.lower()}.guest{oid}@example.net"
        items: list[LineItem] = []
        taxed = rand() < 0.6
        for _ in range(1 if rand() < 0.55 else randrange(2, 5)):
            item_id += 1
            pid, vid = choices(sellable)[0]
            if vid:
                v = variations[vid]
                unit = v.regular_cents
                iname = f"{prods[pid].name} - {v.attributes[0][1]}"
                sku = v.sku
            elif pid:
                unit = prods[pid].price_cents
                iname, sku = prods[pid].name, prods[pid].sku
            else:
                unit, iname, sku = 1000, "Gift card", ""
            qty = 1 if rand() < 0.75 else randrange(2, 5)
            tax = round(unit * qty * 0.08) if taxed else 0
            items.append(LineItem(item_id, pid, vid, iname, sku, qty, unit, tax))
        shipping = choices((0, 500, 799, 1299))[0]
        paid_time = None
        txn = ""
        if effective in PAID_STATUSES or (effective == "on-hold" and gateway not in ("bacs", "cod")):
            paid_time = created + randrange(5, 120)
            txn = gateway_transaction_id(rng, gateway)
        elif effective == "failed" and gateway == "stripe" and rand() < 0.5:
            txn = gateway_transaction_id(rng, gateway)  # a declined charge still has an id
        completed = None
        if effective in ("completed", "refunded"):
            completed = min((paid_time or created) + randrange(3600, 5 * 86400), end)
        o = Order(
            id=oid,
            status=status,
            customer_id=cid,
            currency=currency,
            created=created,
            modified=created,
            paid=paid_time,
            completed=completed,
            payment_method=gateway,
            transaction_id=txn,
            line_items=items,
            shipping_cents=shipping,
            shipping_tax_cents=round(shipping * 0.08) if taxed else 0,
            discount_cents=0,
            order_key="wc_order_" + _rid(rng, _ALNUM, 13),
            billing_first=first,
            billing_last=last,
            billing_email=email,
            pre_trash_status=pre_trash,
        )
        last_event = completed or paid_time or created
        if effective == "refunded" or (effective == "completed" and rand() < 0.06):
            post_id += 1
            full = effective == "refunded"
            amount = o.total_cents if full else max(100, o.total_cents * randrange(10, 60) // 100)
            when = last_event + randrange(3600, 20 * 86400)
            refund_id = gateway_refund_id(rng, gateway)
            if gateway == "square_credit_card":
                refund_id = txn + refund_id[29:]  # Square refund ids start with the payment id
            elif gateway == "authorize_net_cim_credit_card":
                # Authorize.Net refunds only settled transactions: not before the first cutoff after payment.
                settled = (paid_time or created) - (paid_time or created) % 86400 + SETTLEMENT_CUTOFF
                if settled < (paid_time or created):
                    settled += 86400
                when = max(when, settled + 60)
            when = min(when, end)
            o.refunds.append(
                Refund(
                    id=post_id,
                    order_id=oid,
                    amount_cents=amount,
                    reason=choices(REFUND_REASONS)[0],
                    created=when,
                    gateway_refund_id=refund_id,
                )
            )
            last_event = when
        o.modified = min(last_event + randrange(0, 600), end)
        if status == "trash":
            o.modified = min(o.modified + randrange(86400, 30 * 86400), end)
        if cid and paid_time:
            custs[cid].is_paying = True
        ords[oid] = o

    world = World(
        seed=seed,
        currency=currency,
        gmt_offset_hours=gmt_offset_hours,
        products=prods,
        variations=variations,
        customers=custs,
        orders=ords,
        next_post_id=post_id,
        next_user_id=customers + 1,
        next_item_id=item_id,
        now=end,
        history_days=history_days,
        discrepancy_rate=discrepancy_rate,
    )
    # Separate random streams: contacts and the ledger never shift the store's records.
    world.contacts = assign_contacts(custs, ords, seed=seed, rate=contact_flag_rate)
    world.ledger = build_history(world, discrepancy_rate=discrepancy_rate)
    return world
