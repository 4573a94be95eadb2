"""Checkout and orders: a cart's owner buys it; an order is read by its owner or an admin;
its status moves only along the workflow; every change is announced live."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from shop.errors import Conflict, Forbidden, Invalid, NotFound, Unprocessable
from shop.i18n import N_
from shop.models import answers
from shop.models.answers import plain
from shop.models.listing import Page
from shop.models.orders import (
    Order,
    OrderQuery,
    OrderStatus,
    Outcome,
    PurchaseIn,
    PurchaseRequest,
    PurchaseResult,
    Refusal,
    purchase_time,
    sources,
)
from shop.models.products import Product
from shop.models.users import User
from shop.service.events import Events, cart_event, order_event, product_event
from shop.service.ids import new_id
from shop.store.base import KeyReused, MissingOrder, NotOrderOwner, Store, WrongStatus

if TYPE_CHECKING:
    from shop.metrics import Metrics


def fingerprint(cid: str, data: PurchaseIn) -> str:
    """What a key's first use bought: the same key with another cart or body is refused."""
    body = json.dumps({"cart": cid, "expected_total": data.expected_total}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def answer(outcome: Outcome, cid: str) -> dict[str, Any]:
    """The payload of a placed order, or the refusal raised: the same for an outcome
    first given and for its replay."""
    match outcome["result"]:
        case "placed":
            return {name: outcome[name] for name in ("order", "unfilled", "cart")}
        case Refusal.MISSING_CART:
            raise NotFound(N_("cart {cid} not found"), cid=cid)
        case Refusal.NOT_OWNER:
            raise Forbidden(N_("only the cart's owner can buy it"))
        case Refusal.EMPTY:
            # Issue 7's contract: buying an empty cart is a bad request (400), unlike a
            # cart whose lines cannot be filled now (409).
            raise Invalid(N_("cart: is empty, there is nothing to buy"))
        case Refusal.NOTHING_FILLED:
            raise Conflict(
                N_("no line of the cart can be bought now"),
                extra={"unfilled": outcome["unfilled"]},
            )
        case Refusal.TOTAL_CHANGED:
            raise Conflict(
                N_("expected_total: the total is now {total:.2f}"),
                total=outcome["total"],
                extra={"total": outcome["total"]},
            )
    raise ValueError(f"unknown purchase outcome {outcome['result']!r}")


class OrderService:
    def __init__(self, store: Store, events: Events, metrics: Metrics) -> None:
        self._store = store
        self._events = events
        self._metrics = metrics

    async def purchase(
        self, actor: User, cid: str, data: PurchaseIn, key: str | None = None
    ) -> dict[str, Any]:
        """Buy what the actor's cart holds now: `{order, unfilled, cart}`, or the refusal.

        With an Idempotency-Key, a retry answers what the first attempt answered.
        """
        request = PurchaseRequest(
            cid=cid,
            buyer=actor.id,  # an admin too buys only their own carts
            purchaser=actor.email,
            order_id=new_id(),
            expected_total=data.expected_total,
            at=purchase_time(),
            key=key,
            fingerprint=fingerprint(cid, data),
        )
        try:
            result = await self._store.orders.purchase(request)
        except KeyReused:
            raise Unprocessable(
                N_("Idempotency-Key: already used with another cart or body")
            ) from None
        if not result.replayed:
            self._announce(result, actor.id)
        return answer(result.outcome, cid)

    def _announce(self, result: PurchaseResult, owner: str) -> None:
        if result.outcome["result"] != "placed":
            return
        self._metrics.order_placed()
        self._stock_changed(result.changed)
        self._events.publish_user(owner, cart_event(result.outcome["cart"]))
        self._events.publish_order(owner, order_event(result.outcome["order"]))

    def _stock_changed(self, products: tuple[Product, ...]) -> None:
        # Product events also drop the catalogue cache's copies: no stale stock is served.
        for product in products:
            self._events.publish_products(
                product_event("updated", plain(answers.Product.of(product)))
            )

    async def list(self, actor: User, query: OrderQuery) -> Page[Order]:
        """The actor's own orders; an admin's listing covers everyone (or `query.user`)."""
        if not actor.is_admin:
            if query.user not in (None, actor.id):
                raise Forbidden(N_("user: only admins list other users' orders"))
            query = OrderQuery(query.limit, query.page, query.status, actor.id)
        return await self._store.orders.list(query)

    async def get(self, actor: User, oid: str) -> Order:
        order = await self._store.orders.get(oid)
        if order is None:
            raise NotFound(N_("order {oid} not found"), oid=oid)
        if not actor.is_admin and order.user != actor.id:
            raise Forbidden(N_("this order belongs to someone else"))
        return order

    async def set_status(self, actor: User, oid: str, status: OrderStatus) -> Order:
        """An admin moves an order along the workflow; its owner may only cancel it while
        it is placed. Cancelling returns the stock, once."""
        if actor.is_admin:
            allowed, owner = sources(status), None
        elif status is OrderStatus.CANCELLED:
            allowed, owner = frozenset({OrderStatus.PLACED}), actor.id
        else:
            raise Forbidden(N_("status: you may only cancel your order"))
        try:
            change = await self._store.orders.set_status(oid, status, allowed, owner)
        except MissingOrder:
            raise NotFound(N_("order {oid} not found"), oid=oid) from None
        except NotOrderOwner:
            raise Forbidden(N_("this order belongs to someone else")) from None
        except WrongStatus as exc:
            if owner is not None:
                raise Forbidden(
                    N_("status: an order that is {current} can no longer be cancelled"),
                    current=str(exc.current),
                ) from None
            raise Conflict(
                N_("status: an order that is {current} cannot become {status}"),
                current=str(exc.current),
                status=str(status),
            ) from None
        self._stock_changed(change.changed)
        self._events.publish_order(
            change.order.user, order_event(plain(answers.Order.of(change.order)))
        )
        return change.order
