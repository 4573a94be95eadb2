"""Dropping, in batches, the reservations and stock markers of completed purchases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from contextlib import suppress

import pymongo
from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

from shop.store.mongo.docs import Doc
from shop.store.mongo.ledger import together

log = logging.getLogger("shop.store.mongo.sweeper")

SWEEP_DELAY = 0.2  # seconds a completed purchase's markers wait to be dropped with others
CLOSE_TIMEOUT = 1.0  # seconds the last sweep may take when the store closes


class Sweeper:
    """Drops what completed purchases leave in carts and products, a batch at a time.

    Once the order exists they are harmless (recovery would only drop them too), so one
    pair of updates every SWEEP_DELAY serves every purchase of that moment instead of one
    more round trip each.
    """

    def __init__(self, carts: AsyncCollection[Doc], products: AsyncCollection[Doc]) -> None:
        self._carts = carts
        self._products = products
        self._orders: set[ObjectId] = set()
        self._cart_ids: set[ObjectId] = set()
        self._product_ids: set[ObjectId] = set()
        self._timer: asyncio.Task[None] | None = None
        self._waiting = False  # the timer is still in its delay, not yet sweeping

    def add(self, oid: ObjectId, cid: ObjectId, pids: Iterable[ObjectId]) -> None:
        """Order `oid` is committed: drop its reservation in `cid` and its markers soon."""
        self._orders.add(oid)
        self._cart_ids.add(cid)
        self._product_ids.update(pids)
        if self._timer is None or self._timer.done():
            self._waiting = True
            self._timer = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(SWEEP_DELAY)
        self._waiting = False  # from here on, the sweep runs to its end
        await self.flush()

    async def flush(self) -> None:
        orders, carts, products = self._orders, self._cart_ids, self._product_ids
        if not orders:
            return
        self._orders, self._cart_ids, self._product_ids = set(), set(), set()
        done = {"$in": list(orders)}
        try:
            await together(
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
        """Sweep what is left now (a sweep under way finishes first; one still waiting out
        its delay does not wait); a server that does not answer within a second is left to
        the recovery pass."""
        with pymongo.timeout(CLOSE_TIMEOUT):
            if self._timer is not None:
                if self._waiting:
                    self._timer.cancel()
                with suppress(asyncio.CancelledError):
                    await self._timer
            await self.flush()
