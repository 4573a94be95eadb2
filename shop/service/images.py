"""Product images: upload, remove and reorder, the files behind them, and the sweep.

Writes are ordered so that an interrupted request can only leave a file nothing points
at, never a product pointing at a missing file: an upload stores its files before the
product lists them; a removal unlists them before deleting the files; deleting a product
deletes the product first. `sweep` later removes files no product lists (and what
interrupted writes left), once they are older than an upload can take.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from shop.errors import Conflict, NotFound, invalid
from shop.i18n import N_
from shop.models import answers
from shop.models.answers import plain
from shop.models.images import NAME, ImageFiles, is_media_url, uploaded
from shop.models.messages import phrase
from shop.models.products import MAX_THUMBNAILS, Product
from shop.service import imaging
from shop.service.events import Events, product_event
from shop.store.base import Store, StoreError, ThumbnailsChanged

log = logging.getLogger("shop.images")

MAX_IMAGES = MAX_THUMBNAILS  # uploads and typed-in addresses count alike
# A compare-and-set that lost to another change of the same product's images tries again
# on the new list; each loss means another change went through, so this is rarely reached.
ATTEMPTS = 10
SWEEP_GRACE = 3600.0  # an unlisted file younger than this may be an upload in progress

type Edit = Callable[[tuple[str, ...]], tuple[str, ...]]


class ImageService:
    def __init__(self, store: Store, events: Events, workers: int) -> None:
        self._store = store
        self._events = events
        # Decoding and encoding are CPU-bound: at most `workers` run at once, off the loop
        # (Pillow releases the GIL while it decodes, resizes and encodes).
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shop-image")

    def close(self) -> None:
        self._workers.shutdown(wait=False, cancel_futures=True)

    async def add(self, pid: str, data: bytes) -> tuple[Product, str]:
        """Store an uploaded image for the product; the product after, and the image's URL."""
        product = await self._store.products.get(pid)
        if product is None:  # before the costly part
            raise NotFound(N_("product {pid} not found"), pid=pid)
        if len(product.thumbnails) >= MAX_IMAGES:
            raise _full()
        loop = asyncio.get_running_loop()
        rendered = await loop.run_in_executor(self._workers, imaging.render, data)
        files = ImageFiles(pid, f"{rendered.digest}-{secrets.token_hex(4)}")
        await self._store.images.put(files.card, rendered.card)
        await self._store.images.put(files.page, rendered.page)
        try:
            product, _ = await self._change(pid, lambda thumbnails: _append(thumbnails, files.url))
        except (NotFound, Conflict):
            # Certainly not listed: the files go now. (A lost store answer leaves them to
            # the sweep: the product may list them.)
            await self._store.images.delete(files.names)
            raise
        return product, files.url

    async def remove(self, pid: str, index: int) -> Product:
        """Remove the product's `index`th thumbnail (from 0), and its files if uploaded."""

        def position(thumbnails: tuple[str, ...]) -> int:
            if not 0 <= index < len(thumbnails):
                raise NotFound(N_("image {n} of product {pid} not found"), n=index, pid=pid)
            return index

        return await self._remove(pid, position)

    async def remove_url(self, pid: str, url: str) -> Product:
        """Remove the thumbnail `url` (its first listing) wherever it is when the change is
        made: a page's button names the image it showed, which other changes may move."""
        return await self._remove(pid, lambda thumbnails: _position_of(thumbnails, url, pid))

    async def move(self, pid: str, url: str, offset: int) -> Product:
        """Move the thumbnail `url` by `offset` places (-1: one earlier), within the list."""

        def edit(thumbnails: tuple[str, ...]) -> tuple[str, ...]:
            start = _position_of(thumbnails, url, pid)
            end = min(max(start + offset, 0), len(thumbnails) - 1)
            rest = thumbnails[:start] + thumbnails[start + 1 :]
            return (*rest[:end], url, *rest[end:])

        product, _ = await self._change(pid, edit)
        return product

    async def _remove(self, pid: str, position: Callable[[tuple[str, ...]], int]) -> Product:
        def edit(thumbnails: tuple[str, ...]) -> tuple[str, ...]:
            at = position(thumbnails)
            return thumbnails[:at] + thumbnails[at + 1 :]

        product, before = await self._change(pid, edit)
        await forget_files(self._store, pid, before, product.thumbnails)
        return product

    async def reorder(self, pid: str, order: Sequence[int]) -> Product:
        """Put the thumbnails in the given order: `order[i]` is the current index of the
        image that goes at position i; every current index appears once."""

        def edit(thumbnails: tuple[str, ...]) -> tuple[str, ...]:
            count = len(thumbnails)
            if sorted(order) != list(range(count)):
                # Well-formed, but not this product's images (now): a conflict with its state.
                if not count:
                    raise Conflict(N_("order: the product has no images"))
                raise Conflict(
                    N_("order: must list each of the numbers 0 to {last} once"), last=count - 1
                )
            return tuple(thumbnails[i] for i in order)

        product, _ = await self._change(pid, edit)
        return product

    async def get(self, name: str) -> bytes:
        """A stored image file by its name under /media."""
        data = await self._store.images.get(name) if NAME.fullmatch(name) else None
        if data is None:
            raise NotFound(N_("not found"))
        return data

    async def sweep(self, grace: float = SWEEP_GRACE) -> int:
        """Delete files older than `grace` seconds that no product lists; how many."""
        before = time.time() - grace
        by_product: defaultdict[str, list[str]] = defaultdict(list)
        for name in await self._store.images.stored_before(before):
            match = NAME.fullmatch(name)
            if match:
                by_product[match["pid"]].append(name)
        unlisted: list[str] = []
        for pid, names in by_product.items():
            product = await self._store.products.get(pid)
            listed = _files_of(pid, product.thumbnails if product else ())
            unlisted.extend(name for name in names if name not in listed)
        await self._store.images.delete(unlisted)
        await self._store.images.drop_leftovers(before)
        return len(unlisted)

    async def _change(self, pid: str, edit: Edit) -> tuple[Product, tuple[str, ...]]:
        """Apply `edit` to the product's thumbnails as one compare-and-set, announce the
        product, and answer it with the thumbnails it had before."""
        for _ in range(ATTEMPTS):
            current = await self._store.products.get(pid)
            if current is None:
                raise NotFound(N_("product {pid} not found"), pid=pid)
            changed = edit(current.thumbnails)
            try:
                product = await self._store.products.update(
                    pid, {"thumbnails": changed}, if_thumbnails=current.thumbnails
                )
            except ThumbnailsChanged:
                continue
            if product is None:
                raise NotFound(N_("product {pid} not found"), pid=pid)
            self._events.publish_products(
                product_event("updated", plain(answers.Product.of(product)))
            )
            return product, current.thumbnails
        raise Conflict(N_("thumbnails: the product's images keep changing; try again"))


def _position_of(thumbnails: tuple[str, ...], url: str, pid: str) -> int:
    if url not in thumbnails:
        raise NotFound(N_("image {url} of product {pid} not found"), url=url, pid=pid)
    return thumbnails.index(url)


def _append(thumbnails: tuple[str, ...], url: str) -> tuple[str, ...]:
    if len(thumbnails) >= MAX_IMAGES:
        raise _full()
    return (*thumbnails, url)


def _full() -> Conflict:
    return Conflict(N_("thumbnails: a product holds at most {most} images"), most=MAX_IMAGES)


def _files_of(pid: str, thumbnails: Iterable[str]) -> set[str]:
    """The stored files the product's own uploaded thumbnails name."""
    names: set[str] = set()
    for url in thumbnails:
        files = uploaded(url)
        if files is not None and files.pid == pid:
            names.update(files.names)
    return names


def own_images(
    current: Iterable[str], wanted: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A product's new thumbnails split in two: those it may list, and the /media addresses
    it does not list already (only an upload puts an address there, so a product never
    lists a file that is missing or that another product owns)."""
    own = set(current)
    kept: list[str] = []
    foreign: list[str] = []
    for url in wanted:
        (foreign if is_media_url(url) and url not in own else kept).append(url)
    return tuple(kept), tuple(foreign)


def check_thumbnails(current: Iterable[str], wanted: Iterable[str]) -> None:
    """Refuse new thumbnails with a /media address the product does not list already."""
    _, foreign = own_images(current, wanted)
    if foreign:
        raise invalid({"thumbnails": phrase("foreign_image", url=foreign[0])})


async def forget_files(
    store: Store, pid: str, before: Iterable[str], after: Iterable[str]
) -> None:
    """Delete the files of uploads the product listed before and no longer lists.

    Called after the product changed: if this fails, the files are only unlisted, and
    the sweep removes them.
    """
    gone = _files_of(pid, before) - _files_of(pid, after)
    if not gone:
        return
    try:
        await store.images.delete(sorted(gone))
    except StoreError:
        log.warning(
            "could not delete %d image files of product %s; the sweep will", len(gone), pid
        )


async def forget_product_files(store: Store, pid: str) -> None:
    """Delete every file of a product that no longer exists (the sweep's job on failure)."""
    try:
        await store.images.delete_product(pid)
    except StoreError:
        log.warning("could not delete the image files of product %s; the sweep will", pid)
