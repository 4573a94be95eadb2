"""The bench's data: products and purchase carts written straight into the SQLite file
(while no server runs on it), and users registered through the API like anyone else."""

from __future__ import annotations

import asyncio
import random
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bson import ObjectId
from servers import BenchError, request, session_cookie

from shop.models.search import product_words

CATEGORIES = [f"Category {n:02d}" for n in range(20)]
STOCK = 1_000_000_000  # the largest the API accepts: adds and purchases never run out

# The columns of the shop's tables the bench writes; checked against the file the shop
# creates, so a schema change stops the bench instead of seeding rows the shop misreads.
PRODUCT_COLUMNS = (
    "id",
    "title",
    "description",
    "code",
    "price_cents",
    "status",
    "stock",
    "category",
    "category_key",
    "thumbnails",
    "title_key",
    "version",
)
CART_COLUMNS = ("id", "owner", "version")
LINE_COLUMNS = ("cart_id", "product_id", "quantity", "seq")


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: str
    cart: str
    cookie: str


async def _create_schema(path: Path) -> None:
    from shop.store.sqlite import SQLiteStore

    store = await SQLiteStore.open(path)
    await store.close()


def _check_columns(db: sqlite3.Connection, table: str, expected: Sequence[str]) -> None:
    columns = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
    if sorted(columns) != sorted(expected):
        raise BenchError(f"{table} columns are {columns}, the bench seeds {tuple(expected)}")


def _bulk(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")  # a throwaway file: no need to survive a crash
    db.execute("PRAGMA cache_size = -262144")  # 256 MiB: every index stays in memory
    return db


def seed_products(path: Path, count: int, rng: random.Random) -> list[str]:
    """Create the shop's schema in a new file and bulk-insert `count` products; their ids.

    The store's own triggers keep product_counts as the rows go in (the totals the
    listing answers from); the counts are checked afterwards.
    """
    asyncio.run(_create_schema(path))
    rows = []
    available = 0
    per_category = dict.fromkeys(CATEGORIES, 0)
    visible_per_category = dict.fromkeys(CATEGORIES, 0)
    for n in range(count):
        category = CATEGORIES[n % len(CATEGORIES)]
        status = int(rng.random() < 0.9)
        available += status
        per_category[category] += 1
        visible_per_category[category] += status
        rows.append(
            (
                str(ObjectId()),
                f"Product {n}",
                f"Bench product number {n}, seeded for load tests.",
                f"BENCH-{n:07d}",
                rng.randint(100, 100_000),  # cents
                status,
                STOCK,
                category,
                category.lower(),
                "[]",
                f"product {n}",
                1,  # version
            )
        )
    with closing(_bulk(path)) as db:
        _check_columns(db, "products", PRODUCT_COLUMNS)
        db.execute("BEGIN IMMEDIATE")
        placeholders = ", ".join("?" * len(PRODUCT_COLUMNS))
        db.executemany(
            f"INSERT INTO products ({', '.join(PRODUCT_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )
        # The search index, as the store keeps it (shop.models.search).
        db.executemany(
            "INSERT INTO product_words (word, product_id) VALUES (?, ?)",
            [(word, row[0]) for row in rows for word in product_words(row[1], row[2], row[3])],
        )
        db.execute("COMMIT")
        # A counter at 0 (a category whose first product is hidden) counts as no counter.
        counts = dict(db.execute("SELECT key, n FROM product_counts WHERE n != 0"))
    # Every seeded product has stock: each one on sale is available too.
    expected = {"all": count, "visible": available, "available": available}
    expected |= {f"category:{c.lower()}": n for c, n in per_category.items() if n}
    expected |= {f"visible:category:{c.lower()}": n for c, n in visible_per_category.items() if n}
    if counts != expected:
        raise BenchError(f"product_counts after seeding is {counts}, expected {expected}")
    return [row[0] for row in rows]


def register_users(port: int, count: int) -> list[BenchUser]:
    """Register and log in `count` users through the API; each has their own cart."""
    users = []
    for n in range(count):
        password = secrets.token_urlsafe(16)
        email = f"bench-{n}@bench.local"
        body = {
            "first_name": "Bench",
            "last_name": f"User {n}",
            "email": email,
            "age": 30,
            "password": password,
        }
        status, _, answer = request(port, "POST", "/api/users", body)
        if status != 201:
            raise BenchError(f"registration answered {status}: {answer}")
        login = {"email": email, "password": password}
        status, response, login_answer = request(port, "POST", "/api/sessions/login", login)
        if status != 200:
            raise BenchError(f"login answered {status}: {login_answer}")
        payload = answer["payload"]
        users.append(BenchUser(payload["_id"], payload["cart"], session_cookie(response)))
    return users


def seed_carts(
    path: Path, owners: Sequence[str], lines: Sequence[Sequence[str]], per_owner: int
) -> list[str]:
    """Give each owner `per_owner` new carts, each holding one of every product in that
    owner's `lines` (quantity 1); the carts' ids, owner by owner (cart k of owner i is at
    k * len(owners) + i, so walking the list visits every owner in turn)."""
    carts = [[str(ObjectId()) for _ in owners] for _ in range(per_owner)]
    with closing(_bulk(path)) as db:
        _check_columns(db, "carts", CART_COLUMNS)
        _check_columns(db, "cart_lines", LINE_COLUMNS)
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO carts (id, owner) VALUES (?, ?)",
            ((cid, owners[i]) for row in carts for i, cid in enumerate(row)),
        )
        db.executemany(
            "INSERT INTO cart_lines (cart_id, product_id, quantity, seq) VALUES (?, ?, 1, ?)",
            (
                (cid, pid, seq)
                for row in carts
                for i, cid in enumerate(row)
                for seq, pid in enumerate(lines[i], start=1)
            ),
        )
        db.execute("COMMIT")
    return [cid for row in carts for cid in row]
