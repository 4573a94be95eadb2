"""Products: the catalogue's record, its listing query and the admin's input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, StrictStr, model_validator

from shop.models.fields import Input, Text
from shop.models.money import MAX_AMOUNT_CENTS, Amount, Cents, to_amount


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    title: str
    description: str
    code: str
    price_cents: Cents
    status: bool
    stock: int
    category: str
    thumbnails: tuple[str, ...] = ()

    @property
    def price(self) -> float:
        return to_amount(self.price_cents)

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "title": self.title,
            "description": self.description,
            "code": self.code,
            "price": to_amount(self.price_cents),
            "status": self.status,
            "stock": self.stock,
            "category": self.category,
            "thumbnails": list(self.thumbnails),
        }


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A parsed product listing request; at most one of category/available is set."""

    limit: int = 10
    page: int = 1
    sort: Literal["asc", "desc"] | None = None
    category: str | None = None
    available: bool | None = None


def _price_range(cents: Cents) -> Cents:
    if cents <= 0:
        raise ValueError("must be greater than 0")
    if cents > MAX_AMOUNT_CENTS:
        raise ValueError("must be at most 1000000000")
    return cents


Title = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[StrictStr, Field(max_length=5000)]
Code = Annotated[Text, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
Category = Annotated[Text, Field(min_length=1, max_length=100)]
Price = Annotated[Amount, AfterValidator(_price_range)]
Stock = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]
Thumbnail = Annotated[StrictStr, Field(min_length=1, max_length=500)]
MAX_THUMBNAILS = 20
Thumbnails = Annotated[list[Thumbnail], Field(max_length=MAX_THUMBNAILS)]


class ProductIn(Input):
    title: Title
    description: Description = ""
    code: Code
    price: Price
    status: StrictBool = True
    stock: Stock
    category: Category
    thumbnails: Thumbnails = []


class ProductPatch(Input):
    title: Title | None = None
    description: Description | None = None
    code: Code | None = None
    price: Price | None = None
    status: StrictBool | None = None
    stock: Stock | None = None
    category: Category | None = None
    thumbnails: Thumbnails | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProductPatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name}: must not be null")
        if not self.model_fields_set:
            raise ValueError("no field to change")
        return self

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent, as the store names them (price in cents)."""
        changes = {name: getattr(self, name) for name in self.model_fields_set}
        if "price" in changes:
            changes["price_cents"] = changes.pop("price")
        if "thumbnails" in changes:
            changes["thumbnails"] = tuple(changes["thumbnails"])
        return changes
