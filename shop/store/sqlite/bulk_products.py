"""Products in bulk on SQLite: upserts by code (a CSV import, a large demo catalogue), and
the catalogue read in id order for an export.

An upsert is one write job, so one transaction: all of it is kept, or none. Its rows are
prepared (sort keys, search words) in a worker thread before the job is queued, so the
write lock is held only for the writes themselves.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from shop.models.products import Product, Upserted
from shop.models.search import product_words, sort_key
from shop.store.products import Progress
from shop.store.sqlite import rows

BATCH = 500  # rows a statement's `IN (...)` names, far under SQLite's limit
BULK_CACHE_KIB = 128 * 1024

# A new code is inserted; a known one is updated unless every field is already equal
# (then the WHERE makes it a no-op and RETURNING answers nothing). The triggers keep the
# listing totals.
_UPSERT = (
    "INSERT INTO products (id, title, description, code, price_cents, status, stock,"
    " category, category_key, thumbnails, title_key) VALUES (:id, :title, :description,"
    " :code, :price_cents, :status, :stock, :category, :category_key, :thumbnails,"
    " :title_key) ON CONFLICT (code) DO UPDATE SET title = excluded.title,"
    " description = excluded.description, price_cents = excluded.price_cents,"
    " status = excluded.status, stock = excluded.stock, category = excluded.category,"
    " category_key = excluded.category_key, thumbnails = excluded.thumbnails,"
    " title_key = excluded.title_key"
    " WHERE (title, description, price_cents, status, stock, category, thumbnails)"
    " IS NOT (excluded.title, excluded.description, excluded.price_cents, excluded.status,"
    " excluded.stock, excluded.category, excluded.thumbnails)"
    " RETURNING id"
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A product's row, and its search words."""

    params: dict[str, Any]
    words: tuple[str, ...]


def prepare(products: Sequence[Product]) -> list[Prepared]:
    """Every product as its row (CPU work: run it off the event loop)."""
    return [
        Prepared(
            {
                "id": product.id,
                "title": product.title,
                "description": product.description,
                "code": product.code,
                "price_cents": product.price_cents,
                "status": product.status,
                "stock": product.stock,
                "category": product.category,
                "category_key": product.category.lower(),
                "thumbnails": json.dumps(list(product.thumbnails)),
                "title_key": sort_key(product.title),
            },
            tuple(product_words(product.title, product.description, product.code)),
        )
        for product in products
    ]


def upsert(
    db: sqlite3.Connection, prepared: Sequence[Prepared], progress: Progress | None
) -> Upserted:
    """The write job: every row, in batches, inside the one transaction the engine gives it."""
    # A big transaction touches more pages than the default 2 MB cache holds: each one
    # spilled to the WAL and touched again is written again. A larger cache for this job
    # only made 100,000 new products about three times faster.
    default = db.execute("PRAGMA cache_size").fetchone()[0]
    if len(prepared) > 2 * BATCH:
        db.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        total = Upserted()
        for batch in batched(prepared, BATCH, strict=False):
            total += _upsert_batch(db, batch)
            if progress is not None:
                progress(len(batch))
        return total
    finally:
        db.execute(f"PRAGMA cache_size = {int(default)}")


def _upsert_batch(db: sqlite3.Connection, batch: Sequence[Prepared]) -> Upserted:
    codes = [row.params["code"] for row in batch]
    marks = ", ".join("?" * len(codes))
    sql = f"SELECT code FROM products WHERE code IN ({marks})"  # noqa: S608
    known = {row[0] for row in db.execute(sql, codes)}
    created = updated = 0
    reindex: list[tuple[str, tuple[str, ...]]] = []
    for row in batch:
        found = db.execute(_UPSERT, row.params).fetchone()
        if found is None:
            continue  # already equal
        if row.params["code"] in known:
            updated += 1
        else:
            created += 1
        reindex.append((found["id"], row.words))
    db.executemany(
        "DELETE FROM product_words WHERE product_id = ?", [(pid,) for pid, _ in reindex]
    )
    db.executemany(
        "INSERT OR IGNORE INTO product_words (word, product_id) VALUES (?, ?)",
        [(word, pid) for pid, words in reindex for word in words],
    )
    return Upserted(created, updated, len(batch) - created - updated)


def find_codes(db: sqlite3.Connection, codes: Collection[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in batched(codes, BATCH, strict=False):
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT {rows.product_columns()} FROM products WHERE code IN ({marks})"  # noqa: S608
        for row in db.execute(sql, chunk):
            product = rows.product_at(row)
            found[product.code] = product
    return found


def after(db: sqlite3.Connection, pid: str | None, size: int) -> list[Product]:
    """The `size` products after id `pid` (from the first when None), in id order."""
    sql = f"SELECT {rows.product_columns()} FROM products WHERE id > ? ORDER BY id LIMIT ?"  # noqa: S608
    return [rows.product_at(row) for row in db.execute(sql, (pid or "", size))]
