"""Carts: only their owner (or an admin) reads or changes one; every change is announced
to the owner's open sockets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from shop.errors import Conflict, Forbidden, Invalid, NotFound
from shop.service.events import Events, cart_event
from shop.service.ids import new_id
from shop.service.models import Cart, Role, User
from shop.store.base import MissingCart, MissingProduct, NotEnoughStock, Store


class CartService:
    def __init__(self, store: Store, events: Events) -> None:
        self._store = store
        self._events = events

    async def _authorize(self, actor: User, cid: str) -> None:
        exists, owner = await self._store.get_cart_owner(cid)
        if not exists:
            raise NotFound(f"cart {cid} not found")
        if owner != actor.id and actor.role is not Role.ADMIN:
            raise Forbidden("this cart belongs to someone else")

    async def _changed(self, cid: str) -> Cart:
        cart = await self._store.get_cart(cid)
        if cart is None:
            # Deleted between the change and this read (its owner was deleted).
            raise NotFound(f"cart {cid} not found")
        if cart.owner is not None:
            self._events.publish_user(cart.owner, cart_event(cart.to_json()))
        return cart

    async def create(self, actor: User) -> Cart:
        cart = await self._store.insert_cart(new_id(), actor.id)
        if actor.cart is None:
            await self._store.set_user_cart(actor.id, cart.id)
        return cart

    async def get(self, actor: User, cid: str) -> Cart:
        await self._authorize(actor, cid)
        cart = await self._store.get_cart(cid)
        if cart is None:
            raise NotFound(f"cart {cid} not found")
        return cart

    async def add(self, actor: User, cid: str, pid: str, quantity: int) -> Cart:
        await self._authorize(actor, cid)
        with _store_errors(cid, pid):
            await self._store.add_to_cart(cid, pid, quantity)
        return await self._changed(cid)

    async def set_quantity(self, actor: User, cid: str, pid: str, quantity: int) -> Cart:
        await self._authorize(actor, cid)
        with _store_errors(cid, pid):
            found = await self._store.set_cart_quantity(cid, pid, quantity)
        if not found:
            raise NotFound(f"product {pid} is not in cart {cid}")
        return await self._changed(cid)

    async def remove(self, actor: User, cid: str, pid: str) -> Cart:
        await self._authorize(actor, cid)
        with _store_errors(cid, pid):
            found = await self._store.remove_from_cart(cid, pid)
        if not found:
            raise NotFound(f"product {pid} is not in cart {cid}")
        return await self._changed(cid)

    async def replace(self, actor: User, cid: str, lines: Sequence[tuple[str, int]]) -> Cart:
        await self._authorize(actor, cid)
        pids = [pid for pid, _ in lines]
        if len(set(pids)) != len(pids):
            raise Invalid("products: a product may appear only once")
        with _store_errors(cid, None):
            await self._store.replace_cart(cid, lines)
        return await self._changed(cid)

    async def clear(self, actor: User, cid: str) -> Cart:
        await self._authorize(actor, cid)
        with _store_errors(cid, None):
            await self._store.clear_cart(cid)
        return await self._changed(cid)


@contextmanager
def _store_errors(cid: str, pid: str | None) -> Iterator[None]:
    """Turn a store's refusal into the domain error the client should see."""
    try:
        yield
    except MissingCart:
        raise NotFound(f"cart {cid} not found") from None
    except MissingProduct:
        raise NotFound(f"product {pid} not found" if pid else "a product was not found") from None
    except NotEnoughStock:
        raise Conflict("quantity: not enough stock") from None
