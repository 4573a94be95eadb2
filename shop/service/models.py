"""The seed's models: the records the services hand around, and the input they accept.

Records are frozen dataclasses; input is parsed by pydantic models that refuse wrong
types, unknown fields and out-of-range values before anything reaches a store.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
MAX_QUANTITY = 10_000
MAX_PAGE_SIZE = 100


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    title: str
    description: str
    code: str
    price: float
    status: bool
    stock: int
    category: str
    thumbnails: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "title": self.title,
            "description": self.description,
            "code": self.code,
            "price": self.price,
            "status": self.status,
            "stock": self.stock,
            "category": self.category,
            "thumbnails": list(self.thumbnails),
        }


@dataclass(frozen=True, slots=True)
class User:
    id: str
    first_name: str
    last_name: str
    email: str
    age: int
    role: Role
    cart: str | None
    password_hash: str = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """The public view of a user: never the password hash."""
        return {
            "_id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "age": self.age,
            "role": str(self.role),
            "cart": self.cart,
        }


@dataclass(frozen=True, slots=True)
class CartLine:
    product: Product
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product.to_json(), "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class Cart:
    id: str
    owner: str | None
    lines: tuple[CartLine, ...] = ()

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def total(self) -> float:
        return round(sum(line.product.price * line.quantity for line in self.lines), 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "owner": self.owner,
            "products": [line.to_json() for line in self.lines],
            "count": self.item_count,
            "total": self.total,
        }


@dataclass(frozen=True, slots=True)
class Page[T]:
    """One page of a listing; `total` counts every match, not just this page."""

    items: list[T]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total / self.limit))


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A parsed product listing request; at most one of category/available is set."""

    limit: int = 10
    page: int = 1
    sort: Literal["asc", "desc"] | None = None
    category: str | None = None
    available: bool | None = None


# ---- input parsing -------------------------------------------------------------------


def _no_operator(value: str) -> str:
    if value.startswith("$"):
        raise ValueError("must not start with '$'")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800") is valid JSON but no store can keep it.
        raise ValueError("must be valid text") from None
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _email(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError("must be an email address")
    return value


Text = Annotated[StrictStr, AfterValidator(_no_operator)]
Title = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[StrictStr, Field(max_length=5000)]
Code = Annotated[Text, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Category = Annotated[Text, Field(min_length=1, max_length=100)]
Price = Annotated[StrictFloat, Field(gt=0, le=1_000_000_000), AfterValidator(_finite)]
Stock = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]
Thumbnail = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Name = Annotated[Text, Field(min_length=1, max_length=100)]
Email = Annotated[StrictStr, Field(max_length=254), AfterValidator(_email)]
Password = Annotated[StrictStr, Field(min_length=8, max_length=256)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
ObjectIdStr = Annotated[StrictStr, Field(pattern=r"^[0-9a-fA-F]{24}$")]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ProductIn(Input):
    title: Title
    description: Description = ""
    code: Code
    price: Price
    status: StrictBool = True
    stock: Stock
    category: Category
    thumbnails: Annotated[list[Thumbnail], Field(max_length=20)] = []


class ProductPatch(Input):
    title: Title | None = None
    description: Description | None = None
    code: Code | None = None
    price: Price | None = None
    status: StrictBool | None = None
    stock: Stock | None = None
    category: Category | None = None
    thumbnails: Annotated[list[Thumbnail], Field(max_length=20)] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProductPatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name}: must not be null")
        if not self.model_fields_set:
            raise ValueError("no field to change")
        return self

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent."""
        return self.model_dump(exclude_unset=True)


class UserIn(Input):
    first_name: Name
    last_name: Name
    email: Email
    age: Annotated[StrictInt, Field(ge=13, le=130)]
    password: Password


class LoginIn(Input):
    email: Annotated[StrictStr, Field(max_length=254)]
    password: Annotated[StrictStr, Field(max_length=256)]


class PasswordChangeIn(Input):
    current_password: Annotated[StrictStr, Field(max_length=256)]
    new_password: Password


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
    products: Annotated[list[CartLineIn], Field(max_length=200)]


def describe(error: ValidationError) -> str:
    """One readable line naming the first offending field."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "is not an accepted field"
    elif first["type"] == "missing":
        message = "is required"
    return f"{where}: {message}"
