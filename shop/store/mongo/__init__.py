"""The MongoDB store, over PyMongo's native async driver (`AsyncMongoClient`).

Documents are keyed by ObjectId; the API sees their 24-hex strings. One module per
aggregate, each over the same database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError

from shop.settings import redact_url
from shop.store.base import StoreUnavailable
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import UNAVAILABLE, Doc
from shop.store.mongo.images import MongoImages
from shop.store.mongo.orders import MongoOrders
from shop.store.mongo.products import MongoProducts
from shop.store.mongo.sessions import MongoSessions
from shop.store.mongo.throttle import MongoThrottle
from shop.store.mongo.tokens import MongoTokens
from shop.store.mongo.users import MongoUsers

_NO_DATABASE = "SHOP_DATABASE_URL: the MongoDB URL must name a database, e.g. mongodb://host/shop"


class MongoStore:
    """The Store protocol over MongoDB; build it with `await MongoStore.open(url)`."""

    def __init__(self, client: AsyncMongoClient[Doc]) -> None:
        self.client = client
        db = client.get_default_database()
        self.products = MongoProducts(db)
        self.users = MongoUsers(db)
        self.sessions = MongoSessions(db)
        self.carts = MongoCarts(db)
        self.images = MongoImages(db)
        self.tokens = MongoTokens(db)
        self.throttle = MongoThrottle(db)
        self.orders = MongoOrders(db, self.carts)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        server_selection_timeout_ms: int = 5000,
        event_listeners: Sequence[Any] = (),
    ) -> MongoStore:
        """Connect to the database the URL names, check it answers and prepare it.

        `event_listeners` are PyMongo monitoring listeners (the tests count round trips).
        """
        # journal=True: a write is acknowledged only once it is in the on-disk journal, so
        # a crash right after a 2xx answer loses nothing.
        client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            tz_aware=True,
            journal=True,
            event_listeners=list(event_listeners),
        )
        try:
            try:
                store = cls(client)
            except ConfigurationError:
                raise ValueError(_NO_DATABASE) from None
            try:
                await store.ping()
            except StoreUnavailable:
                hosts = ", ".join(
                    f"{host}:{port}"
                    for host, port in client.topology_description.server_descriptions()
                )
                seconds = server_selection_timeout_ms / 1000
                where = hosts or redact_url(url)
                raise StoreUnavailable(
                    f"cannot reach MongoDB at {where} within {seconds:g} s"
                ) from None
            await store._prepare()
        except BaseException:
            await client.close()
            raise
        return store

    async def _prepare(self) -> None:
        # Idempotent: every start (or two at once) may run it.
        aggregates = (
            self.products,
            self.users,
            self.sessions,
            self.carts,
            self.images,
            self.tokens,
            self.throttle,
        )
        await asyncio.gather(*(aggregate.prepare() for aggregate in aggregates))
        # After the others: its recovery pass reads products whose prices are converted.
        await self.orders.prepare()

    async def ping(self) -> None:
        try:
            await self.client.admin.command("ping")
        except UNAVAILABLE as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def close(self) -> None:
        try:
            await self.orders.close()
        finally:
            await self.client.close()
