"""Pick and open the adapter the database URL names, timed and with the catalogue cache."""

from __future__ import annotations

from shop.metrics import Metrics
from shop.settings import Settings
from shop.store.base import Store
from shop.store.cache import CatalogueCache
from shop.store.wrap import wrap_aggregates


async def open_store(settings: Settings, metrics: Metrics) -> Store:
    store: Store
    if settings.is_mongo:
        from shop.store.mongo import MongoStore

        store = await MongoStore.open(
            settings.database_url,
            store_timeout=settings.store_timeout,
            event_listeners=settings.mongo_listeners,
        )
    else:
        from shop.store.sqlite import SQLiteStore

        store = await SQLiteStore.open(
            settings.sqlite_path, settings.media_dir, min_free_mb=settings.min_free_mb
        )
    wrap_aggregates(store, metrics.timed)
    # Outermost, so a cached read costs no store call (and is not one in the metrics).
    # Other processes may write a MongoDB: there the cache relies on the bus, or expires.
    store.products = CatalogueCache(store.products, shared=settings.is_mongo)
    return store
