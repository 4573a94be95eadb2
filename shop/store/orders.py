"""What the services need of a store's orders, purchases included.

A purchase is one call: it checks the cart's owner, reads the lines and their products,
takes each fillable line's stock with a conditional update (never below 0), places the
order, removes the filled lines from the cart and, with an Idempotency-Key, records the
outcome under that key, so a retry answers the same and buys nothing again.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from shop.models.listing import Page
from shop.models.orders import (
    Order,
    OrderQuery,
    OrderStatus,
    PurchaseRequest,
    PurchaseResult,
    StatusChange,
)
from shop.models.reports import SalesQuery, SalesReport


class OrderStore(Protocol):
    async def purchase(self, request: PurchaseRequest) -> PurchaseResult:
        """Buy what the cart holds now, or refuse without changing anything.

        Refusals (no cart, not the owner, an empty cart, nothing fillable, another total)
        are outcomes, recorded under the key like a placed order. Raise KeyReused when
        the key was first used with another cart or body. Duplicates of a key in
        progress wait for its outcome.
        """

    async def get(self, oid: str) -> Order | None: ...

    async def list(self, query: OrderQuery) -> Page[Order]:
        """Newest first; `total` counts every match."""

    async def set_status(
        self, oid: str, status: OrderStatus, sources: Collection[OrderStatus], owner: str | None
    ) -> StatusChange:
        """Move the order to `status` if it is in one of `sources` (and, when `owner` is
        given, belongs to that user), in one atomic step; cancelling returns its stock
        exactly once. Raise MissingOrder, NotOrderOwner or WrongStatus(current)."""

    async def sales(self, query: SalesQuery) -> SalesReport:
        """Counted in the database, never by reading every order: revenue and orders per
        local day and the best sellers over `query.days` (cancelled orders left out), and
        every order by status."""

    async def purge_keys(self, before: float) -> int:
        """Forget Idempotency-Keys first used before this Unix time; return how many."""
