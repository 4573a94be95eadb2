"""Changes to tables that already exist in older files, by schema version.

`PRAGMA user_version` holds the version a file is at. A new file gets the latest schema
at once (the .sql files create it); an older one runs each step from its version up:
`before` runs before the .sql files (altering what exists), `after` once they have run
(filling what they created). Add a step here when a released table changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from shop.models.search import product_words, sort_key, user_words

type Step = Callable[[sqlite3.Connection], None]


def _nothing(db: sqlite3.Connection) -> None:
    pass


@dataclass(frozen=True)
class Migration:
    before: Step
    after: Step = _nothing


def _prices_to_cents(db: sqlite3.Connection) -> None:
    # REAL prices become exact integer cents (rounded half away from zero, as SQLite's
    # round() does), and the indexes on the old column are rebuilt on the new one.
    db.execute(
        "ALTER TABLE products ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0"
        " CHECK (price_cents >= 0)"
    )
    db.execute("UPDATE products SET price_cents = CAST(round(price * 100) AS INTEGER)")
    for index in ("products_price", "products_category_price", "products_status_price"):
        db.execute(f"DROP INDEX IF EXISTS {index}")
    db.execute("ALTER TABLE products DROP COLUMN price")


def _add_search(db: sqlite3.Connection) -> None:
    # The title's sort key; the counters' triggers change meaning ('available' now needs
    # stock too), so the old ones go and the .sql file makes the new ones.
    db.execute("ALTER TABLE products ADD COLUMN title_key TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT id, title FROM products").fetchall()
    db.executemany(
        "UPDATE products SET title_key = ? WHERE id = ?", [(sort_key(r[1]), r[0]) for r in rows]
    )
    for trigger in ("insert", "delete", "update"):
        db.execute(f"DROP TRIGGER IF EXISTS products_counted_{trigger}")


def _index_words_and_recount(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT id, title, description, code FROM products").fetchall()
    db.executemany(
        "INSERT OR IGNORE INTO product_words (word, product_id) VALUES (?, ?)",
        [(word, r[0]) for r in rows for word in product_words(r[1], r[2], r[3])],
    )
    recount_products(db)


def recount_products(db: sqlite3.Connection) -> None:
    """Rebuild every listing total from the products themselves."""
    db.execute("DELETE FROM product_counts")
    db.execute(
        "INSERT INTO product_counts (key, n) VALUES"
        " ('all', (SELECT count(*) FROM products)),"
        " ('visible', (SELECT count(*) FROM products WHERE status = 1)),"
        " ('available', (SELECT count(*) FROM products WHERE status = 1 AND stock > 0))"
    )
    db.execute(
        "INSERT INTO product_counts (key, n)"
        " SELECT 'category:' || category_key, count(*) FROM products GROUP BY category_key"
    )
    db.execute(
        "INSERT INTO product_counts (key, n) SELECT 'visible:category:' || category_key,"
        " count(*) FROM products WHERE status = 1 GROUP BY category_key"
    )


def _versions(db: sqlite3.Connection) -> None:
    # Products and carts count their writes (triggers in products.sql and carts.sql).
    for table, first in (("products", 1), ("carts", 0)):
        sql = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"
        if db.execute(sql, (table,)).fetchone():  # else carts.sql creates it whole
            db.execute(f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT {first}")


def _index_user_words(db: sqlite3.Connection) -> None:
    # users.sql made the table; the accounts that existed before get their words.
    rows = db.execute("SELECT id, first_name, last_name, email FROM users").fetchall()
    db.executemany(
        "INSERT OR IGNORE INTO user_words (word, user_id) VALUES (?, ?)",
        [(word, r[0]) for r in rows for word in user_words(r[1], r[2], r[3])],
    )


# The step that gives accounts their search words (the tests stage a file from before it).
INDEX_USER_WORDS = Migration(_nothing, _index_user_words)


# STEPS[n] takes a file from version n to n + 1.
STEPS: list[Migration] = [
    Migration(_prices_to_cents),
    Migration(_add_search, _index_words_and_recount),
    Migration(_versions),
    INDEX_USER_WORDS,
]
LATEST = len(STEPS)
