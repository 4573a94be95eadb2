"""Purchases on MongoDB without multi-document transactions, recoverable after a crash.

MongoDB allows multi-document transactions only on a replica set; this scheme works on a
standalone server as well, with single-document atomic writes only. A purchase:

1. reads the cart and its products (one aggregate);
2. takes each fillable line's stock (one conditional update per product, together):
   `stock >= n` and `status: true`, decremented, with a marker `{order, quantity}` pushed
   onto the product in the same write;
3. inserts the order: the commit point;
4. pulls the filled lines from the cart, noting the order in the cart's `settled` list, so
   that doing it again removes nothing more;
5. pulls its markers from the products.

A marker whose order does not exist belongs to a purchase interrupted before its commit:
recovery gives its stock back, once (the give-back is conditional on the marker). A marker
whose order exists belongs to one interrupted after it: recovery finishes steps 4 and 5.
The two never both happen: recovery first inserts an "aborted" tombstone under the order's
id, and of the order and the tombstone only the first inserted exists.

Cancelling is recoverable the same way: the status change sets `restock`, each product's
stock comes back with a `returns` marker in the same write, then `restock` and the markers
go; recovery redoes what an interrupted cancel left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shop.models.carts import Cart, CartLine
from shop.models.orders import (
    Order,
    OrderLine,
    OrderStatus,
    Outcome,
    PurchaseRequest,
    PurchaseResult,
    Refusal,
    Unfilled,
    new_order_code,
    order_of,
    placed,
    plan_purchase,
    refused,
)
from shop.models.products import Product
from shop.store.base import KeyReused, MissingCart, StoreError, StoreUnavailable
from shop.store.mongo import docs
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import Doc

log = logging.getLogger("shop.store.mongo.checkout")

ABORTED = "aborted"
TOMBSTONE_LIFE = timedelta(days=1)  # far longer than any purchase takes
SETTLED_KEPT = 20  # orders a cart remembers having settled (step 4 is done once each)
KEY_LEASE = timedelta(seconds=30)  # a key pending longer belongs to a purchase that died
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


async def _all[T](*steps: Awaitable[T]) -> list[T]:
    """Run the steps together and wait for every one; then raise the first error, if any
    (so no step is still running when the caller undoes what they did)."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


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
        try:
            cart = await self._cart_reader.get(request.cid)
        except MissingCart:
            return PurchaseResult(refused(Refusal.MISSING_CART))
        if cart.owner != request.buyer:
            return PurchaseResult(refused(Refusal.NOT_OWNER))
        plan = plan_purchase(cart, request.expected_total)
        if plan.refusal is not None:
            return PurchaseResult(plan.refused())
        oid = ObjectId(request.order_id)
        after = await _all(*(self._take(oid, line) for line in plan.fill))
        taken = [CartLine(p, line.quantity) for line, p in zip(plan.fill, after, strict=True) if p]
        missed = [line for line, p in zip(plan.fill, after, strict=True) if p is None]
        unfilled = [*plan.unfilled, *await self._why_unfilled(missed)]
        if not taken:
            return PurchaseResult(refused(Refusal.NOTHING_FILLED, unfilled))
        total = sum(line.subtotal_cents for line in taken)
        if request.expected_total is not None and total != request.expected_total:
            await self._give_back(oid, taken)
            return PurchaseResult(refused(Refusal.TOTAL_CHANGED, unfilled, total))
        order = await self._commit(request, taken, unfilled)
        known = {line.product.id: line.product for line in cart.lines}
        known.update((line.product.id, line.product) for line in taken)
        cart_after = await self._settle_cart(order, request.cid, known)
        await self._products.update_many(
            {"_id": {"$in": [ObjectId(line.product) for line in order.lines]}},
            {"$pull": {"takes": {"order": oid}}},
        )
        return PurchaseResult(
            placed(order, unfilled, cart_after or cart),
            changed=tuple(line.product for line in taken),
        )

    async def _take(self, oid: ObjectId, line: CartLine) -> Product | None:
        """Take the line's stock, marked with the order; the product after, None if it
        no longer has the stock or is unavailable."""
        doc = await self._products.find_one_and_update(
            {
                "_id": ObjectId(line.product.id),
                "status": True,
                "stock": {"$gte": line.quantity},
                "takes.order": {"$ne": oid},
            },
            {
                "$inc": {"stock": -line.quantity},
                "$push": {"takes": {"order": oid, "quantity": line.quantity}},
            },
            return_document=ReturnDocument.AFTER,
        )
        return docs.product(doc) if doc else None

    async def _why_unfilled(self, missed: Sequence[CartLine]) -> list[Unfilled]:
        if not missed:
            return []
        cursor = self._products.find(
            {"_id": {"$in": [ObjectId(line.product.id) for line in missed]}},
            {"status": 1, "stock": 1},
        )
        now = {str(doc["_id"]): doc async for doc in cursor}
        unfilled = []
        for line in missed:
            doc = now.get(line.product.id)
            if doc is None or not doc["status"]:
                unfilled.append(Unfilled(line.product.id, line.quantity, 0, "unavailable"))
            else:
                unfilled.append(
                    Unfilled(line.product.id, line.quantity, doc["stock"], "out_of_stock")
                )
        return unfilled

    async def _give_back(self, oid: ObjectId, taken: Sequence[CartLine]) -> None:
        """Return what this purchase took, before its commit; each product at most once."""
        await _all(
            *(self._return_take(oid, ObjectId(line.product.id), line.quantity) for line in taken)
        )

    async def _return_take(self, oid: ObjectId, product_id: ObjectId, quantity: int) -> None:
        await self._products.update_one(
            {"_id": product_id, "takes.order": oid},
            {"$inc": {"stock": quantity}, "$pull": {"takes": {"order": oid}}},
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
                await self._give_back(ObjectId(order.id), taken)
                raise StoreUnavailable(
                    "the purchase was interrupted; nothing was bought, try again"
                ) from None
            return order
        await self._give_back(ObjectId(request.order_id), taken)
        raise StoreError("could not find a free order code")

    async def _settle_cart(
        self, order: Order, cid: str, known: dict[str, Product] | None = None
    ) -> Cart | None:
        """Pull the order's lines from its cart, once; the cart after (None if it was
        settled already or is gone)."""
        oid = ObjectId(order.id)
        doc = await self._carts.find_one_and_update(
            {"_id": ObjectId(cid), "settled": {"$ne": oid}},
            {
                "$pull": {
                    "products": {
                        # A line changed since the purchase read it stays, as it is now.
                        "$or": [
                            {"product": ObjectId(line.product), "quantity": line.quantity}
                            for line in order.lines
                        ]
                    }
                },
                "$push": {"settled": {"$each": [oid], "$slice": -SETTLED_KEPT}},
            },
            projection={"owner": 1, "products": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        known = known or {}
        if not all(str(line["product"]) in known for line in doc["products"]):
            # A line was added meanwhile, of a product this purchase did not read.
            return await self._cart_reader.get(cid)
        lines = tuple(
            CartLine(known[str(line["product"])], line["quantity"]) for line in doc["products"]
        )
        return Cart(id=cid, owner=docs.str_id(doc["owner"]), lines=lines)

    # ---- settling what was interrupted -------------------------------------------------

    async def settle(self, oid: ObjectId) -> None:
        """Finish or undo the purchase of order `oid`, whatever point it reached."""
        doc = await self._decide(oid)
        if doc is None:
            cursor = self._products.find({"takes.order": oid}, {"takes": 1})
            async for product in cursor:
                for mark in product["takes"]:
                    if mark["order"] == oid:
                        await self._return_take(oid, product["_id"], mark["quantity"])
            await self._keys.delete_many({"order": oid, "state": "pending"})
            return
        order = order_of_doc(doc)
        await self._settle_cart(order, str(doc["cart"]))
        await self._products.update_many(
            {"takes.order": oid}, {"$pull": {"takes": {"order": oid}}}
        )
        pending = await self._keys.find_one({"order": oid, "state": "pending"})
        if pending is not None:
            # The attempt died before recording its answer: answer from what it committed.
            cart = await self._cart_or_none(str(doc["cart"]))
            unfilled = [Unfilled(**item) for item in doc.get("unfilled", [])]
            outcome: Outcome = (
                placed(order, unfilled, cart)
                if cart is not None
                else refused(Refusal.MISSING_CART)
            )
            await self._keys.update_one(
                {"_id": pending["_id"], "state": "pending"},
                {"$set": {"state": "done", "outcome": outcome}},
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

    async def _cart_or_none(self, cid: str) -> Cart | None:
        try:
            return await self._cart_reader.get(cid)
        except MissingCart:
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
