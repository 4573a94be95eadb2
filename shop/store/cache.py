"""A read-through cache of the catalogue: products and listing pages come from memory.

Every product change this process makes passes through here, and every product event of
any process (the hub's `on_product_event`: a purchase's stock change too, and over the
Redis bus the changes other processes make) drops what it changed, so reads of a busy
catalogue skip the database.

On SQLite this process is the only writer: entries live until they change. On MongoDB
(`shared`) other processes write too and only the bus tells of their changes, so entries
also expire: after TRUSTED_MAX_AGE while the bus is connected (a bound on a change whose
announcement was lost), after UNTRUSTED_MAX_AGE while there is no bus or it is down. An
expired entry is still served while the store is unavailable: a catalogue slightly out of
date beats an error page.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from typing import Any

from shop.models.listing import Page
from shop.models.products import CategoryCount, Product, ProductQuery, Upserted
from shop.store.base import StoreUnavailable
from shop.store.products import ProductStore, Progress

MAX_PRODUCTS = 10_000
MAX_PAGES = 1_000
TRUSTED_MAX_AGE = 30.0  # seconds
UNTRUSTED_MAX_AGE = 0.5  # so a change elsewhere shows here within a second, bus or not


class _Lru[K, V]:
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def keys(self) -> list[K]:
        return list(self._items)

    def drop(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class CatalogueCache:
    """Wraps a ProductStore: products and listing pages come from memory until they change."""

    def __init__(self, store: ProductStore, *, shared: bool = False) -> None:
        self._store = store
        self._shared = shared
        # None: entries never expire. Entries are (value, time stored).
        self._max_age: float | None = UNTRUSTED_MAX_AGE if shared else None
        self._products: _Lru[str, tuple[Product, float]] = _Lru(MAX_PRODUCTS)
        self._pages: _Lru[ProductQuery, tuple[Page[Product], float]] = _Lru(MAX_PAGES)
        self._categories: _Lru[bool, tuple[list[CategoryCount], float]] = _Lru(2)
        # Bumped by every product write: a read that started before a write must not
        # put its (possibly older) answer into the cache after the write dropped it.
        self._generation = 0

    def events_trusted(self, trusted: bool) -> None:
        """The bus is connected (every change will be announced) or lost (some may not be).

        Only a shared cache cares; when the bus comes back, what it holds is forgotten by
        the hub's resync.
        """
        if self._shared:
            self._max_age = TRUSTED_MAX_AGE if trusted else UNTRUSTED_MAX_AGE

    async def _through[K, V](
        self, cache: _Lru[K, tuple[V, float]], key: K, load: Callable[[], Awaitable[V]]
    ) -> V:
        """The cached value while fresh, else the loaded one, kept unless a write came
        meanwhile; an expired value when the store is unavailable (a catalogue slightly
        out of date beats an error)."""
        entry = cache.get(key)
        if entry is not None and (
            self._max_age is None or time.monotonic() - entry[1] <= self._max_age
        ):
            return entry[0]
        generation = self._generation
        stamp = time.monotonic() if self._max_age is not None else 0.0
        try:
            value = await load()
        except StoreUnavailable:
            if entry is None:
                raise
            return entry[0]
        if value is not None and generation == self._generation:
            cache.put(key, (value, stamp))
        return value

    def changed(self, pids: Iterable[str] = ()) -> None:
        """Forget the given products and every listing page: they changed elsewhere."""
        for pid in pids:
            self._products.drop(pid)
        self._generation += 1
        self._pages.clear()
        self._categories.clear()

    def forget(self, event: Mapping[str, Any]) -> None:
        """Drop what a product event (`product.created/updated/deleted`) says changed;
        everything when the event does not say which product (the hub's resync)."""
        product = event.get("product")
        pid = product.get("_id") if isinstance(product, Mapping) else None
        self.changed([pid] if isinstance(pid, str) else self._products.keys())

    async def get(self, pid: str) -> Product | None:
        return await self._through(self._products, pid, lambda: self._store.get(pid))

    async def list(self, query: ProductQuery) -> Page[Product]:
        return await self._through(self._pages, query, lambda: self._store.list(query))

    async def categories(self, include_hidden: bool = False) -> list[CategoryCount]:
        return await self._through(
            self._categories, include_hidden, lambda: self._store.categories(include_hidden)
        )

    async def insert(self, product: Product) -> None:
        try:
            await self._store.insert(product)
        finally:
            self.changed()

    async def update(
        self,
        pid: str,
        changes: Mapping[str, Any],
        *,
        if_thumbnails: Sequence[str] | None = None,
        if_version: int | None = None,
    ) -> Product | None:
        try:
            return await self._store.update(
                pid, changes, if_thumbnails=if_thumbnails, if_version=if_version
            )
        finally:
            self.changed([pid])

    async def delete(self, pid: str) -> bool:
        try:
            return await self._store.delete(pid)
        finally:
            self.changed([pid])

    async def upsert_by_code(
        self, products: Sequence[Product], progress: Progress | None = None
    ) -> Upserted:
        try:
            return await self._store.upsert_by_code(products, progress)
        finally:
            # Known codes keep their stored ids, not the ones given: forget every product.
            self.changed(self._products.keys())

    async def find_codes(self, codes: Collection[str]) -> dict[str, Product]:
        return await self._store.find_codes(codes)

    def batches(self, size: int) -> AsyncIterator[list[Product]]:
        return self._store.batches(size)
