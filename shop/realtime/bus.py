"""The Redis bus: one pub/sub channel joins the hubs of every shop process.

Sending never waits and never fails a request: messages go to a bounded queue that one
task publishes in order (pipelined); while Redis is unavailable they are dropped, with a
warning. One connection reads the channel. When it is lost the bus reconnects with
backoff and, subscribed again, awaits `on_connected` (the hub then resyncs: events were
missed meanwhile). A connection that goes silent is found by pinging it.

redis-py's own retries are off: a command it re-sent after a lost reply could deliver an
event twice, and a reconnection it made quietly would hide the events missed meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from shop.metrics import Metrics

log = logging.getLogger("shop.bus")

QUEUE_SIZE = 10_000  # messages waiting to be published; beyond that they are dropped
BATCH = 256  # messages per pipelined round trip
FIRST_DELAY = 0.1  # seconds before the first reconnection attempt, doubled up to...
MAX_DELAY = 2.0
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0  # a command without a reply within this is a lost connection
PING_AFTER = 5.0  # seconds of silence on the channel before the reader pings
WARN_EVERY = 10.0  # at most one "events dropped" warning this often
CLOSE_TIMEOUT = 1.0  # on close: to publish what is queued, then to close the connections
# Redis errors, and what a lost socket raises underneath them.
_LOST = (RedisError, OSError, TimeoutError)


class BusUnavailable(Exception):
    """Redis does not answer; the message says how, in words fit to show anyone."""


class RedisBus:
    """Messages between shop processes over Redis pub/sub; start it with `start()`."""

    def __init__(
        self,
        url: str,
        *,
        on_message: Callable[[bytes], None],
        on_connected: Callable[[], Awaitable[None]],
        on_lost: Callable[[], None],
        metrics: Metrics,
    ) -> None:
        self._client: Redis = Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
        )
        # Pub/sub channels ignore the database number: naming it keeps two shops that
        # share a Redis server on different databases apart.
        db = self._client.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"shop.events.{db}"
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._metrics = metrics
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_SIZE)
        self._connected = False
        self._tried = asyncio.Event()  # set once the first connection succeeded or failed
        self._tasks: list[asyncio.Task[None]] = []
        self._unsent = 0  # dropped since the last warning
        self._warned = 0.0

    @property
    def connected(self) -> bool:
        """True while subscribed: what is sent now reaches the other processes."""
        return self._connected

    async def start(self) -> None:
        """Connect in the background; return once the first attempt succeeded or failed, so
        a process starts with its events shared, or with a warning that they are not."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._subscribe_forever()),
            loop.create_task(self._publish_forever()),
        ]
        await self._tried.wait()

    def send(self, data: bytes) -> None:
        if not self._connected:
            self._drop(1, "not connected")
            return
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self._drop(1, "too many events waiting")

    async def ping(self) -> None:
        """Return when Redis answers and the channel is subscribed; BusUnavailable if not."""
        if not self._connected:
            raise BusUnavailable("not connected")
        try:
            await self._client.ping()
        except _LOST as exc:
            log.warning("Redis does not answer a ping: %s", exc)
            raise BusUnavailable("not answering") from None

    async def close(self) -> None:
        """Publish what is queued (briefly), then stop and close the connections."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                if self._connected:
                    await self._queue.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError, *_LOST):
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._client.aclose()

    # -- reading ---------------------------------------------------------------------------
    async def _subscribe_forever(self) -> None:
        delay = FIRST_DELAY
        warned = False
        while True:
            pubsub = self._client.pubsub()
            try:
                await self._subscribe(pubsub)
                log.info("subscribed to Redis channel %s", self.channel)
                self._connected = True
                self._tried.set()
                warned = False
                delay = FIRST_DELAY
                await self._connected_callback()
                await self._read(pubsub)
            except _LOST as exc:
                self._tried.set()
                if self._connected or not warned:
                    log.warning(
                        "Redis unavailable (%s): live events stay on this process until it"
                        " is back",
                        str(exc) or type(exc).__name__,
                    )
                    warned = True
            except Exception:
                self._tried.set()
                log.exception("the event bus's reader failed; reconnecting")
            finally:
                if self._connected:
                    self._connected = False
                    self._on_lost()
                with contextlib.suppress(TimeoutError, *_LOST):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await pubsub.aclose()
                        # The publisher's pooled connections are as dead as this one was: a
                        # publish on one would be lost after Redis is back.
                        await self._client.connection_pool.disconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY)

    async def _subscribe(self, pubsub: PubSub) -> None:
        await pubsub.subscribe(self.channel)
        # Subscribed once Redis confirms it; events published before then are not seen.
        async with asyncio.timeout(SOCKET_TIMEOUT):
            while True:
                message = await pubsub.get_message(timeout=SOCKET_TIMEOUT)
                if message is not None and message["type"] == "subscribe":
                    return

    async def _connected_callback(self) -> None:
        try:
            await self._on_connected()
        except Exception:
            # Reading the channel matters more than what the callback failed to do.
            log.exception("the event bus's reconnection handler failed")

    async def _read(self, pubsub: PubSub) -> None:
        """Hand every message on; raise ConnectionError when the connection goes silent."""
        loop = asyncio.get_running_loop()
        heard = loop.time()
        pinged: float | None = None
        while True:
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is None:
                if pinged is not None and now - pinged > SOCKET_TIMEOUT:
                    raise ConnectionError("Redis stopped answering")
                if pinged is None and now - heard > PING_AFTER:
                    await pubsub.ping()
                    pinged = now
                continue
            heard, pinged = now, None
            if message["type"] == "message":
                self._on_message(message["data"])

    # -- publishing ------------------------------------------------------------------------
    async def _publish_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                if not self._connected:
                    self._drop(len(batch), "not connected")
                    continue
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for data in batch:
                            pipe.publish(self.channel, data)
                        await pipe.execute()
                except _LOST as exc:
                    self._drop(len(batch), str(exc) or type(exc).__name__)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _drop(self, count: int, reason: str) -> None:
        self._metrics.events_dropped("bus", count)
        self._unsent += count
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY:
            log.warning(
                "Redis unavailable (%s): %d live events not shared with the other processes",
                reason,
                self._unsent,
            )
            self._unsent = 0
            self._warned = now
