"""User accounts in MongoDB, and the guard that keeps at least one admin.

Keeping an admin is a rule over two documents (the one changed and any other admin), and
MongoDB without multi-document transactions (a standalone server) has no update that is
conditional on another document. So a guard document counts the admins
(`counters: {_id: "admins", n}`), and every change that removes an admin first takes one
from the counter, with `find_one_and_update({n: {$gt: 1}}, {$inc: {n: -1}})`: one atomic
update that succeeds only while another admin remains. Two admins demoting each other at
once both try it; with n = 2 exactly one succeeds and the other is refused.

The order of the steps keeps `n <= the real number of admins` at every instant, so a
successful take always leaves an admin: a removal takes from n *before* it changes the
user (and gives it back if the user turned out not to change), an addition changes the
user *before* it adds to n. A process that dies between two steps leaves n too low, never
too high: later removals may then be refused (until the guard document is deleted and the
next start counts the admins again), but the last admin is never removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Sequence

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shop.models.listing import Page
from shop.models.search import user_words
from shop.models.users import Role, User
from shop.store.base import DuplicateKey, LastAdmin
from shop.store.mongo import docs
from shop.store.mongo.docs import Doc

ADMINS: Doc = {"_id": "admins"}
ADMIN_ROLE = str(Role.ADMIN)


@docs.report_unavailable
class MongoUsers:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._users: AsyncCollection[Doc] = db["users"]
        self._carts: AsyncCollection[Doc] = db["carts"]
        self._sessions: AsyncCollection[Doc] = db["sessions"]
        self._tokens: AsyncCollection[Doc] = db["tokens"]
        self._counters: AsyncCollection[Doc] = db["counters"]

    async def prepare(self) -> None:
        await index_user_words(self._users)
        # "search" is multikey: each query word is an anchored prefix regex on it.
        await self._users.create_indexes(
            [IndexModel("email", unique=True), IndexModel("role"), IndexModel("search")]
        )
        # The first start counts the admins; later starts never overwrite a live count.
        admins = await self._users.count_documents({"role": ADMIN_ROLE})
        # DuplicateKeyError: another process starting at the same moment created it.
        with contextlib.suppress(DuplicateKeyError):
            await self._counters.update_one(ADMINS, {"$setOnInsert": {"n": admins}}, upsert=True)

    async def insert(self, user: User) -> None:
        try:
            await self._users.insert_one(docs.user_doc(user))
        except DuplicateKeyError:
            raise DuplicateKey("email") from None
        if user.role is Role.ADMIN:
            await self._count_admin(+1)

    async def get(self, uid: str) -> User | None:
        doc = await self._users.find_one({"_id": ObjectId(uid)})
        return docs.user(doc) if doc else None

    async def get_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return docs.user(doc) if doc else None

    async def list(self, limit: int, page: int) -> Page[User]:
        return await self.search((), limit, page)

    async def search(self, words: Sequence[str], limit: int, page: int) -> Page[User]:
        # Words are normalised to letters and digits; escaped all the same.
        match: Doc = {"$and": [{"search": {"$regex": f"^{re.escape(w)}"}} for w in words]}
        match = match if words else {}
        cursor = self._users.find(match).sort("_id", ASCENDING)
        cursor = cursor.skip((page - 1) * limit).limit(limit)
        # Every account: the total from collection metadata, not a count of documents.
        count = (
            self._users.count_documents(match) if match else self._users.estimated_document_count()
        )
        found, total = await asyncio.gather(cursor.to_list(), count)
        return Page(items=[docs.user(doc) for doc in found], total=total, page=page, limit=limit)

    async def delete(self, uid: str) -> bool:
        user_id = ObjectId(uid)
        deleted = await self._delete(user_id)
        # Even when the user is already gone, so a delete that stopped halfway completes.
        await asyncio.gather(
            self._carts.delete_many({"owner": user_id}),
            self._sessions.delete_many({"uid": user_id}),
            self._tokens.delete_many({"uid": user_id}),
        )
        return deleted

    async def _delete(self, user_id: ObjectId) -> bool:
        # A plain user goes at once; an admin only with an admin taken from the guard. A
        # role changed in between is met on the second pass.
        for _ in range(2):
            plain = await self._users.delete_one({"_id": user_id, "role": {"$ne": ADMIN_ROLE}})
            if plain.deleted_count:
                return True
            if not await self._is_admin(user_id):
                return False
            await self._take_admin()
            admin = await self._users.delete_one({"_id": user_id, "role": ADMIN_ROLE})
            if admin.deleted_count:
                return True
            await self._count_admin(+1)  # demoted meanwhile: give it back
        return False

    async def set_password_hash(self, uid: str, password_hash: str) -> bool:
        return await self._set(uid, {"password_hash": password_hash})

    async def set_role(self, uid: str, role: Role) -> bool:
        user_id = ObjectId(uid)
        if role is Role.ADMIN:
            promoted = await self._users.update_one(
                {"_id": user_id, "role": {"$ne": ADMIN_ROLE}}, {"$set": {"role": ADMIN_ROLE}}
            )
            if promoted.modified_count:
                await self._count_admin(+1)
                return True
        elif await self._is_admin(user_id):
            await self._take_admin()
            demoted = await self._users.update_one(
                {"_id": user_id, "role": ADMIN_ROLE}, {"$set": {"role": str(role)}}
            )
            if demoted.modified_count:
                return True
            await self._count_admin(+1)  # changed meanwhile: give it back
        # Nothing to change: the user already has the role (or is gone).
        return await self._users.find_one({"_id": user_id}, {"_id": 1}) is not None

    async def _is_admin(self, user_id: ObjectId) -> bool:
        return await self._users.find_one({"_id": user_id, "role": ADMIN_ROLE}) is not None

    async def _take_admin(self) -> None:
        """Take one admin from the guard, or raise LastAdmin when it holds the last one."""
        taken = await self._counters.find_one_and_update(
            {**ADMINS, "n": {"$gt": 1}}, {"$inc": {"n": -1}}
        )
        if taken is None:
            raise LastAdmin("admins")

    async def _count_admin(self, step: int) -> None:
        await self._counters.update_one(ADMINS, {"$inc": {"n": step}}, upsert=True)

    async def set_cart(self, uid: str, cid: str) -> bool:
        return await self._set(uid, {"cart": ObjectId(cid)})

    async def _set(self, uid: str, fields: Doc) -> bool:
        result = await self._users.update_one({"_id": ObjectId(uid)}, {"$set": fields})
        return result.matched_count == 1


async def index_user_words(users: AsyncCollection[Doc]) -> None:
    """Give accounts written before the back office's search their search words."""
    fields = ("first_name", "last_name", "email")

    async def updates() -> AsyncIterator[UpdateOne]:
        async for doc in users.find({"search": {"$exists": False}}, dict.fromkeys(fields, 1)):
            text = {name: doc[name] for name in fields}
            words = user_words(*text.values())
            yield UpdateOne({"_id": doc["_id"], **text}, {"$set": {"search": words}})

    await docs.in_batches(users, updates())
