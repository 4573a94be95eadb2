"""User accounts in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from shop.models.listing import Page
from shop.models.search import user_words
from shop.models.users import Role, User
from shop.store.base import LastAdmin
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine, snapshot


class SQLiteUsers:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def insert(self, user: User) -> None:
        def job(db: sqlite3.Connection) -> None:
            with rows.unique_fields():
                db.execute(
                    "INSERT INTO users (id, first_name, last_name, email, age, role, cart,"
                    " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *(user.id, user.first_name, user.last_name, user.email, user.age),
                        *(str(user.role), user.cart, user.password_hash),
                    ),
                )
            found_by = user_words(user.first_name, user.last_name, user.email)
            db.executemany(
                "INSERT INTO user_words (word, user_id) VALUES (?, ?)",
                [(word, user.id) for word in found_by],
            )

        await self._engine.write(job)

    async def get(self, uid: str) -> User | None:
        return await self._engine.read(rows.one_user("SELECT * FROM users WHERE id = ?", uid))

    async def get_by_email(self, email: str) -> User | None:
        sql = "SELECT * FROM users WHERE email = ?"
        return await self._engine.read(rows.one_user(sql, email))

    async def list(self, limit: int, page: int) -> Page[User]:
        return await self.search((), limit, page)

    async def search(self, words: Sequence[str], limit: int, page: int) -> Page[User]:
        clauses, params = rows.word_matches("user_words", words)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        select = f"SELECT * FROM users {where} ORDER BY id LIMIT :limit OFFSET :offset"  # noqa: S608
        count = f"SELECT count(*) FROM users {where}"  # noqa: S608
        paged = {**params, "limit": limit, "offset": (page - 1) * limit}

        def job(db: sqlite3.Connection) -> Page[User]:
            with snapshot(db):
                found = db.execute(select, paged)
                items = [rows.user(row) for row in found]
                total = db.execute(count, params).fetchone()[0]
            return Page(items=items, total=total, page=page, limit=limit)

        return await self._engine.read(job)

    async def delete(self, uid: str) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            _keep_an_admin(db, uid)
            # Their sessions, tokens, carts and the carts' lines go by ON DELETE CASCADE.
            return db.execute("DELETE FROM users WHERE id = ?", (uid,)).rowcount > 0

        return await self._engine.write(job)

    async def set_password_hash(self, uid: str, password_hash: str) -> bool:
        sql = "UPDATE users SET password_hash = ? WHERE id = ?"
        return await self._engine.write(rows.changes(sql, password_hash, uid))

    async def set_role(self, uid: str, role: Role) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            if role is not Role.ADMIN:
                _keep_an_admin(db, uid)
            sql = "UPDATE users SET role = ? WHERE id = ?"
            return db.execute(sql, (str(role), uid)).rowcount > 0

        return await self._engine.write(job)

    async def set_cart(self, uid: str, cid: str) -> bool:
        sql = "UPDATE users SET cart = ? WHERE id = ?"
        return await self._engine.write(rows.changes(sql, cid, uid))


def _keep_an_admin(db: sqlite3.Connection, uid: str) -> None:
    """Raise LastAdmin when `uid` is an admin and no other admin exists.

    Runs inside the write transaction of the change it guards (BEGIN IMMEDIATE: one writer
    at a time), so two admins demoting each other are serialised and the second sees that
    the first is gone.
    """
    admin = db.execute("SELECT 1 FROM users WHERE id = ? AND role = 'admin'", (uid,)).fetchone()
    if admin is None:
        return
    other = db.execute(
        "SELECT 1 FROM users WHERE role = 'admin' AND id != ? LIMIT 1", (uid,)
    ).fetchone()
    if other is None:
        raise LastAdmin(uid)
