"""Settling MongoDB purchases and cancels that a process left halfway.

Run for every interrupted purchase at start-up, and for a single one when a purchase
fails, loses to a tombstone or holds a key too long. What a purchase leaves, and why each
step below happens once, is told in `shop.store.mongo.checkout`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shop.models.orders import Unfilled, placed
from shop.models.products import Product
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import Doc
from shop.store.mongo.ledger import Ledger
from shop.store.mongo.order_docs import ABORTED, order_of_doc

log = logging.getLogger("shop.store.mongo.recovery")

TOMBSTONE_LIFE = timedelta(days=1)  # far longer than any purchase takes


class Recovery:
    def __init__(
        self,
        ledger: Ledger,
        orders: AsyncCollection[Doc],
        products: AsyncCollection[Doc],
        carts: AsyncCollection[Doc],
        keys: AsyncCollection[Doc],
        cart_reader: MongoCarts,
    ) -> None:
        self._ledger = ledger
        self._orders = orders
        self._products = products
        self._carts = carts
        self._keys = keys
        self._cart_reader = cart_reader

    async def settle(self, oid: ObjectId) -> None:
        """Finish or undo the purchase of order `oid`, whatever point it reached."""
        doc = await self._decide(oid)
        held = await self._ledger.reservation(oid)
        if doc is None:  # it never happened: the stock and the lines go back
            await self._ledger.give_back(oid, await self._ledger.takes_of(oid))
            if held is not None:
                await self._ledger.restore(oid, *held)
            await self._keys.delete_many({"order": oid, "state": "pending"})
            return
        if held is not None:  # committed: what it did not buy goes back
            cid, lines = held
            bought = {line["product"] for line in doc["lines"]}
            await self._ledger.restore(oid, cid, [ln for ln in lines if ln[0] not in bought])
        await self._ledger.drop_takes(oid)
        pending = await self._keys.find_one({"order": oid, "state": "pending"})
        if pending is not None:
            # The attempt died before recording its answer: answer from what it committed.
            unfilled = [Unfilled(**item) for item in doc.get("unfilled", [])]
            cart = await self._cart_reader.get(str(doc["cart"]))
            outcome = placed(order_of_doc(doc), unfilled, cart)
            await self._keys.update_one(
                {"_id": pending["_id"], "state": "pending"},
                {"$set": {"state": "done", "outcome": outcome}},
            )

    async def _decide(self, oid: ObjectId) -> Doc | None:
        """The order's document if its purchase committed; None once it is known (or
        made) aborted: of the order and this tombstone, only the first inserted exists."""
        try:
            await self._orders.insert_one(
                {"_id": oid, "status": ABORTED, "expires_at": datetime.now(UTC) + TOMBSTONE_LIFE}
            )
        except DuplicateKeyError:
            doc = await self._orders.find_one({"_id": oid})
            if doc is not None and doc["status"] != ABORTED:
                return doc
        return None

    async def restock(self, doc: Doc) -> tuple[Product, ...]:
        """Return a cancelled order's stock, once, then clear the marks that guard it; the
        products after."""
        oid = doc["_id"]
        after = await self._ledger.restock(oid, doc["lines"])
        await self._orders.update_one({"_id": oid}, {"$unset": {"restock": ""}})
        await self._ledger.drop_returns(oid)
        return after

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
                if not await self._orders.count_documents({"_id": mark["order"], "restock": True}):
                    await self._ledger.drop_returns(mark["order"])
        if settled or restocked:
            log.info("recovered %d purchases and %d cancels", len(settled), restocked)
        return len(settled) + restocked
