"""Rows to records: the converters every aggregate of the SQLite store shares."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from shop.models.products import Product
from shop.models.search import prefix_end
from shop.models.users import Role, User
from shop.store.base import DuplicateKey

_UNIQUE_FIELDS = {"products.code": "code", "users.email": "email"}


# The products columns `product_at` reads, in its order. Hot paths select them by name in
# this order (never `*`: a migrated file holds its columns in another order) and read
# them by position, which costs a cart of ten lines a tenth of its conversion time.
PRODUCT_COLUMNS = (
    "id",
    "title",
    "description",
    "code",
    "price_cents",
    "status",
    "stock",
    "category",
    "thumbnails",
    "version",
)


def product_columns(table: str = "") -> str:
    """PRODUCT_COLUMNS for a SELECT list, each prefixed with `table.` when given."""
    prefix = f"{table}." if table else ""
    return ", ".join(prefix + column for column in PRODUCT_COLUMNS)


def product(row: sqlite3.Row) -> Product:
    """The product in a row that has the products table's columns (read by name)."""
    return product_at(tuple(row[column] for column in PRODUCT_COLUMNS))


def product_at(row: Sequence[Any], start: int = 0) -> Product:
    """The product in a row holding PRODUCT_COLUMNS, in their order, from column `start`."""
    (id_, title, description, code, price_cents, status, stock, category, thumbnails, version) = (
        row[start : start + len(PRODUCT_COLUMNS)]
    )
    return Product(
        id=id_,
        title=title,
        description=description,
        code=code,
        price_cents=price_cents,
        status=bool(status),
        stock=stock,
        category=category,
        thumbnails=() if thumbnails == "[]" else tuple(json.loads(thumbnails)),
        version=version,
    )


def user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        age=row["age"],
        role=Role(row["role"]),
        cart=row["cart"],
        password_hash=row["password_hash"],
    )


@contextmanager
def unique_fields() -> Iterator[None]:
    """Turn a UNIQUE violation on a field the protocol names into DuplicateKey(field)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        field = _UNIQUE_FIELDS.get(str(exc).removeprefix("UNIQUE constraint failed: "))
        if field is None:
            raise
        raise DuplicateKey(field) from None


def changes(sql: str, *params: object) -> Callable[[sqlite3.Connection], bool]:
    """A job running one write; True when it changed a row."""
    return lambda db: db.execute(sql, params).rowcount > 0


def one_user(sql: str, *params: object) -> Callable[[sqlite3.Connection], User | None]:
    def job(db: sqlite3.Connection) -> User | None:
        row = db.execute(sql, params).fetchone()
        return user(row) if row else None

    return job


# The word indexes a search walks: table -> the column naming the record it indexes.
_WORD_INDEXES = {"product_words": "product_id", "user_words": "user_id"}


def word_matches(index: str, words: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """WHERE clauses keeping the records each of whose `words` starts one of their words
    in the `index` table (a range scan of it per word), and their bound parameters."""
    column = _WORD_INDEXES[index]
    clauses: list[str] = []
    params: dict[str, str] = {}
    for n, word in enumerate(words):
        # Only constant names are formatted in; the words are bound parameters.
        clauses.append(
            f"id IN (SELECT {column} FROM {index} WHERE word >= :w{n} AND word < :e{n})"  # noqa: S608
        )
        params[f"w{n}"], params[f"e{n}"] = word, prefix_end(word)
    return clauses, params
