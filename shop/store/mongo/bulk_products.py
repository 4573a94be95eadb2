"""Products in bulk on MongoDB: upserts by code, and the catalogue read in id order.

MongoDB has no transaction across documents here (see the checkout), so an upsert is
written in batches of `UpdateOne(code, upsert=True)`: each write sets every field from the
row, so writing a row twice is the same as once, and running an interrupted import again
completes it. A product already equal to its row is not written at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from itertools import batched

from bson import ObjectId
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from shop.models.products import Product, Upserted
from shop.store.base import StoreUnavailable
from shop.store.mongo import docs
from shop.store.mongo.docs import UNAVAILABLE, Doc
from shop.store.products import Progress

BATCH = 1000
# What decides whether a product already equals its row.
_COMPARED = (*docs.PRODUCT_FIELDS, "thumbnails")


async def upsert(
    products: AsyncCollection[Doc], rows: Sequence[Product], progress: Progress | None
) -> Upserted:
    total = Upserted()
    for batch in batched(rows, BATCH, strict=False):
        total += await _upsert_batch(products, batch)
        if progress is not None:
            progress(len(batch))
    return total


async def _upsert_batch(products: AsyncCollection[Doc], batch: Sequence[Product]) -> Upserted:
    codes = [product.code for product in batch]
    current = {
        doc["code"]: doc
        async for doc in products.find({"code": {"$in": codes}}, dict.fromkeys(_COMPARED, 1))
    }
    writes: list[UpdateOne] = []
    for product in batch:
        known = current.get(product.code)
        if known is not None and all(
            known.get(name) == value for name, value in _compared(product).items()
        ):
            continue
        doc = docs.product_doc(product)  # its search words too: only for rows written
        # A write bumps the version (a new product's starts at 1), as every product write.
        fields = {name: value for name, value in doc.items() if name not in ("_id", "version")}
        writes.append(
            UpdateOne(
                {"code": product.code},
                {"$set": fields, "$setOnInsert": {"_id": doc["_id"]}, "$inc": docs.BUMP},
                upsert=True,
            )
        )
    if not writes:
        return Upserted(unchanged=len(batch))
    result = await products.bulk_write(writes, ordered=False)
    created = result.upserted_count
    return Upserted(created, len(writes) - created, len(batch) - len(writes))


def _compared(product: Product) -> Doc:
    return {
        **{name: getattr(product, name) for name in docs.PRODUCT_FIELDS},
        "thumbnails": list(product.thumbnails),
    }


async def find_codes(products: AsyncCollection[Doc], codes: Collection[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in batched(codes, BATCH, strict=False):
        async for doc in products.find({"code": {"$in": list(chunk)}}):
            found[doc["code"]] = docs.product(doc)
    return found


async def batches(products: AsyncCollection[Doc], size: int) -> AsyncIterator[list[Product]]:
    last: ObjectId | None = None
    while True:
        match: Doc = {} if last is None else {"_id": {"$gt": last}}
        cursor = products.find(match).sort([("_id", ASCENDING)]).limit(size)
        try:  # a generator: the class's guard does not cover it
            found = await cursor.to_list()
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc
        if not found:
            return
        yield [docs.product(doc) for doc in found]
        last = found[-1]["_id"]
