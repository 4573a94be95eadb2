"""The hub: who is listening to what, and delivery that no slow client can stall.

Each socket gets a `Subscriber` with a bounded outbox drained by its own task. A publish
serialises the event once and only enqueues; a client whose outbox is full is dropped
(its page reconnects and resyncs) instead of holding everyone else back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from aiohttp import WSCloseCode, web

log = logging.getLogger("shop.realtime")

OUTBOX_SIZE = 256


class Subscriber:
    """One websocket: which topics it follows and the messages waiting for it."""

    def __init__(self, ws: web.WebSocketResponse, uid: str | None) -> None:
        self.ws = ws
        self.uid = uid
        self.products = True
        self.cart = uid is not None
        self._outbox: asyncio.Queue[str] = asyncio.Queue(OUTBOX_SIZE)
        self._sender: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    def offer(self, data: str) -> None:
        try:
            self._outbox.put_nowait(data)
        except asyncio.QueueFull:
            log.info("dropping a websocket that fell %d messages behind", OUTBOX_SIZE)
            self._outbox = asyncio.Queue(1)  # stop queueing for a socket that is leaving
            asyncio.get_running_loop().create_task(
                self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
            )

    async def send_now(self, event: dict[str, Any]) -> None:
        """Queue a reply to this socket alone, in order with its broadcasts."""
        self.offer(json.dumps(event))

    async def _drain(self) -> None:
        while True:
            data = await self._outbox.get()
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return


class Hub:
    """Subscriber sets shared by the websocket handlers and the services."""

    def __init__(self) -> None:
        self._subscribers: set[Subscriber] = set()
        self._by_user: defaultdict[str, set[Subscriber]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._subscribers)

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)
        if subscriber.uid is not None:
            self._by_user[subscriber.uid].add(subscriber)
        subscriber.start()

    async def remove(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if subscriber.uid is not None:
            mine = self._by_user.get(subscriber.uid)
            if mine is not None:
                mine.discard(subscriber)
                if not mine:
                    del self._by_user[subscriber.uid]
        await subscriber.stop()

    def publish_products(self, event: dict[str, Any]) -> None:
        data = json.dumps(event)
        for subscriber in tuple(self._subscribers):
            if subscriber.products:
                subscriber.offer(data)

    def publish_user(self, uid: str, event: dict[str, Any]) -> None:
        data = json.dumps(event)
        for subscriber in tuple(self._by_user.get(uid, ())):
            if subscriber.cart:
                subscriber.offer(data)

    async def close_all(self) -> None:
        """Close every socket with GOING_AWAY; used on shutdown."""
        for subscriber in tuple(self._subscribers):
            await subscriber.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
