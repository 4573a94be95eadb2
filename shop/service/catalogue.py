"""Catalogue files: the whole catalogue out as CSV, and a CSV file in, all of it or none.

An import checks every row before it writes anything (the product input model, repeated
codes): any problem and nothing is written. Then the rows are written by code: new codes
are created, known ones updated, rows equal to their product left alone (so importing an
export changes nothing).

A `/media` thumbnail names a file of the shop that uploaded it: a product may list only its
own uploads (as on the API). A row's other `/media` addresses (a catalogue moved from
another shop: its pictures stay there) are left out, and counted, rather than refusing
the whole catalogue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from shop.errors import Invalid
from shop.i18n import N_
from shop.models.catalogue_file import (
    CatalogueFile,
    Imported,
    Problems,
    Row,
    product_row,
    read_catalogue,
    write_rows,
)
from shop.models.messages import Message, summary
from shop.models.products import Product
from shop.service.events import Events
from shop.service.ids import new_id
from shop.service.images import own_images
from shop.store.base import Store
from shop.store.products import Progress

EXPORT_BATCH = 1000
MAX_LISTED = 1000  # problems listed in an answer; the count says how many there were


class BadRows(Invalid):
    """400: the file has problems (each with its line and field); nothing was imported.

    Its one line names the first few problems and how many more the file has, each in the
    reader's language (`shop.errors.explain`); `fields` lists the first MAX_LISTED."""

    def __init__(self, problems: Problems) -> None:
        fields: dict[str, str | Message] = {
            problem.where: problem.message for problem in problems.kept[:MAX_LISTED]
        }
        super().__init__(
            N_("nothing was imported: {summary}"),
            fields=fields,
            extra={"problems": problems.count},
            summary=summary(fields, total=problems.count),
        )
        self.summarised = True
        self.counted = problems.count
        self.problems = problems.kept  # the first MAX_KEPT
        self.count = problems.count


class CatalogueFiles:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    async def export(self, progress: Progress | None = None) -> AsyncIterator[bytes]:
        """The catalogue as CSV, a batch of products at a time; the first chunk holds the
        header and the first batch, so a store that does not answer fails it.
        `progress(n)` is told as each batch of n products is written."""
        batches = self._store.products.batches(EXPORT_BATCH)
        first = await anext(batches, [])
        yield write_rows((product_row(product) for product in first), header=True)
        if progress is not None:
            progress(len(first))
        async for batch in batches:
            yield write_rows(product_row(product) for product in batch)
            if progress is not None:
                progress(len(batch))

    async def import_csv(self, data: bytes, progress: Progress | None = None) -> Imported:
        """Create and update products from a CSV file; BadRows when any row is wrong.

        `progress(n)` is told as each batch of n rows is written.
        """
        parsed: CatalogueFile = await asyncio.to_thread(read_catalogue, data)
        if parsed.problems:
            raise BadRows(parsed.problems)
        existing = await self._store.products.find_codes([row.product.code for row in parsed.rows])
        products: list[Product] = []
        left_out = 0
        for row in parsed.rows:
            product, foreign = _product(row, existing.get(row.product.code), parsed.columns)
            products.append(product)
            left_out += foreign
        parsed.rows.clear()  # the checked rows are products now: free them before writing
        result = await self._store.products.upsert_by_code(products, progress)
        if result.created or result.updated:
            # One event for the whole file: caches forget the catalogue, pages resync.
            self._events.publish_products(
                {"type": "products.imported", "created": result.created, "updated": result.updated}
            )
        return Imported(result, left_out)


def _product(row: Row, current: Product | None, columns: frozenset[str]) -> tuple[Product, int]:
    """The product a row describes, and how many of its `/media` addresses were left out.

    A column the file leaves out (or an empty status) keeps a known product's value; a
    new product gets the default."""
    data = row.product
    description, status, wanted = data.description, data.status, tuple(data.thumbnails)
    if current is not None:
        if "description" not in columns:
            description = current.description
        if "status" not in data.model_fields_set:
            status = current.status
        if "thumbnails" not in columns:
            wanted = current.thumbnails
    thumbnails, foreign = own_images(current.thumbnails if current else (), wanted)
    product = Product(
        id=current.id if current is not None else new_id(),
        title=data.title,
        description=description,
        code=data.code,
        price_cents=data.price,
        status=status,
        stock=data.stock,
        category=data.category,
        thumbnails=thumbnails,
    )
    return product, len(foreign)
