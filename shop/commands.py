"""The command line's work beyond serving: each command runs the app's own services over
the configured store (the same as the server's), then closes it.

Progress bars (tqdm) go to stderr, and only to a terminal.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from aiohttp import web
from tqdm import tqdm

from shop.settings import Settings
from shop.store.products import Progress

STDIO = "-"


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[web.Application]:
    """The app with its store and services open (no server listening)."""
    from shop.app import create_app

    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()  # runs cleanup_ctx: the same store and services as the server
    try:
        yield app
    finally:
        await runner.cleanup()


class Bars:
    """Progress bars on stderr, one per step of a command, closed together."""

    def __init__(self) -> None:
        self._bars: list[tqdm[None]] = []

    def step(self, name: str, total: int) -> Progress:
        bar: tqdm[None] = tqdm(total=total, desc=name, unit="", file=sys.stderr, disable=None)
        self._bars.append(bar)
        return bar.update

    def close(self) -> None:
        for bar in self._bars:
            bar.close()


@contextmanager
def bars() -> Iterator[Bars]:
    progress = Bars()
    try:
        yield progress
    finally:
        progress.close()


# ---- create-admin ----------------------------------------------------------------------


async def create_admin(settings: Settings, email: str, password: str) -> str:
    from shop.keys import USERS

    async with running_app(settings) as app:
        user, created = await app[USERS].create_admin(email, password)
    return f"{'created' if created else 'promoted'} admin {user.email} ({user.id})"


# ---- seed-demo -------------------------------------------------------------------------


async def seed_demo(settings: Settings, force: bool, count: int | None, out: TextIO) -> None:
    from shop.demo.seed import DemoShop
    from shop.keys import IMAGES, PRODUCTS, STORE, USERS

    started = time.monotonic()
    async with running_app(settings) as app:
        demo = DemoShop(app[STORE], app[PRODUCTS], app[IMAGES], app[USERS], settings.timezone)
        with bars() as progress:
            result = await demo.fill(force=force, count=count, steps=progress.step)
    if result.email is None:
        print(
            f"the shop has {result.existing} products already: nothing added"
            " (seed-demo --force adds the demo beside them)",
            file=out,
        )
        return
    took = time.monotonic() - started
    print(
        f"added a demo shop in {took:.1f} s: {result.products} products in"
        f" {result.categories} categories, {result.orders} orders over the last 30 days",
        file=out,
    )
    print(
        f"the demo shopper logs in as {result.email} with the password {result.password}", file=out
    )
    print(
        "to run the shop, make yourself an admin: shop create-admin --email you@example.com",
        file=out,
    )


# ---- catalogue files -------------------------------------------------------------------


@contextmanager
def _output(name: str) -> Iterator[BinaryIO]:
    """Where an export goes: stdout, or a file that appears whole or not at all (written
    beside it, then renamed)."""
    if name == STDIO:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(name)
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as file:
            yield file
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


async def export_products(settings: Settings, name: str, out: TextIO) -> None:
    from shop.keys import CATALOGUE, STORE
    from shop.models.products import ProductQuery

    started = time.monotonic()
    async with running_app(settings) as app:
        total = (await app[STORE].products.list(ProductQuery(limit=1))).total
        with bars() as progress, _output(name) as file:
            async for chunk in app[CATALOGUE].export(progress.step("products", total)):
                file.write(chunk)
    where = "standard output" if name == STDIO else name
    print(f"exported {total} products to {where} in {time.monotonic() - started:.1f} s", file=out)


def read_input(name: str) -> bytes:
    return sys.stdin.buffer.read() if name == STDIO else Path(name).read_bytes()


async def import_products(settings: Settings, name: str, data: bytes, out: TextIO) -> None:
    """Import the file's bytes; raise BadRows (the caller lists them) when a row is wrong."""
    from shop.keys import CATALOGUE

    started = time.monotonic()
    async with running_app(settings) as app:
        with bars() as progress:
            rows = data.count(b"\n")
            result = await app[CATALOGUE].import_csv(data, progress.step("rows written", rows))
    written = result.written
    print(
        f"imported {name} in {time.monotonic() - started:.1f} s: {written.created} new,"
        f" {written.updated} changed, {written.unchanged} already up to date",
        file=out,
    )
    if result.images_left_out:
        print(
            f"{result.images_left_out} image addresses of another shop (or another product)"
            " were left out: upload those pictures to this shop again",
            file=out,
        )
