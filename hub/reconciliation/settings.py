"""Constants and configuration of reconciliation: categories, which WooCommerce payment methods belong to
which gateway, grace windows, and the window checks every entry point shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType

from hub.errors import HubError
from hub.models import GATEWAYS, RECONCILIATION_CATEGORIES

__all__ = [
    "CATEGORIES",
    "DEFAULT_GRACE",
    "DEFAULT_PAYMENT_METHODS",
    "GATEWAYS",
    "MAX_WINDOW",
    "SEVERITY",
    "ReconciliationBusy",
    "ReconciliationError",
    "ReconciliationSettings",
    "Window",
    "WindowError",
    "check_gateways",
    "default_window",
]

CATEGORIES = RECONCILIATION_CATEGORIES
#: How bad a break of each category is (`reconciliation_items.severity`).
SEVERITY: Mapping[str, str] = MappingProxyType(
    {
        "missing_order": "error",
        "missing_payment": "error",
        "amount_mismatch": "error",
        "currency_mismatch": "error",
        "status_mismatch": "error",
        "refund_not_mirrored": "warning",
        "duplicate_charge": "error",
        "open_dispute": "warning",
        "payout_mismatch": "error",
    }
)
MAX_WINDOW = timedelta(days=366)

#: WooCommerce `payment_method` ids -> gateway. A key ending in `*` is a prefix (`stripe_*` covers the
#: Stripe plugin's per-method gateways: `stripe_sepa`, `stripe_ideal`, `stripe_klarna`, ...).
DEFAULT_PAYMENT_METHODS: Mapping[str, str] = MappingProxyType(
    {
        # WooCommerce Stripe Gateway (`stripe`, `stripe_<method>`); Payment Plugins for Stripe (`stripe_cc`);
        # WooPayments, which charges through Stripe (`woocommerce_payments`, `woocommerce_payments_<method>`).
        "stripe": "stripe",
        "stripe_*": "stripe",
        "woocommerce_payments": "stripe",
        "woocommerce_payments_*": "stripe",
        # WooCommerce PayPal Payments: PayPal buttons, advanced card processing, the standard card button,
        # Fastlane, Apple Pay, Google Pay, Pay upon Invoice, OXXO and local methods all start `ppcp-`;
        # PayPal Standard (`paypal`) and the retired PayPal Checkout (`ppec_paypal`).
        "ppcp-gateway": "paypal",
        "ppcp-credit-card-gateway": "paypal",
        "ppcp-card-button-gateway": "paypal",
        "ppcp-*": "paypal",
        "paypal": "paypal",
        "ppec_paypal": "paypal",
        # WooCommerce Square: cards and Cash App Pay.
        "square_credit_card": "square",
        "square_cash_app_pay": "square",
        # Authorize.Net (SkyVerge): CIM cards and eChecks, and the older AIM gateways.
        "authorize_net_cim_credit_card": "authorizenet",
        "authorize_net_cim_echeck": "authorizenet",
        "authorize_net_aim": "authorizenet",
        "authorize_net_aim_echeck": "authorizenet",
    }
)

#: How long after the newest record involved a discrepancy stays *pending* (the other side may still
#: arrive) before it is a *break*. PayPal's reporting lags up to 3 hours; Authorize.Net settles daily.
DEFAULT_GRACE: Mapping[str, timedelta] = MappingProxyType(
    {
        "stripe": timedelta(hours=2),
        "paypal": timedelta(hours=6),
        "square": timedelta(hours=2),
        "authorizenet": timedelta(hours=26),
    }
)


class ReconciliationError(HubError):
    """Base of reconciliation's errors; each message is one line."""


class WindowError(ReconciliationError, ValueError):
    """Bad reconciliation parameters: unknown gateway, end before start, a window over 366 days."""


class ReconciliationBusy(ReconciliationError):
    """Another reconciliation of the same gateway and store is running."""


def check_gateways(gateways: object) -> tuple[str, ...]:
    """The gateways to reconcile (all four for None), or `WindowError` naming the unknown one."""
    if gateways is None:
        return GATEWAYS
    if isinstance(gateways, str):
        gateways = [gateways]
    if not isinstance(gateways, list | tuple) or not gateways:
        raise WindowError(f"gateways must be a non-empty list of {', '.join(GATEWAYS)}, not {gateways!r}")
    unknown = [g for g in gateways if g not in GATEWAYS]
    if unknown:
        raise WindowError(f"unknown gateway {unknown[0]!r}; one of {', '.join(GATEWAYS)}")
    return tuple(dict.fromkeys(gateways))


def _utc(value: object, name: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise WindowError(f"{name} is not an ISO 8601 date or time: {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise WindowError(f"{name} must be a date or time, not {type(value).__name__}")
    # A time without a zone is UTC (what the CLI's and the UI's dates mean).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """A half-open time window `[start, end)` in UTC, at most `MAX_WINDOW` long."""

    start: datetime
    end: datetime

    @classmethod
    def of(cls, start: object, end: object) -> Window:
        """Check and normalise: dates are midnight UTC, naive times UTC.

        Raises:
            WindowError: unparseable, end not after start, or longer than 366 days.
        """
        s, e = _utc(start, "start"), _utc(end, "end")
        if e <= s:
            raise WindowError(f"end {e.isoformat()} must be after start {s.isoformat()}")
        if e - s > MAX_WINDOW:
            raise WindowError(
                f"the window {s.date()}..{e.date()} is {(e - s).days} days; "
                "reconcile at most 366 days at once"
            )
        return cls(s, e)

    @property
    def label(self) -> str:
        """`2026-01-01..2026-01-02` (dates, or times when the window does not start at midnight)."""

        def show(t: datetime) -> str:
            return (
                t.date().isoformat() if t.time() == datetime.min.time() else t.isoformat(timespec="seconds")
            )

        return f"{show(self.start)}..{show(self.end)}"


def default_window(now: datetime, lookback_days: int) -> Window:
    """The previous UTC day plus `lookback_days` days before it, ending at today's midnight."""
    if lookback_days < 0 or lookback_days > 365:
        raise WindowError(f"lookback_days must be between 0 and 365, not {lookback_days}")
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return Window.of(today - timedelta(days=1 + lookback_days), today)


@dataclass(frozen=True)
class ReconciliationSettings:
    """What a reconciliation matches with.

    Attributes:
        payment_methods: WooCommerce payment method id -> gateway (keys ending in `*` are prefixes).
        grace: Per gateway, how long a discrepancy stays pending after its newest record.
        match_tolerance: How far apart a charge that names no order and an order may be to match by
            amount and time.
        margin: How far beyond the window records are read so matches across its edges are found.
    """

    payment_methods: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PAYMENT_METHODS))
    grace: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_GRACE))
    match_tolerance: timedelta = timedelta(minutes=30)
    margin: timedelta = timedelta(days=2)

    def __post_init__(self) -> None:
        for method, gateway in self.payment_methods.items():
            if gateway not in GATEWAYS:
                raise WindowError(
                    f"payment method {method!r} maps to unknown gateway {gateway!r}; "
                    f"one of {', '.join(GATEWAYS)}"
                )
            if not method or method == "*":
                raise WindowError("a payment method id must not be empty or a bare '*'")
        for gateway, grace in self.grace.items():
            if gateway not in GATEWAYS:
                raise WindowError(f"grace for unknown gateway {gateway!r}; one of {', '.join(GATEWAYS)}")
            if grace < timedelta(0):
                raise WindowError(f"the grace window of {gateway} must not be negative")
        if self.match_tolerance < timedelta(0) or self.margin < timedelta(0):
            raise WindowError("match_tolerance and margin must not be negative")

    @classmethod
    def with_overrides(
        cls,
        *,
        payment_methods: Mapping[str, str] | None = None,
        grace_hours: Mapping[str, float] | None = None,
    ) -> ReconciliationSettings:
        """The defaults with `payment_methods` added (a method mapped to `""` is removed) and some
        gateways' grace windows replaced (hours)."""
        methods = dict(DEFAULT_PAYMENT_METHODS)
        for method, gateway in (payment_methods or {}).items():
            if gateway == "":
                methods.pop(method, None)
            else:
                methods[method] = gateway
        grace = dict(DEFAULT_GRACE)
        for gateway, hours in (grace_hours or {}).items():
            if isinstance(hours, bool) or not isinstance(hours, int | float):
                raise WindowError(f"grace_hours for {gateway} must be a number of hours, not {hours!r}")
            grace[gateway] = timedelta(hours=hours)
        return cls(payment_methods=methods, grace=grace)

    def methods_of(self, gateway: str) -> tuple[list[str], list[str]]:
        """(exact method ids, prefixes) that map to `gateway`."""
        exact = sorted(m for m, g in self.payment_methods.items() if g == gateway and not m.endswith("*"))
        prefixes = sorted(m[:-1] for m, g in self.payment_methods.items() if g == gateway and m.endswith("*"))
        return exact, prefixes

    def gateway_of(self, method: str | None) -> str | None:
        """The gateway of one payment method id (exact ids first, then the longest prefix)."""
        if not method:
            return None
        if method in self.payment_methods and not method.endswith("*"):
            return self.payment_methods[method]
        best = ""
        found = None
        for key, gateway in self.payment_methods.items():
            if key.endswith("*") and method.startswith(key[:-1]) and len(key) > len(best):
                best, found = key, gateway
        return found
