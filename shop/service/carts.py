"""Carts: only their owner (or an admin) reads or changes one; every change is announced
to the owner's open sockets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from shop.errors import Conflict, Forbidden, NotFound
from shop.models import answers
from shop.models.answers import plain
from shop.models.carts import MAX_QUANTITY, Cart
from shop.models.users import User
from shop.service.events import Events, cart_event
from shop.service.ids import new_id
from shop.store.base import (
    LineTooLarge,
    MissingCart,
    MissingLine,
    MissingProduct,
    NotCartOwner,
    NotEnoughStock,
    Store,
)


def required_owner(actor: User) -> str | None:
    """The owner a cart must have for `actor` to use it: anyone's for an admin."""
    return None if actor.is_admin else actor.id


class CartService:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    def _changed(self, cart: Cart) -> Cart:
        # Most changes have nobody watching: the event's JSON is then never built.
        if cart.owner is not None and self._events.listening(cart.owner):
            self._events.publish_user(cart.owner, cart_event(plain(answers.Cart.of(cart))))
        return cart

    async def create(self, actor: User) -> Cart:
        cart = await self._store.carts.create(new_id(), actor.id)
        if actor.cart is None:
            await self._store.users.set_cart(actor.id, cart.id)
        return cart

    async def get(self, actor: User, cid: str) -> Cart:
        with _store_errors(cid, None):
            return await self._store.carts.get(cid, required_owner(actor))

    async def add(self, actor: User, cid: str, pid: str, quantity: int) -> Cart:
        with _store_errors(cid, pid):
            cart = await self._store.carts.add(cid, pid, quantity, required_owner(actor))
        return self._changed(cart)

    async def set_quantity(self, actor: User, cid: str, pid: str, quantity: int) -> Cart:
        with _store_errors(cid, pid):
            cart = await self._store.carts.set_quantity(cid, pid, quantity, required_owner(actor))
        return self._changed(cart)

    async def remove(self, actor: User, cid: str, pid: str) -> Cart:
        with _store_errors(cid, pid):
            cart = await self._store.carts.remove(cid, pid, required_owner(actor))
        return self._changed(cart)

    async def replace(self, actor: User, cid: str, lines: Sequence[tuple[str, int]]) -> Cart:
        """The cart holds these lines, all or nothing; a product named twice holds both
        quantities (past MAX_QUANTITY in one line is a Conflict, as adding is)."""
        merged: dict[str, int] = {}
        for pid, quantity in lines:
            merged[pid] = merged.get(pid, 0) + quantity
        if any(quantity > MAX_QUANTITY for quantity in merged.values()):
            raise Conflict("quantity: a cart line holds at most {most}", most=MAX_QUANTITY)
        with _store_errors(cid, None):
            cart = await self._store.carts.replace(
                cid, list(merged.items()), required_owner(actor)
            )
        return self._changed(cart)

    async def clear(self, actor: User, cid: str) -> Cart:
        with _store_errors(cid, None):
            cart = await self._store.carts.clear(cid, required_owner(actor))
        return self._changed(cart)


def _not_enough(short: NotEnoughStock) -> Conflict:
    """409 naming the product and what is possible; `available` says how many there are."""
    extra = {"available": short.stock}
    if short.stock == 0:
        return Conflict("quantity: {title} is sold out", title=short.title, extra=extra)
    if short.in_cart:
        return Conflict(
            "quantity: only {available} of {title} in stock, and your cart holds {in_cart}",
            available=short.stock,
            title=short.title,
            in_cart=short.in_cart,
            extra=extra,
        )
    return Conflict(
        "quantity: only {available} of {title} in stock",
        available=short.stock,
        title=short.title,
        extra=extra,
    )


@contextmanager
def _store_errors(cid: str, pid: str | None) -> Iterator[None]:
    """Turn a store's refusal into the domain error the client should see."""
    try:
        yield
    except MissingCart:
        raise NotFound("cart {cid} not found", cid=cid) from None
    except NotCartOwner:
        raise Forbidden("this cart belongs to someone else") from None
    except MissingLine:
        raise NotFound("product {pid} is not in cart {cid}", pid=pid, cid=cid) from None
    except MissingProduct:
        if pid is None:
            raise NotFound("a product was not found") from None
        raise NotFound("product {pid} not found", pid=pid) from None
    except NotEnoughStock as short:
        raise _not_enough(short) from None
    except LineTooLarge:
        raise Conflict("quantity: a cart line holds at most {most}", most=MAX_QUANTITY) from None
