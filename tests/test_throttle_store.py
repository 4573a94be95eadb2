"""The throttle's backend contract (shop.store.throttle) on every store and on Redis: fixed
windows per key, atomic counting, and passed windows purged (Redis expires them itself).
The HTTP behaviour is tested with the sessions; the failover from a lost Redis to the store
is tested here, and the limits shared by several processes in tests/test_cluster.py."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from shop.keys import STORE
from shop.store.redis_throttle import Failover, RedisThrottle
from shop.store.throttle import ThrottleStore, Window
from tests.conftest import PASSWORD, Auth, Client
from tests.servers import RedisServer

MakeClient = Callable[..., Awaitable[Client]]
# Real time from now on: the shop's own purge, and MongoDB's TTL monitor, delete windows
# whose end has passed in fact.
NOW = float(int(time.time()) + 3600)
WINDOW = 900.0


class Contract:
    """What every backend keeps; a subclass gives the `throttle` fixture."""

    async def test_failures_count_in_a_window_opened_by_the_first(
        self, throttle: ThrottleStore
    ) -> None:
        assert await throttle.counts(["a", "b"], NOW) == [Window(), Window()]
        assert await throttle.hit(["a", "b"], NOW, WINDOW) == [Window(1, NOW + WINDOW)] * 2
        assert await throttle.hit(["a"], NOW + 10, WINDOW) == [Window(2, NOW + WINDOW)]
        assert await throttle.counts(["a", "b", "c"], NOW + 20) == [
            Window(2, NOW + WINDOW),
            Window(1, NOW + WINDOW),
            Window(),
        ]

    async def test_a_passed_window_counts_nothing_and_the_next_failure_opens_a_new_one(
        self, throttle: ThrottleStore
    ) -> None:
        await throttle.hit(["a"], NOW, WINDOW)
        await throttle.hit(["a"], NOW, WINDOW)
        later = NOW + WINDOW
        assert await throttle.counts(["a"], later) == [Window()]
        assert await throttle.hit(["a"], later, WINDOW) == [Window(1, later + WINDOW)]

    async def test_clear_forgets_one_key(self, throttle: ThrottleStore) -> None:
        await throttle.hit(["a", "b"], NOW, WINDOW)
        await throttle.clear("a")
        assert await throttle.counts(["a", "b"], NOW) == [Window(), Window(1, NOW + WINDOW)]

    async def test_purge_deletes_only_passed_windows(self, throttle: ThrottleStore) -> None:
        await throttle.hit(["old"], NOW, WINDOW)
        await throttle.hit(["new"], NOW + 500, WINDOW)
        assert await throttle.purge(NOW + WINDOW) == 1
        assert await throttle.counts(["old", "new"], NOW + 600) == [
            Window(),
            Window(1, NOW + 500 + WINDOW),
        ]

    async def test_concurrent_failures_are_all_counted(self, throttle: ThrottleStore) -> None:
        await asyncio.gather(*(throttle.hit(["a", "b"], NOW, WINDOW) for _ in range(20)))
        assert await throttle.counts(["a", "b"], NOW) == [Window(20, NOW + WINDOW)] * 2


class TestStore(Contract):
    @pytest.fixture
    def throttle(self, client: Client) -> ThrottleStore:
        return client.app[STORE].throttle


class TestRedis(Contract):
    @pytest.fixture
    async def throttle(self, redis: RedisServer) -> AsyncIterator[ThrottleStore]:
        throttle = RedisThrottle(redis.url)
        yield throttle
        await throttle.close()

    async def test_purge_deletes_only_passed_windows(self, throttle: ThrottleStore) -> None:
        # Redis forgets a window when it ends, by itself: nothing is left to purge.
        await throttle.hit(["old"], NOW, WINDOW)
        assert await throttle.purge(NOW + WINDOW) == 0
        assert await throttle.counts(["old"], NOW + WINDOW) == [Window()]

    async def test_a_window_expires_in_redis_when_it_ends(
        self, throttle: ThrottleStore, redis: RedisServer
    ) -> None:
        now = time.time()
        await throttle.hit(["brief"], now, 0.2)
        other = RedisThrottle(redis.url)  # another process, reading Redis itself
        try:
            assert (await other.counts(["brief"], now))[0].count == 1
            async with asyncio.timeout(5):
                while (await other.counts(["brief"], 0.0)) != [Window()]:
                    await asyncio.sleep(0.05)
        finally:
            await other.close()


# ---- Redis lost: the store counts meanwhile -------------------------------------------------


async def test_a_lost_redis_hands_the_counts_to_the_store_with_a_warning(
    client: Client, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = client.app[STORE].throttle
    throttle = Failover(RedisThrottle(redis.url), store)
    try:
        assert await throttle.hit(["a"], NOW, WINDOW) == [Window(1, NOW + WINDOW)]
        assert await store.counts(["a"], NOW) == [Window()]  # counted in Redis
        redis.kill()
        with caplog.at_level(logging.WARNING, logger="shop.throttle"):
            assert await throttle.hit(["a"], NOW, WINDOW) == [Window(1, NOW + WINDOW)]
            assert await throttle.hit(["a"], NOW, WINDOW) == [Window(2, NOW + WINDOW)]
            assert await throttle.counts(["a"], NOW) == [Window(2, NOW + WINDOW)]
        assert await store.counts(["a"], NOW) == [Window(2, NOW + WINDOW)]
        # One warning, not one per call: the store answers a while before Redis is retried.
        warnings = [r.getMessage() for r in caplog.records if r.name == "shop.throttle"]
        assert len(warnings) == 1
        assert "login throttling counts in the store" in warnings[0]
    finally:
        await throttle.close()


async def test_logins_go_on_and_stay_throttled_while_redis_is_down(
    make_client: MakeClient, redis: RedisServer
) -> None:
    client = await make_client(redis_url=redis.url, login_max_failures=3)
    user = await Auth(client).register()
    redis.kill()
    wrong = {"email": user["email"], "password": "guessing wrong"}
    for _ in range(3):
        assert (await client.post("/api/sessions/login", json=wrong)).status == 401
    right = {"email": user["email"], "password": PASSWORD}
    assert (await client.post("/api/sessions/login", json=right)).status == 429
    # Another process counts in the same store meanwhile: the same address is refused there.
    other = await make_client(redis_url=redis.url, login_max_failures=3)
    assert (await other.post("/api/sessions/login", json=right)).status == 429
    # And a login never failed for want of Redis: another account logs in at once.
    someone = await Auth(other).register()
    await Auth(other).login(someone["email"])
