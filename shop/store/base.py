"""The Store protocol the services call, and the errors a store raises.

Every method that can race is one atomic operation in the adapter (a conditional
UPDATE in SQLite, a conditional update in MongoDB); services never read, modify in
Python and write back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from shop.service.models import Cart, Page, Product, ProductQuery, Role, User


class StoreError(Exception):
    """Base of every error a store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database does not answer."""


class DuplicateKey(StoreError):
    """A unique field (`email`, `code`) already holds this value."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class MissingProduct(StoreError):
    """A cart operation named a product that does not exist."""


class MissingCart(StoreError):
    """A cart operation named a cart that does not exist."""


class NotEnoughStock(StoreError):
    """The requested quantity is more than the product's stock."""


class Store(Protocol):
    """What the services need from a database. Ids are 24-hex ObjectId strings."""

    async def ping(self) -> None:
        """Return when the database answers; raise StoreUnavailable otherwise."""

    async def close(self) -> None: ...

    # -- products ------------------------------------------------------------------
    async def insert_product(self, product: Product) -> None:
        """Raise DuplicateKey("code") when the code is taken."""

    async def get_product(self, pid: str) -> Product | None: ...

    async def list_products(self, query: ProductQuery) -> Page[Product]:
        """Filter, sort by price (then id) and page; `total` counts all matches."""

    async def update_product(self, pid: str, changes: Mapping[str, Any]) -> Product | None:
        """Apply known fields atomically and return the new product, None if unknown.

        Raise DuplicateKey("code") when the new code is taken.
        """

    async def delete_product(self, pid: str) -> bool:
        """Delete the product and every cart line that holds it; False if unknown."""

    # -- users ---------------------------------------------------------------------
    async def insert_user(self, user: User) -> None:
        """Raise DuplicateKey("email") when the email is taken."""

    async def get_user(self, uid: str) -> User | None: ...

    async def get_user_by_email(self, email: str) -> User | None: ...

    async def list_users(self, limit: int, page: int) -> Page[User]:
        """Users ordered by id (creation order)."""

    async def delete_user(self, uid: str) -> bool:
        """Delete the user, their carts and their sessions; False if unknown."""

    async def set_password_hash(self, uid: str, password_hash: str) -> bool: ...

    async def set_role(self, uid: str, role: Role) -> bool: ...

    async def set_user_cart(self, uid: str, cid: str) -> bool: ...

    # -- server-side sessions --------------------------------------------------------
    async def create_session(self, sid: str, uid: str, expires_at: float) -> None: ...

    async def get_session_user(self, sid: str, now: float) -> User | None:
        """The user of a live session; None when unknown, expired or the user is gone."""

    async def delete_session(self, sid: str) -> None: ...

    async def delete_user_sessions(self, uid: str, keep: str | None = None) -> None:
        """End every session of the user except `keep`."""

    async def purge_sessions(self, now: float) -> int:
        """Delete expired sessions; return how many."""

    # -- carts -----------------------------------------------------------------------
    async def insert_cart(self, cid: str, owner: str | None) -> Cart: ...

    async def get_cart(self, cid: str) -> Cart | None:
        """The cart with each line's full product, in the order lines were added."""

    async def get_cart_owner(self, cid: str) -> tuple[bool, str | None]:
        """(exists, owner id) without loading the lines."""

    async def add_to_cart(self, cid: str, pid: str, quantity: int) -> int:
        """Add to the line (creating it) atomically; return the line's new quantity.

        Raise MissingCart, MissingProduct, or NotEnoughStock when the line would hold
        more than the product's stock.
        """

    async def set_cart_quantity(self, cid: str, pid: str, quantity: int) -> bool:
        """Set an existing line's quantity; False when the cart has no such line.

        Raise MissingCart, MissingProduct or NotEnoughStock as add_to_cart does.
        """

    async def remove_from_cart(self, cid: str, pid: str) -> bool:
        """Remove the line; False when the cart has no such line. Raise MissingCart."""

    async def replace_cart(self, cid: str, lines: Sequence[tuple[str, int]]) -> None:
        """Replace every line at once (pid, quantity), in the given order.

        Raise MissingCart, MissingProduct or NotEnoughStock; on error nothing changes.
        """

    async def clear_cart(self, cid: str) -> None:
        """Remove every line. Raise MissingCart."""
