"""Products: the catalogue's record, its listing query and the admin's input."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from shop.models.fields import Input, Line, MultilineText, Text, documented, whole_number
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
    # Bumped by the store on every write of the product, in write order: a page shows an
    # event or an answer only when it is newer than what it shows.
    version: int = 1

    @property
    def price(self) -> float:
        return to_amount(self.price_cents)

    @property
    def available(self) -> bool:
        """Available to buy: on sale (`status`) and in stock."""
        return self.status and self.stock > 0


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
    True keeps products on sale and in stock, False the others; `on_sale` keeps those
    whose `status` is that value (with `available` False: sold out, on sale but none
    left); `include_hidden` False leaves out products whose `status` is false (what
    shoppers see); `nothing` says the filters contradict each other (two categories), so
    no product matches.
    """

    limit: int = 10
    page: int = 1
    sort: ProductSort | None = None
    category: str | None = None
    available: bool | None = None
    words: tuple[str, ...] = ()
    low_stock: bool = False
    include_hidden: bool = True
    nothing: bool = False
    on_sale: bool | None = None


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """A category as shoppers see it: its name and how many products they can see in it."""

    name: str
    count: int


def _price_range(cents: Cents) -> Cents:
    if cents <= 0:
        raise refuse("greater_than", gt=0)
    if cents > MAX_AMOUNT_CENTS:
        raise refuse("less_than_equal", le=int(MAX_AMOUNT))
    return cents


CODE_PATTERN = r"^[A-Za-z0-9._-]+$"
_CODE = re.compile(CODE_PATTERN.strip("^$"))


def _code_characters(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise refuse("code_characters")
    return code


Title = Annotated[Text, Field(min_length=1, max_length=200)]
Description = Annotated[MultilineText, Field(max_length=5000)]
Code = Annotated[
    Text,
    Field(min_length=1, max_length=64),
    AfterValidator(_code_characters),
    documented(CODE_PATTERN),
]
Category = Annotated[Text, Field(min_length=1, max_length=100)]
Price = Annotated[
    Amount,
    AfterValidator(_price_range),
    WithJsonSchema(
        {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0, "maximum": MAX_AMOUNT}
    ),
]
Stock = whole_number(0, 1_000_000_000)
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

    def as_product(self, pid: str) -> Product:
        """The product these fields describe, with the id `pid`."""
        return Product(
            id=pid,
            title=self.title,
            description=self.description,
            code=self.code,
            price_cents=self.price,
            status=self.status,
            stock=self.stock,
            category=self.category,
            thumbnails=tuple(self.thumbnails),
        )


def _patch_schema(schema: dict[str, Any]) -> None:
    # None stands for "not sent": null itself is refused, and one field at least is needed.
    for prop in schema["properties"].values():
        options = prop.pop("anyOf", [])
        prop.update(next((option for option in options if option.get("type") != "null"), {}))
        prop.pop("default", None)
    schema["minProperties"] = 1


class ProductPatch(Input):
    model_config = ConfigDict(json_schema_extra=_patch_schema)

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
