"""Server-side session records in MongoDB, expired by a TTL index."""

from __future__ import annotations

from collections.abc import Collection

from bson import ObjectId
from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.models.users import User
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc


@docs.report_unavailable
class MongoSessions:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._sessions: AsyncCollection[Doc] = db["sessions"]

    async def prepare(self) -> None:
        await self._sessions.create_indexes(
            [
                IndexModel("uid"),
                # The server deletes a session once expires_at has passed.
                IndexModel("expires_at", expireAfterSeconds=0),
            ]
        )

    async def create(self, sid: str, uid: str, expires_at: float) -> None:
        # A session of a user deleted meanwhile is inert: get_user finds no user, and the
        # TTL index removes it when it expires.
        await self._sessions.insert_one(
            {"_id": sid, "uid": ObjectId(uid), "expires_at": docs.as_datetime(expires_at)}
        )

    async def get_user(self, sid: str, now: float) -> User | None:
        # The TTL monitor runs about once a minute, so expiry is checked here too.
        match = {"_id": sid, "expires_at": {"$gt": docs.as_datetime(now)}}
        found = await docs.one_with_user(self._sessions, match)
        return found[1] if found else None

    async def delete(self, sid: str) -> None:
        await self._sessions.delete_one({"_id": sid})

    async def delete_for_user(self, uid: str, keep: str | None = None) -> None:
        match: Doc = {"uid": ObjectId(uid)}
        if keep is not None:
            match["_id"] = {"$ne": keep}
        await self._sessions.delete_many(match)

    async def alive(self, sids: Collection[str], now: float) -> set[str]:
        cursor = self._sessions.find(
            {"_id": {"$in": list(sids)}, "expires_at": {"$gt": docs.as_datetime(now)}},
            {"_id": 1},
        )
        return {doc["_id"] async for doc in cursor}

    async def purge(self, now: float) -> int:
        result = await self._sessions.delete_many({"expires_at": {"$lte": docs.as_datetime(now)}})
        return result.deleted_count
