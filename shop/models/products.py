"""Products: the catalogue's record, its listing query and the admin's input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

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

    @property
    def available(self) -> bool:
        """Available to buy: on sale (`status`) and in stock."""
        return self.status and self.stock > 0

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


LOW_STOCK = 5  # a product with this many or fewer left is low on stock


@dataclass(frozen=True, slots=True)
class Upserted:
    """What writing products by their codes did: how many were new, changed, or already so."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Upserted) -> Upserted:
        return Upserted(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


class ProductSort(StrEnum):
    """How a listing is ordered; ties (and no sort at all) go in creation order."""

    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    TITLE_ASC = "title_asc"
    TITLE_DESC = "title_desc"
    STOCK_ASC = "stock_asc"
    STOCK_DESC = "stock_desc"

    @property
    def field(self) -> str:
        return self.value.rsplit("_", 1)[0]

    @property
    def descending(self) -> bool:
        return self.value.endswith("_desc")


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A parsed product listing request; every filter combines with the others.

    `words` are normalised search prefixes (`shop.models.search.query_words`); `available`
    True keeps products on sale and in stock, False the others; `include_hidden` False
    leaves out products whose `status` is false (what shoppers see).
    """

    limit: int = 10
    page: int = 1
    sort: ProductSort | None = None
    category: str | None = None
    available: bool | None = None
    words: tuple[str, ...] = ()
    low_stock: bool = False
    include_hidden: bool = True


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """A category as shoppers see it: its name and how many products they can see in it."""

    name: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "count": self.count}


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
