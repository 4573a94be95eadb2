"""Documents to records and back, and the guard that reports a lost server."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from shop.models.products import Product
from shop.models.search import product_words, sort_key, user_words
from shop.models.users import Role, User
from shop.store.base import StoreUnavailable

type Doc = dict[str, Any]

UNAVAILABLE = (ServerSelectionTimeoutError, ConnectionFailure, AutoReconnect)
# In every update of a product or a cart: its version counts the writes, in write order.
BUMP = {"version": 1}
PRODUCT_FIELDS = ("title", "description", "code", "price_cents", "status", "stock", "category")


@contextmanager
def unavailable_reported() -> Iterator[None]:
    """Turn a lost server, or an answer not given in time, into StoreUnavailable."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailable(str(exc)) from exc
    except PyMongoError as exc:
        if exc.timeout:
            raise StoreUnavailable(f"no answer in time: {exc}") from exc
        raise


def report_unavailable[C: type](cls: C) -> C:
    """Make every public coroutine of `cls` raise StoreUnavailable when MongoDB is gone or
    does not answer in time (SHOP_STORE_TIMEOUT), so it is a 503 like on SQLite, not an
    unexplained failure."""

    def guard(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            with unavailable_reported():
                return await method(*args, **kwargs)

        return guarded

    for name, member in list(vars(cls).items()):
        if not name.startswith("_") and inspect.iscoroutinefunction(member):
            setattr(cls, name, guard(member))
    return cls


async def one_with_user(collection: AsyncCollection[Doc], match: Doc) -> tuple[Doc, User] | None:
    """The document `match` finds and the user its `uid` names, in one round trip; None
    when either is missing."""
    cursor = await collection.aggregate(
        [
            {"$match": match},
            {"$limit": 1},
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
    found = await cursor.to_list()
    if not found or not found[0]["user"]:
        return None
    return found[0], user(found[0]["user"][0])


def as_datetime(seconds: float) -> datetime:
    """A Unix time as the UTC datetime a TTL index needs."""
    return datetime.fromtimestamp(seconds, UTC)


def str_id(value: ObjectId | None) -> str | None:
    return str(value) if value is not None else None


def product_doc(product: Product) -> Doc:
    return {
        "_id": ObjectId(product.id),
        **{name: getattr(product, name) for name in PRODUCT_FIELDS},
        "category_key": product.category.lower(),
        "thumbnails": list(product.thumbnails),
        **search_fields(product.title, product.description, product.code),
        "version": product.version,
    }


def search_fields(title: str, description: str, code: str) -> Doc:
    """What a product document keeps for search and sorting (shop.models.search)."""
    return {"search": product_words(title, description, code), "title_key": sort_key(title)}


def product(doc: Doc) -> Product:
    return Product(
        id=str(doc["_id"]),
        title=doc["title"],
        description=doc["description"],
        code=doc["code"],
        price_cents=int(doc["price_cents"]),
        status=bool(doc["status"]),
        stock=int(doc["stock"]),
        category=doc["category"],
        thumbnails=tuple(doc["thumbnails"]),
        # Documents written before versions start at 0; their first update makes it 1.
        version=doc.get("version", 0),
    )


def user_doc(user: User) -> Doc:
    return {
        "_id": ObjectId(user.id),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "age": user.age,
        "role": str(user.role),
        "cart": ObjectId(user.cart) if user.cart is not None else None,
        "password_hash": user.password_hash,
        "search": user_words(user.first_name, user.last_name, user.email),
    }


def user(doc: Doc) -> User:
    return User(
        id=str(doc["_id"]),
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        email=doc["email"],
        age=doc["age"],
        role=Role(doc["role"]),
        cart=str_id(doc["cart"]),
        password_hash=doc["password_hash"],
    )


async def in_batches(
    collection: AsyncCollection[Doc], updates: AsyncIterator[UpdateOne], batch: int = 1000
) -> None:
    """Apply start-up conversions in unordered batches.

    Each update is conditional on the fields it was computed from, so two processes
    starting at once (or a start interrupted halfway) change each document once.
    """
    pending: list[UpdateOne] = []
    async for update in updates:
        pending.append(update)
        if len(pending) >= batch:
            await collection.bulk_write(pending, ordered=False)
            pending = []
    if pending:
        await collection.bulk_write(pending, ordered=False)
