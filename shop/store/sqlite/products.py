"""The catalogue in SQLite: products, filtered and paged listings, and their totals."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from shop.models.listing import Page
from shop.models.products import Product, ProductQuery
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine, snapshot

_FIELDS = ("title", "description", "code", "price_cents", "status", "stock", "category")
_ORDER = {None: "id", "asc": "price_cents, id", "desc": "price_cents DESC, id DESC"}
# Catalogue-cache misses come here: the columns by position, the quicker read.
_SELECT_BY_ID = f"SELECT {rows.product_columns()} FROM products WHERE id = ?"  # noqa: S608


class SQLiteProducts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def insert(self, product: Product) -> None:
        def job(db: sqlite3.Connection) -> None:
            with rows.unique_fields():
                db.execute(
                    "INSERT INTO products (id, title, description, code, price_cents, status,"
                    " stock, category, category_key, thumbnails) VALUES (:id, :title,"
                    " :description, :code, :price_cents, :status, :stock, :category,"
                    " :category_key, :thumbnails)",
                    {
                        "id": product.id,
                        **{name: getattr(product, name) for name in _FIELDS},
                        "category_key": product.category.lower(),
                        "thumbnails": json.dumps(list(product.thumbnails)),
                    },
                )

        await self._engine.write(job)

    async def get(self, pid: str) -> Product | None:
        def job(db: sqlite3.Connection) -> Product | None:
            row = db.execute(_SELECT_BY_ID, (pid,)).fetchone()
            return rows.product_at(row) if row else None

        return await self._engine.read(job)

    async def list(self, query: ProductQuery) -> Page[Product]:
        clauses: list[str] = []
        params: dict[str, object] = {
            "limit": query.limit,
            "offset": (query.page - 1) * query.limit,
        }
        if query.category is not None:
            clauses.append("category_key = :category")
            params["category"] = query.category.lower()
        if query.available is not None:
            clauses.append("status = :status")
            params["status"] = int(query.available)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        # Only constant fragments are formatted in; every value is a bound parameter.
        order = _ORDER[query.sort]
        sql = f"SELECT * FROM products {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # noqa: S608

        def job(db: sqlite3.Connection) -> Page[Product]:
            with snapshot(db):  # the page and its total from one view
                items = [rows.product(row) for row in db.execute(sql, params)]
                total = _total(db, query)
            return Page(items=items, total=total, page=query.page, limit=query.limit)

        return await self._engine.read(job)

    async def update(self, pid: str, changes: Mapping[str, Any]) -> Product | None:
        params = {name: changes.get(name) for name in _FIELDS}
        category, thumbnails = changes.get("category"), changes.get("thumbnails")
        params["category_key"] = category.lower() if category is not None else None
        params["thumbnails"] = json.dumps(list(thumbnails)) if thumbnails is not None else None

        def job(db: sqlite3.Connection) -> Product | None:
            # No column is nullable, so NULL means "not given": one static statement
            # changes exactly the given fields.
            with rows.unique_fields():
                found = db.execute(
                    "UPDATE products SET title = coalesce(:title, title),"
                    " description = coalesce(:description, description),"
                    " code = coalesce(:code, code),"
                    " price_cents = coalesce(:price_cents, price_cents),"
                    " status = coalesce(:status, status), stock = coalesce(:stock, stock),"
                    " category = coalesce(:category, category),"
                    " category_key = coalesce(:category_key, category_key),"
                    " thumbnails = coalesce(:thumbnails, thumbnails)"
                    " WHERE id = :id RETURNING *",
                    {**params, "id": pid},
                ).fetchall()  # all rows, so the statement finishes
            return rows.product(found[0]) if found else None

        return await self._engine.write(job)

    async def delete(self, pid: str) -> bool:
        # Its cart lines go by ON DELETE CASCADE, in the same statement.
        return await self._engine.write(rows.changes("DELETE FROM products WHERE id = ?", pid))


def _count(db: sqlite3.Connection, key: str) -> int:
    row = db.execute("SELECT n FROM product_counts WHERE key = ?", (key,)).fetchone()
    return row["n"] if row else 0


def _total(db: sqlite3.Connection, query: ProductQuery) -> int:
    """How many products match, from the trigger-kept counters (never a scan)."""
    if query.category is not None and query.available is not None:
        # ProductQuery promises one filter at most; stay correct (if slower) without it.
        sql = "SELECT count(*) FROM products WHERE category_key = ? AND status = ?"
        return db.execute(sql, (query.category.lower(), int(query.available))).fetchone()[0]
    if query.category is not None:
        return _count(db, f"category:{query.category.lower()}")
    total = _count(db, "all")
    if query.available is None:
        return total
    available = _count(db, "available")
    return available if query.available else total - available
