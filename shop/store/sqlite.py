"""The embedded default store: one SQLite file, one worker thread that owns the connection.

Each method runs one function in that thread, so every method is one atomic unit and the
event loop never waits on the disk. A write that must read first holds BEGIN IMMEDIATE
(the write lock) from the read to the COMMIT, so what it checked is still true when it writes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shop.service.models import Cart, CartLine, Page, Product, ProductQuery, Role, User
from shop.store.base import (
    DuplicateKey,
    MissingCart,
    MissingProduct,
    NotEnoughStock,
    StoreError,
    StoreUnavailable,
)

_SCHEMA_FILE = Path(__file__).with_name("sqlite_schema.sql")

# Errors that mean the file cannot be reached or written, not a mistake in a statement.
_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_NOTADB,
}
_UNIQUE_FIELDS = {"products.code": "code", "users.email": "email"}
_PRODUCT_FIELDS = ("title", "description", "code", "price", "status", "stock", "category")
_ORDER = {None: "id", "asc": "price, id", "desc": "price DESC, id DESC"}


class SQLiteStore:
    """The Store protocol over one SQLite file; build it with `await SQLiteStore.open(path)`."""

    def __init__(self, executor: ThreadPoolExecutor, db: sqlite3.Connection) -> None:
        self._executor = executor
        self._db = db
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteStore:
        """Open (creating the directory, file and schema when missing) the database at path."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shop-sqlite")
        try:
            db = await asyncio.get_running_loop().run_in_executor(executor, _connect, Path(path))
        except (OSError, sqlite3.Error) as exc:
            executor.shutdown(wait=False)
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise StoreUnavailable(f"cannot open the SQLite database {path}: {reason}") from None
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, db)

    async def close(self) -> None:
        if self._closed:
            return
        # Calls already queued run first: the worker takes jobs in order.
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._db.close)
        finally:
            self._executor.shutdown(wait=False)

    async def _run[T](self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run job in the worker thread, the only thread that touches the connection."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, job, self._db)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF in _UNAVAILABLE:
                raise StoreUnavailable(str(exc)) from exc
            raise

    async def ping(self) -> None:
        try:
            await self._run(lambda db: db.execute("SELECT n FROM product_counts").fetchone())
        except sqlite3.DatabaseError as exc:
            raise StoreUnavailable(str(exc)) from exc

    # -- products ------------------------------------------------------------------
    async def insert_product(self, product: Product) -> None:
        def job(db: sqlite3.Connection) -> None:
            with _unique_fields():
                db.execute(
                    "INSERT INTO products (id, title, description, code, price, status, stock,"
                    " category, category_key, thumbnails) VALUES (:id, :title, :description,"
                    " :code, :price, :status, :stock, :category, :category_key, :thumbnails)",
                    {
                        "id": product.id,
                        **{name: getattr(product, name) for name in _PRODUCT_FIELDS},
                        "category_key": product.category.lower(),
                        "thumbnails": json.dumps(list(product.thumbnails)),
                    },
                )

        await self._run(job)

    async def get_product(self, pid: str) -> Product | None:
        def job(db: sqlite3.Connection) -> Product | None:
            row = db.execute("SELECT * FROM products WHERE id = ?", (pid,)).fetchone()
            return _product(row) if row else None

        return await self._run(job)

    async def list_products(self, query: ProductQuery) -> Page[Product]:
        clauses: list[str] = []
        params: dict[str, object] = {
            "limit": query.limit,
            "offset": (query.page - 1) * query.limit,
        }
        if query.category is not None:
            clauses.append("category_key = :category")
            params["category"] = query.category.lower()
        if query.available is not None:
            clauses.append("status = :status")
            params["status"] = int(query.available)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        # Only constant fragments are formatted in; every value is a bound parameter.
        order = _ORDER[query.sort]
        sql = f"SELECT * FROM products {where} ORDER BY {order} LIMIT :limit OFFSET :offset"  # noqa: S608

        def job(db: sqlite3.Connection) -> Page[Product]:
            with _transaction(db, "BEGIN"):  # the page and its total from one snapshot
                items = [_product(row) for row in db.execute(sql, params)]
                total = _product_total(db, query)
            return Page(items=items, total=total, page=query.page, limit=query.limit)

        return await self._run(job)

    async def update_product(self, pid: str, changes: Mapping[str, Any]) -> Product | None:
        params = {name: changes.get(name) for name in _PRODUCT_FIELDS}
        category, thumbnails = changes.get("category"), changes.get("thumbnails")
        params["category_key"] = category.lower() if category is not None else None
        params["thumbnails"] = json.dumps(list(thumbnails)) if thumbnails is not None else None

        def job(db: sqlite3.Connection) -> Product | None:
            # No column is nullable, so NULL means "not given": one static statement
            # changes exactly the given fields.
            with _unique_fields():
                rows = db.execute(
                    "UPDATE products SET title = coalesce(:title, title),"
                    " description = coalesce(:description, description),"
                    " code = coalesce(:code, code), price = coalesce(:price, price),"
                    " status = coalesce(:status, status), stock = coalesce(:stock, stock),"
                    " category = coalesce(:category, category),"
                    " category_key = coalesce(:category_key, category_key),"
                    " thumbnails = coalesce(:thumbnails, thumbnails)"
                    " WHERE id = :id RETURNING *",
                    {**params, "id": pid},
                ).fetchall()  # all rows, so the statement finishes and commits
            return _product(rows[0]) if rows else None

        return await self._run(job)

    async def delete_product(self, pid: str) -> bool:
        # Its cart lines go by ON DELETE CASCADE, in the same statement.
        return await self._run(_changes("DELETE FROM products WHERE id = ?", pid))

    # -- users ---------------------------------------------------------------------
    async def insert_user(self, user: User) -> None:
        def job(db: sqlite3.Connection) -> None:
            with _unique_fields():
                db.execute(
                    "INSERT INTO users (id, first_name, last_name, email, age, role, cart,"
                    " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *(user.id, user.first_name, user.last_name, user.email, user.age),
                        *(str(user.role), user.cart, user.password_hash),
                    ),
                )

        await self._run(job)

    async def get_user(self, uid: str) -> User | None:
        return await self._run(_one_user("SELECT * FROM users WHERE id = ?", uid))

    async def get_user_by_email(self, email: str) -> User | None:
        return await self._run(_one_user("SELECT * FROM users WHERE email = ?", email))

    async def list_users(self, limit: int, page: int) -> Page[User]:
        def job(db: sqlite3.Connection) -> Page[User]:
            with _transaction(db, "BEGIN"):
                rows = db.execute(
                    "SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?", (limit, (page - 1) * limit)
                )
                items = [_user(row) for row in rows]
                total = db.execute("SELECT count(*) FROM users").fetchone()[0]
            return Page(items=items, total=total, page=page, limit=limit)

        return await self._run(job)

    async def delete_user(self, uid: str) -> bool:
        # Their sessions, carts and the carts' lines go by ON DELETE CASCADE.
        return await self._run(_changes("DELETE FROM users WHERE id = ?", uid))

    async def set_password_hash(self, uid: str, password_hash: str) -> bool:
        sql = "UPDATE users SET password_hash = ? WHERE id = ?"
        return await self._run(_changes(sql, password_hash, uid))

    async def set_role(self, uid: str, role: Role) -> bool:
        return await self._run(_changes("UPDATE users SET role = ? WHERE id = ?", str(role), uid))

    async def set_user_cart(self, uid: str, cid: str) -> bool:
        return await self._run(_changes("UPDATE users SET cart = ? WHERE id = ?", cid, uid))

    # -- server-side sessions --------------------------------------------------------
    async def create_session(self, sid: str, uid: str, expires_at: float) -> None:
        # A user deleted meanwhile gets no session, which reads the same as a session
        # whose user is gone (get_session_user answers None either way).
        sql = "INSERT INTO sessions (sid, uid, expires_at) SELECT ?, id, ? FROM users WHERE id = ?"
        await self._run(_changes(sql, sid, expires_at, uid))

    async def get_session_user(self, sid: str, now: float) -> User | None:
        sql = (
            "SELECT users.* FROM sessions JOIN users ON users.id = sessions.uid"
            " WHERE sessions.sid = ? AND sessions.expires_at > ?"
        )
        return await self._run(_one_user(sql, sid, now))

    async def delete_session(self, sid: str) -> None:
        await self._run(_changes("DELETE FROM sessions WHERE sid = ?", sid))

    async def delete_user_sessions(self, uid: str, keep: str | None = None) -> None:
        # `sid IS NOT NULL` is true for every row, so keep=None ends them all.
        sql = "DELETE FROM sessions WHERE uid = ? AND sid IS NOT ?"
        await self._run(_changes(sql, uid, keep))

    async def purge_sessions(self, now: float) -> int:
        def job(db: sqlite3.Connection) -> int:
            return db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,)).rowcount

        return await self._run(job)

    # -- carts -----------------------------------------------------------------------
    async def insert_cart(self, cid: str, owner: str | None) -> Cart:
        def job(db: sqlite3.Connection) -> None:
            try:
                db.execute("INSERT INTO carts (id, owner) VALUES (?, ?)", (cid, owner))
            except sqlite3.IntegrityError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
                    raise
                raise StoreError(f"cart owner {owner} does not exist") from None

        await self._run(job)
        return Cart(id=cid, owner=owner)

    async def get_cart(self, cid: str) -> Cart | None:
        def job(db: sqlite3.Connection) -> Cart | None:
            rows = db.execute(
                "SELECT carts.owner AS cart_owner, cart_lines.quantity AS line_quantity,"
                " products.* FROM carts"
                " LEFT JOIN cart_lines ON cart_lines.cart_id = carts.id"
                " LEFT JOIN products ON products.id = cart_lines.product_id"
                " WHERE carts.id = ? ORDER BY cart_lines.seq",
                (cid,),
            ).fetchall()
            if not rows:
                return None
            lines = tuple(
                CartLine(product=_product(row), quantity=row["line_quantity"])
                for row in rows
                if row["line_quantity"] is not None  # an empty cart is one row of NULLs
            )
            return Cart(id=cid, owner=rows[0]["cart_owner"], lines=lines)

        return await self._run(job)

    async def get_cart_owner(self, cid: str) -> tuple[bool, str | None]:
        def job(db: sqlite3.Connection) -> tuple[bool, str | None]:
            row = db.execute("SELECT owner FROM carts WHERE id = ?", (cid,)).fetchone()
            return (True, row["owner"]) if row else (False, None)

        return await self._run(job)

    async def add_to_cart(self, cid: str, pid: str, quantity: int) -> int:
        def job(db: sqlite3.Connection) -> int:
            with _transaction(db):
                _require_cart(db, cid)
                stock = _stock(db, pid)
                if _line_quantity(db, cid, pid) + quantity > stock:
                    raise NotEnoughStock(pid)
                # A new line goes last; an existing one keeps its place.
                rows = db.execute(
                    "INSERT INTO cart_lines (cart_id, product_id, quantity, seq)"
                    " VALUES (:cid, :pid, :quantity,"
                    " (SELECT coalesce(max(seq), 0) + 1 FROM cart_lines WHERE cart_id = :cid))"
                    " ON CONFLICT (cart_id, product_id)"
                    " DO UPDATE SET quantity = quantity + excluded.quantity RETURNING quantity",
                    {"cid": cid, "pid": pid, "quantity": quantity},
                ).fetchall()
                return rows[0]["quantity"]

        return await self._run(job)

    async def set_cart_quantity(self, cid: str, pid: str, quantity: int) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                _require_cart(db, cid)
                stock = _stock(db, pid)
                # A missing line is "not found" whatever the quantity asked.
                if not _line_quantity(db, cid, pid):
                    return False
                if quantity > stock:
                    raise NotEnoughStock(pid)
                db.execute(
                    "UPDATE cart_lines SET quantity = ? WHERE cart_id = ? AND product_id = ?",
                    (quantity, cid, pid),
                )
                return True

        return await self._run(job)

    async def remove_from_cart(self, cid: str, pid: str) -> bool:
        def job(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                _require_cart(db, cid)
                sql = "DELETE FROM cart_lines WHERE cart_id = ? AND product_id = ?"
                return db.execute(sql, (cid, pid)).rowcount == 1

        return await self._run(job)

    async def replace_cart(self, cid: str, lines: Sequence[tuple[str, int]]) -> None:
        def job(db: sqlite3.Connection) -> None:
            with _transaction(db):  # any error rolls every change back
                _require_cart(db, cid)
                for pid, quantity in lines:
                    if quantity > _stock(db, pid):
                        raise NotEnoughStock(pid)
                db.execute("DELETE FROM cart_lines WHERE cart_id = ?", (cid,))
                db.executemany(
                    "INSERT INTO cart_lines (cart_id, product_id, quantity, seq)"
                    " VALUES (?, ?, ?, ?)",
                    [(cid, pid, qty, seq) for seq, (pid, qty) in enumerate(lines, start=1)],
                )

        await self._run(job)

    async def clear_cart(self, cid: str) -> None:
        def job(db: sqlite3.Connection) -> None:
            with _transaction(db):
                _require_cart(db, cid)
                db.execute("DELETE FROM cart_lines WHERE cart_id = ?", (cid,))

        await self._run(job)


# -- worker-thread helpers ---------------------------------------------------------------
def _connect(path: Path) -> sqlite3.Connection:
    # The file holds password and session hashes: readable by the shop's user alone.
    # (SQLite gives the -wal and -shm files the database file's permissions.)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    # Only the worker thread uses it; it is created there and the pool has one thread.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 5000")  # first, so the pragmas below can wait
        db.execute("PRAGMA journal_mode = WAL")
        # FULL syncs the WAL at every commit: an acknowledged write survives power loss.
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(_SCHEMA_FILE.read_text())
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """COMMIT when the block ends, ROLLBACK when it raises."""
    db.execute(begin)
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # some errors (a full disk) have rolled back already
            db.execute("ROLLBACK")
        raise


@contextmanager
def _unique_fields() -> Iterator[None]:
    """Turn a UNIQUE violation on a field the protocol names into DuplicateKey(field)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        field = _UNIQUE_FIELDS.get(str(exc).removeprefix("UNIQUE constraint failed: "))
        if field is None:
            raise
        raise DuplicateKey(field) from None


def _changes(sql: str, *params: object) -> Callable[[sqlite3.Connection], bool]:
    """A job running one write; True when it changed a row."""
    return lambda db: db.execute(sql, params).rowcount > 0


def _one_user(sql: str, *params: object) -> Callable[[sqlite3.Connection], User | None]:
    def job(db: sqlite3.Connection) -> User | None:
        row = db.execute(sql, params).fetchone()
        return _user(row) if row else None

    return job


def _require_cart(db: sqlite3.Connection, cid: str) -> None:
    if db.execute("SELECT 1 FROM carts WHERE id = ?", (cid,)).fetchone() is None:
        raise MissingCart(cid)


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


def _count(db: sqlite3.Connection, key: str) -> int:
    row = db.execute("SELECT n FROM product_counts WHERE key = ?", (key,)).fetchone()
    return row["n"] if row else 0


def _product_total(db: sqlite3.Connection, query: ProductQuery) -> int:
    """How many products match, from the trigger-kept counters (never a scan)."""
    if query.category is not None and query.available is not None:
        # ProductQuery promises one filter at most; stay correct (if slower) without it.
        sql = "SELECT count(*) FROM products WHERE category_key = ? AND status = ?"
        return db.execute(sql, (query.category.lower(), int(query.available))).fetchone()[0]
    if query.category is not None:
        return _count(db, f"category:{query.category.lower()}")
    total = _count(db, "all")
    if query.available is None:
        return total
    available = _count(db, "available")
    return available if query.available else total - available


# -- rows to records ---------------------------------------------------------------------
def _product(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        code=row["code"],
        price=float(row["price"]),
        status=bool(row["status"]),
        stock=row["stock"],
        category=row["category"],
        thumbnails=tuple(json.loads(row["thumbnails"])),
    )


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        age=row["age"],
        role=Role(row["role"]),
        cart=row["cart"],
        password_hash=row["password_hash"],
    )
