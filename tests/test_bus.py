"""Two shop apps on one MongoDB and one Redis (Debian's redis-server), in this process:
events cross between them once each, ended sessions close sockets on both, the catalogue
cache follows the other's changes, and losing Redis fails no request.

The multi-process versions of these (real `python -m shop serve` processes, nginx) are in
tests/test_cluster.py and tests/browser/test_deploy.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from shop.app import create_app
from shop.keys import BUS
from shop.realtime import SESSION_ENDED
from shop.settings import Settings
from tests.conftest import Auth, Client, app_settings, product_fields
from tests.deployment import create_admin
from tests.servers import RedisServer, shop_env
from tests.test_ws import Socket, closed_with, end_session, next_event, own_origin, success

TIMEOUT = 5.0


@pytest.fixture
async def mongo_url() -> AsyncIterator[str]:
    async with AsyncMongoEcoProxyServer() as server:
        yield f"mongodb://127.0.0.1:{server.address.port}/shop?directConnection=true"


@pytest.fixture
def shared(mongo_url: str, redis: RedisServer, tmp_path: Path) -> Settings:
    """Settings every app of the test shares: one database, one Redis, one secret key."""
    return app_settings(mongo_url, tmp_path, redis_url=redis.url, store_timeout=2.0)


async def connected(client: Client, up: bool = True) -> None:
    """Wait until this app's bus is (or is no longer) subscribed."""
    bus = client.app[BUS]
    assert bus is not None
    async with asyncio.timeout(TIMEOUT * 2):
        while bus.connected is not up:
            await asyncio.sleep(0.02)


class Shops:
    """Apps (as many processes) over the shared database and Redis, browsers on them (each
    with its own cookies, or another's: the same person reaching another process) and
    their sockets; closed in reverse at the end of the test."""

    def __init__(self, aiohttp_client: Callable[..., Awaitable[Client]], shared: Settings):
        self._aiohttp_client = aiohttp_client
        self.shared = shared
        self._browsers: list[Client] = []
        self._sockets: list[Socket] = []

    async def app(self, **overrides: Any) -> Client:
        client = await self._aiohttp_client(create_app(replace(self.shared, **overrides)))
        if client.app[BUS] is not None:
            await connected(client)
        return client

    async def browser(self, app: Client, jar: CookieJar | None = None) -> Client:
        other: Client = TestClient(app.server, cookie_jar=jar or CookieJar(unsafe=True))
        await other.start_server()
        self._browsers.append(other)
        return other

    async def admin(self, app: Client) -> Client:
        browser = await self.browser(app)
        await Auth(browser).admin()
        return browser

    async def product(self, admin: Client) -> str:
        """A new product's id, made by `admin`."""
        return (await success(admin.post("/api/products", json=product_fields()), 201))["_id"]

    async def person(self, a: Client, b: Client) -> tuple[Client, Client, dict[str, Any]]:
        """One person logged in on A (a phone) and on B (a laptop): both browsers, and them."""
        phone, laptop = await self.browser(a), await self.browser(b)
        user = await Auth(phone).user()
        await Auth(laptop).login(user["email"])
        return phone, laptop, user

    async def socket(self, browser: Client) -> Socket:
        ws = await browser.ws_connect("/ws", origin=own_origin(browser))
        self._sockets.append(ws)
        assert (await next_event(ws))["type"] == "hello"
        return ws

    async def close(self) -> None:
        for ws in self._sockets:
            await ws.close()
        for browser in self._browsers:
            await browser.session.close()


@pytest.fixture
async def shops(
    shared: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> AsyncIterator[Shops]:
    # After `shared` (and its Redis), so the apps stop before Redis does.
    opened = Shops(aiohttp_client, shared)
    yield opened
    await opened.close()


async def test_a_product_change_reaches_both_apps_sockets_once_each(shops: Shops) -> None:
    a, b = await shops.app(), await shops.app()
    admin_a, admin_b = await shops.admin(a), await shops.admin(b)
    here, there = await shops.socket(a), await shops.socket(b)
    product = await success(admin_a.post("/api/products", json=product_fields()), 201)
    pid = product["_id"]
    changes = []
    for stock in (1, 2, 3):
        changes.append(await success(admin_a.put(f"/api/products/{pid}", json={"stock": stock})))
    # Then a change on B: it reaches A over Redis after A's own events would have, had A
    # delivered them a second time on their way back.
    last = await success(admin_b.put(f"/api/products/{pid}", json={"stock": 4}))
    expected = [
        {"type": "product.created", "product": product},
        *({"type": "product.updated", "product": change} for change in changes),
        {"type": "product.updated", "product": last},
    ]
    for ws in (here, there):
        assert [await next_event(ws) for _ in expected] == expected
    assert [change["version"] for change in (*changes, last)] == [2, 3, 4, 5]


async def test_cart_events_reach_the_owners_sockets_on_the_other_app(shops: Shops) -> None:
    a, b = await shops.app(), await shops.app()
    admin = await shops.admin(a)
    pid = await shops.product(admin)
    phone, laptop, user = await shops.person(a, b)
    stranger = await shops.browser(b)
    await Auth(stranger).user()
    theirs, strangers = await shops.socket(laptop), await shops.socket(stranger)
    cart = await success(phone.post(f"/api/carts/{user['cart']}/product/{pid}"))
    assert await next_event(theirs) == {"type": "cart.updated", "cart": cart}
    # The stranger's next event is the next product change, not the user's cart.
    await success(admin.put(f"/api/products/{pid}", json={"stock": 7}))
    assert (await next_event(strangers))["type"] == "product.updated"


async def test_a_purchase_on_one_app_reaches_the_buyer_and_the_admins_on_the_other(
    shops: Shops,
) -> None:
    a, b = await shops.app(), await shops.app()
    admin_a = await shops.admin(a)
    pid = await shops.product(admin_a)
    phone, laptop, user = await shops.person(a, b)
    stranger = await shops.browser(b)
    await Auth(stranger).user()
    await success(phone.post(f"/api/carts/{user['cart']}/product/{pid}"))
    buyers, admins, strangers = (
        await shops.socket(laptop),
        await shops.socket(await shops.admin(b)),
        await shops.socket(stranger),
    )
    bought = await success(phone.post(f"/api/carts/{user['cart']}/purchase"), 201)
    order = bought["order"]
    product = await success(phone.get(f"/api/products/{pid}"))
    # The stock taken, with the product's new version; the cart emptied; the order.
    assert await next_event(buyers) == {"type": "product.updated", "product": product}
    assert await next_event(buyers) == {"type": "cart.updated", "cart": bought["cart"]}
    assert await next_event(buyers) == {"type": "order.updated", "order": order}
    assert await next_event(admins) == {"type": "product.updated", "product": product}
    assert await next_event(admins) == {"type": "order.updated", "order": order}
    # An admin moving the order on B reaches the buyer's socket there too.
    paid = await success(admin_a.put(f"/api/orders/{order['_id']}", json={"status": "paid"}))
    assert await next_event(buyers) == {"type": "order.updated", "order": paid}
    assert await next_event(admins) == {"type": "order.updated", "order": paid}
    # The stranger saw the product change only.
    assert await next_event(strangers) == {"type": "product.updated", "product": product}
    await success(admin_a.put(f"/api/products/{pid}", json={"stock": 7}))
    assert (await next_event(strangers))["type"] == "product.updated"


@pytest.mark.parametrize(
    "how",
    ["logout everywhere", "password change", "account deletion", "role change", "promotion"],
)
async def test_ending_sessions_on_one_app_closes_sockets_on_the_other(
    shops: Shops,
    shared: Settings,
    tmp_path: Path,
    how: str,
) -> None:
    a, b = await shops.app(), await shops.app()
    phone, laptop, user = await shops.person(a, b)
    there = await shops.socket(laptop)
    if how != "promotion":
        await end_session(phone, await shops.admin(a), user, how)
    else:  # `shop create-admin` is another process, with its own hub on the same bus
        env = shop_env(
            tmp_path,
            SHOP_DATABASE_URL=shared.database_url,
            SHOP_REDIS_URL=str(shared.redis_url),
            SHOP_SECRET_KEY=shared.secret_key.decode(),
        )
        await asyncio.to_thread(create_admin, env, user["email"], "a new admin passphrase")
    assert await closed_with(there) == (SESSION_ENDED, "session ended")


async def test_logout_on_one_app_closes_only_that_sessions_sockets_on_the_other(
    shops: Shops,
) -> None:
    a, b = await shops.app(), await shops.app()
    admin = await shops.admin(a)
    pid = await shops.product(admin)
    phone, laptop, user = await shops.person(a, b)
    # The phone's session has a socket on B too (a balancer may send it anywhere).
    phone_on_b = await shops.browser(b, phone.session.cookie_jar)
    phones, laptops = await shops.socket(phone_on_b), await shops.socket(laptop)
    await success(phone.post("/api/sessions/logout"))
    assert await closed_with(phones) == (SESSION_ENDED, "session ended")
    await success(laptop.post(f"/api/carts/{user['cart']}/product/{pid}"))
    assert (await next_event(laptops))["type"] == "cart.updated"


async def test_the_catalogue_cache_drops_what_the_other_app_changed(shops: Shops) -> None:
    a, b = await shops.app(), await shops.app()
    admin = await shops.admin(a)
    watcher = await shops.socket(b)
    pid = await shops.product(admin)
    assert (await next_event(watcher))["type"] == "product.created"
    path = f"/api/products/{pid}"
    assert (await success(b.get(path)))["price"] == 12.5  # now in B's cache
    await success(admin.put(path, json={"price": 20}))
    # B dropped its entry before its sockets got the event: the next read is fresh.
    assert (await next_event(watcher))["type"] == "product.updated"
    assert (await success(b.get(path)))["price"] == 20


async def test_without_redis_the_cache_of_another_app_expires_within_a_second(
    shops: Shops,
) -> None:
    a, b = await shops.app(redis_url=None), await shops.app(redis_url=None)
    admin = await shops.admin(a)
    pid = await shops.product(admin)
    path = f"/api/products/{pid}"
    assert (await success(b.get(path)))["price"] == 12.5
    await success(admin.put(path, json={"price": 20}))
    changed = time.monotonic()
    # Nothing tells B: its entry must expire. Polled, as there is no event to wait for.
    while (await success(b.get(path)))["price"] != 20:
        assert time.monotonic() - changed < 1.0, "B still serves the old price after 1 s"
        await asyncio.sleep(0.05)


async def test_losing_redis_fails_no_request_and_events_flow_again_when_it_is_back(
    shops: Shops,
    redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = await shops.app(), await shops.app()
    admin = await shops.admin(a)
    pid = await shops.product(admin)
    phone, laptop, _ = await shops.person(a, b)
    anonymous = await shops.socket(await shops.browser(b))
    laptops = await shops.socket(laptop)
    assert (await success(b.get(f"/api/products/{pid}")))["stock"] == 100  # cached on B

    redis.kill()
    await connected(a, up=False)
    await connected(b, up=False)
    with caplog.at_level(logging.WARNING, logger="shop.bus"):
        changed = await success(admin.put(f"/api/products/{pid}", json={"stock": 5}))
        await success(phone.post("/api/sessions/logout-all"))  # B cannot hear of it now
        assert await success(b.get("/api/products"))
    assert any("not shared with the other processes" in r.message for r in caplog.records)

    redis.start()
    await connected(a)
    await connected(b)
    # Back: B closes the socket whose session ended meanwhile, tells the others to
    # refetch, and serves the change it missed (its cache was dropped).
    assert await closed_with(laptops) == (SESSION_ENDED, "session ended")
    assert await next_event(anonymous) == {"type": "resync"}
    assert (await success(b.get(f"/api/products/{pid}"))) == changed
    again = await success(admin.put(f"/api/products/{pid}", json={"stock": 6}))
    assert await next_event(anonymous) == {"type": "product.updated", "product": again}


async def test_readyz_names_redis_when_it_is_down(shops: Shops, redis: RedisServer) -> None:
    a = await shops.app()
    response = await a.get("/readyz")
    assert response.status == 200
    assert await response.json() == {
        "status": "success",
        "payload": {"store": "ok", "redis": "ok"},
    }
    redis.kill()
    await connected(a, up=False)
    response = await a.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["error"].startswith("not ready: redis:")
    assert body["checks"]["store"] == "ok"


async def test_concurrent_writes_on_two_apps_let_the_newest_version_win_everywhere(
    shops: Shops,
) -> None:
    """Events of two processes arrive in any order; the newest version (the store's write
    order) is the final state, which is what a page that drops older versions shows."""
    a, b = await shops.app(), await shops.app()
    admin_a, admin_b = await shops.admin(a), await shops.admin(b)
    pid = await shops.product(admin_a)
    watchers = [await shops.socket(a), await shops.socket(b)]
    path = f"/api/products/{pid}"
    answers = await asyncio.gather(
        *(
            success((admin_a if n % 2 else admin_b).put(path, json={"stock": n}))
            for n in range(1, 13)
        )
    )
    assert sorted(answer["version"] for answer in answers) == list(range(2, 14))
    final = await success(a.get(path))
    assert final == max(answers, key=lambda answer: answer["version"])
    for ws in watchers:
        events = [(await next_event(ws))["product"] for _ in answers]
        assert max(events, key=lambda product: product["version"]) == final
