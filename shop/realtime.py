"""The hub: who is listening to what, and delivery that no slow client can stall.

Each socket gets a `Subscriber` with a bounded outbox drained by its own task. A publish
serialises the event once and only enqueues; a client whose outbox is full is dropped
(its page reconnects and resyncs) instead of holding everyone else back. When a session
ends (logout, password change, account deletion), its sockets are closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import msgspec
from aiohttp import WSCloseCode, web

from shop.keys import HUB, SESSION_ID, USER

_encode = msgspec.json.Encoder().encode
log = logging.getLogger("shop.realtime")

OUTBOX_SIZE = 256
# How long a close may take before the connection is cut: a peer that stopped reading
# never takes the close frame, and waiting on it would keep the socket forever.
CLOSE_TIMEOUT = 5.0
# An application close code (4000-4999): the session behind this socket was ended; the page
# may reconnect, and will then be anonymous.
SESSION_ENDED = 4401


class Subscriber:
    """One websocket: which topics it follows and the messages waiting for it."""

    __slots__ = (
        "_closing",
        "_open",
        "_outbox",
        "_sender",
        "_transport",
        "admin",
        "cart",
        "orders",
        "products",
        "session",
        "uid",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        uid: str | None,
        *,
        session: str | None = None,
        transport: asyncio.BaseTransport | None = None,
        admin: bool = False,
    ) -> None:
        self.ws = ws
        self.uid = uid
        self.session = session  # the session record's key, so one logout ends only its sockets
        # An admin's socket also gets every order's events. A role change ends the user's
        # sessions, and so their sockets: the flag never outlives the role.
        self.admin = admin
        self.products = True
        self.cart = uid is not None
        self.orders = uid is not None
        self._transport = transport  # aborted when a close cannot complete
        # None tells the sender to stop.
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(OUTBOX_SIZE)
        self._open = True
        self._sender: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    @property
    def topics(self) -> list[str]:
        following = (("products", self.products), ("cart", self.cart), ("orders", self.orders))
        return [name for name, on in following if on]

    @property
    def open(self) -> bool:
        """False once the socket is being closed (or its connection failed)."""
        return self._open

    def start(self) -> None:
        self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def stop(self) -> None:
        """Stop sending (what is still queued is dropped); wait for a close in progress."""
        self._open = False
        await _cancel(self._sender)
        if self._closing is not None and self._closing is not asyncio.current_task():
            # wait(), not await: a cancelled caller must not cancel the close as well.
            await asyncio.wait({self._closing})

    def offer(self, data: str) -> bool:
        """Queue serialised text; False when this socket takes no more (and is being closed)."""
        if not self._open:
            return False
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            log.info("dropping a websocket that fell %d messages behind", OUTBOX_SIZE)
            self.close_soon(WSCloseCode.TRY_AGAIN_LATER, b"too slow")
            return False
        return True

    def send_now(self, event: dict[str, Any]) -> None:
        """Queue a reply to this socket alone, in order with its broadcasts."""
        self.offer(_encode(event).decode())

    def close_soon(self, code: int, message: bytes) -> None:
        """Stop queueing at once and close the socket in the background."""
        self._open = False
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self.close(code, message))

    async def close(self, code: int, message: bytes, *, flush: bool = False) -> None:
        """Stop queueing and close; with `flush`, what is queued goes out first.

        A peer that does not take the close within CLOSE_TIMEOUT is cut off.
        """
        self._open = False
        closed = False
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._stop_sending(flush)
                await self.ws.close(code=code, message=message)
                closed = True
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            # aiohttp shares one drain future per connection, and a cancelled sender can
            # leave it cancelled; only a cancellation of this task is passed on.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                self._abort()
                raise
        if not closed:
            # The handler's receive() then sees the connection lost and its `finally` runs.
            await _cancel(self._sender)
            self._abort()

    async def _stop_sending(self, flush: bool) -> None:
        """Let the sender finish the message it is writing (and with `flush`, the queue)."""
        sender = self._sender
        if sender is None or sender.done():
            return
        if not flush:
            while not self._outbox.empty():
                self._outbox.get_nowait()
        await self._outbox.put(None)
        await sender

    def _abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    async def _drain(self) -> None:
        try:
            while (data := await self._outbox.get()) is not None:
                await self.ws.send_str(data)
        except (ConnectionError, RuntimeError):
            # The connection is gone; the handler's receive() ends and removes us.
            self._open = False


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` and wait for it, without swallowing a cancellation of our own."""
    if task is None or task.done():
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


class Hub:
    """Subscriber sets shared by the websocket handlers and the services."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._by_user: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._admins: set[Subscriber] = set()
        self._product_listeners: list[Callable[[dict[str, Any]], None]] = []

    def __len__(self) -> int:
        return len(self._subscribers)

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
        """Call `listener` with every product event, before the sockets get it."""
        self._product_listeners.append(listener)

    def publish_products(self, event: dict[str, Any]) -> None:
        for listener in self._product_listeners:
            listener(event)
        self._deliver([s for s in self._subscribers if s.products], event)

    def publish_user(self, uid: str, event: dict[str, Any]) -> None:
        self._deliver([s for s in self._by_user.get(uid, ()) if s.cart], event)

    def publish_order(self, uid: str, event: dict[str, Any]) -> None:
        readers = {*self._by_user.get(uid, ()), *self._admins}
        self._deliver([s for s in readers if s.orders], event)

    def listening(self, uid: str) -> bool:
        return any(s.cart for s in self._by_user.get(uid, ()))

    def _deliver(self, subscribers: list[Subscriber], event: dict[str, Any]) -> None:
        if not subscribers:
            return  # most changes have nobody listening: skip the encoding too
        data = _encode(event).decode()
        for subscriber in subscribers:
            if not subscriber.offer(data):
                self._detach(subscriber)

    def disconnect_user(self, uid: str, session: str | None = None) -> None:
        """Close the user's sockets (only `session`'s, when given): their session ended.

        They receive nothing more from this call on; the close itself runs in the background.
        """
        for subscriber in tuple(self._by_user.get(uid, ())):
            if session is None or subscriber.session == session:
                self._detach(subscriber)
                subscriber.close_soon(SESSION_ENDED, b"session ended")

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY; used on shutdown."""
        subscribers = tuple(self._subscribers)
        await asyncio.gather(
            *(s.close(WSCloseCode.GOING_AWAY, b"server shutdown") for s in subscribers)
        )


def end_session_sockets(request: web.Request) -> None:
    """Close the sockets opened in this request's session, which is about to end."""
    user = request.get(USER)
    if user is not None:
        request.app[HUB].disconnect_user(user.id, session=request.get(SESSION_ID))
