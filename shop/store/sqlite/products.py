"""The catalogue in SQLite: products, searchable and filtered listings, and their totals."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from typing import Any

from shop.models.listing import Page
from shop.models.products import LOW_STOCK, CategoryCount, Product, ProductQuery, Upserted
from shop.models.search import COUNT_LIMIT, fold, prefix_end, product_words, sort_key
from shop.store.base import ThumbnailsChanged, VersionChanged
from shop.store.products import Progress
from shop.store.sqlite import bulk_products, rows
from shop.store.sqlite.engine import Engine, snapshot
from shop.store.sqlite.product_reads import ProductReads

_FIELDS = ("title", "description", "code", "price_cents", "status", "stock", "category")
_COLUMNS = {"price": "price_cents", "title": "title_key", "stock": "stock"}
_TEXT_FIELDS = frozenset({"title", "description", "code"})


class SQLiteProducts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._reads = ProductReads(engine)

    async def insert(self, product: Product) -> None:
        def job(db: sqlite3.Connection) -> None:
            with rows.unique_fields():
                db.execute(
                    "INSERT INTO products (id, title, description, code, price_cents, status,"
                    " stock, category, category_key, thumbnails, title_key, version) VALUES"
                    " (:id, :title, :description, :code, :price_cents, :status, :stock,"
                    " :category, :category_key, :thumbnails, :title_key, :version)",
                    {
                        "id": product.id,
                        "version": product.version,
                        **{name: getattr(product, name) for name in _FIELDS},
                        "category_key": product.category.lower(),
                        "thumbnails": json.dumps(list(product.thumbnails)),
                        "title_key": sort_key(product.title),
                    },
                )
            _index_words(db, product)

        await self._engine.write(job)

    async def get(self, pid: str) -> Product | None:
        return await self._reads.get(pid)

    async def list(self, query: ProductQuery) -> Page[Product]:
        if query.words:
            return await self._search(query)
        where, params = _where(query)
        sql = _page_sql(query, where)
        params |= _paging(query)

        def job(db: sqlite3.Connection) -> Page[Product]:
            with snapshot(db):  # the page and its total from one view
                items = [rows.product(row) for row in db.execute(sql, params)]
                total = _total(db, query, where, params)
            return Page(items=items, total=total, page=query.page, limit=query.limit)

        return await self._engine.read(job)

    async def _search(self, query: ProductQuery) -> Page[Product]:
        """A listing with search words: counted up to COUNT_LIMIT, then paged within it.

        The count walks the first word's index range and checks the rest on each product,
        so it stops after COUNT_LIMIT matches however common the word. Then the page is
        picked among the matches listed from the word index (their number's worth of
        work), or by walking the listing's own order and keeping the products that hold
        every word (about as many steps as the page's end times catalogue/matches):
        whichever is less.
        """
        first, *others = query.words
        where, params = _where(query, words=others)
        anded = f"{where} AND" if where else "WHERE"
        # The matches in the first word's index order (CROSS JOIN keeps that order: the
        # word's range drives), counted up to one past COUNT_LIMIT (_count_matches).
        matches = (
            "SELECT w.product_id FROM product_words AS w"  # noqa: S608
            f" CROSS JOIN products ON products.id = w.product_id {anded}"
            " w.word >= :first AND w.word < :first_end"
        )
        params |= {"first": first, "first_end": prefix_end(first), **_paging(query)}
        narrow = f"{anded} {_has_word('first', selective=True)}"
        broad = f"{anded} {_has_word('first', selective=False)}"

        # Only the first COUNT_LIMIT matches are paged.
        params["limit"] = max(0, min(query.limit, COUNT_LIMIT - params["offset"]))

        def job(db: sqlite3.Connection) -> Page[Product]:
            with snapshot(db):  # the page and its total from one view
                found = _count_matches(db, matches, params)
                exact = found <= COUNT_LIMIT
                catalogue = _count(db, "all" if query.include_hidden else "visible")
                walk = (params["offset"] + params["limit"]) * catalogue / max(found, 1)
                sql = _page_sql(query, narrow if exact and found < walk else broad)
                items = [rows.product(row) for row in db.execute(sql, params)]
            total = min(found, COUNT_LIMIT)
            return Page(items, total, query.page, query.limit, exact=exact)

        return await self._engine.read(job)

    async def categories(self, include_hidden: bool = False) -> list[CategoryCount]:
        prefix = "category:" if include_hidden else "visible:category:"

        def job(db: sqlite3.Connection) -> list[CategoryCount]:
            # A name per category from one of its products (keys are lower-cased names).
            found = db.execute(
                "SELECT (SELECT category FROM products WHERE category_key = substr(c.key, :at)"
                " LIMIT 1) AS name, c.n AS n FROM product_counts AS c"
                " WHERE c.key >= :low AND c.key < :high AND c.n > 0",
                {"at": len(prefix) + 1, "low": prefix, "high": prefix_end(prefix)},
            ).fetchall()
            return [CategoryCount(row["name"], row["n"]) for row in found if row["name"]]

        categories = await self._engine.read(job)
        return sorted(categories, key=lambda category: fold(category.name))

    async def update(
        self,
        pid: str,
        changes: Mapping[str, Any],
        *,
        if_thumbnails: Sequence[str] | None = None,
        if_version: int | None = None,
    ) -> Product | None:
        params = {name: changes.get(name) for name in _FIELDS}
        category, thumbnails = changes.get("category"), changes.get("thumbnails")
        params["category_key"] = category.lower() if category is not None else None
        params["thumbnails"] = json.dumps(list(thumbnails)) if thumbnails is not None else None
        params["title_key"] = sort_key(changes["title"]) if "title" in changes else None
        reindex = not _TEXT_FIELDS.isdisjoint(changes)

        def job(db: sqlite3.Connection) -> Product | None:
            if if_thumbnails is not None or if_version is not None:
                # Compared inside the write transaction: nothing changes between.
                sql = "SELECT thumbnails, version FROM products WHERE id = ?"
                row = db.execute(sql, (pid,)).fetchone()
                if row is None:
                    return None
                if if_thumbnails is not None and json.loads(row["thumbnails"]) != list(
                    if_thumbnails
                ):
                    raise ThumbnailsChanged(pid)
                if if_version is not None and row["version"] != if_version:
                    raise VersionChanged(pid)
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
                    " thumbnails = coalesce(:thumbnails, thumbnails),"
                    " title_key = coalesce(:title_key, title_key),"
                    " version = version + 1"
                    " WHERE id = :id RETURNING *",
                    {**params, "id": pid},
                ).fetchall()  # all rows, so the statement finishes
            if not found:
                return None
            product = rows.product(found[0])
            if reindex:
                db.execute("DELETE FROM product_words WHERE product_id = ?", (pid,))
                _index_words(db, product)
            return product

        return await self._engine.write(job)

    async def delete(self, pid: str) -> bool:
        # Its words and cart lines go by ON DELETE CASCADE, in the same statement.
        return await self._engine.write(rows.changes("DELETE FROM products WHERE id = ?", pid))

    async def upsert_by_code(
        self, products: Sequence[Product], progress: Progress | None = None
    ) -> Upserted:
        prepared = await asyncio.to_thread(bulk_products.prepare, products)
        return await self._engine.write(lambda db: bulk_products.upsert(db, prepared, progress))

    async def find_codes(self, codes: Collection[str]) -> dict[str, Product]:
        if not codes:
            return {}
        return await self._engine.read(lambda db: bulk_products.find_codes(db, codes))

    async def batches(self, size: int) -> AsyncIterator[list[Product]]:
        last: str | None = None
        while True:
            # The default argument binds this round's `last` (the loop changes it).
            batch = await self._engine.read(
                lambda db, after=last: bulk_products.after(db, after, size)
            )
            if not batch:
                return
            yield batch
            last = batch[-1].id


def _index_words(db: sqlite3.Connection, product: Product) -> None:
    db.executemany(
        "INSERT INTO product_words (word, product_id) VALUES (?, ?)",
        [
            (word, product.id)
            for word in product_words(product.title, product.description, product.code)
        ],
    )


def _count_matches(db: sqlite3.Connection, matches: str, params: dict[str, Any]) -> int:
    """How many products `matches` lists (it lists the ids of the first word's range), up
    to COUNT_LIMIT + 1.

    When the range holds one word (a whole word was searched for), each product comes
    once and SQLite counts; when it holds several ("pro": "product", "producto"), a
    product may come once per word, so the ids are told apart as they come.
    """
    most = COUNT_LIMIT + 1
    bounds = (params["first"], params["first_end"])
    first = db.execute(_FIRST_WORD, bounds).fetchone()
    if first is None:
        return 0
    if db.execute(_ANOTHER_WORD, (first[0], bounds[1])).fetchone() is None:
        sql = f"SELECT count(*) FROM ({matches} LIMIT {most})"  # noqa: S608 (constants)
        return int(db.execute(sql, params).fetchone()[0])
    seen: set[str] = set()
    cursor = db.execute(matches, params)
    for (pid,) in cursor:
        seen.add(pid)
        if len(seen) >= most:
            break
    cursor.close()
    return len(seen)


_FIRST_WORD = "SELECT word FROM product_words WHERE word >= ? AND word < ? LIMIT 1"
_ANOTHER_WORD = "SELECT 1 FROM product_words WHERE word > ? AND word < ? LIMIT 1"


def _paging(query: ProductQuery) -> dict[str, int]:
    return {"limit": query.limit, "offset": (query.page - 1) * query.limit}


def _page_sql(query: ProductQuery, where: str) -> str:
    if query.sort is None:
        order = "id"
    else:
        direction = " DESC" if query.sort.descending else ""
        order = f"{_COLUMNS[query.sort.field]}{direction}, id{direction}"
    # Only constant fragments are formatted in; every value is a bound parameter.
    return f"SELECT * FROM products {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # noqa: S608


def _has_word(name: str, *, selective: bool) -> str:
    """The condition "the product has a word starting with :<name>": a list of the word's
    products when it is known to be rare, else a probe of each product's own words."""
    if selective:
        return (
            f"id IN (SELECT product_id FROM product_words"  # noqa: S608
            f" WHERE word >= :{name} AND word < :{name}_end)"
        )
    return (
        f"EXISTS (SELECT 1 FROM product_words AS pw WHERE pw.product_id = products.id"  # noqa: S608
        f" AND pw.word >= :{name} AND pw.word < :{name}_end)"
    )


def _where(query: ProductQuery, words: Sequence[str] | None = None) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a listing and its parameters (values are always bound); `words`
    replaces the query's own search words."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if not query.include_hidden:
        clauses.append("status = 1")
    if query.category is not None:
        clauses.append("category_key = :category")
        params["category"] = query.category.lower()
    if query.available is True:
        clauses.append("status = 1 AND stock > 0")
    elif query.available is False:
        clauses.append("(status = 0 OR stock = 0)")
    if query.on_sale is not None:
        clauses.append("status = :on_sale")
        params["on_sale"] = int(query.on_sale)
    if query.low_stock:
        clauses.append("stock <= :low_stock")
        params["low_stock"] = LOW_STOCK
    for n, word in enumerate(query.words if words is None else words):
        # Each word of the query is the start of one of the product's words: a probe of
        # the product's words in the index. Only the parameter names are formatted in.
        clauses.append(_has_word(f"w{n}", selective=False))
        params[f"w{n}"], params[f"w{n}_end"] = word, prefix_end(word)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _count(db: sqlite3.Connection, key: str) -> int:
    row = db.execute("SELECT n FROM product_counts WHERE key = ?", (key,)).fetchone()
    return row["n"] if row else 0


def _total(db: sqlite3.Connection, query: ProductQuery, where: str, params: dict[str, Any]) -> int:
    """How many products match: from the trigger-kept counters when one holds the answer,
    else counted."""
    plain = not query.low_stock and query.on_sale is None
    visible = "" if query.include_hidden else "visible:"
    if plain and query.available is None and query.category is None:
        return _count(db, "all" if query.include_hidden else "visible")
    if plain and query.available is None:
        return _count(db, f"{visible}category:{query.category.lower()}")  # type: ignore[union-attr]
    if plain and query.available is True and query.category is None:
        return _count(db, "available")
    sql = f"SELECT count(*) FROM products {where}"  # noqa: S608 (constant fragments only)
    return db.execute(sql, params).fetchone()[0]
