"""The product catalogue: listing, reading and the admin's changes, announced live."""

from __future__ import annotations

from dataclasses import replace

from shop.errors import Conflict, NotFound
from shop.models.listing import Page
from shop.models.products import CategoryCount, Product, ProductIn, ProductPatch, ProductQuery
from shop.models.users import User
from shop.service.events import Events, product_event
from shop.service.ids import new_id
from shop.service.images import check_thumbnails, forget_files, forget_product_files
from shop.store.base import DuplicateKey, Store, ThumbnailsChanged


class ProductService:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    async def list(self, query: ProductQuery, viewer: User | None) -> Page[Product]:
        """A page of the catalogue as `viewer` may see it: shoppers (anonymous or users)
        never see products whose `status` is false; admins see everything."""
        visible = replace(query, include_hidden=viewer is not None and viewer.is_admin)
        return await self._store.products.list(visible)

    async def categories(self, include_hidden: bool = False) -> list[CategoryCount]:
        """Every category with the number of products shoppers can see in it."""
        return await self._store.products.categories(include_hidden)

    async def get(self, pid: str) -> Product:
        product = await self._store.products.get(pid)
        if product is None:
            raise NotFound("product {pid} not found", pid=pid)
        return product

    async def create(self, data: ProductIn) -> Product:
        check_thumbnails((), data.thumbnails)
        product = data.as_product(new_id())
        try:
            await self._store.products.insert(product)
        except DuplicateKey:
            raise Conflict(
                "code: a product with code {code!r} already exists", code=data.code
            ) from None
        self._events.publish_products(product_event("created", product.to_json()))
        return product

    async def update(self, pid: str, patch: ProductPatch) -> Product:
        before: tuple[str, ...] | None = None
        if patch.thumbnails is not None:
            # New thumbnails may keep the product's uploads but point at no other /media
            # file; the list must still be the one checked when the change is made.
            before = (await self.get(pid)).thumbnails
            check_thumbnails(before, patch.thumbnails)
        try:
            product = await self._store.products.update(pid, patch.changes(), if_thumbnails=before)
        except DuplicateKey:
            raise Conflict(
                "code: a product with code {code!r} already exists", code=patch.code
            ) from None
        except ThumbnailsChanged:
            raise Conflict(
                "thumbnails: the product's images changed meanwhile; reload and try again"
            ) from None
        if product is None:
            raise NotFound("product {pid} not found", pid=pid)
        self._events.publish_products(product_event("updated", product.to_json()))
        if before is not None:
            await forget_files(self._store, pid, before, product.thumbnails)
        return product

    async def delete(self, pid: str) -> None:
        if not await self._store.products.delete(pid):
            raise NotFound("product {pid} not found", pid=pid)
        self._events.publish_products(product_event("deleted", {"_id": pid}))
        # After the product: if this fails, no product lists the files and the sweep ends them.
        await forget_product_files(self._store, pid)
