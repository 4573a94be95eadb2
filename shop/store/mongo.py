"""The MongoDB store, over PyMongo's native async driver (`AsyncMongoClient`).

Documents are keyed by ObjectId; the API sees their 24-hex strings. A cart keeps its lines
in an array inside one document, and MongoDB makes every single-document write atomic, so
each cart change is one conditional update: what it checked is true when it writes.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    AutoReconnect,
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    ServerSelectionTimeoutError,
)

from shop.service.models import Cart, CartLine, Page, Product, ProductQuery, Role, User
from shop.store.base import (
    DuplicateKey,
    MissingCart,
    MissingProduct,
    NotEnoughStock,
    StoreError,
    StoreUnavailable,
)

type Doc = dict[str, Any]

_NO_DATABASE = "SHOP_DATABASE_URL: the MongoDB URL must name a database, e.g. mongodb://host/shop"
_UNAVAILABLE = (ServerSelectionTimeoutError, ConnectionFailure, AutoReconnect)
_PRODUCT_FIELDS = ("title", "description", "code", "price", "status", "stock", "category")
_SORT = {
    None: [("_id", ASCENDING)],
    "asc": [("price", ASCENDING), ("_id", ASCENDING)],
    "desc": [("price", DESCENDING), ("_id", DESCENDING)],
}
# add_to_cart retries only when another request pushed or removed the same line between
# its two updates; a few rounds settle any real contention.
_ADD_ATTEMPTS = 10


def _report_unavailable[C: type](cls: C) -> C:
    """Make every public coroutine of `cls` raise StoreUnavailable when MongoDB is gone,
    so a lost server is a 503 like on SQLite, not an unexplained failure."""

    def guard(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except _UNAVAILABLE as exc:
                raise StoreUnavailable(str(exc)) from exc

        return guarded

    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, guard(member))
    return cls


@_report_unavailable
class MongoStore:
    """The Store protocol over MongoDB; build it with `await MongoStore.open(url)`."""

    def __init__(self, client: AsyncMongoClient[Doc], db: AsyncDatabase[Doc]) -> None:
        self._client = client
        self._products: AsyncCollection[Doc] = db["products"]
        self._users: AsyncCollection[Doc] = db["users"]
        self._carts: AsyncCollection[Doc] = db["carts"]
        self._sessions: AsyncCollection[Doc] = db["sessions"]

    @classmethod
    async def open(cls, url: str, *, server_selection_timeout_ms: int = 5000) -> MongoStore:
        """Connect to the database the URL names, check it answers and create the indexes."""
        # journal=True: a write is acknowledged only once it is in the on-disk journal, so
        # a crash right after a 2xx answer loses nothing.
        client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            tz_aware=True,
            journal=True,
        )
        try:
            try:
                db = client.get_default_database()
            except ConfigurationError:
                raise ValueError(_NO_DATABASE) from None
            store = cls(client, db)
            try:
                await store.ping()
            except StoreUnavailable:
                hosts = ", ".join(
                    f"{host}:{port}"
                    for host, port in client.topology_description.server_descriptions()
                )
                seconds = server_selection_timeout_ms / 1000
                raise StoreUnavailable(
                    f"cannot reach MongoDB at {hosts or url} within {seconds:g} s"
                ) from None
            await store._create_indexes()
        except BaseException:
            await client.close()
            raise
        return store

    async def _create_indexes(self) -> None:
        # create_indexes is idempotent, so every start (or two at once) may run it.
        await asyncio.gather(
            self._users.create_indexes([IndexModel("email", unique=True)]),
            self._products.create_indexes(
                [
                    IndexModel("code", unique=True),
                    IndexModel(
                        [("category_key", ASCENDING), ("price", ASCENDING), ("_id", ASCENDING)]
                    ),
                    IndexModel([("status", ASCENDING), ("price", ASCENDING), ("_id", ASCENDING)]),
                    IndexModel([("price", ASCENDING), ("_id", ASCENDING)]),
                    # Filtered listings without a sort come back in _id order.
                    IndexModel([("category_key", ASCENDING), ("_id", ASCENDING)]),
                    IndexModel([("status", ASCENDING), ("_id", ASCENDING)]),
                ]
            ),
            # products.product: deleting a product finds the carts that hold it.
            self._carts.create_indexes([IndexModel("owner"), IndexModel("products.product")]),
            self._sessions.create_indexes(
                [
                    IndexModel("uid"),
                    # The server deletes a session once expires_at has passed.
                    IndexModel("expires_at", expireAfterSeconds=0),
                ]
            ),
        )

    async def ping(self) -> None:
        try:
            await self._client.admin.command("ping")
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        await self._client.close()

    # -- products ------------------------------------------------------------------
    async def insert_product(self, product: Product) -> None:
        try:
            await self._products.insert_one(_product_doc(product))
        except DuplicateKeyError:
            raise DuplicateKey("code") from None

    async def get_product(self, pid: str) -> Product | None:
        doc = await self._products.find_one({"_id": ObjectId(pid)})
        return _product(doc) if doc else None

    async def list_products(self, query: ProductQuery) -> Page[Product]:
        match: Doc = {}
        if query.category is not None:
            match["category_key"] = query.category.lower()
        if query.available is not None:
            match["status"] = query.available
        cursor = (
            self._products.find(match)
            .sort(_SORT[query.sort])
            .skip((query.page - 1) * query.limit)
            .limit(query.limit)
        )
        # The unfiltered total comes from collection metadata, not a scan of the catalogue.
        count = (
            self._products.count_documents(match)
            if match
            else self._products.estimated_document_count()
        )
        docs, total = await asyncio.gather(cursor.to_list(), count)
        return Page(
            items=[_product(doc) for doc in docs], total=total, page=query.page, limit=query.limit
        )

    async def update_product(self, pid: str, changes: Mapping[str, Any]) -> Product | None:
        fields: Doc = {name: changes[name] for name in _PRODUCT_FIELDS if name in changes}
        if "thumbnails" in changes:
            fields["thumbnails"] = list(changes["thumbnails"])
        if "category" in fields:
            fields["category_key"] = fields["category"].lower()
        if not fields:  # an empty $set is an error; nothing to change is a read
            return await self.get_product(pid)
        try:
            doc = await self._products.find_one_and_update(
                {"_id": ObjectId(pid)}, {"$set": fields}, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            raise DuplicateKey("code") from None
        return _product(doc) if doc else None

    async def delete_product(self, pid: str) -> bool:
        product_id = ObjectId(pid)
        if (await self._products.delete_one({"_id": product_id})).deleted_count == 0:
            return False
        # A line added while this ran is harmless: get_cart drops lines without a product.
        await self._carts.update_many(
            {"products.product": product_id}, {"$pull": {"products": {"product": product_id}}}
        )
        return True

    # -- users ---------------------------------------------------------------------
    async def insert_user(self, user: User) -> None:
        try:
            await self._users.insert_one(_user_doc(user))
        except DuplicateKeyError:
            raise DuplicateKey("email") from None

    async def get_user(self, uid: str) -> User | None:
        doc = await self._users.find_one({"_id": ObjectId(uid)})
        return _user(doc) if doc else None

    async def get_user_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return _user(doc) if doc else None

    async def list_users(self, limit: int, page: int) -> Page[User]:
        cursor = self._users.find().sort("_id", ASCENDING).skip((page - 1) * limit).limit(limit)
        docs, total = await asyncio.gather(
            cursor.to_list(), self._users.estimated_document_count()
        )
        return Page(items=[_user(doc) for doc in docs], total=total, page=page, limit=limit)

    async def delete_user(self, uid: str) -> bool:
        user_id = ObjectId(uid)
        deleted = (await self._users.delete_one({"_id": user_id})).deleted_count == 1
        # Even when the user is already gone, so a delete that stopped halfway completes.
        await asyncio.gather(
            self._carts.delete_many({"owner": user_id}),
            self._sessions.delete_many({"uid": user_id}),
        )
        return deleted

    async def set_password_hash(self, uid: str, password_hash: str) -> bool:
        return await self._set_user(uid, {"password_hash": password_hash})

    async def set_role(self, uid: str, role: Role) -> bool:
        return await self._set_user(uid, {"role": str(role)})

    async def set_user_cart(self, uid: str, cid: str) -> bool:
        return await self._set_user(uid, {"cart": ObjectId(cid)})

    async def _set_user(self, uid: str, fields: Doc) -> bool:
        result = await self._users.update_one({"_id": ObjectId(uid)}, {"$set": fields})
        return result.matched_count == 1

    # -- server-side sessions --------------------------------------------------------
    async def create_session(self, sid: str, uid: str, expires_at: float) -> None:
        # A session of a user deleted meanwhile is inert: get_session_user finds no user,
        # and the TTL index removes it when it expires.
        await self._sessions.insert_one(
            {"_id": sid, "uid": ObjectId(uid), "expires_at": _datetime(expires_at)}
        )

    async def get_session_user(self, sid: str, now: float) -> User | None:
        # The TTL monitor runs about once a minute, so expiry is checked here too.
        cursor = await self._sessions.aggregate(
            [
                {"$match": {"_id": sid, "expires_at": {"$gt": _datetime(now)}}},
                {
                    "$lookup": {
                        "from": "users",
                        "localField": "uid",
                        "foreignField": "_id",
                        "as": "user",
                    }
                },
            ]
        )
        docs = await cursor.to_list()
        if not docs or not docs[0]["user"]:
            return None
        return _user(docs[0]["user"][0])

    async def delete_session(self, sid: str) -> None:
        await self._sessions.delete_one({"_id": sid})

    async def delete_user_sessions(self, uid: str, keep: str | None = None) -> None:
        match: Doc = {"uid": ObjectId(uid)}
        if keep is not None:
            match["_id"] = {"$ne": keep}
        await self._sessions.delete_many(match)

    async def purge_sessions(self, now: float) -> int:
        result = await self._sessions.delete_many({"expires_at": {"$lte": _datetime(now)}})
        return result.deleted_count

    # -- carts -----------------------------------------------------------------------
    async def insert_cart(self, cid: str, owner: str | None) -> Cart:
        owner_id = ObjectId(owner) if owner is not None else None
        # The SQLite store refuses an unknown owner with a foreign key; so does this one.
        if (
            owner_id is not None
            and await self._users.find_one({"_id": owner_id}, {"_id": 1}) is None
        ):
            raise StoreError(f"cart owner {owner} does not exist")
        await self._carts.insert_one({"_id": ObjectId(cid), "owner": owner_id, "products": []})
        return Cart(id=cid, owner=owner)

    async def get_cart(self, cid: str) -> Cart | None:
        # One round trip: the cart and every product it names, joined by the server.
        cursor = await self._carts.aggregate(
            [
                {"$match": {"_id": ObjectId(cid)}},
                {
                    "$lookup": {
                        "from": "products",
                        "localField": "products.product",
                        "foreignField": "_id",
                        "as": "found",
                    }
                },
            ]
        )
        docs = await cursor.to_list()
        if not docs:
            return None
        doc = docs[0]
        # $lookup returns products in no particular order; the cart's array holds the order.
        found = {product["_id"]: _product(product) for product in doc["found"]}
        lines = tuple(
            CartLine(product=found[line["product"]], quantity=line["quantity"])
            for line in doc["products"]
            if line["product"] in found  # the product was deleted meanwhile
        )
        return Cart(id=cid, owner=_str(doc["owner"]), lines=lines)

    async def get_cart_owner(self, cid: str) -> tuple[bool, str | None]:
        doc = await self._carts.find_one({"_id": ObjectId(cid)}, {"owner": 1})
        return (True, _str(doc["owner"])) if doc else (False, None)

    async def add_to_cart(self, cid: str, pid: str, quantity: int) -> int:
        cart_id, product_id = ObjectId(cid), ObjectId(pid)
        for _ in range(_ADD_ATTEMPTS):
            stock = await self._stock(cart_id, product_id)
            if quantity > stock:
                await self._require_cart(cart_id)
                raise NotEnoughStock(pid)
            # Grow the line only while it stays within stock, in the same write.
            doc = await self._carts.find_one_and_update(
                {
                    "_id": cart_id,
                    "products": {
                        "$elemMatch": {
                            "product": product_id,
                            "quantity": {"$lte": stock - quantity},
                        }
                    },
                },
                {"$inc": {"products.$.quantity": quantity}},
                projection={"products": {"$elemMatch": {"product": product_id}}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return doc["products"][0]["quantity"]
            # No such line yet: append it, unless a concurrent call appended it first.
            pushed = await self._carts.update_one(
                {"_id": cart_id, "products.product": {"$ne": product_id}},
                {"$push": {"products": {"product": product_id, "quantity": quantity}}},
            )
            if pushed.matched_count == 1:
                return quantity
            line = await self._line(cart_id, product_id)
            if line is not None and line["quantity"] + quantity > stock:
                raise NotEnoughStock(pid)
            # The line appeared or shrank between the two writes: look again.
        raise StoreError(f"cart {cid} kept changing; try again")

    async def set_cart_quantity(self, cid: str, pid: str, quantity: int) -> bool:
        cart_id, product_id = ObjectId(cid), ObjectId(pid)
        stock = await self._stock(cart_id, product_id)
        if quantity <= stock:
            result = await self._carts.update_one(
                {"_id": cart_id, "products.product": product_id},
                {"$set": {"products.$.quantity": quantity}},
            )
            if result.matched_count == 1:
                return True
            await self._require_cart(cart_id)
            return False
        # A missing line is "not found" whatever the quantity asked, as in SQLite.
        if await self._line(cart_id, product_id) is None:
            return False
        raise NotEnoughStock(pid)

    async def remove_from_cart(self, cid: str, pid: str) -> bool:
        result = await self._carts.update_one(
            {"_id": ObjectId(cid)}, {"$pull": {"products": {"product": ObjectId(pid)}}}
        )
        if result.matched_count == 0:
            raise MissingCart(cid)
        return result.modified_count == 1

    async def replace_cart(self, cid: str, lines: Sequence[tuple[str, int]]) -> None:
        cart_id = ObjectId(cid)
        wanted = [(pid, ObjectId(pid), quantity) for pid, quantity in lines]
        stocks: dict[ObjectId, int] = {}
        if wanted:
            cursor = self._products.find(
                {"_id": {"$in": [product_id for _, product_id, _ in wanted]}}, {"stock": 1}
            )
            stocks = {doc["_id"]: doc["stock"] async for doc in cursor}
        for pid, product_id, quantity in wanted:
            if product_id not in stocks or quantity > stocks[product_id]:
                # Checked before any write, so a refusal changes nothing.
                await self._require_cart(cart_id)
                raise MissingProduct(pid) if product_id not in stocks else NotEnoughStock(pid)
        new_lines = [{"product": product_id, "quantity": q} for _, product_id, q in wanted]
        result = await self._carts.update_one({"_id": cart_id}, {"$set": {"products": new_lines}})
        if result.matched_count == 0:
            raise MissingCart(cid)

    async def clear_cart(self, cid: str) -> None:
        result = await self._carts.update_one({"_id": ObjectId(cid)}, {"$set": {"products": []}})
        if result.matched_count == 0:
            raise MissingCart(cid)

    # -- cart helpers ------------------------------------------------------------------
    async def _require_cart(self, cart_id: ObjectId) -> None:
        """Raise MissingCart when the cart does not exist (SQLite reports it first, too)."""
        if await self._carts.find_one({"_id": cart_id}, {"_id": 1}) is None:
            raise MissingCart(str(cart_id))

    async def _stock(self, cart_id: ObjectId, product_id: ObjectId) -> int:
        """The product's stock; MissingCart or MissingProduct when either is unknown."""
        doc = await self._products.find_one({"_id": product_id}, {"stock": 1})
        if doc is None:
            await self._require_cart(cart_id)
            raise MissingProduct(str(product_id))
        return doc["stock"]

    async def _line(self, cart_id: ObjectId, product_id: ObjectId) -> Doc | None:
        """The cart's line for the product, None if it has none; MissingCart if no cart."""
        doc = await self._carts.find_one(
            {"_id": cart_id}, {"products": {"$elemMatch": {"product": product_id}}}
        )
        if doc is None:
            raise MissingCart(str(cart_id))
        lines = doc.get("products", [])  # $elemMatch leaves the field out when none match
        return lines[0] if lines else None


# -- documents to records and back ----------------------------------------------------------
def _datetime(seconds: float) -> datetime:
    """A Unix time as the UTC datetime a TTL index needs."""
    return datetime.fromtimestamp(seconds, UTC)


def _str(value: ObjectId | None) -> str | None:
    return str(value) if value is not None else None


def _product_doc(product: Product) -> Doc:
    return {
        "_id": ObjectId(product.id),
        **{name: getattr(product, name) for name in _PRODUCT_FIELDS},
        "category_key": product.category.lower(),
        "thumbnails": list(product.thumbnails),
    }


def _product(doc: Doc) -> Product:
    return Product(
        id=str(doc["_id"]),
        title=doc["title"],
        description=doc["description"],
        code=doc["code"],
        price=float(doc["price"]),
        status=bool(doc["status"]),
        stock=int(doc["stock"]),
        category=doc["category"],
        thumbnails=tuple(doc["thumbnails"]),
    )


def _user_doc(user: User) -> Doc:
    return {
        "_id": ObjectId(user.id),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "age": user.age,
        "role": str(user.role),
        "cart": ObjectId(user.cart) if user.cart is not None else None,
        "password_hash": user.password_hash,
    }


def _user(doc: Doc) -> User:
    return User(
        id=str(doc["_id"]),
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        email=doc["email"],
        age=doc["age"],
        role=Role(doc["role"]),
        cart=_str(doc["cart"]),
        password_hash=doc["password_hash"],
    )
