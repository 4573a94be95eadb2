"""What the services need of a store's products."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from typing import Any, Protocol

from shop.models.listing import Page
from shop.models.products import CategoryCount, Product, ProductQuery, Upserted

# Told how many more products a bulk write has written (a progress bar).
type Progress = Callable[[int], None]


class ProductStore(Protocol):
    async def insert(self, product: Product) -> None:
        """Raise DuplicateKey("code") when the code is taken."""

    async def get(self, pid: str) -> Product | None: ...

    async def list(self, query: ProductQuery) -> Page[Product]:
        """Search, filter, sort (then by id) and page; `total` counts all matches."""

    async def categories(self, include_hidden: bool = False) -> list[CategoryCount]:
        """Every category with its product count (only `status` true products unless
        `include_hidden`), sorted by name."""

    async def update(
        self,
        pid: str,
        changes: Mapping[str, Any],
        *,
        if_thumbnails: Sequence[str] | None = None,
        if_version: int | None = None,
    ) -> Product | None:
        """Apply the given fields (Product's names) atomically; None if the id is unknown.

        Raise DuplicateKey("code") when the new code is taken, ThumbnailsChanged when
        `if_thumbnails` is given and the product's thumbnails are no longer exactly those,
        and VersionChanged when `if_version` is given and the product is at another
        version (each checked in the same atomic step: a compare-and-set).
        """

    async def delete(self, pid: str) -> bool:
        """Delete the product and every cart line that holds it; False if unknown."""

    async def upsert_by_code(
        self, products: Sequence[Product], progress: Progress | None = None
    ) -> Upserted:
        """Write each product by its code (codes unique in `products`): an unknown code is
        inserted under the product's id; a known one takes every field but its id; one
        already equal is left alone. Search words, title keys and listing totals follow.

        SQLite writes everything in one transaction (all or nothing); MongoDB writes
        batches of upserts by code, so running the same call again after an interruption
        completes it. `progress(n)` is called as each batch of n is written.
        """

    async def find_codes(self, codes: Collection[str]) -> dict[str, Product]:
        """The products that hold these codes, by code."""

    def batches(self, size: int) -> AsyncIterator[list[Product]]:
        """Every product in id order, `size` at a time; each batch is read on its own (a
        long export never holds the database)."""
