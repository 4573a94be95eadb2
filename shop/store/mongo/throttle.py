"""Failed-attempt windows in MongoDB (shop.store.throttle), expired by a TTL index."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.store.mongo import docs
from shop.store.mongo.docs import Doc
from shop.store.throttle import Window


def _window(doc: Doc) -> Window:
    return Window(int(doc["count"]), doc["reset_at"].timestamp())


@docs.report_unavailable
class MongoThrottle:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._windows: AsyncCollection[Doc] = db["throttle"]

    async def prepare(self) -> None:
        # The server deletes a window once reset_at has passed.
        await self._windows.create_indexes([IndexModel("reset_at", expireAfterSeconds=0)])

    async def counts(self, keys: Sequence[str], now: float) -> list[Window]:
        cursor = self._windows.find(
            {"_id": {"$in": list(keys)}, "reset_at": {"$gt": docs.as_datetime(now)}}
        )
        found = {doc["_id"]: _window(doc) for doc in await cursor.to_list()}
        return [found.get(key, Window()) for key in keys]

    async def hit(self, keys: Sequence[str], now: float, window: float) -> list[Window]:
        at, reset_at = docs.as_datetime(now), docs.as_datetime(now + window)
        # One atomic update per key (an update pipeline): a new key, or a passed window,
        # starts again at one. A missing reset_at compares below any date.
        live = {"$gt": ["$reset_at", at]}
        update = [
            {
                "$set": {
                    "count": {"$cond": [live, {"$add": ["$count", 1]}, 1]},
                    "reset_at": {"$cond": [live, "$reset_at", reset_at]},
                }
            }
        ]
        found = await asyncio.gather(
            *(
                self._windows.find_one_and_update(
                    {"_id": key}, update, upsert=True, return_document=ReturnDocument.AFTER
                )
                for key in keys
            )
        )
        return [_window(doc) for doc in found]

    async def clear(self, key: str) -> None:
        await self._windows.delete_one({"_id": key})

    async def purge(self, now: float) -> int:
        result = await self._windows.delete_many({"reset_at": {"$lte": docs.as_datetime(now)}})
        return result.deleted_count
