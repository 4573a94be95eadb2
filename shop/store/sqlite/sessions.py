"""Server-side session records in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection

from shop.models.users import User
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine


class SQLiteSessions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, sid: str, uid: str, expires_at: float) -> None:
        # A user deleted meanwhile gets no session, which reads the same as a session
        # whose user is gone (get_user answers None either way).
        sql = "INSERT INTO sessions (sid, uid, expires_at) SELECT ?, id, ? FROM users WHERE id = ?"
        await self._engine.write(rows.changes(sql, sid, expires_at, uid))

    async def get_user(self, sid: str, now: float) -> User | None:
        sql = (
            "SELECT users.* FROM sessions JOIN users ON users.id = sessions.uid"
            " WHERE sessions.sid = ? AND sessions.expires_at > ?"
        )
        return await self._engine.read(rows.one_user(sql, sid, now))

    async def delete(self, sid: str) -> None:
        await self._engine.write(rows.changes("DELETE FROM sessions WHERE sid = ?", sid))

    async def delete_for_user(self, uid: str, keep: str | None = None) -> None:
        # `sid IS NOT NULL` is true for every row, so keep=None ends them all.
        sql = "DELETE FROM sessions WHERE uid = ? AND sid IS NOT ?"
        await self._engine.write(rows.changes(sql, uid, keep))

    async def alive(self, sids: Collection[str], now: float) -> set[str]:
        sql = (
            "SELECT sid FROM sessions WHERE expires_at > ?"
            " AND sid IN (SELECT value FROM json_each(?))"
        )

        def job(db: sqlite3.Connection) -> set[str]:
            return {row[0] for row in db.execute(sql, (now, json.dumps(list(sids))))}

        return await self._engine.read(job)

    async def purge(self, now: float) -> int:
        def job(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount

        return await self._engine.write(job)
