"""User accounts in MongoDB."""

from __future__ import annotations

import asyncio

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shop.models.listing import Page
from shop.models.users import Role, User
from shop.store.base import DuplicateKey
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc


@docs.report_unavailable
class MongoUsers:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._users: AsyncCollection[Doc] = db["users"]
        self._carts: AsyncCollection[Doc] = db["carts"]
        self._sessions: AsyncCollection[Doc] = db["sessions"]

    async def prepare(self) -> None:
        await self._users.create_indexes([IndexModel("email", unique=True)])

    async def insert(self, user: User) -> None:
        try:
            await self._users.insert_one(docs.user_doc(user))
        except DuplicateKeyError:
            raise DuplicateKey("email") from None

    async def get(self, uid: str) -> User | None:
        doc = await self._users.find_one({"_id": ObjectId(uid)})
        return docs.user(doc) if doc else None

    async def get_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return docs.user(doc) if doc else None

    async def list(self, limit: int, page: int) -> Page[User]:
        cursor = self._users.find().sort("_id", ASCENDING).skip((page - 1) * limit).limit(limit)
        found, total = await asyncio.gather(
            cursor.to_list(), self._users.estimated_document_count()
        )
        return Page(items=[docs.user(doc) for doc in found], total=total, page=page, limit=limit)

    async def delete(self, uid: str) -> bool:
        user_id = ObjectId(uid)
        deleted = (await self._users.delete_one({"_id": user_id})).deleted_count == 1
        # Even when the user is already gone, so a delete that stopped halfway completes.
        await asyncio.gather(
            self._carts.delete_many({"owner": user_id}),
            self._sessions.delete_many({"uid": user_id}),
        )
        return deleted

    async def set_password_hash(self, uid: str, password_hash: str) -> bool:
        return await self._set(uid, {"password_hash": password_hash})

    async def set_role(self, uid: str, role: Role) -> bool:
        return await self._set(uid, {"role": str(role)})

    async def set_cart(self, uid: str, cid: str) -> bool:
        return await self._set(uid, {"cart": ObjectId(cid)})

    async def _set(self, uid: str, fields: Doc) -> bool:
        result = await self._users.update_one({"_id": ObjectId(uid)}, {"$set": fields})
        return result.matched_count == 1
