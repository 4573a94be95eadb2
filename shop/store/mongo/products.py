"""The catalogue in MongoDB: products, searchable and filtered listings, categories."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shop.models.listing import Page
from shop.models.products import LOW_STOCK, CategoryCount, Product, ProductQuery, Upserted
from shop.models.search import COUNT_LIMIT, fold
from shop.store.base import DuplicateKey, ThumbnailsChanged, VersionChanged
from shop.store.mongo import bulk_products, docs
from shop.store.mongo.docs import Doc
from shop.store.products import Progress

_FIELDS = {"price": "price_cents", "title": "title_key", "stock": "stock"}
_TEXT_FIELDS = ("title", "description", "code")
INDEXES = [
    IndexModel("code", unique=True),
    IndexModel([("category_key", ASCENDING), ("price_cents", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("price_cents", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("price_cents", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("title_key", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("title_key", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("stock", ASCENDING), ("_id", ASCENDING)]),
    # Filtered listings without a sort come back in _id order.
    IndexModel([("category_key", ASCENDING), ("_id", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("_id", ASCENDING)]),
    # Multikey: each query word is an anchored prefix regex, which walks this index.
    IndexModel("search"),
]


@docs.report_unavailable
class MongoProducts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._products: AsyncCollection[Doc] = db["products"]
        self._carts: AsyncCollection[Doc] = db["carts"]

    async def prepare(self) -> None:
        """Bring older databases' products up to date, then create the indexes."""
        await convert_prices(self._products)
        await index_words(self._products)
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
        match = _match(query)
        if query.sort is None:
            order = [("_id", ASCENDING)]
        else:
            direction = DESCENDING if query.sort.descending else ASCENDING
            order = [(_FIELDS[query.sort.field], direction), ("_id", direction)]
        cursor = (
            self._products.find(match)
            .sort(order)
            .skip((query.page - 1) * query.limit)
            .limit(query.limit)
        )
        # The unfiltered total comes from collection metadata, not a scan of the catalogue;
        # a search counts up to COUNT_LIMIT and pages only that many (shop.models.search).
        room = COUNT_LIMIT - (query.page - 1) * query.limit if query.words else query.limit
        page = cursor.limit(min(query.limit, room)).to_list() if room > 0 else _nothing()
        if query.words:
            count = self._products.count_documents(match, limit=COUNT_LIMIT + 1)
        elif match:
            count = self._products.count_documents(match)
        else:
            count = self._products.estimated_document_count()
        found, total = await asyncio.gather(page, count)
        items = [docs.product(doc) for doc in found]
        if query.words and total > COUNT_LIMIT:
            return Page(items, COUNT_LIMIT, query.page, query.limit, exact=False)
        return Page(items, total, query.page, query.limit)

    async def categories(self, include_hidden: bool = False) -> list[CategoryCount]:
        pipeline: list[Doc] = [] if include_hidden else [{"$match": {"status": True}}]
        pipeline.append(
            {"$group": {"_id": "$category_key", "name": {"$first": "$category"}, "n": {"$sum": 1}}}
        )
        cursor = await self._products.aggregate(pipeline)
        found = [CategoryCount(doc["name"], doc["n"]) async for doc in cursor]
        return sorted(found, key=lambda category: fold(category.name))

    async def update(
        self,
        pid: str,
        changes: Mapping[str, Any],
        *,
        if_thumbnails: Sequence[str] | None = None,
        if_version: int | None = None,
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
        if if_version is not None:
            match["version"] = if_version
        if not fields:  # an empty $set is an error; nothing to change is a read
            doc = await self._products.find_one(match)
        else:
            try:
                doc = await self._products.find_one_and_update(
                    match,
                    # Every update of a product bumps its version, in write order.
                    {"$set": fields, "$inc": docs.BUMP},
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:
                raise DuplicateKey("code") from None
        if doc is None:
            if len(match) > 1:  # a condition failed, or the product is gone
                _why_unchanged(await self.get(pid), if_thumbnails, if_version)
            return None
        if fields and any(name in changes for name in _TEXT_FIELDS):
            await _reindex(self._products, doc)
        return docs.product(doc)

    async def delete(self, pid: str) -> bool:
        product_id = ObjectId(pid)
        if (await self._products.delete_one({"_id": product_id})).deleted_count == 0:
            return False
        # A line added while this ran is harmless: carts drop lines without a product.
        await self._carts.update_many(
            {"products.product": product_id},
            {"$pull": {"products": {"product": product_id}}, "$inc": docs.BUMP},
        )
        return True

    async def upsert_by_code(
        self, products: Sequence[Product], progress: Progress | None = None
    ) -> Upserted:
        return await bulk_products.upsert(self._products, products, progress)

    async def find_codes(self, codes: Collection[str]) -> dict[str, Product]:
        return await bulk_products.find_codes(self._products, codes)

    def batches(self, size: int) -> AsyncIterator[list[Product]]:
        return bulk_products.batches(self._products, size)


async def _nothing() -> list[Doc]:
    return []


def _why_unchanged(
    current: Product | None, if_thumbnails: Sequence[str] | None, if_version: int | None
) -> None:
    """Raise what a conditional update that matched nothing met (nothing when the product
    is gone): other thumbnails than expected, else another version."""
    if current is None:
        return
    if if_thumbnails is not None and (
        if_version is None or current.thumbnails != tuple(if_thumbnails)
    ):
        raise ThumbnailsChanged(current.id)
    raise VersionChanged(current.id)


def _match(query: ProductQuery) -> Doc:
    """The filter of a listing; every part combines with the others."""
    conditions: list[Doc] = []
    if not query.include_hidden:
        conditions.append({"status": True})
    if query.category is not None:
        conditions.append({"category_key": query.category.lower()})
    if query.available is True:
        conditions.append({"status": True, "stock": {"$gt": 0}})
    elif query.available is False:
        conditions.append({"$or": [{"status": False}, {"stock": 0}]})
    if query.on_sale is not None:
        conditions.append({"status": query.on_sale})
    if query.low_stock:
        conditions.append({"stock": {"$lte": LOW_STOCK}})
    # Query words are normalised to letters and digits; escaped all the same.
    conditions.extend({"search": {"$regex": f"^{re.escape(word)}"}} for word in query.words)
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


async def _reindex(products: AsyncCollection[Doc], doc: Doc) -> None:
    """Recompute the search fields from the text the update left.

    Conditional on that text: when a concurrent update changed it since, that update
    recomputes from its own result, so the last text written is the one indexed.
    """
    text = {name: doc[name] for name in _TEXT_FIELDS}
    await products.update_one(
        {"_id": doc["_id"], **text},
        {"$set": docs.search_fields(text["title"], text["description"], text["code"])},
    )


async def index_words(products: AsyncCollection[Doc]) -> None:
    """Give products written before search existed their search fields."""

    async def updates() -> AsyncIterator[UpdateOne]:
        missing = {"$or": [{"search": {"$exists": False}}, {"title_key": {"$exists": False}}]}
        async for doc in products.find(missing, dict.fromkeys(_TEXT_FIELDS, 1)):
            text = {name: doc[name] for name in _TEXT_FIELDS}
            fields = docs.search_fields(text["title"], text["description"], text["code"])
            yield UpdateOne({"_id": doc["_id"], **text}, {"$set": fields})

    await docs.in_batches(products, updates())


async def convert_prices(products: AsyncCollection[Doc]) -> None:
    """Give every product still holding a float `price` its exact `price_cents`."""

    async def updates() -> AsyncIterator[UpdateOne]:
        async for doc in products.find({"price": {"$exists": True}}, {"price": 1}):
            cents = int((Decimal(repr(float(doc["price"]))) * 100).quantize(1, ROUND_HALF_UP))
            yield UpdateOne(
                {"_id": doc["_id"], "price": doc["price"]},
                {"$set": {"price_cents": cents}, "$unset": {"price": ""}},
            )

    await docs.in_batches(products, updates())
