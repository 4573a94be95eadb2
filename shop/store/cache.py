"""A read-through cache of the catalogue, for a store this process alone writes.

The embedded SQLite store has one writer: this process. Every product change passes
through here (or calls `changed` when it changes stock from elsewhere, as a purchase
does), so cached products and listing pages are dropped exactly when they change and
reads of a busy catalogue skip the database. MongoDB is not wrapped: other shop processes
may write it.
"""

from __future__ import annotations

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
from shop.store.products import ProductStore, Progress

MAX_PRODUCTS = 10_000
MAX_PAGES = 1_000


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

    def __init__(self, store: ProductStore) -> None:
        self._store = store
        self._products: _Lru[str, Product] = _Lru(MAX_PRODUCTS)
        self._pages: _Lru[ProductQuery, Page[Product]] = _Lru(MAX_PAGES)
        self._categories: _Lru[bool, list[CategoryCount]] = _Lru(2)
        # Bumped by every product write: a read that started before a write must not
        # put its (possibly older) answer into the cache after the write dropped it.
        self._generation = 0

    def changed(self, pids: Iterable[str] = ()) -> None:
        """Forget the given products and every listing page: they changed elsewhere."""
        for pid in pids:
            self._products.drop(pid)
        self._generation += 1
        self._pages.clear()
        self._categories.clear()

    def forget(self, event: Mapping[str, Any]) -> None:
        """Drop what a product event (`product.created/updated/deleted`) says changed;
        everything when the event does not say which product."""
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

    async def _through[K, V](
        self, cache: _Lru[K, V], key: K, load: Callable[[], Awaitable[V]]
    ) -> V:
        """The cached value, else the loaded one, kept unless a write came meanwhile."""
        value = cache.get(key)
        if value is not None:
            return value
        generation = self._generation
        value = await load()
        if value is not None and generation == self._generation:
            cache.put(key, value)
        return value

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
    ) -> Product | None:
        try:
            return await self._store.update(pid, changes, if_thumbnails=if_thumbnails)
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
