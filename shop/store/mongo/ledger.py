"""The single-document writes a MongoDB purchase or cancel is made of: reserving a cart's
lines, taking and giving back stock, putting lines back, returning a cancel's stock.

Each write that undoes another is conditional on the mark the first one left (a stock
marker, a reservation, a return marker) and removes it in the same write, so however often
it is tried, it happens once. `shop.store.mongo.checkout` tells the whole story.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from shop.models.carts import Cart, CartLine
from shop.models.orders import Refusal
from shop.models.products import Product
from shop.store.mongo import docs
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import Doc

# A line as a purchase holds it: the product's id and the quantity.
type Held = tuple[ObjectId, int]
# In a pipeline update of a cart: its version bumped (carts written before versions have
# none, and start at 0), as every update of a cart does.
_BUMP_CART = {"$add": [{"$ifNull": ["$version", 0]}, 1]}


def held(lines: Iterable[CartLine]) -> list[Held]:
    return [(ObjectId(line.product.id), line.quantity) for line in lines]


async def together[T](*steps: Awaitable[T]) -> list[T]:
    """Run the steps at once and wait for every one; then raise the first error, if any
    (so no step is still running when the caller undoes what they did)."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


class Ledger:
    def __init__(
        self, products: AsyncCollection[Doc], carts: AsyncCollection[Doc], cart_reader: MongoCarts
    ) -> None:
        self._products = products
        self._carts = carts
        self._cart_reader = cart_reader

    async def reserve(
        self, oid: ObjectId, cid: ObjectId, buyer: str
    ) -> tuple[list[Held], int] | None:
        """Move the cart's lines into a reservation for purchase `oid`; the lines and the
        cart's version after, or None when the cart is unknown, another's or empty (nothing
        changes then)."""
        before = await self._carts.find_one_and_update(
            {"_id": cid, "owner": ObjectId(buyer), "products.0": {"$exists": True}},
            [
                {
                    "$set": {
                        "checkouts": {
                            "$concatArrays": [
                                {"$ifNull": ["$checkouts", []]},
                                [{"order": oid, "lines": "$products"}],
                            ]
                        },
                        "products": {"$literal": []},
                        "version": _BUMP_CART,
                    }
                }
            ],
            projection={"products": 1, "version": 1},
        )
        if before is None:
            return None
        lines = [(line["product"], line["quantity"]) for line in before["products"]]
        return lines, before.get("version", 0) + 1

    async def why_not(self, cid: ObjectId, buyer: str) -> Refusal:
        """Why `reserve` found nothing (the SQLite store checks in this order)."""
        cart = await self._carts.find_one({"_id": cid}, {"owner": 1})
        if cart is None:
            return Refusal.MISSING_CART
        if docs.str_id(cart["owner"]) != buyer:
            return Refusal.NOT_OWNER
        return Refusal.EMPTY

    async def take(self, oid: ObjectId, pid: ObjectId, quantity: int) -> Product | None:
        """Take the line's stock, marked with the order; the product after (its price is
        the price paid), None if it is gone, unavailable or short of stock."""
        doc = await self._products.find_one_and_update(
            {"_id": pid, "status": True, "stock": {"$gte": quantity}, "takes.order": {"$ne": oid}},
            {
                "$inc": {"stock": -quantity, **docs.BUMP},
                "$push": {"takes": {"order": oid, "quantity": quantity}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return docs.product(doc) if doc else None

    async def still_there(self, missed: Sequence[Held]) -> list[CartLine]:
        """The lines not bought whose product still exists, with the product as it is."""
        if not missed:
            return []
        cursor = self._products.find({"_id": {"$in": [pid for pid, _ in missed]}})
        found = {doc["_id"]: docs.product(doc) async for doc in cursor}
        return [CartLine(found[pid], quantity) for pid, quantity in missed if pid in found]

    async def takes_of(self, oid: ObjectId) -> list[Held]:
        """Every stock take purchase `oid` left marked."""
        cursor = self._products.find({"takes.order": oid}, {"takes": 1})
        return [
            (product["_id"], mark["quantity"])
            async for product in cursor
            for mark in product["takes"]
            if mark["order"] == oid
        ]

    async def give_back(self, oid: ObjectId, takes: Iterable[Held]) -> None:
        """Return what purchase `oid` took; each product at most once."""
        await together(
            *(
                self._products.update_one(
                    {"_id": pid, "takes.order": oid},
                    {"$inc": {"stock": quantity, **docs.BUMP}, "$pull": {"takes": {"order": oid}}},
                )
                for pid, quantity in takes
            )
        )

    async def drop_takes(self, oid: ObjectId) -> None:
        """Forget purchase `oid`'s stock markers: its order is committed."""
        await self._products.update_many(
            {"takes.order": oid}, {"$pull": {"takes": {"order": oid}}}
        )

    async def reservation(self, oid: ObjectId) -> tuple[ObjectId, list[Held]] | None:
        """The cart holding purchase `oid`'s reservation and the lines in it."""
        cart = await self._carts.find_one({"checkouts.order": oid}, {"checkouts": 1})
        if cart is None:
            return None
        lines = [
            (line["product"], line["quantity"])
            for entry in cart["checkouts"]
            if entry["order"] == oid
            for line in entry["lines"]
        ]
        return cart["_id"], lines

    async def restore(
        self,
        oid: ObjectId,
        cid: ObjectId,
        lines: Sequence[Held],
        known: dict[str, Product] | None = None,
    ) -> Cart | None:
        """Put `lines` back into the cart and drop purchase `oid`'s reservation, once (a
        line the shopper added again meanwhile is kept as it is now). The cart after,
        built from `known` products; None without them, or when there was nothing to do."""
        back = [{"product": pid, "quantity": quantity} for pid, quantity in lines]
        doc = await self._carts.find_one_and_update(
            {"_id": cid, "checkouts.order": oid},
            [
                {
                    "$set": {
                        "products": {
                            "$concatArrays": [
                                {
                                    "$filter": {
                                        "input": {"$literal": back},
                                        "as": "line",
                                        # ($not is missing from mongoeco; $eq false says it)
                                        "cond": {
                                            "$eq": [
                                                {"$in": ["$$line.product", "$products.product"]},
                                                False,
                                            ]
                                        },
                                    }
                                },
                                "$products",
                            ]
                        },
                        "checkouts": {
                            "$filter": {
                                "input": "$checkouts",
                                "as": "held",
                                "cond": {"$ne": ["$$held.order", oid]},
                            }
                        },
                        "version": _BUMP_CART,
                    }
                }
            ],
            projection={"owner": 1, "products": 1, "version": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None or known is None:
            return None
        if not all(str(line["product"]) in known for line in doc["products"]):
            # A line was added meanwhile, of a product this purchase did not read.
            return await self._cart_reader.get(str(cid))
        return Cart(
            id=str(cid),
            owner=docs.str_id(doc["owner"]),
            lines=tuple(
                CartLine(known[str(line["product"])], line["quantity"]) for line in doc["products"]
            ),
            version=doc["version"],
        )

    async def restock(self, oid: ObjectId, lines: Sequence[Doc]) -> tuple[Product, ...]:
        """Return a cancelled order's stock, each product once (a `returns` marker guards
        it until `drop_returns`); the products after."""
        after = await together(
            *(
                self._products.find_one_and_update(
                    {"_id": line["product"], "returns.order": {"$ne": oid}},
                    {
                        "$inc": {"stock": line["quantity"], **docs.BUMP},
                        "$push": {"returns": {"order": oid, "quantity": line["quantity"]}},
                    },
                    return_document=ReturnDocument.AFTER,
                )
                for line in lines
            )
        )
        return tuple(docs.product(product) for product in after if product is not None)

    async def drop_returns(self, oid: ObjectId) -> None:
        await self._products.update_many(
            {"returns.order": oid}, {"$pull": {"returns": {"order": oid}}}
        )
