"""Pick and open the adapter the database URL names."""

from __future__ import annotations

from shop.settings import Settings
from shop.store.base import Store


async def open_store(settings: Settings) -> Store:
    if settings.is_mongo:
        from shop.store.mongo import MongoStore

        return await MongoStore.open(
            settings.database_url, event_listeners=settings.mongo_listeners
        )
    from shop.store.cache import CatalogueCache
    from shop.store.sqlite import SQLiteStore

    store = await SQLiteStore.open(settings.sqlite_path, settings.media_dir)
    # One process writes an embedded database, so it may cache what it wrote.
    store.products = CatalogueCache(store.products)
    return store
