"""The catalogue in MongoDB."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shop.models.listing import Page
from shop.models.products import Product, ProductQuery
from shop.store.base import DuplicateKey, ThumbnailsChanged
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc

_SORT = {
    None: [("_id", ASCENDING)],
    "asc": [("price_cents", ASCENDING), ("_id", ASCENDING)],
    "desc": [("price_cents", DESCENDING), ("_id", DESCENDING)],
}
INDEXES = [
    IndexModel("code", unique=True),
    IndexModel([("category_key", ASCENDING), ("price_cents", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("price_cents", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("price_cents", ASCENDING), ("_id", ASCENDING)]),
    # Filtered listings without a sort come back in _id order.
    IndexModel([("category_key", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("_id", ASCENDING)]),
]


@docs.report_unavailable
class MongoProducts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._products: AsyncCollection[Doc] = db["products"]
        self._carts: AsyncCollection[Doc] = db["carts"]

    async def prepare(self) -> None:
        """Convert float prices of older databases to cents, then create the indexes."""
        await convert_prices(self._products)
        await self._products.create_indexes(INDEXES)

    async def insert(self, product: Product) -> None:
        try:
            await self._products.insert_one(docs.product_doc(product))
        except DuplicateKeyError:
            raise DuplicateKey("code") from None

    async def get(self, pid: str) -> Product | None:
        doc = await self._products.find_one({"_id": ObjectId(pid)})
        return docs.product(doc) if doc else None

    async def list(self, query: ProductQuery) -> Page[Product]:
        match: Doc = {}
        if query.category is not None:
            match["category_key"] = query.category.lower()
        if query.available is not None:
            match["status"] = query.available
        cursor = (
            self._products.find(match)
            .sort(_SORT[query.sort])
            .skip((query.page - 1) * query.limit)
            .limit(query.limit)
        )
        # The unfiltered total comes from collection metadata, not a scan of the catalogue.
        count = (
            self._products.count_documents(match)
            if match
            else self._products.estimated_document_count()
        )
        found, total = await asyncio.gather(cursor.to_list(), count)
        items = [docs.product(doc) for doc in found]
        return Page(items=items, total=total, page=query.page, limit=query.limit)

    async def update(
        self,
        pid: str,
        changes: Mapping[str, Any],
        *,
        if_thumbnails: Sequence[str] | None = None,
    ) -> Product | None:
        fields: Doc = {name: changes[name] for name in docs.PRODUCT_FIELDS if name in changes}
        if "thumbnails" in changes:
            fields["thumbnails"] = list(changes["thumbnails"])
        if "category" in fields:
            fields["category_key"] = fields["category"].lower()
        match: Doc = {"_id": ObjectId(pid)}
        if if_thumbnails is not None:
            # An array matches an equal array only: same URLs, same order.
            match["thumbnails"] = list(if_thumbnails)
        if not fields:  # an empty $set is an error; nothing to change is a read
            doc = await self._products.find_one(match)
        else:
            try:
                doc = await self._products.find_one_and_update(
                    match, {"$set": fields}, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                raise DuplicateKey("code") from None
        if doc is None and if_thumbnails is not None and await self.get(pid) is not None:
            raise ThumbnailsChanged(pid)
        return docs.product(doc) if doc else None

    async def delete(self, pid: str) -> bool:
        product_id = ObjectId(pid)
        if (await self._products.delete_one({"_id": product_id})).deleted_count == 0:
            return False
        # A line added while this ran is harmless: carts drop lines without a product.
        await self._carts.update_many(
            {"products.product": product_id}, {"$pull": {"products": {"product": product_id}}}
        )
        return True


async def convert_prices(products: AsyncCollection[Doc], batch: int = 1000) -> None:
    """Give every product still holding a float `price` its exact `price_cents`.

    Each update is conditional on the old field, so two processes starting at once (or a
    start interrupted halfway) convert each product once.
    """
    pending: list[UpdateOne] = []
    cursor = products.find({"price": {"$exists": True}}, {"price": 1})
    async for doc in cursor:
        cents = int((Decimal(repr(float(doc["price"]))) * 100).quantize(1, ROUND_HALF_UP))
        pending.append(
            UpdateOne(
                {"_id": doc["_id"], "price": doc["price"]},
                {"$set": {"price_cents": cents}, "$unset": {"price": ""}},
            )
        )
        if len(pending) >= batch:
            await products.bulk_write(pending, ordered=False)
            pending = []
    if pending:
        await products.bulk_write(pending, ordered=False)
