"""Carts: lines of products and quantities, and the input that changes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt

from shop.models.fields import Input, ObjectIdStr
from shop.models.money import Cents, to_amount
from shop.models.products import Product

MAX_QUANTITY = 10_000
MAX_LINES = 200

# Why a line cannot be bought as it is: its product is switched off, or has too little stock.
type Problem = Literal["out_of_stock", "unavailable"]


@dataclass(frozen=True, slots=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def subtotal_cents(self) -> Cents:
        return self.product.price_cents * self.quantity

    @property
    def available(self) -> int:
        """How many units of the product can be bought now."""
        return self.product.stock if self.product.status else 0

    @property
    def problem(self) -> Problem | None:
        """Why the line cannot be bought whole right now; None when it can."""
        if not self.product.status:
            return "unavailable"
        if self.quantity > self.product.stock:
            return "out_of_stock"
        return None

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "product": self.product.to_json(),
            "quantity": self.quantity,
            "available": self.available,
        }
        if (problem := self.problem) is not None:
            line["problem"] = problem
        return line


@dataclass(frozen=True, slots=True)
class Cart:
    id: str
    owner: str | None
    lines: tuple[CartLine, ...] = ()
    # Bumped by the store on every change of the lines, in write order (see Product).
    version: int = 0

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total_cents(self) -> Cents:
        return sum(line.subtotal_cents for line in self.lines)

    @property
    def purchasable(self) -> tuple[CartLine, ...]:
        """The lines a purchase would buy now: those without a problem."""
        return tuple(line for line in self.lines if line.problem is None)

    @property
    def purchasable_total_cents(self) -> Cents:
        return sum(line.subtotal_cents for line in self.purchasable)

    def to_json(self) -> dict[str, Any]:
        """The cart as the API, the live events and the idempotency records show it."""
        return {
            "_id": self.id,
            "owner": self.owner,
            "products": [line.to_json() for line in self.lines],
            "count": self.item_count,
            "total": to_amount(self.total_cents),
            "version": self.version,
            "purchasable_total": to_amount(self.purchasable_total_cents),
        }


Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]


class QuantityIn(Input):
    """Adding to a line: one unless told otherwise."""

    quantity: Quantity = 1


class QuantitySetIn(Input):
    """Setting a line: the quantity must be said."""

    quantity: Quantity


class CartLineIn(Input):
    product: ObjectIdStr
    quantity: Quantity


class CartReplaceIn(Input):
    products: Annotated[list[CartLineIn], Field(max_length=MAX_LINES)]
