"""Carts in MongoDB: the lines live in an array inside the cart's document.

A change is two round trips: one aggregate reads the cart and every product it needs
(its lines' and the one being added), then one conditional update writes only if what was
checked still holds (the owner, the line's room within stock, the line being there) and
returns the cart after it. That document and the products already read make the answer.
When a concurrent change made the condition false, the change starts again. Every update
of a cart also bumps its `version` (`$inc`), in write order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bson import ObjectId
from pymongo import IndexModel, ReturnDocument
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

# A change starts again only when another request changed the same cart between its read
# and its write; a few rounds settle any real contention.
_ATTEMPTS = 10

type Products = dict[ObjectId, Doc]
# What a change writes, given the cart and products it read: a filter to add to the
# cart's (the condition its checks need to stay true) and the update.
type Plan = Callable[[Doc, Products], tuple[Doc, Doc]]


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
        cart, products = await self._read(ObjectId(cid), owner)
        return await self._answer(cart, products)

    async def add(self, cid: str, pid: str, quantity: int, owner: str | None = None) -> Cart:
        product_id = ObjectId(pid)

        def plan(cart: Doc, products: Products) -> tuple[Doc, Doc]:
            room = min(_stock(products, product_id), MAX_QUANTITY)
            line = _line(cart, product_id)
            wanted = quantity + (line["quantity"] if line is not None else 0)
            if wanted > room:
                raise LineTooLarge(pid) if wanted > MAX_QUANTITY else NotEnoughStock(pid)
            if line is None:
                # Appended unless a concurrent call appended it first.
                new = {"product": product_id, "quantity": quantity}
                return {"products.product": {"$ne": product_id}}, {"$push": {"products": new}}
            # Grown only while it stays within its room, whatever grew it meanwhile.
            within = {"product": product_id, "quantity": {"$lte": room - quantity}}
            return {"products": {"$elemMatch": within}}, {
                "$inc": {"products.$.quantity": quantity}
            }

        return await self._change(cid, owner, plan, [product_id])

    async def set_quantity(
        self, cid: str, pid: str, quantity: int, owner: str | None = None
    ) -> Cart:
        product_id = ObjectId(pid)

        def plan(cart: Doc, products: Products) -> tuple[Doc, Doc]:
            stock = _stock(products, product_id)
            # A missing line is "not found" whatever the quantity asked, as in SQLite.
            if _line(cart, product_id) is None:
                raise MissingLine(pid)
            if quantity > stock:
                raise NotEnoughStock(pid)
            return {"products.product": product_id}, {"$set": {"products.$.quantity": quantity}}

        return await self._change(cid, owner, plan, [product_id])

    async def remove(self, cid: str, pid: str, owner: str | None = None) -> Cart:
        product_id = ObjectId(pid)

        def plan(cart: Doc, products: Products) -> tuple[Doc, Doc]:
            if _line(cart, product_id) is None:
                raise MissingLine(pid)
            return {"products.product": product_id}, {
                "$pull": {"products": {"product": product_id}}
            }

        return await self._change(cid, owner, plan)

    async def replace(
        self, cid: str, lines: Sequence[tuple[str, int]], owner: str | None = None
    ) -> Cart:
        wanted = [(pid, ObjectId(pid), quantity) for pid, quantity in lines]

        def plan(cart: Doc, products: Products) -> tuple[Doc, Doc]:
            for pid, product_id, quantity in wanted:
                if product_id not in products:
                    raise MissingProduct(pid)
                if quantity > products[product_id]["stock"]:
                    raise NotEnoughStock(pid)
            new = [{"product": product_id, "quantity": q} for _, product_id, q in wanted]
            return {}, {"$set": {"products": new}}

        ids = [product_id for _, product_id, _ in wanted]
        return await self._change(cid, owner, plan, ids, lines=False)

    async def clear(self, cid: str, owner: str | None = None) -> Cart:
        # Nothing to check and no product to show: one round trip when the cart is there.
        cart_id = ObjectId(cid)
        cart = await self._carts.find_one_and_update(
            _mine(cart_id, owner),
            {"$set": {"products": []}, "$inc": docs.BUMP},
            return_document=ReturnDocument.AFTER,
        )
        if cart is None:
            await self._require_cart(cart_id, owner)
            raise MissingCart(cid)  # deleted between the two calls
        return await self._answer(cart, {})

    # -- helpers -------------------------------------------------------------------------
    async def _change(
        self,
        cid: str,
        owner: str | None,
        plan: Plan,
        also: Sequence[ObjectId] = (),
        *,
        lines: bool = True,
    ) -> Cart:
        """Read the cart and its products, let `plan` check them and say the write, then
        write on the condition that the checks still hold; the cart after it."""
        cart_id = ObjectId(cid)
        for _ in range(_ATTEMPTS):
            cart, products = await self._read(cart_id, owner, also, lines=lines)
            condition, update = plan(cart, products)
            after = await self._carts.find_one_and_update(
                {**condition, **_mine(cart_id, owner)},
                bumped(update),
                return_document=ReturnDocument.AFTER,
            )
            if after is not None:
                return await self._answer(after, products)
            # Another request changed the cart between the read and the write: again.
        raise StoreError(f"cart {cid} kept changing; try again")

    async def _read(
        self,
        cart_id: ObjectId,
        owner: str | None,
        also: Sequence[ObjectId] = (),
        *,
        lines: bool = True,
    ) -> tuple[Doc, Products]:
        """The cart and the products of its lines (when `lines`) and of `also`, in one
        round trip, joined by the server; MissingCart or NotCartOwner."""
        wanted: Any = {"$literal": list(also)}
        if lines:
            wanted = (
                {"$concatArrays": ["$products.product", wanted]} if also else "$products.product"
            )
        cursor = await self._carts.aggregate(
            [
                # Matched on the id alone, so a stranger's cart is told from a missing one.
                {"$match": {"_id": cart_id}},
                {"$addFields": {"wanted": wanted}},
                {
                    "$lookup": {
                        "from": "products",
                        "localField": "wanted",
                        "foreignField": "_id",
                        "as": "found",
                    }
                },
            ]
        )
        found = await cursor.to_list()
        if not found:
            raise MissingCart(str(cart_id))
        cart = found[0]
        if owner is not None and docs.str_id(cart["owner"]) != owner:
            raise NotCartOwner(str(cart_id))
        return cart, {product["_id"]: product for product in cart["found"]}

    async def _answer(self, cart: Doc, products: Products) -> Cart:
        """The Cart a document shows, from products already read; a product a concurrent
        change added is fetched, one deleted meanwhile drops its line."""
        missing = [line["product"] for line in cart["products"] if line["product"] not in products]
        if missing:
            products = {**products}
            async for doc in self._products.find({"_id": {"$in": missing}}):
                products[doc["_id"]] = doc
        # The cart's array holds the order; $lookup returns products in no particular one.
        return Cart(
            id=str(cart["_id"]),
            owner=docs.str_id(cart["owner"]),
            lines=tuple(
                CartLine(
                    product=docs.product(products[line["product"]]), quantity=line["quantity"]
                )
                for line in cart["products"]
                if line["product"] in products
            ),
            version=cart.get("version", 0),
        )

    async def _require_cart(self, cart_id: ObjectId, owner: str | None) -> None:
        """Raise MissingCart or NotCartOwner (SQLite reports them first, too)."""
        doc = await self._carts.find_one({"_id": cart_id}, {"owner": 1})
        if doc is None:
            raise MissingCart(str(cart_id))
        if owner is not None and docs.str_id(doc["owner"]) != owner:
            raise NotCartOwner(str(cart_id))


def bumped(update: Doc) -> Doc:
    """`update` that also bumps the cart's version."""
    return {**update, "$inc": {**update.get("$inc", {}), **docs.BUMP}}


def _mine(cart_id: ObjectId, owner: str | None) -> Doc:
    """The filter for this cart, and for its owner when one is required."""
    return {"_id": cart_id} if owner is None else {"_id": cart_id, "owner": ObjectId(owner)}


def _stock(products: Products, product_id: ObjectId) -> int:
    product = products.get(product_id)
    if product is None:
        raise MissingProduct(str(product_id))
    return product["stock"]


def _line(cart: Doc, product_id: ObjectId) -> Doc | None:
    return next((line for line in cart["products"] if line["product"] == product_id), None)
