"""Personal API tokens in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from shop.models.tokens import ApiToken
from shop.models.users import User
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        uid=row["uid"],
        name=row["name"],
        created=row["created"],
        last_used=row["last_used"],
    )


class SQLiteTokens:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, token: ApiToken, token_hash: str) -> bool:
        # Only for a user that still exists (the foreign key would refuse it otherwise).
        sql = (
            "INSERT INTO tokens (id, uid, name, hash, created)"
            " SELECT ?, id, ?, ?, ? FROM users WHERE id = ?"
        )
        params = (token.id, token.name, token_hash, token.created, token.uid)
        return await self._engine.write(rows.changes(sql, *params))

    async def get_user(self, token_hash: str) -> tuple[User, str] | None:
        def job(db: sqlite3.Connection) -> tuple[User, str] | None:
            row = db.execute(
                "SELECT users.*, tokens.id AS token_id FROM tokens"
                " JOIN users ON users.id = tokens.uid WHERE tokens.hash = ?",
                (token_hash,),
            ).fetchone()
            return (rows.user(row), row["token_id"]) if row else None

        return await self._engine.read(job)

    async def list(self, uid: str) -> list[ApiToken]:
        def job(db: sqlite3.Connection) -> list[ApiToken]:
            found = db.execute("SELECT * FROM tokens WHERE uid = ? ORDER BY id", (uid,))
            return [_token(row) for row in found]

        return await self._engine.read(job)

    async def delete(self, uid: str, tid: str) -> bool:
        sql = "DELETE FROM tokens WHERE id = ? AND uid = ?"
        return await self._engine.write(rows.changes(sql, tid, uid))

    async def delete_for_user(self, uid: str) -> None:
        await self._engine.write(rows.changes("DELETE FROM tokens WHERE uid = ?", uid))

    async def touch(self, used: Mapping[str, float]) -> None:
        def job(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE tokens SET last_used = max(coalesce(last_used, 0), ?) WHERE id = ?",
                [(when, tid) for tid, when in used.items()],
            )

        await self._engine.write(job)
