"""A MongoDB that stops answering (a proxy that accepts and swallows bytes): requests get a
503 within SHOP_STORE_TIMEOUT and then at once, cached catalogue reads keep answering, the
shop notices within seconds when it answers again, and SIGTERM stops a process within 10 s
whatever MongoDB and Redis are doing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer
from yarl import URL

from shop.app import create_app
from tests.conftest import PASSWORD, Auth, Client, app_settings, product_fields
from tests.deployment import ShopProcess, create_admin
from tests.servers import FreezableProxy, RedisServer, shop_env
from tests.test_ws import success

STORE_TIMEOUT = 1.0
SLACK = 1.5  # a loaded two-core machine: time beyond the timeout a 503 may take
AT_ONCE = 0.5  # what "at once" may take on that machine


@pytest.fixture
async def mongo() -> AsyncIterator[AsyncMongoEcoProxyServer]:
    async with AsyncMongoEcoProxyServer() as server:
        yield server


@pytest.fixture
async def mongo_proxy(mongo: AsyncMongoEcoProxyServer) -> AsyncIterator[FreezableProxy]:
    proxy = await FreezableProxy(mongo.address.port).start()
    yield proxy
    await proxy.close()


def mongo_url(proxy: FreezableProxy) -> str:
    return f"mongodb://127.0.0.1:{proxy.port}/shop?directConnection=true"


async def timed(request: Awaitable[aiohttp.ClientResponse]) -> tuple[int, float]:
    started = time.monotonic()
    response = await request
    await response.read()
    return response.status, time.monotonic() - started


async def test_requests_get_503_in_time_then_at_once_and_cached_reads_go_on(
    aiohttp_client: Callable[..., Awaitable[Client]], mongo_proxy: FreezableProxy, tmp_path: Path
) -> None:
    settings = app_settings(mongo_url(mongo_proxy), tmp_path, store_timeout=STORE_TIMEOUT)
    client = await aiohttp_client(create_app(settings))
    await Auth(client).admin()
    cached = (await success(client.post("/api/products", json=product_fields()), 201))["_id"]
    uncached = (await success(client.post("/api/products", json=product_fields()), 201))["_id"]
    assert (await success(client.get(f"/api/products/{cached}")))["_id"] == cached
    token = (await success(client.post("/api/tokens", json={"name": "ci"}), 201))["token"]
    anonymous: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
    await anonymous.start_server()
    try:
        mongo_proxy.freeze()
        status, seconds = await timed(anonymous.get(f"/api/products/{uncached}"))
        assert status == 503
        assert seconds < STORE_TIMEOUT + SLACK
        # Known down now: no request waits again, with a session, a token or neither,
        # whatever aggregate it needs first (the login's throttle, the token's record).
        login = {"email": "nobody@shop.test", "password": PASSWORD}
        for request in (
            lambda: anonymous.get(f"/api/products/{uncached}"),
            lambda: client.post(f"/api/carts/{'0' * 24}/product/{cached}"),
            lambda: client.get("/api/sessions/current"),
            lambda: client.get("/readyz"),
            lambda: anonymous.post("/api/sessions/login", json=login),
            lambda: anonymous.get("/api/orders", headers={"Authorization": f"Bearer {token}"}),
        ):
            status, seconds = await timed(request())
            assert (status, seconds < AT_ONCE) == (503, True)
        # Readiness says what is wrong, without the driver's detail (hosts, topology).
        ready = await (await client.get("/readyz")).json()
        assert ready["error"] == "not ready: store: unavailable"
        # The cached product is served all along, to anyone.
        for browser in (anonymous, client):
            assert (await success(browser.get(f"/api/products/{cached}")))["_id"] == cached

        mongo_proxy.thaw()
        # A probe each second notices; polled, as nothing announces it.
        deadline = time.monotonic() + 5 * STORE_TIMEOUT + 5
        while (await client.get(f"/api/products/{uncached}")).status != 200:
            assert time.monotonic() < deadline, "still 503 after MongoDB answers again"
            await asyncio.sleep(0.2)
        assert (await client.get("/api/sessions/current")).status == 200
    finally:
        await anonymous.close()


async def test_sigterm_stops_the_process_within_10_s_while_mongodb_and_redis_hang(
    mongo_proxy: FreezableProxy, redis: RedisServer, tmp_path: Path
) -> None:
    redis_proxy = await FreezableProxy(redis.port).start()
    env = shop_env(
        tmp_path / "data",
        SHOP_DATABASE_URL=mongo_url(mongo_proxy),
        SHOP_REDIS_URL=f"redis://127.0.0.1:{redis_proxy.port}/0",
        SHOP_SECRET_KEY="sigterm-test-secret-key-0123456789-abcdef",
    )
    await asyncio.to_thread(create_admin, env, "admin@shop.test", PASSWORD)
    shop = ShopProcess(env, tmp_path / "shop.log")
    shop.start()
    try:
        await asyncio.to_thread(shop.wait_ready)
        async with aiohttp.ClientSession(shop.url, cookie_jar=CookieJar(unsafe=True)) as session:
            login = {"email": "admin@shop.test", "password": PASSWORD}
            await success(session.post("/api/sessions/login", json=login))
            ws = await session.ws_connect("/ws", origin=shop.url)
            mongo_proxy.freeze()
            redis_proxy.freeze()
            # A write waiting on MongoDB when the signal comes: its bytes are with the
            # server's socket before the signal is sent.
            cookies = session.cookie_jar.filter_cookies(URL(shop.url))
            reader, writer = await asyncio.open_connection("127.0.0.1", shop.port)
            body = json.dumps(product_fields()).encode()
            cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
            writer.write(
                b"POST /api/products HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                + f"Cookie: {cookie}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            seconds = await asyncio.to_thread(shop.stop)
            assert shop.process is not None
            assert seconds < 10, f"took {seconds:.1f} s:\n{shop.log.read_text()}"
            assert shop.process.returncode == 0, shop.log.read_text()
            # The write was answered 503 in time, or cut by the stop: never left hanging.
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 503"), answer[:200]
            writer.close()
            await ws.close()
    finally:
        shop.stop()
        await redis_proxy.close()
