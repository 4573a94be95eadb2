"""Orders in SQLite: a purchase, a status change, each one write job.

The engine runs write jobs one at a time under SQLite's write lock, so concurrent purchases
(and duplicates of one Idempotency-Key, from any process) are serialised: each sees the
stock, the cart and the key records exactly as the one before left them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime

from shop.models.carts import CartLine
from shop.models.listing import Page
from shop.models.orders import (
    Order,
    OrderLine,
    OrderQuery,
    OrderStatus,
    Outcome,
    PurchaseRequest,
    PurchaseResult,
    Refusal,
    StatusChange,
    new_order_code,
    order_of,
    placed,
    plan_purchase,
    refused,
)
from shop.models.products import Product
from shop.models.reports import SalesQuery, SalesReport
from shop.store.base import (
    KeyReused,
    MissingOrder,
    NotOrderOwner,
    StoreError,
    WrongStatus,
)
from shop.store.sqlite import reports, rows
from shop.store.sqlite.carts import read_cart
from shop.store.sqlite.engine import Engine, snapshot

# Codes are random: a clash is rare, and the next try (another code) settles it.
_CODE_ATTEMPTS = 5


class SQLiteOrders:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def purchase(self, request: PurchaseRequest) -> PurchaseResult:
        def job(db: sqlite3.Connection) -> PurchaseResult:
            if request.key is not None:
                recorded = db.execute(
                    "SELECT fingerprint, outcome FROM purchase_keys WHERE user_id = ? AND key = ?",
                    (request.buyer, request.key),
                ).fetchone()
                if recorded is not None:
                    if recorded["fingerprint"] != request.fingerprint:
                        raise KeyReused(request.key)
                    return PurchaseResult(json.loads(recorded["outcome"]), replayed=True)
            outcome, changed = _purchase(db, request)
            if request.key is not None:
                db.execute(
                    "INSERT INTO purchase_keys (user_id, key, fingerprint, outcome, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        request.buyer,
                        request.key,
                        request.fingerprint,
                        json.dumps(outcome),
                        request.at.timestamp(),
                    ),
                )
            return PurchaseResult(outcome, changed=changed)

        return await self._engine.write(job)

    async def get(self, oid: str) -> Order | None:
        def job(db: sqlite3.Connection) -> Order | None:
            with snapshot(db):
                found = _orders(db, "SELECT * FROM orders WHERE id = ?", (oid,))
            return found[0] if found else None

        return await self._engine.read(job)

    async def list(self, query: OrderQuery) -> Page[Order]:
        clauses: list[str] = []
        params: list[object] = []
        if query.user is not None:
            clauses.append("user_id = ?")
            params.append(query.user)
        if query.status is not None:
            clauses.append("status = ?")
            params.append(str(query.status))
        if query.purchaser is not None:
            clauses.append("purchaser = ?")
            params.append(query.purchaser)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        # Only constant fragments are formatted in; every value is a bound parameter.
        page_sql = f"SELECT * FROM orders {where} ORDER BY id DESC LIMIT ? OFFSET ?"  # noqa: S608
        count_sql = f"SELECT count(*) FROM orders {where}"  # noqa: S608
        offset = (query.page - 1) * query.limit

        def job(db: sqlite3.Connection) -> Page[Order]:
            with snapshot(db):  # the page and its total from one view
                items = _orders(db, page_sql, (*params, query.limit, offset))
                total = db.execute(count_sql, params).fetchone()[0]
            return Page(items=items, total=total, page=query.page, limit=query.limit)

        return await self._engine.read(job)

    async def set_status(
        self, oid: str, status: OrderStatus, sources: Collection[OrderStatus], owner: str | None
    ) -> StatusChange:
        def job(db: sqlite3.Connection) -> StatusChange:
            row = db.execute("SELECT user_id, status FROM orders WHERE id = ?", (oid,)).fetchone()
            if row is None:
                raise MissingOrder(oid)
            if owner is not None and row["user_id"] != owner:
                raise NotOrderOwner(oid)
            if row["status"] not in sources:
                raise WrongStatus(OrderStatus(row["status"]))
            db.execute("UPDATE orders SET status = ? WHERE id = ?", (str(status), oid))
            order = _orders(db, "SELECT * FROM orders WHERE id = ?", (oid,))[0]
            changed: list[Product] = []
            if status is OrderStatus.CANCELLED:
                # In the transaction that cancels: the stock comes back exactly once. A
                # product deleted since has no stock to return.
                for line in order.lines:
                    back = db.execute(
                        "UPDATE products SET stock = stock + ?, version = version + 1 WHERE id = ?"
                        " RETURNING *",
                        (line.quantity, line.product),
                    ).fetchall()
                    changed += [rows.product(found) for found in back]
            return StatusChange(order, tuple(changed))

        return await self._engine.write(job)

    async def sales(self, query: SalesQuery) -> SalesReport:
        return await self._engine.read(lambda db: reports.sales(db, query))

    async def purge_keys(self, before: float) -> int:
        def job(db: sqlite3.Connection) -> int:
            sql = "DELETE FROM purchase_keys WHERE created_at < ?"
            return db.execute(sql, (before,)).rowcount

        return await self._engine.write(job)


def _purchase(
    db: sqlite3.Connection, request: PurchaseRequest
) -> tuple[Outcome, tuple[Product, ...]]:
    """The purchase inside the write transaction; a refusal changes nothing."""
    owner = db.execute("SELECT owner FROM carts WHERE id = ?", (request.cid,)).fetchone()
    if owner is None:
        return refused(Refusal.MISSING_CART), ()
    if owner["owner"] != request.buyer:
        return refused(Refusal.NOT_OWNER), ()
    plan = plan_purchase(read_cart(db, request.cid), request.expected_total)
    if plan.refusal is not None:
        return plan.refused(), ()
    # The write lock is held since the cart was read, so every take succeeds; the
    # conditions stay as the guarantee that stock never goes below 0.
    taken = [_take(db, line) for line in plan.fill]
    order = _insert_order(db, request, taken)
    db.executemany(
        "DELETE FROM cart_lines WHERE cart_id = ? AND product_id = ?",
        [(request.cid, line.product.id) for line in taken],
    )
    cart = read_cart(db, request.cid)
    return placed(order, plan.unfilled, cart), tuple(line.product for line in taken)


def _take(db: sqlite3.Connection, line: CartLine) -> CartLine:
    """Take the line's stock; the line with its product as it is after."""
    found = db.execute(
        # The version bumped here, not by the trigger, so RETURNING shows the new one.
        "UPDATE products SET stock = stock - :quantity, version = version + 1"
        " WHERE id = :pid AND stock >= :quantity AND status = 1 RETURNING *",
        {"quantity": line.quantity, "pid": line.product.id},
    ).fetchall()
    if not found:
        raise StoreError(f"product {line.product.id} changed inside a write transaction")
    return CartLine(rows.product(found[0]), line.quantity)


def _insert_order(
    db: sqlite3.Connection, request: PurchaseRequest, lines: Sequence[CartLine]
) -> Order:
    for _ in range(_CODE_ATTEMPTS):
        order = order_of(request, new_order_code(), lines)
        try:
            db.execute(
                "INSERT INTO orders (id, code, purchased_at, user_id, purchaser, status)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    order.id,
                    order.code,
                    order.purchased_at.isoformat(),
                    order.user,
                    order.purchaser,
                    str(order.status),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "orders.code" not in str(exc):
                raise
            continue  # the statement failed alone; the transaction goes on
        db.executemany(
            "INSERT INTO order_lines (order_id, seq, product_id, title, code, price_cents,"
            " quantity) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (order.id, seq, ln.product, ln.title, ln.code, ln.price_cents, ln.quantity)
                for seq, ln in enumerate(order.lines, start=1)
            ],
        )
        return order
    raise StoreError("could not find a free order code")


def _orders(db: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[Order]:
    """The orders `sql` selects, in its order, each with its lines."""
    heads = db.execute(sql, params).fetchall()
    if not heads:
        return []
    marks = ", ".join("?" * len(heads))
    lines: dict[str, list[OrderLine]] = {row["id"]: [] for row in heads}
    for row in db.execute(
        f"SELECT * FROM order_lines WHERE order_id IN ({marks}) ORDER BY order_id, seq",  # noqa: S608
        [row["id"] for row in heads],
    ):
        lines[row["order_id"]].append(
            OrderLine(
                product=row["product_id"],
                title=row["title"],
                code=row["code"],
                price_cents=row["price_cents"],
                quantity=row["quantity"],
            )
        )
    return [
        Order(
            id=row["id"],
            code=row["code"],
            purchased_at=datetime.fromisoformat(row["purchased_at"]),
            user=row["user_id"],
            purchaser=row["purchaser"],
            status=OrderStatus(row["status"]),
            lines=tuple(lines[row["id"]]),
        )
        for row in heads
    ]
