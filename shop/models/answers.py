"""The JSON the API sends: one msgspec Struct per shape, the only code that shapes an answer.

Handlers return these; msgspec encodes them (fast, and exactly as declared) and the OpenAPI
document describes them from the same classes (`msgspec.json.schema_components`), so the
document cannot drift from what is sent. Every Struct refuses undeclared keys
(`additionalProperties: false` in the document). Live events and the purchase records kept
for Idempotency-Keys hold the same shapes, as plain values (`plain`).

Names are the document's component names: read them as `answers.Product`, beside the
domain's `shop.models.products.Product` they are made from.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from shop.models.money import to_amount

if TYPE_CHECKING:
    from shop.models.carts import Cart as CartRecord
    from shop.models.carts import CartLine as CartLineRecord
    from shop.models.catalogue_file import Imported as ImportedRecord
    from shop.models.orders import Order as OrderRecord
    from shop.models.orders import OrderLine as OrderLineRecord
    from shop.models.orders import Unfilled as UnfilledRecord
    from shop.models.products import CategoryCount
    from shop.models.products import Product as ProductRecord
    from shop.models.tokens import ApiToken
    from shop.models.users import User as UserRecord

Id = Annotated[str, Meta(pattern="^[0-9a-f]{24}$", description="a 24-hex ObjectId")]
Money = Annotated[float, Meta(description="an amount: a JSON number with at most two decimals")]
Count = Annotated[int, Meta(ge=0)]
Moment = Annotated[str, Meta(extra_json_schema={"format": "date-time"})]
type Problem = Literal["out_of_stock", "unavailable"]
type RoleName = Literal["user", "admin"]
type StatusName = Literal["placed", "paid", "shipped", "delivered", "cancelled"]


class Answer(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every shape: no key beyond those declared."""


def plain(answer: Any) -> Any:
    """An answer as plain dicts and lists (live events, stored purchase outcomes)."""
    return msgspec.to_builtins(answer)


def iso_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: `2026-01-31T18:04:05.120Z`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix_time(seconds: float) -> str:
    """A Unix time as ISO 8601 in UTC, to the second: `2025-05-01T12:00:00Z`."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- catalogue -------------------------------------------------------------------------


class Product(Answer, rename={"id": "_id"}):
    id: Id
    title: str
    description: str
    code: str
    price: Money
    status: Annotated[bool, Meta(description="on sale; shoppers never see a product off sale")]
    stock: Count
    category: str
    thumbnails: list[str]
    version: Annotated[
        int, Meta(ge=1, description="bumped on every write: show an event only if newer")
    ]

    @classmethod
    def of(cls, product: ProductRecord) -> Product:
        return cls(
            id=product.id,
            title=product.title,
            description=product.description,
            code=product.code,
            price=to_amount(product.price_cents),
            status=product.status,
            stock=product.stock,
            category=product.category,
            thumbnails=list(product.thumbnails),
            version=product.version,
        )


class Category(Answer):
    name: str
    count: Annotated[int, Meta(ge=0, description="products shoppers can see in it")]

    @classmethod
    def of(cls, category: CategoryCount) -> Category:
        return cls(name=category.name, count=category.count)


class Deleted(Answer, rename={"id": "_id"}):
    """What a deletion or a revocation answers: the id that is gone."""

    id: Id


class Imported(Answer):
    """What a catalogue file's import wrote, row by row, and the addresses it left out."""

    created: Annotated[int, Meta(ge=0, description="rows with a new code: products made")]
    updated: Annotated[int, Meta(ge=0, description="rows that changed a known code's product")]
    unchanged: Annotated[int, Meta(ge=0, description="rows equal to their product already")]
    images_left_out: Annotated[
        int,
        Meta(
            ge=0,
            description="`/media` thumbnails that are not that product's own uploads (another"
            " shop's or product's files), left out of it",
        ),
    ]

    @classmethod
    def of(cls, imported: ImportedRecord) -> Imported:
        written = imported.written
        return cls(
            created=written.created,
            updated=written.updated,
            unchanged=written.unchanged,
            images_left_out=imported.images_left_out,
        )


# ---- carts -------------------------------------------------------------------------------


class CartLine(Answer):
    product: Product
    quantity: Annotated[int, Meta(ge=1)]
    available: Annotated[int, Meta(ge=0, description="units that can be bought now")]
    problem: Problem | UnsetType = UNSET

    @classmethod
    def of(cls, line: CartLineRecord) -> CartLine:
        problem = line.problem
        return cls(
            product=Product.of(line.product),
            quantity=line.quantity,
            available=line.available,
            problem=UNSET if problem is None else problem,
        )


class Cart(Answer, rename={"id": "_id"}):
    id: Id
    owner: Id | None
    products: list[CartLine]
    count: Annotated[int, Meta(ge=0, description="units in the cart")]
    total: Money
    version: Annotated[int, Meta(ge=0, description="bumped on every change of the lines")]
    purchasable_total: Annotated[float, Meta(description="what a purchase would cost now")]

    @classmethod
    def of(cls, cart: CartRecord) -> Cart:
        return cls(
            id=cart.id,
            owner=cart.owner,
            products=[CartLine.of(line) for line in cart.lines],
            count=cart.item_count,
            total=to_amount(cart.total_cents),
            version=cart.version,
            purchasable_total=to_amount(cart.purchasable_total_cents),
        )


# ---- accounts ----------------------------------------------------------------------------


class User(Answer, rename={"id": "_id"}):
    """The public view of an account: never its password hash."""

    id: Id
    first_name: str
    last_name: str
    email: str
    age: int
    role: RoleName
    cart: Id | None

    @classmethod
    def of(cls, user: UserRecord) -> User:
        return cls(
            id=user.id,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            age=user.age,
            role=user.role.value,
            cart=user.cart,
        )


class Token(Answer, rename={"id": "_id"}):
    """A personal API token as listed: never the token itself."""

    id: Id
    name: str
    created: Moment
    last_used: Annotated[Moment | None, Meta(description="written at most once a minute")]

    @classmethod
    def of(cls, token: ApiToken) -> Token:
        return cls(
            id=token.id,
            name=token.name,
            created=unix_time(token.created),
            last_used=None if token.last_used is None else unix_time(token.last_used),
        )


class NewToken(Token):
    """A token just made: the only answer that shows it."""

    token: Annotated[str, Meta(description="send as `Authorization: Bearer <token>`")]

    @classmethod
    def made(cls, token: ApiToken, secret: str) -> NewToken:
        listed = Token.of(token)
        return cls(
            id=listed.id,
            name=listed.name,
            created=listed.created,
            last_used=listed.last_used,
            token=secret,
        )


class LoggedOut(Answer):
    logged_out: Literal[True]


class PasswordChanged(Answer):
    changed: Literal[True]


# ---- orders ------------------------------------------------------------------------------


class OrderLine(Answer):
    product: Id
    title: str
    code: str
    price: Money
    quantity: Annotated[int, Meta(ge=1)]
    subtotal: Money

    @classmethod
    def of(cls, line: OrderLineRecord) -> OrderLine:
        return cls(
            product=line.product,
            title=line.title,
            code=line.code,
            price=to_amount(line.price_cents),
            quantity=line.quantity,
            subtotal=to_amount(line.subtotal_cents),
        )


class Order(Answer, rename={"id": "_id"}):
    id: Id
    code: Annotated[str, Meta(pattern="^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$")]
    purchase_datetime: Moment
    amount: Money
    purchaser: Annotated[str, Meta(description="the buyer's email at the purchase")]
    user: Id
    status: StatusName
    lines: list[OrderLine]

    @classmethod
    def of(cls, order: OrderRecord) -> Order:
        return cls(
            id=order.id,
            code=order.code,
            purchase_datetime=iso_time(order.purchased_at),
            amount=to_amount(order.amount_cents),
            purchaser=order.purchaser,
            user=order.user,
            status=order.status.value,
            lines=[OrderLine.of(line) for line in order.lines],
        )


class Unfilled(Answer):
    """A cart line a purchase did not buy, and why."""

    product: Id
    requested: Annotated[int, Meta(ge=1)]
    available: Count
    reason: Problem

    @classmethod
    def of(cls, item: UnfilledRecord) -> Unfilled:
        return cls(
            product=item.product,
            requested=item.requested,
            available=item.available,
            reason=item.reason,
        )


def unfilled_list(items: Sequence[UnfilledRecord]) -> list[Any]:
    return [plain(Unfilled.of(item)) for item in items]


class Purchase(Answer):
    """A placed order, the lines left in the cart, and the cart as it is now."""

    order: Order
    unfilled: list[Unfilled]
    cart: Cart


class Health(Answer):
    store: Literal["ok"]


class Readiness(Answer):
    """Each part's check: `ok` (a 503 says what else)."""

    store: str
    redis: str | UnsetType = UNSET


# ---- errors ------------------------------------------------------------------------------


class Error(Answer):
    """Every error: `error` is one line naming the field or the cause."""

    status: Literal["error"]
    error: str


class Invalid(Error):
    """400: every bad field, each with what is wrong with it; a refused catalogue file also
    says how many problems it has."""

    fields: Annotated[
        dict[str, str],
        Meta(
            extra_json_schema={"minProperties": 1},
            description="field (nested by path: `products.0.quantity`; the body as a whole"
            " is `body`; a catalogue file's line and column: `line 3, price`) -> what is"
            " wrong, in plain words",
        ),
    ]
    problems: (
        Annotated[
            int,
            Meta(
                ge=1,
                description="a refused catalogue file: how many problems it has (`fields`"
                " lists the first 1,000)",
            ),
        ]
        | UnsetType
    ) = UNSET


class Unavailable(Error):
    """503; /readyz adds each part's check."""

    checks: dict[str, str] | UnsetType = UNSET


class Conflict(Error):
    """409; a purchase refused says why: the lines it could not buy, or the total now; a
    cart line over the stock says how many there are."""

    available: Annotated[int, Meta(ge=0, description="the product's stock")] | UnsetType = UNSET
    unfilled: list[Unfilled] | UnsetType = UNSET
    total: Annotated[float, Meta(description="the purchasable total now")] | UnsetType = UNSET
