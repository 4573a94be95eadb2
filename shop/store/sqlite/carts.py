"""Carts in SQLite: every change checks, writes and reads the cart back in one job."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from shop.models.carts import MAX_QUANTITY, Cart, CartLine
from shop.store.base import (
    LineTooLarge,
    MissingCart,
    MissingLine,
    MissingProduct,
    NotCartOwner,
    NotEnoughStock,
    StoreError,
)
from shop.store.sqlite import rows
from shop.store.sqlite.engine import Engine, snapshot


class SQLiteCarts:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def create(self, cid: str, owner: str | None) -> Cart:
        def job(db: sqlite3.Connection) -> None:
            try:
                db.execute("INSERT INTO carts (id, owner) VALUES (?, ?)", (cid, owner))
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
                    raise
                raise StoreError(f"cart owner {owner} does not exist") from None

        await self._engine.write(job)
        return Cart(id=cid, owner=owner)

    async def get(self, cid: str, owner: str | None = None) -> Cart:
        def job(db: sqlite3.Connection) -> Cart:
            with snapshot(db):  # the owner check and the lines from one view
                _require_cart(db, cid, owner)
                return read_cart(db, cid)

        return await self._engine.read(job)

    async def add(self, cid: str, pid: str, quantity: int, owner: str | None = None) -> Cart:
        def change(db: sqlite3.Connection) -> None:
            stock = _stock(db, pid)
            new_quantity = _line_quantity(db, cid, pid) + quantity
            if new_quantity > MAX_QUANTITY:
                raise LineTooLarge(pid)
            if new_quantity > stock:
                raise NotEnoughStock(pid)
            # A new line goes last; an existing one keeps its place.
            db.execute(
                "INSERT INTO cart_lines (cart_id, product_id, quantity, seq)"
                " VALUES (:cid, :pid, :quantity,"
                " (SELECT coalesce(max(seq), 0) + 1 FROM cart_lines WHERE cart_id = :cid))"
                " ON CONFLICT (cart_id, product_id)"
                " DO UPDATE SET quantity = quantity + excluded.quantity",
                {"cid": cid, "pid": pid, "quantity": quantity},
            )

        return await self._change(cid, owner, change)

    async def set_quantity(
        self, cid: str, pid: str, quantity: int, owner: str | None = None
    ) -> Cart:
        def change(db: sqlite3.Connection) -> None:
            stock = _stock(db, pid)
            # A missing line is "not found" whatever the quantity asked.
            if not _line_quantity(db, cid, pid):
                raise MissingLine(pid)
            if quantity > stock:
                raise NotEnoughStock(pid)
            db.execute(
                "UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND product_id = ?",
                (quantity, cid, pid),
            )

        return await self._change(cid, owner, change)

    async def remove(self, cid: str, pid: str, owner: str | None = None) -> Cart:
        def change(db: sqlite3.Connection) -> None:
            sql = "DELETE FROM cart_lines WHERE cart_id = ? AND product_id = ?"
            if db.execute(sql, (cid, pid)).rowcount != 1:
                raise MissingLine(pid)

        return await self._change(cid, owner, change)

    async def replace(
        self, cid: str, lines: Sequence[tuple[str, int]], owner: str | None = None
    ) -> Cart:
        def change(db: sqlite3.Connection) -> None:
            for pid, quantity in lines:
                if quantity > _stock(db, pid):
                    raise NotEnoughStock(pid)
            db.execute("DELETE FROM cart_lines WHERE cart_id = ?", (cid,))
            db.executemany(
                "INSERT INTO cart_lines (cart_id, product_id, quantity, seq) VALUES (?, ?, ?, ?)",
                [(cid, pid, qty, seq) for seq, (pid, qty) in enumerate(lines, start=1)],
            )

        return await self._change(cid, owner, change)

    async def clear(self, cid: str, owner: str | None = None) -> Cart:
        def change(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM cart_lines WHERE cart_id = ?", (cid,))

        return await self._change(cid, owner, change)

    async def _change(
        self, cid: str, owner: str | None, change: Callable[[sqlite3.Connection], None]
    ) -> Cart:
        """Check the cart (and its owner), apply `change` and read the cart back: one job."""

        def job(db: sqlite3.Connection) -> Cart:
            _require_cart(db, cid, owner)
            change(db)
            return read_cart(db, cid)

        return await self._engine.write(job)


def read_cart(db: sqlite3.Connection, cid: str) -> Cart:
    """The cart with its lines' products, in the order the lines were added."""
    found = db.execute(_READ_CART, (cid,)).fetchall()
    if not found:
        raise MissingCart(cid)
    lines = tuple(
        CartLine(product=rows.product_at(row, 3), quantity=row[2])
        for row in found
        if row[2] is not None  # an empty cart is one row of NULLs
    )
    return Cart(id=cid, owner=found[0][0], lines=lines, version=found[0][1])


# The owner, the cart's version, each line's quantity, then its product's columns (read
# by position).
_PRODUCT = rows.product_columns("products")
_READ_CART = (
    f"SELECT carts.owner, carts.version, cart_lines.quantity, {_PRODUCT}"  # noqa: S608
    " FROM carts"
    " LEFT JOIN cart_lines ON cart_lines.cart_id = carts.id"
    " LEFT JOIN products ON products.id = cart_lines.product_id"
    " WHERE carts.id = ? ORDER BY cart_lines.seq"
)


def _require_cart(db: sqlite3.Connection, cid: str, owner: str | None) -> None:
    row = db.execute("SELECT owner FROM carts WHERE id = ?", (cid,)).fetchone()
    if row is None:
        raise MissingCart(cid)
    if owner is not None and row["owner"] != owner:
        raise NotCartOwner(cid)


def _stock(db: sqlite3.Connection, pid: str) -> int:
    row = db.execute("SELECT stock FROM products WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise MissingProduct(pid)
    return row["stock"]


def _line_quantity(db: sqlite3.Connection, cid: str, pid: str) -> int:
    """The line's quantity, 0 when the cart has no such line."""
    sql = "SELECT quantity FROM cart_lines WHERE cart_id = ? AND product_id = ?"
    row = db.execute(sql, (cid, pid)).fetchone()
    return row["quantity"] if row else 0
