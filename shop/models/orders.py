"""Orders: the ticket a purchase leaves, the rules of its status, and what a purchase answers.

An order's lines are snapshots (title, code and price as they were at the purchase), so
deleting or repricing a product never changes an order; an order keeps its buyer's id and
email, so it outlives the account too.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shop.models import answers
from shop.models.carts import Cart, CartLine, Problem
from shop.models.fields import Input
from shop.models.money import Amount, Cents, to_amount
from shop.models.products import Product


class OrderStatus(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Where each status may go next; everything else is refused.
NEXT: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def sources(target: OrderStatus) -> frozenset[OrderStatus]:
    """The statuses an order may move to `target` from."""
    return frozenset(status for status, nexts in NEXT.items() if target in nexts)


# An Idempotency-Key: 1 to 255 visible ASCII characters (no space, no control character).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# A purchase's Idempotency-Key is remembered at least this long after its first use.
KEY_LIFE_SECONDS = 24 * 3600

# No 0/O, 1/I/L or U: a code read aloud or copied by hand comes out right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_code() -> str:
    """A short random code people can read out: `7KQ2-MXPD` (about 6.6e11 of them)."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def purchase_time() -> datetime:
    """Now, in UTC, to the millisecond (what both stores keep exactly)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class OrderLine:
    product: str
    title: str
    code: str
    price_cents: Cents
    quantity: int

    @property
    def subtotal_cents(self) -> Cents:
        return self.price_cents * self.quantity


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    code: str
    purchased_at: datetime
    user: str
    purchaser: str
    status: OrderStatus
    lines: tuple[OrderLine, ...]

    @property
    def amount_cents(self) -> Cents:
        return sum(line.subtotal_cents for line in self.lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def next_statuses(self) -> list[OrderStatus]:
        """The statuses it may move to, in the order of the workflow."""
        return [status for status in OrderStatus if status in NEXT[self.status]]

    @property
    def purchase_datetime(self) -> str:
        """When it was bought, as the API shows it (ISO 8601, UTC)."""
        return answers.iso_time(self.purchased_at)


@dataclass(frozen=True, slots=True)
class OrderQuery:
    limit: int = 10
    page: int = 1
    status: OrderStatus | None = None
    user: str | None = None
    purchaser: str | None = None  # the buyer's email as the order keeps it


class OrderStatusIn(Input):
    status: OrderStatus


class PurchaseIn(Input):
    """The purchase's optional body: the total the buyer saw, to the cent."""

    expected_total: Amount | None = None


# ---- a purchase ------------------------------------------------------------------------


class Refusal(StrEnum):
    """Why a purchase bought nothing; each is answered with its own error."""

    MISSING_CART = "missing_cart"
    NOT_OWNER = "not_owner"
    EMPTY = "empty"
    NOTHING_FILLED = "nothing_filled"
    TOTAL_CHANGED = "total_changed"


@dataclass(frozen=True, slots=True)
class PurchaseRequest:
    """One purchase as the service hands it to the store."""

    cid: str
    buyer: str  # the user's id: only the cart's owner buys it
    purchaser: str  # the user's email, kept on the order
    order_id: str
    expected_total: Cents | None
    at: datetime
    key: str | None = None  # the Idempotency-Key
    fingerprint: str = ""  # the cart and body the key was first used with


@dataclass(frozen=True, slots=True)
class Unfilled:
    product: str
    requested: int
    available: int
    reason: Problem

    @classmethod
    def of(cls, line: CartLine) -> Unfilled:
        """Why `line` was not bought. A line whose product looks buyable again (stock came
        back between a failed take and this look) was out of stock when it was tried."""
        return cls(line.product.id, line.quantity, line.available, line.problem or "out_of_stock")


@dataclass(frozen=True, slots=True)
class Plan:
    """What a purchase of the cart as read would do: buy `fill`, leave `unfilled`.

    `refusal` is set when it would buy nothing (or the total is not the expected one).
    """

    fill: tuple[CartLine, ...] = ()
    unfilled: tuple[Unfilled, ...] = ()
    refusal: Refusal | None = None
    total_cents: Cents = 0

    def refused(self) -> Outcome:
        """The outcome of a plan that buys nothing."""
        assert self.refusal is not None
        total = self.total_cents if self.refusal is Refusal.TOTAL_CHANGED else None
        return refused(self.refusal, self.unfilled, total)


def plan_purchase(cart: Cart, expected_total: Cents | None) -> Plan:
    """The purchase of `cart` as it was read: the same rules on every store."""
    if not cart.lines:
        return Plan(refusal=Refusal.EMPTY)
    unfilled = tuple(Unfilled.of(line) for line in cart.lines if line.problem is not None)
    fill = cart.purchasable
    total = cart.purchasable_total_cents
    if not fill:
        return Plan(unfilled=unfilled, refusal=Refusal.NOTHING_FILLED)
    if expected_total is not None and expected_total != total:
        return Plan(fill, unfilled, Refusal.TOTAL_CHANGED, total)
    return Plan(fill, unfilled, None, total)


def order_of(request: PurchaseRequest, code: str, lines: Sequence[CartLine]) -> Order:
    """The order a purchase places for the lines it filled, priced as they were taken."""
    return Order(
        id=request.order_id,
        code=code,
        purchased_at=request.at,
        user=request.buyer,
        purchaser=request.purchaser,
        status=OrderStatus.PLACED,
        lines=tuple(
            OrderLine(
                product=line.product.id,
                title=line.product.title,
                code=line.product.code,
                price_cents=line.product.price_cents,
                quantity=line.quantity,
            )
            for line in lines
        ),
    )


# A purchase's outcome is kept as JSON: the store records it with the Idempotency-Key, and a
# retry answers from the record, so the first answer and every replay are the same.
type Outcome = dict[str, Any]


def placed(order: Order, unfilled: Sequence[Unfilled], cart: Cart) -> Outcome:
    return {
        "result": "placed",
        "order": answers.plain(answers.Order.of(order)),
        "unfilled": answers.unfilled_list(unfilled),
        "cart": answers.plain(answers.Cart.of(cart)),
    }


def refused(
    reason: Refusal, unfilled: Sequence[Unfilled] = (), total: Cents | None = None
) -> Outcome:
    outcome: Outcome = {"result": str(reason), "unfilled": answers.unfilled_list(unfilled)}
    if total is not None:
        outcome["total"] = to_amount(total)
    return outcome


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    """What the store answers: the outcome, whether it is a replay, and the products whose
    stock this call changed (a replay changed none)."""

    outcome: Outcome
    replayed: bool = False
    changed: tuple[Product, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusChange:
    """An order after a status change, and the products whose stock it returned."""

    order: Order
    changed: tuple[Product, ...] = ()
