"""User accounts in SQLite."""

from __future__ import annotations

import sqlite3

from shop.models.listing import Page
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

        await self._engine.write(job)

    async def get(self, uid: str) -> User | None:
        return await self._engine.read(rows.one_user("SELECT * FROM users WHERE id = ?", uid))

    async def get_by_email(self, email: str) -> User | None:
        sql = "SELECT * FROM users WHERE email = ?"
        return await self._engine.read(rows.one_user(sql, email))

    async def list(self, limit: int, page: int) -> Page[User]:
        def job(db: sqlite3.Connection) -> Page[User]:
            with snapshot(db):
                found = db.execute(
                    "SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?", (limit, (page - 1) * limit)
                )
                items = [rows.user(row) for row in found]
                total = db.execute("SELECT count(*) FROM users").fetchone()[0]
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
