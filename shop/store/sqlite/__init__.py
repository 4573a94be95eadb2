"""The embedded default store: one SQLite file, an aggregate per module over one engine."""

from __future__ import annotations

from pathlib import Path

from shop.store.products import ProductStore
from shop.store.sqlite.carts import SQLiteCarts
from shop.store.sqlite.engine import Engine
from shop.store.sqlite.products import SQLiteProducts
from shop.store.sqlite.sessions import SQLiteSessions
from shop.store.sqlite.throttle import SQLiteThrottle
from shop.store.sqlite.tokens import SQLiteTokens
from shop.store.sqlite.users import SQLiteUsers


class SQLiteStore:
    """The Store protocol over one SQLite file; build it with `await SQLiteStore.open(path)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.products: ProductStore = SQLiteProducts(engine)
        self.users = SQLiteUsers(engine)
        self.sessions = SQLiteSessions(engine)
        self.carts = SQLiteCarts(engine)
        self.tokens = SQLiteTokens(engine)
        self.throttle = SQLiteThrottle(engine)

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        """Open (creating the directory, file and schema when missing) the database at path."""
        return cls(await Engine.open(path))

    async def ping(self) -> None:
        await self.engine.ping()

    async def close(self) -> None:
        await self.engine.close()
