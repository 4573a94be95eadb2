"""Rows to records: the converters every aggregate of the SQLite store shares."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from shop.models.products import Product
from shop.models.users import Role, User
from shop.store.base import DuplicateKey

_UNIQUE_FIELDS = {"products.code": "code", "users.email": "email"}


def product(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        code=row["code"],
        price_cents=row["price_cents"],
        status=bool(row["status"]),
        stock=row["stock"],
        category=row["category"],
        thumbnails=tuple(json.loads(row["thumbnails"])),
        version=row["version"],
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
