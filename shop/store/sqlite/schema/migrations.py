"""Changes to tables that already exist in older files, by schema version.

`PRAGMA user_version` holds the version a file is at. A new file gets the latest schema
at once (the .sql files create it); an older one runs each step from its version up,
before the .sql files add what is new. Add a step here when a released table changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


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


def _versions(db: sqlite3.Connection) -> None:
    # Products and carts count their writes (triggers in products.sql and carts.sql).
    for table, first in (("products", 1), ("carts", 0)):
        sql = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"
        if db.execute(sql, (table,)).fetchone():  # else carts.sql creates it whole
            db.execute(f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT {first}")


# STEPS[n] takes a file from version n to n + 1.
STEPS: list[Callable[[sqlite3.Connection], None]] = [_prices_to_cents, _versions]
LATEST = len(STEPS)
