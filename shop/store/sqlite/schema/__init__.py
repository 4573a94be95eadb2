"""The embedded store's schema: one .sql file per aggregate, and the migrations.

Every statement in the .sql files is idempotent, so opening an existing file (or two
processes starting at once) is safe.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shop.store.sqlite.schema.migrations import LATEST, STEPS

_HERE = Path(__file__).parent
# In dependency order: a table comes after those its foreign keys name.
AGGREGATES = ("products", "users", "sessions", "carts", "tokens", "throttle", "orders")


def prepare(db: sqlite3.Connection) -> None:
    """Bring the file at `db` to the latest schema, in one transaction."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        exists = db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'products'"
        ).fetchone()
        pending = STEPS[version:] if exists else []
        for step in pending:
            step.before(db)
        for name in AGGREGATES:
            for statement in _statements((_HERE / f"{name}.sql").read_text()):
                db.execute(statement)
        for step in pending:
            step.after(db)
        db.execute(f"PRAGMA user_version = {LATEST}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a script into whole statements (triggers hold semicolons of their own)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    return [statement for statement in statements if statement.strip("; \n")]
