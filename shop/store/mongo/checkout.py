"""Purchases on MongoDB without multi-document transactions, recoverable after a crash.

MongoDB allows multi-document transactions only on a replica set; this scheme works on a
standalone server as well, with single-document atomic writes only, and takes 2 + 1 per
line round trips when every line is bought. A purchase:

1. reserves the cart's lines: one update moves them from `products` into a reservation
   `{order, lines}` in the cart's `checkouts` (so a concurrent purchase of the same cart
   finds nothing to buy twice), answering the lines;
2. takes each line's stock, all together, one conditional update per product (`stock >= n`
   and `status: true`) that pushes a marker `{order, quantity}` onto the product in the
   same write and answers the product as it is after, price included;
3. inserts the order: the commit point.

Lines that could not be bought go back into the cart in one update that also drops the
reservation. When every line was bought, the reservation and the markers are dropped
later, in batches shared by every purchase of the moment (`Sweeper`).

A crash leaves markers and reservations whose order either exists (committed: the unbought
lines go back to the cart, markers and reservation go) or does not (the stock comes back,
the lines go back to the cart). Each of those writes is conditional on the marker or the
reservation it removes, so it happens once. Whether an order committed is decided once:
recovery inserts an "aborted" tombstone under the order's id, and of the order and the
tombstone only the first inserted exists; a purchase that finds the tombstone undoes
itself and answers 503.

Cancelling is recoverable the same way: the status change sets `restock`, each product's
stock comes back with a `returns` marker in the same write, then `restock` and the markers
go; recovery redoes what an interrupted cancel left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pymongo
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from shop.models.carts import Cart, CartLine
from shop.models.orders import (
    Order,
    OrderLine,
    OrderStatus,
    PurchaseRequest,
    PurchaseResult,
    Refusal,
    Unfilled,
    new_order_code,
    order_of,
    placed,
    refused,
)
from shop.models.products import Product
from shop.store.base import KeyReused, StoreError, StoreUnavailable
from shop.store.mongo import docs
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import Doc

log = logging.getLogger("shop.store.mongo.checkout")

ABORTED = "aborted"
TOMBSTONE_LIFE = timedelta(days=1)  # far longer than any purchase takes
KEY_LEASE = timedelta(seconds=30)  # a key pending longer belongs to a purchase that died
SWEEP_DELAY = 0.2  # seconds a finished purchase's markers wait to be dropped with others
CLOSE_TIMEOUT = 1.0  # seconds the last sweep may take when the store closes
_CODE_ATTEMPTS = 5
_FIRST_WAIT = 0.005  # seconds; a duplicate's polling backs off from here...
_LONGEST_WAIT = 0.2  # ...to here


def order_doc(order: Order, cid: str, unfilled: Sequence[Unfilled]) -> Doc:
    return {
        "_id": ObjectId(order.id),
        "code": order.code,
        "purchased_at": order.purchased_at,
        "user": ObjectId(order.user),
        "purchaser": order.purchaser,
        "status": str(order.status),
        "cart": ObjectId(cid),
        "lines": [
            {
                "product": ObjectId(line.product),
                "title": line.title,
                "code": line.code,
                "price_cents": line.price_cents,
                "quantity": line.quantity,
            }
            for line in order.lines
        ],
        # Kept so that a key whose purchase died after its commit can still be answered.
        "unfilled": [item.to_json() for item in unfilled],
    }


def order_of_doc(doc: Doc) -> Order:
    return Order(
        id=str(doc["_id"]),
        code=doc["code"],
        purchased_at=doc["purchased_at"],
        user=str(doc["user"]),
        purchaser=doc["purchaser"],
        status=OrderStatus(doc["status"]),
        lines=tuple(
            OrderLine(
                product=str(line["product"]),
                title=line["title"],
                code=line["code"],
                price_cents=int(line["price_cents"]),
                quantity=int(line["quantity"]),
            )
            for line in doc["lines"]
        ),
    )


# A line as a purchase holds it: the product's id and the quantity.
type Held = tuple[ObjectId, int]


def _held(lines: Iterable[CartLine]) -> list[Held]:
    return [(ObjectId(line.product.id), line.quantity) for line in lines]


async def _all[T](*steps: Awaitable[T]) -> list[T]:
    """Run the steps together and wait for every one; then raise the first error, if any
    (so no step is still running when the caller undoes what they did)."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


class Sweeper:
    """Drops the reservations and markers of purchases that completed, in batches.

    They are harmless once the order exists (recovery would only drop them too), so one
    pair of updates every SWEEP_DELAY serves every purchase of that moment.
    """

    def __init__(self, carts: AsyncCollection[Doc], products: AsyncCollection[Doc]) -> None:
        self._carts = carts
        self._products = products
        self._orders: set[ObjectId] = set()
        self._carts_ids: set[ObjectId] = set()
        self._product_ids: set[ObjectId] = set()
        self._timer: asyncio.Task[None] | None = None

    def add(self, oid: ObjectId, cid: ObjectId, pids: Iterable[ObjectId]) -> None:
        self._orders.add(oid)
        self._carts_ids.add(cid)
        self._product_ids.update(pids)
        if self._timer is None or self._timer.done():
            self._timer = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(SWEEP_DELAY)
        await self.flush()

    async def flush(self) -> None:
        orders, carts, products = self._orders, self._carts_ids, self._product_ids
        if not orders:
            return
        self._orders, self._carts_ids, self._product_ids = set(), set(), set()
        done = {"$in": list(orders)}
        try:
            await _all(
                self._carts.update_many(
                    {"_id": {"$in": list(carts)}}, {"$pull": {"checkouts": {"order": done}}}
                ),
                self._products.update_many(
                    {"_id": {"$in": list(products)}}, {"$pull": {"takes": {"order": done}}}
                ),
            )
        except PyMongoError:
            log.warning("could not drop %d purchases' markers; recovery will", len(orders))

    async def close(self) -> None:
        """Let the batch under way finish (at most SWEEP_DELAY), then sweep what is left;
        a server that does not answer within a second is left to the recovery pass."""
        with pymongo.timeout(CLOSE_TIMEOUT):
            if self._timer is not None:
                await self._timer
            await self.flush()


class Checkout:
    """Purchases, cancels' stock returns and their recovery, over the shop's collections."""

    def __init__(
        self,
        orders: AsyncCollection[Doc],
        products: AsyncCollection[Doc],
        carts: AsyncCollection[Doc],
        keys: AsyncCollection[Doc],
        cart_reader: MongoCarts,
    ) -> None:
        self._orders = orders
        self._products = products
        self._carts = carts
        self._keys = keys
        self._cart_reader = cart_reader
        self.sweeper = Sweeper(carts, products)

    # ---- a purchase ------------------------------------------------------------------

    async def purchase(self, request: PurchaseRequest) -> PurchaseResult:
        if request.key is None:
            return await self._guarded(request)
        key_id = f"{request.buyer}:{request.key}"
        while True:
            try:
                await self._keys.insert_one(
                    {
                        "_id": key_id,
                        "fingerprint": request.fingerprint,
                        "order": ObjectId(request.order_id),
                        "state": "pending",
                        "created_at": request.at,
                    }
                )
            except DuplicateKeyError:
                replay = await self._await_outcome(key_id, request.fingerprint)
                if replay is not None:
                    return replay
                continue  # the attempt that held the key died: this one takes it
            result = await self._guarded(request)
            await self._keys.update_one(
                {"_id": key_id, "order": ObjectId(request.order_id), "state": "pending"},
                {"$set": {"state": "done", "outcome": result.outcome}},
            )
            return result

    async def _await_outcome(self, key_id: str, fingerprint: str) -> PurchaseResult | None:
        """The outcome recorded under the key, once its first attempt has one; None when
        that attempt died and its record was given up."""
        wait = _FIRST_WAIT
        while True:
            record = await self._keys.find_one({"_id": key_id})
            if record is None:
                return None
            if record["fingerprint"] != fingerprint:
                raise KeyReused(key_id)
            if record["state"] == "done":
                return PurchaseResult(record["outcome"], replayed=True)
            if datetime.now(UTC) - record["created_at"] > KEY_LEASE:
                await self.settle(record["order"])
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT)

    async def _guarded(self, request: PurchaseRequest) -> PurchaseResult:
        """Buy; when it fails halfway, undo what it did before passing the error on."""
        try:
            return await self._buy(request)
        except BaseException:
            try:
                await asyncio.shield(self.settle(ObjectId(request.order_id)))
            except Exception:
                # The server is gone too: the start-up recovery pass will settle it.
                log.warning("purchase %s interrupted; recovery will settle it", request.order_id)
            raise

    async def _buy(self, request: PurchaseRequest) -> PurchaseResult:
        oid, cid = ObjectId(request.order_id), ObjectId(request.cid)
        lines = await self._reserve(oid, cid, request.buyer)
        if lines is None:
            return PurchaseResult(refused(await self._why_not(cid, request.buyer)))
        after = await _all(*(self._take(oid, pid, quantity) for pid, quantity in lines))
        taken = [CartLine(p, quantity) for (_, quantity), p in zip(lines, after, strict=True) if p]
        left = await self._still_there(
            [line for line, product in zip(lines, after, strict=True) if product is None]
        )
        unfilled = [Unfilled.of(line) for line in left]
        if not taken:
            await self._restore(oid, cid, _held(left))
            reason = Refusal.NOTHING_FILLED if left else Refusal.EMPTY
            return PurchaseResult(refused(reason, unfilled))
        total = sum(line.subtotal_cents for line in taken)
        if request.expected_total is not None and total != request.expected_total:
            await self._give_back(oid, _held(taken))
            kept = {line.product.id for line in [*taken, *left]}
            await self._restore(oid, cid, [ln for ln in lines if str(ln[0]) in kept])
            return PurchaseResult(refused(Refusal.TOTAL_CHANGED, unfilled, total))
        order = await self._commit(request, taken, unfilled)
        # The reservation (if nothing went back to the cart) and the markers are dropped
        # with the next batch: the order exists, so nothing depends on them any more.
        self.sweeper.add(oid, cid, (ObjectId(line.product.id) for line in taken))
        cart = Cart(id=request.cid, owner=request.buyer)
        if left:
            known = {line.product.id: line.product for line in left}
            cart = await self._restore(oid, cid, _held(left), known) or cart
        return PurchaseResult(
            placed(order, unfilled, cart), changed=tuple(line.product for line in taken)
        )

    async def _reserve(self, oid: ObjectId, cid: ObjectId, buyer: str) -> list[Held] | None:
        """Move the cart's lines into a reservation for this purchase; the lines as
        (product id, quantity), or None when the cart is unknown, another's or empty."""
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
                    }
                }
            ],
            projection={"products": 1},
        )
        if before is None:
            return None
        return [(line["product"], line["quantity"]) for line in before["products"]]

    async def _why_not(self, cid: ObjectId, buyer: str) -> Refusal:
        cart = await self._carts.find_one({"_id": cid}, {"owner": 1})
        if cart is None:
            return Refusal.MISSING_CART
        if docs.str_id(cart["owner"]) != buyer:
            return Refusal.NOT_OWNER
        return Refusal.EMPTY

    async def _take(self, oid: ObjectId, pid: ObjectId, quantity: int) -> Product | None:
        """Take the line's stock, marked with the order; the product after, None if it
        is gone, unavailable or short of stock."""
        doc = await self._products.find_one_and_update(
            {"_id": pid, "status": True, "stock": {"$gte": quantity}, "takes.order": {"$ne": oid}},
            {
                "$inc": {"stock": -quantity},
                "$push": {"takes": {"order": oid, "quantity": quantity}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return docs.product(doc) if doc else None

    async def _still_there(self, missed: Sequence[Held]) -> list[CartLine]:
        """The lines not bought whose product still exists, with the product as it is."""
        if not missed:
            return []
        cursor = self._products.find({"_id": {"$in": [pid for pid, _ in missed]}})
        found = {doc["_id"]: docs.product(doc) async for doc in cursor}
        return [CartLine(found[pid], quantity) for pid, quantity in missed if pid in found]

    async def _give_back(self, oid: ObjectId, takes: Iterable[Held]) -> None:
        """Return what this purchase took; each product at most once."""
        await _all(
            *(
                self._products.update_one(
                    {"_id": pid, "takes.order": oid},
                    {"$inc": {"stock": quantity}, "$pull": {"takes": {"order": oid}}},
                )
                for pid, quantity in takes
            )
        )

    async def _restore(
        self,
        oid: ObjectId,
        cid: ObjectId,
        lines: Sequence[Held],
        known: dict[str, Product] | None = None,
    ) -> Cart | None:
        """Put `lines` back into the cart and drop the purchase's reservation, once (a
        line the shopper added again meanwhile is kept as it is now). The cart after,
        built from `known` products (None without them, or when there was nothing to do)."""
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
                    }
                }
            ],
            projection={"owner": 1, "products": 1},
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
        )

    async def _commit(
        self, request: PurchaseRequest, taken: Sequence[CartLine], unfilled: Sequence[Unfilled]
    ) -> Order:
        for _ in range(_CODE_ATTEMPTS):
            order = order_of(request, new_order_code(), taken)
            try:
                await self._orders.insert_one(order_doc(order, request.cid, unfilled))
            except DuplicateKeyError as exc:
                if "code" in (exc.details or {}).get("keyPattern", {}):
                    continue  # another order has this code: draw another
                # A recovery pass decided this purchase had died: it did not happen.
                await self.settle(ObjectId(order.id))
                raise StoreUnavailable(
                    "the purchase was interrupted; nothing was bought, try again"
                ) from None
            return order
        raise StoreError("could not find a free order code")

    # ---- settling what was interrupted -------------------------------------------------

    async def settle(self, oid: ObjectId) -> None:
        """Finish or undo the purchase of order `oid`, whatever point it reached."""
        doc = await self._decide(oid)
        cursor = self._products.find({"takes.order": oid}, {"takes": 1})
        takes = [
            (product["_id"], mark["quantity"])
            async for product in cursor
            for mark in product["takes"]
            if mark["order"] == oid
        ]
        cart = await self._carts.find_one({"checkouts.order": oid}, {"checkouts": 1})
        held = [
            (line["product"], line["quantity"])
            for entry in (cart or {}).get("checkouts", [])
            if entry["order"] == oid
            for line in entry["lines"]
        ]
        if doc is None:  # it never happened: the stock and the lines go back
            await self._give_back(oid, takes)
            if cart is not None:
                await self._restore(oid, cart["_id"], held)
            await self._keys.delete_many({"order": oid, "state": "pending"})
            return
        bought = {line["product"] for line in doc["lines"]}
        if cart is not None:
            await self._restore(oid, cart["_id"], [ln for ln in held if ln[0] not in bought])
        await self._products.update_many(
            {"takes.order": oid}, {"$pull": {"takes": {"order": oid}}}
        )
        pending = await self._keys.find_one({"order": oid, "state": "pending"})
        if pending is not None:
            # The attempt died before recording its answer: answer from what it committed.
            unfilled = [Unfilled(**item) for item in doc.get("unfilled", [])]
            current = await self._cart_reader.get(str(doc["cart"]))
            await self._keys.update_one(
                {"_id": pending["_id"], "state": "pending"},
                {
                    "$set": {
                        "state": "done",
                        "outcome": placed(order_of_doc(doc), unfilled, current),
                    }
                },
            )

    async def _decide(self, oid: ObjectId) -> Doc | None:
        """The order's document if its purchase committed; None once it is known (or
        made) aborted."""
        try:
            await self._orders.insert_one(
                {"_id": oid, "status": ABORTED, "expires_at": datetime.now(UTC) + TOMBSTONE_LIFE}
            )
        except DuplicateKeyError:
            doc = await self._orders.find_one({"_id": oid})
            if doc is not None and doc["status"] != ABORTED:
                return doc
        return None

    # ---- cancels -------------------------------------------------------------------------

    async def restock(self, doc: Doc) -> tuple[Product, ...]:
        """Return a cancelled order's stock, each product once; the products after."""
        oid = doc["_id"]
        after = await _all(
            *(
                self._products.find_one_and_update(
                    {"_id": line["product"], "returns.order": {"$ne": oid}},
                    {
                        "$inc": {"stock": line["quantity"]},
                        "$push": {"returns": {"order": oid, "quantity": line["quantity"]}},
                    },
                    return_document=ReturnDocument.AFTER,
                )
                for line in doc["lines"]
            )
        )
        await self._orders.update_one({"_id": oid}, {"$unset": {"restock": ""}})
        await self._products.update_many(
            {"returns.order": oid}, {"$pull": {"returns": {"order": oid}}}
        )
        return tuple(docs.product(product) for product in after if product is not None)

    # ---- recovery ------------------------------------------------------------------------

    async def recover(self) -> int:
        """Settle every purchase and cancel a stopped process left halfway; how many.

        Run at start-up. A purchase another process has in flight at that instant is
        settled too: it is undone, and that process answers 503 and changes nothing.
        """
        settled: set[ObjectId] = set()
        async for cart in self._carts.find({"checkouts.order": {"$exists": True}}):
            settled.update(entry["order"] for entry in cart["checkouts"])
        async for product in self._products.find({"takes.order": {"$exists": True}}):
            settled.update(mark["order"] for mark in product["takes"])
        async for record in self._keys.find({"state": "pending"}, {"order": 1}):
            settled.add(record["order"])
        for oid in settled:
            await self.settle(oid)
        restocked = 0
        async for order in self._orders.find({"restock": {"$exists": True}}):
            await self.restock(order)
            restocked += 1
        # Markers of cancels that finished all but their last step.
        async for product in self._products.find({"returns.order": {"$exists": True}}):
            for mark in product["returns"]:
                if await self._orders.count_documents({"_id": mark["order"], "restock": True}):
                    continue
                await self._products.update_one(
                    {"_id": product["_id"]}, {"$pull": {"returns": {"order": mark["order"]}}}
                )
        if settled or restocked:
            log.info("recovered %d purchases and %d cancels", len(settled), restocked)
        return len(settled) + restocked
