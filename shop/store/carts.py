"""What the services need of a store's carts.

Every change is one call that checks, changes and answers with the cart as it now is, so a
request makes one trip to the store. `owner`, when given, is a condition checked in the
same atomic step: the cart must belong to that user (NotCartOwner otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shop.models.carts import Cart


class CartStore(Protocol):
    async def create(self, cid: str, owner: str | None) -> Cart:
        """A new empty cart; StoreError when the owner does not exist."""

    async def get(self, cid: str, owner: str | None = None) -> Cart:
        """The cart with each line's full product, in the order lines were added.

        Raise MissingCart, or NotCartOwner.
        """

    async def add(self, cid: str, pid: str, quantity: int, owner: str | None = None) -> Cart:
        """Add to the line (creating it last) atomically; return the cart after.

        Raise MissingCart, NotCartOwner, MissingProduct, NotEnoughStock when the line would
        hold more than the product's stock, LineTooLarge when more than MAX_QUANTITY.
        """

    async def set_quantity(
        self, cid: str, pid: str, quantity: int, owner: str | None = None
    ) -> Cart:
        """Set an existing line's quantity; MissingLine when the cart has none.

        Raise MissingCart, NotCartOwner, MissingProduct or NotEnoughStock as `add` does.
        """

    async def remove(self, cid: str, pid: str, owner: str | None = None) -> Cart:
        """Remove the line; MissingLine when the cart has none."""

    async def replace(
        self, cid: str, lines: Sequence[tuple[str, int]], owner: str | None = None
    ) -> Cart:
        """Replace every line at once (pid, quantity), in the given order.

        Raise MissingCart, NotCartOwner, MissingProduct or NotEnoughStock; on error
        nothing changes.
        """

    async def clear(self, cid: str, owner: str | None = None) -> Cart:
        """Remove every line."""
