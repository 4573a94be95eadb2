"""Failed-attempt windows in SQLite (shop.store.throttle)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine
from shop.store.throttle import Window

# One statement per key: a new key, or a passed window, starts again at one.
_HIT = """
INSERT INTO throttle (key, count, reset_at) VALUES (:key, 1, :reset_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN reset_at > :now THEN count + 1 ELSE 1 END,
    reset_at = CASE WHEN reset_at > :now THEN reset_at ELSE :reset_at END
RETURNING count, reset_at
"""


class SQLiteThrottle:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def counts(self, keys: Sequence[str], now: float) -> list[Window]:
        def job(db: sqlite3.Connection) -> list[Window]:
            # Only placeholders are formatted in; the keys are bound.
            marks = ", ".join("?" * len(keys))
            sql = f"SELECT * FROM throttle WHERE key IN ({marks}) AND reset_at > ?"  # noqa: S608
            found = {
                row["key"]: Window(row["count"], row["reset_at"])
                for row in db.execute(sql, (*keys, now))
            }
            return [found.get(key, Window()) for key in keys]

        return await self._engine.read(job)

    async def hit(self, keys: Sequence[str], now: float, window: float) -> list[Window]:
        def job(db: sqlite3.Connection) -> list[Window]:
            windows = []
            for key in keys:
                params = {"key": key, "now": now, "reset_at": now + window}
                count, reset_at = db.execute(_HIT, params).fetchone()
                windows.append(Window(count, reset_at))
            return windows

        return await self._engine.write(job)

    async def clear(self, key: str) -> None:
        await self._engine.write(rows.changes("DELETE FROM throttle WHERE key = ?", key))

    async def purge(self, now: float) -> int:
        def job(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM throttle WHERE reset_at <= ?", (now,)).rowcount

        return await self._engine.write(job)
