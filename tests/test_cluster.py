"""Three `python -m shop serve` processes on one MongoDB (mongoeco's wire server, in a
thread of this process) and one Redis (Debian's redis-server): they act as one shop.

The processes start once for the module (about 5 s); each test takes a second or two.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from shop.realtime import SESSION_ENDED
from tests.conftest import PASSWORD, product_fields, registration
from tests.deployment import Cluster, Nginx, ShopProcess, http_status
from tests.servers import wait_until

TIMEOUT = 10.0
ADMIN = Cluster.ADMIN


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("cluster"), PASSWORD)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Opens cookie jars (people): cookies of 127.0.0.1 go to every process, as they would
    behind one balancer."""
    sessions: list[aiohttp.ClientSession] = []

    def make() -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        await session.close()


async def payload(response: Any, status: int = 200) -> Any:
    async with response as answer:
        assert answer.status == status, await answer.text()
        return (await answer.json())["payload"]


async def log_in(session: aiohttp.ClientSession, shop: ShopProcess, email: str) -> Any:
    body = {"email": email, "password": PASSWORD}
    return await payload(session.post(f"{shop.url}/api/sessions/login", json=body))


async def socket(session: aiohttp.ClientSession, shop: ShopProcess) -> Any:
    ws = await session.ws_connect(f"{shop.url}/ws", origin=shop.url)
    assert (await ws.receive_json(timeout=TIMEOUT))["type"] == "hello"
    return ws


async def next_event(ws: Any) -> dict[str, Any]:
    event: dict[str, Any] = await ws.receive_json(timeout=TIMEOUT)
    return event


async def closed_with(ws: Any) -> tuple[int, str]:
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type is aiohttp.WSMsgType.CLOSE, msg
    return msg.data, msg.extra


async def admin_with_product(
    browser: Any, shop: ShopProcess
) -> tuple[aiohttp.ClientSession, dict[str, Any]]:
    """The admin, logged in through `shop`, and a product they made there."""
    admin = browser()
    await log_in(admin, shop, ADMIN)
    return admin, await payload(admin.post(f"{shop.url}/api/products", json=product_fields()), 201)


async def test_an_admin_change_on_a_reaches_the_sockets_on_b_and_c_once(
    cluster: Cluster, browser: Any
) -> None:
    a, b, c = cluster.shops
    watchers = [await socket(browser(), shop) for shop in (a, b, c)]
    admin, product = await admin_with_product(browser, a)
    changed = await payload(admin.put(f"{a.url}/api/products/{product['_id']}", json={"stock": 1}))
    # A change on C after it: had A's change been delivered twice, this would not be next.
    later = await payload(admin.put(f"{c.url}/api/products/{product['_id']}", json={"stock": 2}))
    for ws in watchers:
        assert await next_event(ws) == {"type": "product.created", "product": product}
        assert await next_event(ws) == {"type": "product.updated", "product": changed}
        assert await next_event(ws) == {"type": "product.updated", "product": later}
        await ws.close()


async def test_logout_all_on_a_closes_the_users_sockets_on_b_and_c(
    cluster: Cluster, browser: Any
) -> None:
    a, b, c = cluster.shops
    phone = browser()
    user = await payload(phone.post(f"{a.url}/api/users", json=registration()), 201)
    await log_in(phone, a, user["email"])
    laptop = browser()
    await log_in(laptop, b, user["email"])
    theirs = [await socket(laptop, b), await socket(phone, c)]
    await payload(phone.post(f"{a.url}/api/sessions/logout-all"))
    for ws in theirs:
        assert await closed_with(ws) == (SESSION_ENDED, "session ended")


async def test_a_price_change_on_a_is_served_by_b_within_a_second(
    cluster: Cluster, browser: Any
) -> None:
    a, b, _ = cluster.shops
    admin, product = await admin_with_product(browser, a)
    pid = product["_id"]
    anyone = browser()
    assert (await payload(anyone.get(f"{b.url}/api/products/{pid}")))["price"] == 12.5
    await payload(admin.put(f"{a.url}/api/products/{pid}", json={"price": 30}))
    changed = time.monotonic()
    # Polled: B's cache drop happens in another process; nothing here can await it.
    while (await payload(anyone.get(f"{b.url}/api/products/{pid}")))["price"] != 30:
        assert time.monotonic() - changed < 1.0, "B served the old price for a second"
        await asyncio.sleep(0.02)


async def test_failed_logins_spread_over_a_b_and_c_hit_one_limit(
    cluster: Cluster, browser: Any
) -> None:
    a, b, c = cluster.shops
    person = browser()
    account = await payload(person.post(f"{a.url}/api/users", json=registration()), 201)
    wrong = {"email": account["email"], "password": "guessing wrong"}
    # The default limit: 5 failures per account and address, here one address for all.
    for shop in (a, b, c, a, b):
        async with person.post(f"{shop.url}/api/sessions/login", json=wrong) as answer:
            assert answer.status == 401
    right = {"email": account["email"], "password": PASSWORD}
    for shop in (c, a, b):
        async with person.post(f"{shop.url}/api/sessions/login", json=right) as answer:
            assert answer.status == 429, await answer.text()
            assert int(answer.headers["Retry-After"]) > 0
    # Counted in Redis, where every process reads them.
    redis = Redis.from_url(cluster.redis.url)
    try:
        keys = await redis.keys("shop:throttle:pw:*")
        assert [key.decode() for key in keys] == [f"shop:throttle:pw:{account['email']}|127.0.0.1"]
    finally:
        await redis.aclose()


async def test_redis_killed_and_restarted_requests_succeed_and_events_flow_again(
    cluster: Cluster, browser: Any
) -> None:
    a, b, c = cluster.shops
    admin, product = await admin_with_product(browser, a)
    pid = product["_id"]
    user = browser()
    account = await payload(user.post(f"{a.url}/api/users", json=registration()), 201)
    await log_in(user, a, account["email"])
    users_socket = await socket(user, b)
    watcher = await socket(browser(), b)

    cluster.redis.kill()
    wait = asyncio.to_thread(
        wait_until,
        lambda: all(http_status(s.port, "/readyz") == 503 for s in cluster.shops),
        "503",
    )
    await wait
    # Every process keeps answering, reads and writes (none on B: its sockets would get
    # the change, and this test is about what B misses).
    for stock, shop in enumerate((a, c), start=3):
        await payload(admin.put(f"{shop.url}/api/products/{pid}", json={"stock": stock}))
    for shop in (a, b, c):
        assert (await payload(user.get(f"{shop.url}/api/products/{pid}")))["stock"] == 4
    await payload(user.post(f"{a.url}/api/sessions/logout-all"))  # B cannot hear of it

    cluster.redis.start()
    await asyncio.to_thread(cluster.wait_ready)
    # B re-checked its sockets' sessions and told the others to refetch.
    assert await closed_with(users_socket) == (SESSION_ENDED, "session ended")
    assert await next_event(watcher) == {"type": "resync"}
    changed = await payload(admin.put(f"{a.url}/api/products/{pid}", json={"stock": 5}))
    assert await next_event(watcher) == {"type": "product.updated", "product": changed}
    await watcher.close()


async def test_nginx_in_front_passes_websockets_and_same_origin_writes(
    cluster: Cluster, browser: Any
) -> None:
    nginx = Nginx(cluster.directory / "nginx", [shop.port for shop in cluster.shops])
    await asyncio.to_thread(nginx.start)
    try:
        person = browser()
        body = registration()
        # Through nginx, the Origin the browser sends matches the Host the shop sees.
        headers = {"Origin": nginx.url}
        await payload(person.post(f"{nginx.url}/api/users", json=body, headers=headers), 201)
        login = {"email": body["email"], "password": PASSWORD}
        login_url = f"{nginx.url}/api/sessions/login"
        await payload(person.post(login_url, json=login, headers=headers))
        ws = await person.ws_connect(f"{nginx.url}/ws", origin=nginx.url)
        hello = await next_event(ws)
        assert hello["type"] == "hello"
        assert hello["user"] is not None
        await ws.close()
        # Metrics are scraped from each process, never through the balancer.
        async with person.get(f"{nginx.url}/metrics") as response:
            assert response.status == 404
    finally:
        await asyncio.to_thread(nginx.stop)
