"""Products read by id together: those asked for in one turn of the event loop come from
one statement, whose one row holds them all as a JSON text.

Every catalogue-cache miss ends here, and a catalogue larger than the cache (or a crawler
walking it) makes many at once. The sqlite3 module lets go of the GIL at each step of a
statement, and while the event loop is busy, a reader thread that let go of it waits to
get it back: a statement per product, a row per statement, is two such waits per product,
and the thread switches they cost the reader threads more CPU than the reads themselves.
One statement and one row for the whole batch is two waits per batch. (bench/http_load.py's
"every id" row at 100,000 products, in alternating runs: the reader threads' CPU per read
fell from about 65 µs to about 40, and the row's rate rose by 8 to 23%.)
"""

from __future__ import annotations

import asyncio
import sqlite3

import msgspec

from shop.models.products import Product
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine

# The ids come as one JSON array parameter: one statement text, prepared once, however
# many ids a batch holds (no limit on host parameters to mind).
_SELECT = (
    f"SELECT json_group_array(json_array({rows.product_columns()})) FROM products"  # noqa: S608
    " WHERE id IN (SELECT value FROM json_each(?))"
)
MAX_IDS = 256  # per statement: a burst of misses is shared out among the readers
_encode = msgspec.json.Encoder().encode
# A row of rows.PRODUCT_COLUMNS, checked as it is decoded.
type _Row = tuple[str, str, str, str, int, int, int, str, str, int]
_decode = msgspec.json.Decoder(list[_Row]).decode

type _Waiting = dict[str, list[asyncio.Future[Product | None]]]


class ProductReads:
    """`get(pid)`: the product, or None; the gets of one loop turn share one read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._waiting: _Waiting = {}

    def get(self, pid: str) -> asyncio.Future[Product | None]:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._read)
        # A future per caller, even for the same id: a caller cancelled cancels its own.
        future: asyncio.Future[Product | None] = loop.create_future()
        self._waiting.setdefault(pid, []).append(future)
        return future

    def _read(self) -> None:
        waiting, self._waiting = list(self._waiting.items()), {}
        for start in range(0, len(waiting), MAX_IDS):
            self._read_some(dict(waiting[start : start + MAX_IDS]))

    def _read_some(self, waiting: _Waiting) -> None:
        # Text: SQLite 3.45 and later take a BLOB given to json_each for its binary JSONB.
        ids = _encode(list(waiting)).decode()

        def job(db: sqlite3.Connection) -> dict[str, Product]:
            (found,) = db.execute(_SELECT, (ids,)).fetchone()
            return {row[0]: rows.product_at(row) for row in _decode(found)}

        try:
            read = asyncio.ensure_future(self._engine.read(job))
        except Exception as exc:  # the store is closed
            _fail(waiting, exc)
            return
        read.add_done_callback(lambda done: _answer(waiting, done))


def _answer(waiting: _Waiting, read: asyncio.Future[dict[str, Product]]) -> None:
    if read.cancelled():  # the engine closed before it ran
        for futures in waiting.values():
            for future in futures:
                future.cancel()
        return
    error = read.exception()
    if error is not None:
        _fail(waiting, error)
        return
    found = read.result()
    for pid, futures in waiting.items():
        product = found.get(pid)
        for future in futures:
            if not future.done():  # cancelled by its caller meanwhile
                future.set_result(product)


def _fail(waiting: _Waiting, error: BaseException) -> None:
    for futures in waiting.values():
        for future in futures:
            if not future.done():
                future.set_exception(error)
