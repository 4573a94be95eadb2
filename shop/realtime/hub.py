"""The hub: who is listening to what on this process, and the events every process shares.

The services publish here (the `Events` protocol of `shop.service.events`). An event is
delivered to this process's sockets at once and, when a bus joins the processes, sent on
it too; what arrives from the bus is delivered here unless this process sent it, so each
socket gets each event once. Without a bus the hub is what it always was: one process.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Literal, Protocol

import msgspec
from aiohttp import WSCloseCode, web

from shop.keys import HUB, SESSION_ID, USER
from shop.metrics import Metrics
from shop.realtime.subscriber import SESSION_ENDED, Subscriber, text_frame

_encode = msgspec.json.Encoder().encode
log = logging.getLogger("shop.realtime")

type Topic = Literal["products", "user", "orders", "session"]
# What a product listener gets when everything it holds may be out of date.
RESYNC = {"type": "resync"}


class Relayed(msgspec.Struct, frozen=True):
    """An event on the bus: who sent it, to whom, and what."""

    origin: str  # the sending hub: it delivered the event itself already
    # products: every socket; user: one user's; orders: one user's and every admin's;
    # session: close sockets.
    topic: Topic
    event: dict[str, Any] | None = None
    uid: str | None = None
    session: str | None = None


_decode = msgspec.json.Decoder(Relayed).decode


class Bus(Protocol):
    """Carries bytes to the hubs of the other processes (shop.realtime.bus.RedisBus)."""

    def send(self, data: bytes) -> None:
        """Queue `data` for every other process; dropped (with a warning) when it cannot be."""


class Hub:
    """Subscriber sets shared by the websocket handlers and the services."""

    def __init__(self, metrics: Metrics) -> None:
        self.origin = secrets.token_hex(8)
        self._metrics = metrics
        self._bus: Bus | None = None
        self._subscribers: set[Subscriber] = set()
        self._by_user: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._admins: set[Subscriber] = set()
        self._product_listeners: list[Callable[[dict[str, Any]], None]] = []

    def __len__(self) -> int:
        return len(self._subscribers)

    def attach(self, bus: Bus | None) -> None:
        """Share events with the other processes over `bus` (None: this process alone)."""
        self._bus = bus

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)
        if subscriber.uid is not None:
            self._by_user[subscriber.uid].add(subscriber)
        if subscriber.admin:
            self._admins.add(subscriber)
        subscriber.start()

    async def remove(self, subscriber: Subscriber) -> None:
        """Forget the socket and stop its sender; the handler calls this in `finally`."""
        self._detach(subscriber)
        await subscriber.stop()

    def _detach(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        self._admins.discard(subscriber)
        if subscriber.uid is not None:
            mine = self._by_user.get(subscriber.uid)
            if mine is not None:
                mine.discard(subscriber)
                if not mine:
                    del self._by_user[subscriber.uid]

    def on_product_event(self, listener: Callable[[dict[str, Any]], None]) -> None:
        """Call `listener` with every product event of any process, before the sockets get
        it, and with RESYNC when events may have been missed."""
        self._product_listeners.append(listener)

    # -- the Events protocol: to the other processes, and here --------------------------
    # Relayed first: the bus's publisher then runs before this process's own socket
    # writes, so the other processes fan out while this one does.
    def publish_products(self, event: dict[str, Any]) -> None:
        self._metrics.event_published("products")
        self._relay(Relayed(self.origin, "products", event))
        self._products_here(event)

    def publish_user(self, uid: str, event: dict[str, Any]) -> None:
        self._metrics.event_published("user")
        self._relay(Relayed(self.origin, "user", event, uid=uid))
        self._user_here(uid, event)

    def publish_order(self, uid: str, event: dict[str, Any]) -> None:
        self._metrics.event_published("orders")
        self._relay(Relayed(self.origin, "orders", event, uid=uid))
        self._order_here(uid, event)

    def listening(self, uid: str) -> bool:
        # With a bus the user's sockets may be on any process: only alone can this one
        # know that nobody follows the cart.
        return self._bus is not None or any(s.cart for s in self._by_user.get(uid, ()))

    def disconnect_user(self, uid: str, session: str | None = None) -> None:
        """Close the user's sockets (only `session`'s, when given) on every process: their
        session ended. They receive nothing more from this call on; the close itself runs
        in the background."""
        self._metrics.event_published("session")
        self._relay(Relayed(self.origin, "session", uid=uid, session=session))
        self._disconnect_here(uid, session)

    def _relay(self, message: Relayed) -> None:
        if self._bus is not None:
            self._bus.send(_encode(message))

    def receive(self, data: bytes) -> None:
        """A message from the bus: deliver it here, unless this hub sent it."""
        try:
            message = _decode(data)
        except msgspec.DecodeError as exc:
            log.warning("ignored a malformed message on the event bus: %s", exc)
            return
        if message.origin == self.origin:
            return  # delivered when it was published
        if message.topic == "session":
            if message.uid is not None:
                self._disconnect_here(message.uid, message.session)
        elif message.event is None:
            log.warning("ignored a %s message without an event on the bus", message.topic)
        elif message.topic == "products":
            self._products_here(message.event)
        elif message.uid is None:
            log.warning("ignored a %s message without a user on the bus", message.topic)
        elif message.topic == "orders":
            self._order_here(message.uid, message.event)
        else:
            self._user_here(message.uid, message.event)

    # -- delivery on this process ------------------------------------------------------
    def _products_here(self, event: dict[str, Any]) -> None:
        for listener in self._product_listeners:
            listener(event)
        self._deliver("products", [s for s in self._subscribers if s.products], event)

    def _user_here(self, uid: str, event: dict[str, Any]) -> None:
        self._deliver("user", [s for s in self._by_user.get(uid, ()) if s.cart], event)

    def _order_here(self, uid: str, event: dict[str, Any]) -> None:
        readers = {*self._by_user.get(uid, ()), *self._admins}
        self._deliver("orders", [s for s in readers if s.orders], event)

    def _deliver(self, topic: str, subscribers: list[Subscriber], event: dict[str, Any]) -> None:
        """Send `event` to `subscribers` on the next turn of the loop: the request that
        published it answers first, and events keep the order they were published in."""
        if subscribers:  # most changes have nobody listening: skip the encoding too
            asyncio.get_running_loop().call_soon(self._send, topic, subscribers, event)

    def _send(self, topic: str, subscribers: list[Subscriber], event: dict[str, Any]) -> None:
        payload = _encode(event)
        data, frame = payload.decode(), text_frame(payload)
        slow = 0
        for subscriber in subscribers:
            was_open = subscriber.open
            if not subscriber.offer(data, frame):
                self._detach(subscriber)
                slow += was_open
        self._metrics.events_delivered(topic, len(subscribers) - slow)
        if slow:
            self._metrics.events_dropped("slow", slow)

    def _disconnect_here(self, uid: str, session: str | None) -> None:
        for subscriber in tuple(self._by_user.get(uid, ())):
            if session is None or subscriber.session == session:
                self._close(subscriber)

    def _close(self, subscriber: Subscriber) -> None:
        self._detach(subscriber)
        subscriber.close_soon(SESSION_ENDED, b"session ended")

    async def resync(self, alive: Callable[[Collection[str]], Awaitable[Collection[str]]]) -> None:
        """The bus is back after a loss, so events were missed meanwhile: product listeners
        forget what they hold, sockets whose session ended are closed (`alive` says which
        sessions are still live) and the others are told to refetch what they show."""
        for listener in self._product_listeners:
            listener(RESYNC)
        sessions = {s.session for s in self._subscribers if s.session is not None}
        if sessions:
            live = await alive(sessions)
            for subscriber in tuple(self._subscribers):
                if subscriber.session is not None and subscriber.session not in live:
                    self._close(subscriber)
        self._deliver("resync", list(self._subscribers), RESYNC)

    async def close_all(self, grace: float | None = None) -> None:
        """Close every socket with GOING_AWAY; used on shutdown."""
        subscribers = tuple(self._subscribers)
        await asyncio.gather(
            *(
                s.close(WSCloseCode.GOING_AWAY, b"server shutdown", grace=grace)
                for s in subscribers
            )
        )


def end_session_sockets(request: web.Request) -> None:
    """Close the sockets opened in this request's session, which is about to end."""
    user = request.get(USER)
    if user is not None:
        request.app[HUB].disconnect_user(user.id, session=request.get(SESSION_ID))
