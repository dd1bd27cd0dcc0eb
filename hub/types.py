"""Column types that keep the design's rules on every backend.

- `UTCDateTime`: timezone-aware UTC in, timezone-aware UTC out. SQLite has no time zones, so naive values
  read back from it are tagged as UTC; naive values written are refused (a naive time is a bug upstream).
- `Money`: exact decimals. PostgreSQL gets NUMERIC; SQLite would store NUMERIC as a binary float, so there
  it is kept as canonical text. Ledger amounts use integer minor units (BigInteger) instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored and returned as timezone-aware UTC."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: hub timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        # SQLite compares the stored text: keep one canonical, zone-free UTC form so ordering holds.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact decimal amount (major units, as WooCommerce sends it)."""

    impl = sa.Numeric(20, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(40))
        return dialect.type_descriptor(sa.Numeric(20, 6, asdecimal=True))

    def process_bind_param(self, value: Decimal | str | int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, int or a decimal string, never float")
        amount = Decimal(value)
        return format(amount.normalize(), "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))
