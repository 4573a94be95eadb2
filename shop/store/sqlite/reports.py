"""The back office's sales figures in SQLite: GROUP BY queries over the purchase-time index.

Purchase times are kept as UTC ISO 8601 text, so a local day is a range of that text: the
days are joined to the orders by range, one index range scan a day, and SQLite adds up the
lines. Nothing reads the orders into Python.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from shop.models.orders import OrderStatus
from shop.models.reports import BestSeller, DaySales, SalesQuery, SalesReport
from shop.store.sqlite.engine import snapshot

_CANCELLED = str(OrderStatus.CANCELLED)


def sales(db: sqlite3.Connection, query: SalesQuery) -> SalesReport:
    """The report, from one consistent view of the file."""
    with snapshot(db):
        return SalesReport(
            days=_days(db, query), best_sellers=_best_sellers(db, query), by_status=_by_status(db)
        )


def days_sql(count: int) -> str:
    """Revenue and orders per day for `count` days, each a (day, start, stop) parameter
    triple, then the cancelled status; a range of the purchase-time index per day."""
    # Only the placeholders are formatted in; every value is a bound parameter.
    values = ", ".join("(?, ?, ?)" for _ in range(count))
    return (
        f"WITH days (day, start, stop) AS (VALUES {values})"  # noqa: S608
        " SELECT days.day AS day, count(DISTINCT o.id) AS orders,"
        " sum(l.price_cents * l.quantity) AS revenue"
        " FROM days JOIN orders AS o ON o.purchased_at >= days.start"
        " AND o.purchased_at < days.stop"
        " JOIN order_lines AS l ON l.order_id = o.id"
        " WHERE o.status != ? GROUP BY days.day ORDER BY days.day"
    )


# With max() in the query, SQLite takes the bare columns (title, code) from the row holding
# that max: the product's latest order.
BEST_SELLERS_SQL = (
    "SELECT l.product_id AS product, l.title AS title, l.code AS code,"
    " sum(l.quantity) AS units, sum(l.price_cents * l.quantity) AS revenue,"
    " max(o.purchased_at) AS latest"
    " FROM orders AS o JOIN order_lines AS l ON l.order_id = o.id"
    " WHERE o.purchased_at >= ? AND o.purchased_at < ? AND o.status != ?"
    " GROUP BY l.product_id ORDER BY units DESC, revenue DESC, l.product_id LIMIT ?"
)


def _days(db: sqlite3.Connection, query: SalesQuery) -> tuple[DaySales, ...]:
    params: list[object] = []
    for day in query.days:
        params += [day.day.isoformat(), day.start.isoformat(), day.end.isoformat()]
    rows = db.execute(days_sql(len(query.days)), [*params, _CANCELLED]).fetchall()
    return tuple(
        DaySales(date.fromisoformat(row["day"]), row["orders"], row["revenue"]) for row in rows
    )


def _best_sellers(db: sqlite3.Connection, query: SalesQuery) -> tuple[BestSeller, ...]:
    rows = db.execute(
        BEST_SELLERS_SQL,
        (query.start.isoformat(), query.end.isoformat(), _CANCELLED, query.top),
    ).fetchall()
    return tuple(
        BestSeller(row["product"], row["title"], row["code"], row["units"], row["revenue"])
        for row in rows
    )


def _by_status(db: sqlite3.Connection) -> dict[OrderStatus, int]:
    rows = db.execute("SELECT status, count(*) AS n FROM orders GROUP BY status").fetchall()
    return {OrderStatus(row["status"]): row["n"] for row in rows}
