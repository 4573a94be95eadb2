"""The back office's dashboard: sales over the last 30 days in the shop's time zone, orders
by status, products low on stock and the best sellers. The store counts; this fills in
the days without sales and puts the figures together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from shop.models.listing import Page
from shop.models.orders import OrderStatus
from shop.models.products import Product, ProductQuery, ProductSort
from shop.models.reports import (
    SALES_DAYS,
    BestSeller,
    DaySales,
    SalesQuery,
    local_days,
    today_in,
)
from shop.store.base import Store

LOW_STOCK_LISTED = 10


@dataclass(frozen=True, slots=True)
class Dashboard:
    timezone: str
    days: tuple[DaySales, ...]  # every day, oldest first, days without sales at 0
    best_sellers: tuple[BestSeller, ...]
    by_status: tuple[tuple[OrderStatus, int], ...]  # every status, in workflow order
    low_stock: Page[Product]  # the lowest stock first
    products: int  # in the catalogue, hidden ones too

    @property
    def revenue_cents(self) -> int:
        return sum(day.revenue_cents for day in self.days)

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)

    @property
    def best_day(self) -> DaySales | None:
        """The day with the most revenue (the latest of equals); None without sales."""
        best = max(reversed(self.days), key=lambda day: day.revenue_cents, default=None)
        return best if best is not None and best.revenue_cents > 0 else None


class ReportService:
    def __init__(self, store: Store, timezone: str) -> None:
        self._store = store
        self._timezone = timezone

    async def dashboard(self, now: datetime | None = None) -> Dashboard:
        days = local_days(today_in(self._timezone, now), SALES_DAYS, self._timezone)
        low = ProductQuery(limit=LOW_STOCK_LISTED, low_stock=True, sort=ProductSort.STOCK_ASC)
        report, low_stock, catalogue = await asyncio.gather(
            self._store.orders.sales(SalesQuery(days, self._timezone)),
            self._store.products.list(low),
            self._store.products.list(ProductQuery(limit=1)),
        )
        sold = {day.day: day for day in report.days}
        return Dashboard(
            timezone=self._timezone,
            days=tuple(sold.get(day.day, DaySales(day.day)) for day in days),
            best_sellers=report.best_sellers,
            by_status=tuple((status, report.by_status.get(status, 0)) for status in OrderStatus),
            low_stock=low_stock,
            products=catalogue.total,
        )
