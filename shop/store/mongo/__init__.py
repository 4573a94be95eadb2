"""The MongoDB store, over PyMongo's native async driver (`AsyncMongoClient`).

Documents are keyed by ObjectId; the API sees their 24-hex strings. One module per
aggregate, each over the same database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import pymongo
from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError

from shop.settings import redact_url
from shop.store.base import NotWritable, StoreUnavailable
from shop.store.mongo.availability import PROBE_INTERVAL, Availability
from shop.store.mongo.carts import MongoCarts
from shop.store.mongo.docs import Doc, unavailable_reported
from shop.store.mongo.images import MongoImages
from shop.store.mongo.orders import MongoOrders
from shop.store.mongo.products import MongoProducts
from shop.store.mongo.sessions import MongoSessions
from shop.store.mongo.throttle import MongoThrottle
from shop.store.mongo.tokens import MongoTokens
from shop.store.mongo.users import MongoUsers
from shop.store.wrap import wrap_aggregates

log = logging.getLogger("shop.store.mongo")

_NO_DATABASE = "SHOP_DATABASE_URL: the MongoDB URL must name a database, e.g. mongodb://host/shop"
# Index builds and the price conversion at start may take longer than a request may.
PREPARE_TIMEOUT = 300.0
# Closing sends endSessions, which waits for a server: a gone one must not hold up a stop.
CLOSE_TIMEOUT = 1.0


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
        # Kept unwrapped as well: closing it must run even while the server is down.
        self._orders = self.orders = MongoOrders(db, self.carts)
        self.availability = Availability(self._probe)
        wrap_aggregates(self, self.availability.guard)

    @classmethod
    async def open(
        cls, url: str, *, store_timeout: float = 3.0, event_listeners: Sequence[Any] = ()
    ) -> MongoStore:
        """Connect to the database the URL names, check it answers and prepare it.

        No operation waits longer than `store_timeout` seconds (PyMongo's timeoutMS).
        `event_listeners` are PyMongo monitoring listeners (the tests count round trips).
        """
        ms = int(store_timeout * 1000)
        # journal=True: a write is acknowledged only once it is in the on-disk journal, so
        # a crash right after a 2xx answer loses nothing.
        client: AsyncMongoClient[Doc] = AsyncMongoClient(
            url,
            timeoutMS=ms,
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
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
                where = hosts or redact_url(url)
                raise StoreUnavailable(
                    f"cannot reach MongoDB at {where} within {store_timeout:g} s"
                ) from None
            with pymongo.timeout(PREPARE_TIMEOUT):
                await store._prepare()
        except BaseException:
            await store_close(client)
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

    async def _probe(self) -> None:
        with unavailable_reported(), pymongo.timeout(PROBE_INTERVAL):
            await self.client.admin.command("ping")

    async def ping(self) -> None:
        self.availability.check()
        with unavailable_reported():
            await self.client.admin.command("ping")

    async def writable(self) -> None:
        """A primary answers (the client sends `hello` to the primary, or finds none)."""
        self.availability.check()
        with unavailable_reported():
            hello = await self.client.admin.command("hello")
        if not hello.get("isWritablePrimary"):
            raise NotWritable("the server that answered is not a writable primary")

    async def close(self) -> None:
        try:
            await self._orders.close()
        finally:
            await self.availability.close()
            await store_close(self.client)


async def store_close(client: AsyncMongoClient[Doc]) -> None:
    """Close the client within CLOSE_TIMEOUT, whatever the server is doing."""
    try:
        # pymongo.timeout bounds endSessions' server selection and reply; the outer
        # timeout is the last resort should anything else wait.
        with pymongo.timeout(CLOSE_TIMEOUT):
            async with asyncio.timeout(CLOSE_TIMEOUT * 2):
                await client.close()
    except TimeoutError:
        log.warning("the MongoDB client did not close within %g s; left behind", CLOSE_TIMEOUT * 2)
