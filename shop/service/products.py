"""The product catalogue: listing, reading and the admin's changes, announced live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from shop.errors import Conflict, NotFound
from shop.i18n import N_
from shop.models import answers
from shop.models.answers import plain
from shop.models.listing import Page
from shop.models.products import CategoryCount, Product, ProductIn, ProductPatch, ProductQuery
from shop.models.users import User
from shop.service.events import Events, product_event
from shop.service.ids import new_id
from shop.service.images import check_thumbnails, forget_files, forget_product_files
from shop.store.base import DuplicateKey, Store, ThumbnailsChanged, VersionChanged

# An edit whose compare-and-set lost to another write tries again on the product as it is
# then; each loss means another write went through, so this is rarely reached.
EDIT_ATTEMPTS = 5


class ProductService:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    async def list(self, query: ProductQuery, viewer: User | None) -> Page[Product]:
        """A page of the catalogue as `viewer` may see it: shoppers (anonymous or users)
        never see products whose `status` is false; admins see everything."""
        if query.nothing:
            return Page([], 0, query.page, query.limit)
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
        self._events.publish_products(product_event("created", plain(answers.Product.of(product))))
        return product

    async def update(
        self, pid: str, patch: ProductPatch, *, if_version: int | None = None
    ) -> Product:
        """Apply `patch`; with `if_version`, only while the product is at that version
        (else the store's VersionChanged)."""
        before: tuple[str, ...] | None = None
        if patch.thumbnails is not None:
            # New thumbnails may keep the product's uploads but point at no other /media
            # file; the list must still be the one checked when the change is made.
            before = (await self.get(pid)).thumbnails
            check_thumbnails(before, patch.thumbnails)
        try:
            product = await self._store.products.update(
                pid, patch.changes(), if_thumbnails=before, if_version=if_version
            )
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
        self._events.publish_products(product_event("updated", plain(answers.Product.of(product))))
        if before is not None:
            await forget_files(self._store, pid, before, product.thumbnails)
        return product

    async def edit(
        self, pid: str, decide: Callable[[Product], ProductPatch | None]
    ) -> tuple[Product, bool]:
        """Change the product by the patch `decide` makes of it as it is now, written only
        while the product is still at that version: when another write came first,
        `decide` sees the product again. `decide` answers None when there is nothing to
        change (or raises to refuse the edit). The product after, and whether it changed."""
        for _ in range(EDIT_ATTEMPTS):
            current = await self.get(pid)
            patch = decide(current)
            if patch is None:
                return current, False
            try:
                return await self.update(pid, patch, if_version=current.version), True
            except VersionChanged:
                continue
        raise Conflict(N_("the product keeps changing: try again in a moment"))

    async def delete(self, pid: str) -> None:
        if not await self._store.products.delete(pid):
            raise NotFound("product {pid} not found", pid=pid)
        self._events.publish_products(product_event("deleted", {"_id": pid}))
        # After the product: if this fails, no product lists the files and the sweep ends them.
        await forget_product_files(self._store, pid)
