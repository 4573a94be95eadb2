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
reservation. The reservation (when every line was bought) and the markers are dropped
later, in batches shared by every purchase of the moment (`shop.store.mongo.sweeper`).

A crash leaves markers and reservations whose order either exists (committed: the unbought
lines go back to the cart, markers and reservation go) or does not (the stock comes back,
the lines go back to the cart). Each of those writes is conditional on the marker or the
reservation it removes, so it happens once. Whether an order committed is decided once:
recovery inserts an "aborted" tombstone under the order's id, and of the order and the
tombstone only the first inserted exists; a purchase that finds the tombstone undoes
itself and answers 503 (`shop.store.mongo.recovery`).

Cancelling is recoverable the same way: the status change sets `restock`, each product's
stock comes back with a `returns` marker in the same write, then `restock` and the markers
go; recovery redoes what an interrupted cancel left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from shop.models.carts import Cart, CartLine
from shop.models.orders import (
    Order,
    PurchaseRequest,
    PurchaseResult,
    Refusal,
    Unfilled,
    new_order_code,
    order_of,
    placed,
    refused,
)
from shop.store.base import KeyReused, StoreError, StoreUnavailable
from shop.store.mongo.docs import Doc
from shop.store.mongo.ledger import Ledger, held, together
from shop.store.mongo.order_docs import order_doc
from shop.store.mongo.recovery import Recovery
from shop.store.mongo.sweeper import Sweeper

log = logging.getLogger("shop.store.mongo.checkout")

KEY_LEASE = timedelta(seconds=30)  # a key pending longer belongs to a purchase that died
_CODE_ATTEMPTS = 5
_FIRST_WAIT = 0.005  # seconds; a duplicate's polling backs off from here...
_LONGEST_WAIT = 0.2  # ...to here


class Checkout:
    """One purchase, with or without an Idempotency-Key."""

    def __init__(
        self,
        ledger: Ledger,
        recovery: Recovery,
        sweeper: Sweeper,
        orders: AsyncCollection[Doc],
        keys: AsyncCollection[Doc],
    ) -> None:
        self._ledger = ledger
        self._recovery = recovery
        self._sweeper = sweeper
        self._orders = orders
        self._keys = keys

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
                await self._recovery.settle(record["order"])
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT)

    async def _guarded(self, request: PurchaseRequest) -> PurchaseResult:
        """Buy; when it fails halfway, undo what it did before passing the error on."""
        try:
            return await self._buy(request)
        except BaseException:
            try:
                await asyncio.shield(self._recovery.settle(ObjectId(request.order_id)))
            except Exception:
                # The server is gone too: the start-up recovery pass will settle it.
                log.warning("purchase %s interrupted; recovery will settle it", request.order_id)
            raise

    async def _buy(self, request: PurchaseRequest) -> PurchaseResult:
        oid, cid = ObjectId(request.order_id), ObjectId(request.cid)
        ledger = self._ledger
        reserved = await ledger.reserve(oid, cid, request.buyer)
        if reserved is None:
            return PurchaseResult(refused(await ledger.why_not(cid, request.buyer)))
        lines, version = reserved
        after = await together(*(ledger.take(oid, pid, quantity) for pid, quantity in lines))
        taken = [CartLine(p, quantity) for (_, quantity), p in zip(lines, after, strict=True) if p]
        left = await ledger.still_there(
            [line for line, product in zip(lines, after, strict=True) if product is None]
        )
        unfilled = [Unfilled.of(line) for line in left]
        if not taken:
            await ledger.restore(oid, cid, held(left))
            reason = Refusal.NOTHING_FILLED if left else Refusal.EMPTY
            return PurchaseResult(refused(reason, unfilled))
        total = sum(line.subtotal_cents for line in taken)
        if request.expected_total is not None and total != request.expected_total:
            await ledger.give_back(oid, held(taken))
            kept = {line.product.id for line in [*taken, *left]}
            await ledger.restore(oid, cid, [line for line in lines if str(line[0]) in kept])
            return PurchaseResult(refused(Refusal.TOTAL_CHANGED, unfilled, total))
        order = await self._commit(request, taken, unfilled)
        # The reservation (if nothing went back to the cart) and the markers are dropped
        # with the next batch: the order exists, so nothing depends on them any more.
        self._sweeper.add(oid, cid, (ObjectId(line.product.id) for line in taken))
        cart = Cart(id=request.cid, owner=request.buyer, version=version)
        if left:
            known = {line.product.id: line.product for line in left}
            cart = await ledger.restore(oid, cid, held(left), known) or cart
        return PurchaseResult(
            placed(order, unfilled, cart), changed=tuple(line.product for line in taken)
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
                await self._recovery.settle(ObjectId(order.id))
                raise StoreUnavailable(
                    "the purchase was interrupted; nothing was bought, try again"
                ) from None
            return order
        raise StoreError("could not find a free order code")
