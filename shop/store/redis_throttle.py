"""Failed-attempt windows in Redis (shop.store.throttle), shared by every process on the
same SHOP_REDIS_URL; and the failover that keeps logins working while Redis is lost.

A window is a hash `{count, reset_at}` under `shop:throttle:<key>`. A failure is one Lua
script per call (atomic for its keys): inside the window it increments the count; a new
key, or a passed window, starts again at one and sets the hash's expiry, once, to the
window's end, so Redis forgets a window by itself (`purge` has nothing to do). Reading the
windows of a login is one pipelined round trip.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from shop.store.throttle import ThrottleStore, Window

log = logging.getLogger("shop.throttle")

PREFIX = "shop:throttle:"
TIMEOUT = 1.0  # seconds to connect or answer: a login never waits on Redis longer
RETRY_AFTER = 5.0  # seconds on the fallback before Redis is tried again
# Redis errors, and what a lost socket raises underneath them.
_LOST = (RedisError, OSError, TimeoutError)

# KEYS: the windows. ARGV: now, the new window's end (kept as given, so it reads back
# exactly), and that end in milliseconds for the expiry.
_HIT = """
local answers = {}
for i, key in ipairs(KEYS) do
  local reset_at = redis.call('HGET', key, 'reset_at')
  if reset_at and tonumber(reset_at) > tonumber(ARGV[1]) then
    answers[i] = {redis.call('HINCRBY', key, 'count', 1), reset_at}
  else
    redis.call('HSET', key, 'count', 1, 'reset_at', ARGV[2])
    redis.call('PEXPIREAT', key, ARGV[3])
    answers[i] = {1, ARGV[2]}
  end
end
return answers
"""


def _window(count: str | None, reset_at: str | None, now: float) -> Window:
    if count is None or reset_at is None or float(reset_at) <= now:
        return Window()
    return Window(int(count), float(reset_at))


class RedisThrottle:
    """The ThrottleStore protocol over Redis."""

    def __init__(self, url: str) -> None:
        # No retries by redis-py: a hit it re-sent after a lost reply would count twice.
        self._client: Redis = Redis.from_url(
            url,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
        )
        self._hit = self._client.register_script(_HIT)

    async def counts(self, keys: Sequence[str], now: float) -> list[Window]:
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hmget(PREFIX + key, ["count", "reset_at"])
            found = await pipe.execute()
        return [_window(count, reset_at, now) for count, reset_at in found]

    async def hit(self, keys: Sequence[str], now: float, window: float) -> list[Window]:
        reset_at = now + window
        args = [repr(now), repr(reset_at), math.ceil(reset_at * 1000)]
        found = await self._hit(keys=[PREFIX + key for key in keys], args=args)
        return [Window(int(count), float(end)) for count, end in found]

    async def clear(self, key: str) -> None:
        await self._client.delete(PREFIX + key)

    async def purge(self, now: float) -> int:
        return 0  # every window expires by itself

    async def close(self) -> None:
        with contextlib.suppress(*_LOST):  # nothing to hand back to a server that is gone
            await self._client.aclose()


class Failover:
    """Redis's counts while Redis answers; the store's meanwhile, with a warning.

    A login must never fail because Redis is lost: an operation Redis does not answer is
    done on the store instead, and the store keeps answering for RETRY_AFTER seconds before
    Redis is tried again. Failures counted on one side are not seen on the other.
    """

    def __init__(self, redis: RedisThrottle, store: ThrottleStore) -> None:
        self._redis = redis
        self._store = store
        self._lost_until = 0.0

    async def _either[T](self, operation: Callable[[ThrottleStore], Awaitable[T]]) -> T:
        if time.monotonic() >= self._lost_until:
            try:
                return await operation(self._redis)
            except _LOST as exc:
                log.warning(
                    "Redis unavailable (%s): login throttling counts in the store for %g s",
                    str(exc) or type(exc).__name__,
                    RETRY_AFTER,
                )
                self._lost_until = time.monotonic() + RETRY_AFTER
        return await operation(self._store)

    async def counts(self, keys: Sequence[str], now: float) -> list[Window]:
        return await self._either(lambda backend: backend.counts(keys, now))

    async def hit(self, keys: Sequence[str], now: float, window: float) -> list[Window]:
        return await self._either(lambda backend: backend.hit(keys, now, window))

    async def clear(self, key: str) -> None:
        await self._either(lambda backend: backend.clear(key))

    async def purge(self, now: float) -> int:
        # Redis expires its windows; the store may hold some counted while it was lost.
        return await self._store.purge(now)

    async def close(self) -> None:
        await self._redis.close()
