"""The embedded default store: one SQLite file, an aggregate per module over one engine."""

from __future__ import annotations

from pathlib import Path

from shop.store.products import ProductStore
from shop.store.sqlite.carts import SQLiteCarts
from shop.store.sqlite.engine import Engine
from shop.store.sqlite.images import SQLiteImages
from shop.store.sqlite.products import SQLiteProducts
from shop.store.sqlite.sessions import SQLiteSessions
from shop.store.sqlite.throttle import SQLiteThrottle
from shop.store.sqlite.tokens import SQLiteTokens
from shop.store.sqlite.users import SQLiteUsers


class SQLiteStore:
    """The Store protocol over one SQLite file; build it with `await SQLiteStore.open(path)`."""

    def __init__(self, engine: Engine, media: Path) -> None:
        self.engine = engine
        self.products: ProductStore = SQLiteProducts(engine)
        self.users = SQLiteUsers(engine)
        self.sessions = SQLiteSessions(engine)
        self.carts = SQLiteCarts(engine)
        self.images = SQLiteImages(media)
        self.tokens = SQLiteTokens(engine)
        self.throttle = SQLiteThrottle(engine)

    @classmethod
    async def open(cls, path: str | Path, media: Path | None = None) -> SQLiteStore:
        """Open (creating the directory, file and schema when missing) the database at path;
        image files go in the `media` folder (default: `media` beside the database)."""
        return cls(await Engine.open(path), media or Path(path).parent / "media")

    async def ping(self) -> None:
        await self.engine.ping()

    async def close(self) -> None:
        await self.engine.close()
