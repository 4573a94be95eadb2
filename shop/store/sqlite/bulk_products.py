"""Products in bulk on SQLite: upserts by code (a CSV import, a large demo catalogue), and
the catalogue read in id order for an export.

An upsert is one write job, so one transaction: all of it is kept, or none. Its rows are
prepared (sort keys) in a worker thread before the job is queued; search words are worked
out in the job, for the rows it writes only (an unchanged file costs none).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
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


type Row = dict[str, Any]


def prepare(products: Sequence[Product]) -> list[Row]:
    """Every product as its row (CPU work: run it off the event loop)."""
    return [
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
        }
        for product in products
    ]


def upsert(db: sqlite3.Connection, prepared: Sequence[Row], progress: Progress | None) -> Upserted:
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


def _upsert_batch(db: sqlite3.Connection, batch: Sequence[Row]) -> Upserted:
    codes = [row["code"] for row in batch]
    marks = ", ".join("?" * len(codes))
    sql = f"SELECT code, title, description FROM products WHERE code IN ({marks})"  # noqa: S608
    # The words each known product is indexed by come from these: unchanged, they stand.
    known = {found[0]: (found[1], found[2]) for found in db.execute(sql, codes)}
    created = updated = 0
    words: list[tuple[str, str]] = []
    reindexed: list[tuple[str]] = []
    for row in batch:
        found = db.execute(_UPSERT, row).fetchone()
        if found is None:
            continue  # already equal
        pid = found["id"]
        before = known.get(row["code"])
        if before is None:
            created += 1
        else:
            updated += 1
            if before == (row["title"], row["description"]):
                continue
            reindexed.append((pid,))
        text = (row["title"], row["description"], row["code"])
        words += [(word, pid) for word in product_words(*text)]
    db.executemany("DELETE FROM product_words WHERE product_id = ?", reindexed)
    db.executemany("INSERT INTO product_words (word, product_id) VALUES (?, ?)", words)
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
