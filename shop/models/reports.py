"""The back office's sales figures: what the store reports and the days it counts them by.

Sales are counted by purchase day in the shop's time zone: a day starts at local midnight,
whatever the offset from UTC that day (summer time changes it). Cancelled orders are not
sales.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from shop.models.money import Cents
from shop.models.orders import OrderStatus

SALES_DAYS = 30
BEST_SELLERS = 5


@dataclass(frozen=True, slots=True)
class Day:
    """One local day: its date and the UTC instants it runs between (`end` excluded)."""

    day: date
    start: datetime
    end: datetime


def local_days(today: date, count: int, timezone: str) -> tuple[Day, ...]:
    """The `count` local days that end with `today`, oldest first."""
    zone = ZoneInfo(timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(UTC)

    first = today - timedelta(days=count - 1)
    days = [first + timedelta(days=n) for n in range(count + 1)]
    return tuple(Day(day, midnight(day), midnight(following)) for day, following in pairwise(days))


def today_in(timezone: str, now: datetime | None = None) -> date:
    """The date it is now in the time zone."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True, slots=True)
class SalesQuery:
    """Sales over `days` (consecutive local days of `timezone`), the `top` best sellers."""

    days: tuple[Day, ...]
    timezone: str
    top: int = BEST_SELLERS

    @property
    def start(self) -> datetime:
        return self.days[0].start

    @property
    def end(self) -> datetime:
        return self.days[-1].end


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    orders: int = 0
    revenue_cents: Cents = 0


@dataclass(frozen=True, slots=True)
class BestSeller:
    """A product by the units its orders bought; title and code as its latest order has them."""

    product: str
    title: str
    code: str
    units: int
    revenue_cents: Cents


@dataclass(frozen=True, slots=True)
class SalesReport:
    """What the store counts: sales per day (only days that had some, oldest first), the
    best sellers over the same days, and every order by status."""

    days: tuple[DaySales, ...] = ()
    best_sellers: tuple[BestSeller, ...] = ()
    by_status: Mapping[OrderStatus, int] = field(default_factory=dict)
