"""The back office's sales figures in MongoDB: aggregation pipelines run by the server.

Each pipeline starts with a `$match` on the purchase-time index; days are grouped by
`$dateToString` in the shop's time zone (`$dateTrunc` would do as well, but the test
server does not take its `timezone`). Nothing reads the orders into Python.
"""

from __future__ import annotations

import asyncio
from datetime import date

from pymongo.asynchronous.collection import AsyncCollection

from shop.models.orders import OrderStatus
from shop.models.reports import BestSeller, DaySales, SalesQuery, SalesReport
from shop.store.mongo.docs import Doc
from shop.store.mongo.order_docs import ABORTED

# An order's amount, in cents: the sum of its lines.
_AMOUNT: Doc = {
    "$sum": {
        "$map": {
            "input": "$lines",
            "as": "line",
            "in": {"$multiply": ["$$line.price_cents", "$$line.quantity"]},
        }
    }
}


def _sold(query: SalesQuery) -> Doc:
    """Orders bought within the query's days and not cancelled (tombstones never match)."""
    return {
        "purchased_at": {"$gte": query.start, "$lt": query.end},
        "status": {"$nin": [str(OrderStatus.CANCELLED), ABORTED]},
    }


async def sales(orders: AsyncCollection[Doc], query: SalesQuery) -> SalesReport:
    days, best, by_status = await asyncio.gather(
        _days(orders, query), _best_sellers(orders, query), _by_status(orders)
    )
    return SalesReport(days=days, best_sellers=best, by_status=by_status)


async def _days(orders: AsyncCollection[Doc], query: SalesQuery) -> tuple[DaySales, ...]:
    day = {
        "$dateToString": {
            "format": "%Y-%m-%d",
            "date": "$purchased_at",
            "timezone": query.timezone,
        }
    }
    cursor = await orders.aggregate(
        [
            {"$match": _sold(query)},
            {"$group": {"_id": day, "orders": {"$sum": 1}, "revenue": {"$sum": _AMOUNT}}},
            {"$sort": {"_id": 1}},
        ]
    )
    return tuple(
        [
            DaySales(date.fromisoformat(doc["_id"]), int(doc["orders"]), int(doc["revenue"]))
            async for doc in cursor
        ]
    )


async def _best_sellers(orders: AsyncCollection[Doc], query: SalesQuery) -> tuple[BestSeller, ...]:
    line = "$lines"
    cursor = await orders.aggregate(
        [
            {"$match": _sold(query)},
            # Newest first, so $first takes the title and code of the latest order.
            {"$sort": {"purchased_at": -1}},
            {"$unwind": line},
            {
                "$group": {
                    "_id": "$lines.product",
                    "title": {"$first": "$lines.title"},
                    "code": {"$first": "$lines.code"},
                    "units": {"$sum": "$lines.quantity"},
                    "revenue": {"$sum": {"$multiply": ["$lines.price_cents", "$lines.quantity"]}},
                }
            },
            {"$sort": {"units": -1, "revenue": -1, "_id": 1}},
            {"$limit": query.top},
        ]
    )
    return tuple(
        [
            BestSeller(
                str(doc["_id"]), doc["title"], doc["code"], int(doc["units"]), int(doc["revenue"])
            )
            async for doc in cursor
        ]
    )


async def _by_status(orders: AsyncCollection[Doc]) -> dict[OrderStatus, int]:
    cursor = await orders.aggregate(
        [
            {"$match": {"status": {"$ne": ABORTED}}},
            {"$group": {"_id": "$status", "n": {"$sum": 1}}},
        ]
    )
    return {OrderStatus(doc["_id"]): int(doc["n"]) async for doc in cursor}
