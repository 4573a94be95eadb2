"""The throttle's backend contract (shop.store.throttle), on every store: fixed windows per
key, atomic counting, and passed windows purged. The HTTP behaviour is tested with the
sessions; these are the guarantees a Redis backend must also keep."""

from __future__ import annotations

import asyncio
import time

from shop.keys import STORE
from shop.store.throttle import ThrottleStore, Window
from tests.conftest import Client

# Real time from now on: the shop's own purge, and MongoDB's TTL monitor, delete windows
# whose end has passed in fact.
NOW = float(int(time.time()) + 3600)
WINDOW = 900.0


def backend(client: Client) -> ThrottleStore:
    return client.app[STORE].throttle


async def test_failures_count_in_a_window_opened_by_the_first(client: Client) -> None:
    throttle = backend(client)
    assert await throttle.counts(["a", "b"], NOW) == [Window(), Window()]
    assert await throttle.hit(["a", "b"], NOW, WINDOW) == [Window(1, NOW + WINDOW)] * 2
    assert await throttle.hit(["a"], NOW + 10, WINDOW) == [Window(2, NOW + WINDOW)]
    assert await throttle.counts(["a", "b", "c"], NOW + 20) == [
        Window(2, NOW + WINDOW),
        Window(1, NOW + WINDOW),
        Window(),
    ]


async def test_a_passed_window_counts_nothing_and_the_next_failure_opens_a_new_one(
    client: Client,
) -> None:
    throttle = backend(client)
    await throttle.hit(["a"], NOW, WINDOW)
    await throttle.hit(["a"], NOW, WINDOW)
    later = NOW + WINDOW
    assert await throttle.counts(["a"], later) == [Window()]
    assert await throttle.hit(["a"], later, WINDOW) == [Window(1, later + WINDOW)]


async def test_clear_forgets_one_key(client: Client) -> None:
    throttle = backend(client)
    await throttle.hit(["a", "b"], NOW, WINDOW)
    await throttle.clear("a")
    assert await throttle.counts(["a", "b"], NOW) == [Window(), Window(1, NOW + WINDOW)]


async def test_purge_deletes_only_passed_windows(client: Client) -> None:
    throttle = backend(client)
    await throttle.hit(["old"], NOW, WINDOW)
    await throttle.hit(["new"], NOW + 500, WINDOW)
    assert await throttle.purge(NOW + WINDOW) == 1
    assert await throttle.counts(["old", "new"], NOW + 600) == [
        Window(),
        Window(1, NOW + 500 + WINDOW),
    ]


async def test_concurrent_failures_are_all_counted(client: Client) -> None:
    throttle = backend(client)
    await asyncio.gather(*(throttle.hit(["a", "b"], NOW, WINDOW) for _ in range(20)))
    assert await throttle.counts(["a", "b"], NOW) == [Window(20, NOW + WINDOW)] * 2
