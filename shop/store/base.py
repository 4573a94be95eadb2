"""The Store the services call, and the errors a store raises.

A store is one object per database with an attribute per aggregate (`store.products`,
`store.carts`, ...), each described by its protocol in `shop.store.<aggregate>`. Every
method that can race is one atomic operation in the adapter (a transaction in SQLite, a
conditional update in MongoDB); services never read, modify in Python and write back.
"""

from __future__ import annotations

from typing import Protocol

from shop.models.orders import OrderStatus
from shop.store.carts import CartStore
from shop.store.images import ImageStore
from shop.store.orders import OrderStore
from shop.store.products import ProductStore
from shop.store.sessions import SessionStore
from shop.store.throttle import ThrottleStore
from shop.store.tokens import TokenStore
from shop.store.users import UserStore


class StoreError(Exception):
    """Base of every error a store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database does not answer."""


class NotWritable(StoreUnavailable):
    """The database answers but this process cannot write to it now; the message says why
    in words fit to show anyone (no host, path or driver detail)."""


class DuplicateKey(StoreError):
    """A unique field (`email`, `code`) already holds this value."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class LastAdmin(StoreError):
    """The change would leave the shop without an admin."""


class MissingProduct(StoreError):
    """An operation named a product that does not exist."""


class ThumbnailsChanged(StoreError):
    """A conditional product update found other thumbnails than the caller expected."""


class VersionChanged(StoreError):
    """A conditional product update found the product at another version than expected."""


class MissingCart(StoreError):
    """An operation named a cart that does not exist."""


class NotCartOwner(StoreError):
    """The cart exists but belongs to someone other than the owner the caller required."""


class MissingLine(StoreError):
    """The cart has no line for this product."""


class NotEnoughStock(StoreError):
    """The requested quantity is more than the product's stock: how many there are, of
    which product, and how many the cart's line already held (for an add)."""

    def __init__(self, pid: str, *, stock: int, title: str, in_cart: int = 0) -> None:
        super().__init__(pid)
        self.stock = stock
        self.title = title
        self.in_cart = in_cart


class LineTooLarge(StoreError):
    """The line would hold more than the most a line may hold."""


class MissingOrder(StoreError):
    """An operation named an order that does not exist."""


class NotOrderOwner(StoreError):
    """The order exists but belongs to someone other than the owner the caller required."""


class WrongStatus(StoreError):
    """The order's status does not allow the change asked for."""

    def __init__(self, current: OrderStatus) -> None:
        super().__init__(str(current))
        self.current = current


class KeyReused(StoreError):
    """An Idempotency-Key came back with another cart or body than its first use."""


class Store(Protocol):
    """What the services need from a database. Ids are 24-hex ObjectId strings."""

    products: ProductStore
    users: UserStore
    sessions: SessionStore
    carts: CartStore
    tokens: TokenStore
    throttle: ThrottleStore
    images: ImageStore
    orders: OrderStore

    async def ping(self) -> None:
        """Return when the database answers; raise StoreUnavailable otherwise."""

    async def writable(self) -> None:
        """Return when this process can write now; raise StoreUnavailable saying why not."""

    async def close(self) -> None: ...
