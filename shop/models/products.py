"""Products: the catalogue's record, its listing query and the admin's input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictInt, field_validator, model_validator

from shop.models.fields import Input, Line, MultilineText, Text
from shop.models.messages import refuse
from shop.models.money import MAX_AMOUNT, MAX_AMOUNT_CENTS, Amount, Cents, to_amount


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
        raise refuse("greater_than", gt=0)
    if cents > MAX_AMOUNT_CENTS:
        raise refuse("less_than_equal", le=int(MAX_AMOUNT))
    return cents


_CODE = re.compile(r"[A-Za-z0-9._-]+")


def _code_characters(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise refuse("code_characters")
    return code


Title = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[MultilineText, Field(max_length=5000)]
Code = Annotated[Text, Field(min_length=1, max_length=64), AfterValidator(_code_characters)]
Category = Annotated[Text, Field(min_length=1, max_length=100)]
Price = Annotated[Amount, AfterValidator(_price_range)]
Stock = Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]
Thumbnail = Annotated[Line, Field(min_length=1, max_length=500)]
Thumbnails = Annotated[list[Thumbnail], Field(max_length=20)]


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

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # None means "not sent"; a client that sends null is told, by field.
        if value is None:
            raise refuse("not_null")
        return value

    @model_validator(mode="after")
    def _something(self) -> ProductPatch:
        if not self.model_fields_set:
            raise refuse("nothing_to_change")
        return self

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent, as the store names them (price in cents)."""
        changes = {name: getattr(self, name) for name in self.model_fields_set}
        if "price" in changes:
            changes["price_cents"] = changes.pop("price")
        if "thumbnails" in changes:
            changes["thumbnails"] = tuple(changes["thumbnails"])
        return changes
