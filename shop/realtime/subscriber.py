"""One websocket as the hub sees it: its topics, and delivery that no slow client can stall.

A publish frames the event once. A socket with nothing waiting before it and a peer that
keeps up (nothing left in its transport's buffer) gets the frame written at once, without
waking any task: fanning out is then one write per socket. Otherwise the message goes to
the socket's bounded outbox, drained by its own task; a client whose outbox is full is
dropped (its page reconnects and resyncs) instead of holding everyone else back.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

import msgspec
from aiohttp import WSCloseCode, web

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
        "_sending",
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
        # Written to directly when the peer keeps up; cut when a close cannot complete.
        self._transport = transport
        # None tells the sender to stop.
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(OUTBOX_SIZE)
        self._open = True
        self._sender: asyncio.Task[None] | None = None
        self._sending = False  # the sender is writing (or waiting to write) a message
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

    def offer(self, data: str, frame: bytes | None = None) -> bool:
        """Send serialised text; False when this socket takes no more (and is being closed).

        With `frame` (`data` as a websocket frame, built once for every socket), a socket
        with nothing waiting before it and a peer that keeps up gets it written at once;
        otherwise it is queued for the sender.
        """
        if not self._open:
            return False
        transport = self._transport
        if (
            frame is not None
            and not self._sending
            and self._outbox.empty()
            and isinstance(transport, asyncio.WriteTransport)
            and not transport.get_write_buffer_size()
            and not transport.is_closing()
            and not self.ws.closed
        ):
            transport.write(frame)
            return True
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            log.info("dropping a websocket that fell %d messages behind", OUTBOX_SIZE)
            self.close_soon(WSCloseCode.TRY_AGAIN_LATER, b"too slow")
            return False
        return True

    def send_now(self, event: dict[str, Any]) -> None:
        """Queue a message to this socket alone, before any broadcast not yet sent (the
        events its own action published follow it)."""
        self.offer(_encode(event).decode())

    def close_soon(self, code: int, message: bytes) -> None:
        """Stop queueing at once and close the socket in the background."""
        self._open = False
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self.close(code, message))

    async def close(
        self, code: int, message: bytes, *, flush: bool = False, grace: float | None = None
    ) -> None:
        """Stop queueing and close; with `flush`, what is queued goes out first.

        A peer that does not take the close within `grace` seconds (CLOSE_TIMEOUT) is cut off.
        """
        self._open = False
        closed = False
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT if grace is None else grace):
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
        """End the connection: with a FIN when nothing is left to write (a close frame
        already written still reaches the peer), with a reset when the peer stopped reading."""
        transport = self._transport
        if isinstance(transport, asyncio.WriteTransport) and not transport.get_write_buffer_size():
            transport.close()
        elif transport is not None:
            transport.abort()

    async def _drain(self) -> None:
        try:
            while (data := await self._outbox.get()) is not None:
                self._sending = True
                await self.ws.send_str(data)
                self._sending = False
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


def text_frame(payload: bytes) -> bytes:
    """`payload` as one unmasked, uncompressed text frame (RFC 6455, 5.2): what a server
    sends on a socket without per-message compression, as these are."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x81, size) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload
