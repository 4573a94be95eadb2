"""Orders in MongoDB: one document per order, lines embedded as snapshots.

Purchases and the stock a cancel returns go through `Checkout` (shop.store.mongo.checkout),
which explains why they need no multi-document transaction and how a crash is recovered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.models.listing import Page
from shop.models.orders import (
    KEY_LIFE_SECONDS,
    Order,
    OrderQuery,
    OrderStatus,
    PurchaseRequest,
    PurchaseResult,
    StatusChange,
)
from shop.models.reports import SalesQuery, SalesReport
from shop.store.base import MissingOrder, NotOrderOwner, WrongStatus
from shop.store.mongo import docs, reports
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.checkout import Checkout
from shop.store.mongo.docs import Doc
from shop.store.mongo.ledger import Ledger
from shop.store.mongo.order_docs import ABORTED, order_of_doc
from shop.store.mongo.recovery import Recovery
from shop.store.mongo.sweeper import Sweeper

# Tombstones of aborted purchases share the collection (they decide a purchase's fate by
# holding its id): every read leaves them out.
_REAL = {"status": {"$ne": ABORTED}}
_DESC = [("_id", DESCENDING)]


@docs.report_unavailable
class MongoOrders:
    def __init__(self, db: AsyncDatabase[Doc], carts: MongoCarts) -> None:
        self._orders: AsyncCollection[Doc] = db["orders"]
        self._products: AsyncCollection[Doc] = db["products"]
        self._keys: AsyncCollection[Doc] = db["purchase_keys"]
        self._carts: AsyncCollection[Doc] = db["carts"]
        ledger = Ledger(self._products, self._carts, carts)
        self._recovery = Recovery(
            ledger, self._orders, self._products, self._carts, self._keys, carts
        )
        self._sweeper = Sweeper(self._carts, self._products)
        self._checkout = Checkout(ledger, self._recovery, self._sweeper, self._orders, self._keys)

    async def prepare(self) -> None:
        """Create the indexes, then settle what a stopped process left halfway."""
        await asyncio.gather(
            self._orders.create_indexes(
                [
                    # Tombstones have no code.
                    IndexModel(
                        "code", unique=True, partialFilterExpression={"code": {"$exists": True}}
                    ),
                    IndexModel([("user", ASCENDING), ("_id", DESCENDING)]),
                    IndexModel([("user", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
                    IndexModel([("status", ASCENDING), ("_id", DESCENDING)]),
                    # The back office: a buyer's orders by email, and sales by time.
                    IndexModel([("purchaser", ASCENDING), ("_id", DESCENDING)]),
                    IndexModel([("purchased_at", ASCENDING), ("status", ASCENDING)]),
                    IndexModel("expires_at", expireAfterSeconds=0),  # tombstones only
                    IndexModel("restock", partialFilterExpression={"restock": {"$exists": True}}),
                ]
            ),
            self._products.create_indexes(
                [
                    IndexModel(
                        "takes.order",
                        partialFilterExpression={"takes.order": {"$exists": True}},
                    ),
                    IndexModel(
                        "returns.order",
                        partialFilterExpression={"returns.order": {"$exists": True}},
                    ),
                ]
            ),
            self._carts.create_indexes(
                [
                    IndexModel(
                        "checkouts.order",
                        partialFilterExpression={"checkouts.order": {"$exists": True}},
                    )
                ]
            ),
            self._keys.create_indexes(
                [
                    # Keys are kept a day: the server deletes them after that.
                    IndexModel("created_at", expireAfterSeconds=KEY_LIFE_SECONDS),
                    IndexModel("order"),
                    IndexModel("state"),
                ]
            ),
        )
        await self._recovery.recover()

    async def purchase(self, request: PurchaseRequest) -> PurchaseResult:
        return await self._checkout.purchase(request)

    async def close(self) -> None:
        """Drop what finished purchases left for the next batch, before the client goes."""
        await self._sweeper.close()

    async def get(self, oid: str) -> Order | None:
        doc = await self._orders.find_one({"_id": ObjectId(oid), **_REAL})
        return order_of_doc(doc) if doc else None

    async def list(self, query: OrderQuery) -> Page[Order]:
        match: Doc = {"status": str(query.status)} if query.status is not None else dict(_REAL)
        if query.user is not None:
            match["user"] = ObjectId(query.user)
        if query.purchaser is not None:
            match["purchaser"] = query.purchaser
        cursor = (
            self._orders.find(match)
            .sort(_DESC)
            .skip((query.page - 1) * query.limit)
            .limit(query.limit)
        )
        found, total = await asyncio.gather(cursor.to_list(), self._orders.count_documents(match))
        items = [order_of_doc(doc) for doc in found]
        return Page(items=items, total=total, page=query.page, limit=query.limit)

    async def set_status(
        self, oid: str, status: OrderStatus, sources: Collection[OrderStatus], owner: str | None
    ) -> StatusChange:
        match: Doc = {"_id": ObjectId(oid), "status": {"$in": [str(s) for s in sources]}}
        if owner is not None:
            match["user"] = ObjectId(owner)
        change: Doc = {"status": str(status)}
        if status is OrderStatus.CANCELLED:
            # Set in the write that cancels: recovery finishes a stock return cut short.
            change["restock"] = True
        # The status condition decides: of concurrent changes, one matches.
        doc = await self._orders.find_one_and_update(
            match, {"$set": change}, return_document=ReturnDocument.AFTER
        )
        if doc is None:
            raise await self._refusal(oid, owner)
        changed = await self._recovery.restock(doc) if status is OrderStatus.CANCELLED else ()
        return StatusChange(order_of_doc(doc), changed)

    async def _refusal(self, oid: str, owner: str | None) -> Exception:
        """Why a status change matched nothing (the SQLite store checks in this order)."""
        doc = await self._orders.find_one(
            {"_id": ObjectId(oid), **_REAL}, {"user": 1, "status": 1}
        )
        if doc is None:
            return MissingOrder(oid)
        if owner is not None and str(doc["user"]) != owner:
            return NotOrderOwner(oid)
        return WrongStatus(OrderStatus(doc["status"]))

    async def sales(self, query: SalesQuery) -> SalesReport:
        return await reports.sales(self._orders, query)

    async def purge_keys(self, before: float) -> int:
        # The TTL index does this too, about once a minute; this keeps both stores alike.
        result = await self._keys.delete_many({"created_at": {"$lt": docs.as_datetime(before)}})
        return result.deleted_count
