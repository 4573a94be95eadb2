"""The product catalogue: listing, reading and the admin's changes, announced live."""

from __future__ import annotations

from shop.errors import Conflict, NotFound
from shop.service.events import Events, product_event
from shop.service.ids import new_id
from shop.service.models import Page, Product, ProductIn, ProductPatch, ProductQuery
from shop.store.base import DuplicateKey, Store


class ProductService:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    async def list(self, query: ProductQuery) -> Page[Product]:
        return await self._store.list_products(query)

    async def get(self, pid: str) -> Product:
        product = await self._store.get_product(pid)
        if product is None:
            raise NotFound(f"product {pid} not found")
        return product

    async def create(self, data: ProductIn) -> Product:
        product = Product(
            id=new_id(), **{**data.model_dump(), "thumbnails": tuple(data.thumbnails)}
        )
        try:
            await self._store.insert_product(product)
        except DuplicateKey:
            raise Conflict(f"code: a product with code {data.code!r} already exists") from None
        self._events.publish_products(product_event("created", product.to_json()))
        return product

    async def update(self, pid: str, patch: ProductPatch) -> Product:
        changes = patch.changes()
        if "thumbnails" in changes:
            changes["thumbnails"] = tuple(changes["thumbnails"])
        try:
            product = await self._store.update_product(pid, changes)
        except DuplicateKey:
            raise Conflict(f"code: a product with code {patch.code!r} already exists") from None
        if product is None:
            raise NotFound(f"product {pid} not found")
        self._events.publish_products(product_event("updated", product.to_json()))
        return product

    async def delete(self, pid: str) -> None:
        if not await self._store.delete_product(pid):
            raise NotFound(f"product {pid} not found")
        self._events.publish_products(product_event("deleted", {"_id": pid}))
