"""The embedded default store: one SQLite file, an aggregate per module over one engine."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from shop.store.base import NotWritable, StoreUnavailable
from shop.store.products import ProductStore
from shop.store.sqlite.carts import SQLiteCarts
from shop.store.sqlite.engine import Engine
from shop.store.sqlite.images import SQLiteImages
from shop.store.sqlite.orders import SQLiteOrders
from shop.store.sqlite.products import SQLiteProducts
from shop.store.sqlite.sessions import SQLiteSessions
from shop.store.sqlite.throttle import SQLiteThrottle
from shop.store.sqlite.tokens import SQLiteTokens
from shop.store.sqlite.users import SQLiteUsers


class SQLiteStore:
    """The Store protocol over one SQLite file; build it with `await SQLiteStore.open(path)`."""

    def __init__(self, engine: Engine, path: Path, media: Path, min_free_mb: int = 0) -> None:
        self.engine = engine
        self.path = path
        self.min_free_mb = min_free_mb
        self.products: ProductStore = SQLiteProducts(engine)
        self.users = SQLiteUsers(engine)
        self.sessions = SQLiteSessions(engine)
        self.carts = SQLiteCarts(engine)
        self.images = SQLiteImages(media)
        self.tokens = SQLiteTokens(engine)
        self.throttle = SQLiteThrottle(engine)
        self.orders = SQLiteOrders(engine)

    @classmethod
    async def open(
        cls, path: str | Path, media: Path | None = None, *, min_free_mb: int = 0
    ) -> SQLiteStore:
        """Open (creating the directory, file and schema when missing) the database at path;
        image files go in the `media` folder (default: `media` beside the database).

        `writable()` reports the store unwritable below `min_free_mb` MiB of free disk.
        """
        path = Path(path)
        return cls(await Engine.open(path), path, media or path.parent / "media", min_free_mb)

    async def ping(self) -> None:
        await self.engine.ping()

    async def writable(self) -> None:
        """The disk has room and the write lock can be had (taken and released at once):
        while another process holds it, NotWritable once the engine gave up waiting."""
        usage = await asyncio.to_thread(shutil.disk_usage, self.path.parent)
        free_mb = usage.free // 2**20
        if free_mb < self.min_free_mb:
            raise NotWritable(
                f"{free_mb} MiB free on the disk of {self.path.name}, below {self.min_free_mb}"
            )
        try:
            await self.engine.write(lambda db: None)
        except StoreUnavailable as exc:
            code = getattr(exc.__cause__, "sqlite_errorcode", None)
            if code is not None and code & 0xFF == sqlite3.SQLITE_BUSY:
                raise NotWritable("another process holds the database's write lock") from exc
            raise

    async def close(self) -> None:
        await self.engine.close()
