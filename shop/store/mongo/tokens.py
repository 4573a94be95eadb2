"""Personal API tokens in MongoDB."""

from __future__ import annotations

from collections.abc import Mapping

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shop.models.tokens import ApiToken
from shop.models.users import User
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc


def _token(doc: Doc) -> ApiToken:
    last_used = doc.get("last_used")
    return ApiToken(
        id=str(doc["_id"]),
        uid=str(doc["uid"]),
        name=doc["name"],
        created=doc["created"].timestamp(),
        last_used=last_used.timestamp() if last_used is not None else None,
    )


@docs.report_unavailable
class MongoTokens:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._tokens: AsyncCollection[Doc] = db["tokens"]

    async def prepare(self) -> None:
        await self._tokens.create_indexes(
            [IndexModel("hash", unique=True), IndexModel([("uid", ASCENDING), ("_id", ASCENDING)])]
        )

    async def create(self, token: ApiToken, token_hash: str) -> bool:
        # A token of a user deleted meanwhile is inert: get_user finds no user behind it.
        await self._tokens.insert_one(
            {
                "_id": ObjectId(token.id),
                "uid": ObjectId(token.uid),
                "name": token.name,
                "hash": token_hash,
                "created": docs.as_datetime(token.created),
                "last_used": None,
            }
        )
        return True

    async def get_user(self, token_hash: str) -> tuple[User, str] | None:
        found = await docs.one_with_user(self._tokens, {"hash": token_hash})
        return (found[1], str(found[0]["_id"])) if found else None

    async def list(self, uid: str) -> list[ApiToken]:
        cursor = self._tokens.find({"uid": ObjectId(uid)}).sort("_id", ASCENDING)
        return [_token(doc) for doc in await cursor.to_list()]

    async def delete(self, uid: str, tid: str) -> bool:
        result = await self._tokens.delete_one({"_id": ObjectId(tid), "uid": ObjectId(uid)})
        return result.deleted_count == 1

    async def delete_for_user(self, uid: str) -> None:
        await self._tokens.delete_many({"uid": ObjectId(uid)})

    async def touch(self, used: Mapping[str, float]) -> None:
        if not used:
            return
        await self._tokens.bulk_write(
            [
                UpdateOne({"_id": ObjectId(tid)}, {"$max": {"last_used": docs.as_datetime(when)}})
                for tid, when in used.items()
            ],
            ordered=False,
        )
