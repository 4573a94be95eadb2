"""Carts in MongoDB: the lines live in an array inside the cart's document.

MongoDB makes every single-document write atomic, so each change is one conditional
update: what it checked (the owner, the line's room within stock) is true when it writes.
Every update of a cart also bumps its `version` (`$inc`), in write order.
"""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.models.carts import MAX_QUANTITY, Cart, CartLine
from shop.store.base import (
    LineTooLarge,
    MissingCart,
    MissingLine,
    MissingProduct,
    NotCartOwner,
    NotEnoughStock,
    StoreError,
)
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc

# `add` retries only when another request pushed or removed the same line between its two
# updates; a few rounds settle any real contention.
_ADD_ATTEMPTS = 10
# In every update of a cart.
_BUMP = {"version": 1}


@docs.report_unavailable
class MongoCarts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._carts: AsyncCollection[Doc] = db["carts"]
        self._products: AsyncCollection[Doc] = db["products"]
        self._users: AsyncCollection[Doc] = db["users"]

    async def prepare(self) -> None:
        # products.product: deleting a product finds the carts that hold it.
        await self._carts.create_indexes([IndexModel("owner"), IndexModel("products.product")])

    async def create(self, cid: str, owner: str | None) -> Cart:
        owner_id = ObjectId(owner) if owner is not None else None
        # The SQLite store refuses an unknown owner with a foreign key; so does this one.
        if (
            owner_id is not None
            and await self._users.find_one({"_id": owner_id}, {"_id": 1}) is None
        ):
            raise StoreError(f"cart owner {owner} does not exist")
        await self._carts.insert_one(
            {"_id": ObjectId(cid), "owner": owner_id, "products": [], "version": 0}
        )
        return Cart(id=cid, owner=owner)

    async def get(self, cid: str, owner: str | None = None) -> Cart:
        # One round trip: the cart and every product it names, joined by the server.
        cursor = await self._carts.aggregate(
            [
                {"$match": _mine(ObjectId(cid), owner)},
                {
                    "$lookup": {
                        "from": "products",
                        "localField": "products.product",
                        "foreignField": "_id",
                        "as": "found",
                    }
                },
            ]
        )
        found = await cursor.to_list()
        if not found:
            await self._require_cart(ObjectId(cid), owner)
            raise MissingCart(cid)  # deleted between the two reads
        doc = found[0]
        # $lookup returns products in no particular order; the cart's array holds the order.
        products = {product["_id"]: docs.product(product) for product in doc["found"]}
        lines = tuple(
            CartLine(product=products[line["product"]], quantity=line["quantity"])
            for line in doc["products"]
            if line["product"] in products  # the product was deleted meanwhile
        )
        return Cart(
            id=cid, owner=docs.str_id(doc["owner"]), lines=lines, version=doc.get("version", 0)
        )

    async def add(self, cid: str, pid: str, quantity: int, owner: str | None = None) -> Cart:
        cart_id, product_id = ObjectId(cid), ObjectId(pid)
        mine = _mine(cart_id, owner)
        for _ in range(_ADD_ATTEMPTS):
            room = min(await self._stock(cart_id, product_id, owner), MAX_QUANTITY)
            if quantity > room:
                await self._require_cart(cart_id, owner)
                raise _too_many(pid, quantity)
            # Grow the line only while it stays within its room, in the same write.
            grown = await self._carts.update_one(
                {
                    **mine,
                    "products": {
                        "$elemMatch": {
                            "product": product_id,
                            "quantity": {"$lte": room - quantity},
                        }
                    },
                },
                {"$inc": {"products.$.quantity": quantity, **_BUMP}},
            )
            if grown.matched_count == 1:
                return await self.get(cid)
            # No such line yet: append it, unless a concurrent call appended it first.
            pushed = await self._carts.update_one(
                {**mine, "products.product": {"$ne": product_id}},
                {
                    "$push": {"products": {"product": product_id, "quantity": quantity}},
                    "$inc": _BUMP,
                },
            )
            if pushed.matched_count == 1:
                return await self.get(cid)
            line = await self._line(cart_id, product_id, owner)
            if line is not None and line["quantity"] + quantity > room:
                raise _too_many(pid, line["quantity"] + quantity)
            # The line appeared or shrank between the two writes: look again.
        raise StoreError(f"cart {cid} kept changing; try again")

    async def set_quantity(
        self, cid: str, pid: str, quantity: int, owner: str | None = None
    ) -> Cart:
        cart_id, product_id = ObjectId(cid), ObjectId(pid)
        stock = await self._stock(cart_id, product_id, owner)
        if quantity <= stock:
            result = await self._carts.update_one(
                {**_mine(cart_id, owner), "products.product": product_id},
                {"$set": {"products.$.quantity": quantity}, "$inc": _BUMP},
            )
            if result.matched_count == 1:
                return await self.get(cid)
            await self._require_cart(cart_id, owner)
            raise MissingLine(pid)
        # A missing line is "not found" whatever the quantity asked, as in SQLite.
        if await self._line(cart_id, product_id, owner) is None:
            raise MissingLine(pid)
        raise NotEnoughStock(pid)

    async def remove(self, cid: str, pid: str, owner: str | None = None) -> Cart:
        cart_id, product_id = ObjectId(cid), ObjectId(pid)
        result = await self._carts.update_one(
            {**_mine(cart_id, owner), "products.product": product_id},
            {"$pull": {"products": {"product": product_id}}, "$inc": _BUMP},
        )
        if result.matched_count == 0:
            await self._require_cart(cart_id, owner)
            raise MissingLine(pid)
        return await self.get(cid)

    async def replace(
        self, cid: str, lines: Sequence[tuple[str, int]], owner: str | None = None
    ) -> Cart:
        cart_id = ObjectId(cid)
        wanted = [(pid, ObjectId(pid), quantity) for pid, quantity in lines]
        stocks: dict[ObjectId, int] = {}
        if wanted:
            cursor = self._products.find(
                {"_id": {"$in": [product_id for _, product_id, _ in wanted]}}, {"stock": 1}
            )
            stocks = {doc["_id"]: doc["stock"] async for doc in cursor}
        for pid, product_id, quantity in wanted:
            if product_id not in stocks or quantity > stocks[product_id]:
                # Checked before any write, so a refusal changes nothing.
                await self._require_cart(cart_id, owner)
                raise MissingProduct(pid) if product_id not in stocks else NotEnoughStock(pid)
        new_lines = [{"product": product_id, "quantity": q} for _, product_id, q in wanted]
        result = await self._carts.update_one(
            _mine(cart_id, owner), {"$set": {"products": new_lines}, "$inc": _BUMP}
        )
        if result.matched_count == 0:
            await self._require_cart(cart_id, owner)
        return await self.get(cid)

    async def clear(self, cid: str, owner: str | None = None) -> Cart:
        cart_id = ObjectId(cid)
        result = await self._carts.update_one(
            _mine(cart_id, owner), {"$set": {"products": []}, "$inc": _BUMP}
        )
        if result.matched_count == 0:
            await self._require_cart(cart_id, owner)
        return await self.get(cid)

    # -- helpers -------------------------------------------------------------------------
    async def _require_cart(self, cart_id: ObjectId, owner: str | None) -> None:
        """Raise MissingCart or NotCartOwner (SQLite reports them first, too)."""
        doc = await self._carts.find_one({"_id": cart_id}, {"owner": 1})
        if doc is None:
            raise MissingCart(str(cart_id))
        if owner is not None and docs.str_id(doc["owner"]) != owner:
            raise NotCartOwner(str(cart_id))

    async def _stock(self, cart_id: ObjectId, product_id: ObjectId, owner: str | None) -> int:
        """The product's stock; MissingCart, NotCartOwner or MissingProduct when unknown."""
        doc = await self._products.find_one({"_id": product_id}, {"stock": 1})
        if doc is None:
            await self._require_cart(cart_id, owner)
            raise MissingProduct(str(product_id))
        return doc["stock"]

    async def _line(
        self, cart_id: ObjectId, product_id: ObjectId, owner: str | None
    ) -> Doc | None:
        """The cart's line for the product, None if it has none."""
        doc = await self._carts.find_one(
            _mine(cart_id, owner), {"products": {"$elemMatch": {"product": product_id}}}
        )
        if doc is None:
            await self._require_cart(cart_id, owner)
            raise MissingCart(str(cart_id))
        lines = doc.get("products", [])  # $elemMatch leaves the field out when none match
        return lines[0] if lines else None


def _mine(cart_id: ObjectId, owner: str | None) -> Doc:
    """The filter for this cart, and for its owner when one is required."""
    return {"_id": cart_id} if owner is None else {"_id": cart_id, "owner": ObjectId(owner)}


def _too_many(pid: str, quantity: int) -> Exception:
    return LineTooLarge(pid) if quantity > MAX_QUANTITY else NotEnoughStock(pid)
