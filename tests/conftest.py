"""Fixtures: every storage-touching test runs once per store.

`sqlite` uses a temporary file; `mongo` drives the real PyMongo driver over the wire
protocol against mongoeco's in-process server (a test stand-in, never the product's
store); `mongo-real` runs too when SHOP_TEST_MONGODB_URL names a real MongoDB.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar, web
from aiohttp.test_utils import TestClient
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer
from pymongo import AsyncMongoClient

from shop.app import create_app
from shop.keys import USERS
from shop.models.users import User
from shop.settings import Settings
from tests.servers import RedisServer, redis_server

REAL_MONGODB_URL = os.environ.get("SHOP_TEST_MONGODB_URL", "")
STORES = ["sqlite", "mongo"] + (["mongo-real"] if REAL_MONGODB_URL else [])
PASSWORD = "correct horse battery"

Client = TestClient[web.Request, web.Application]


def _with_database(url: str, name: str) -> str:
    head, sep, query = url.partition("?")
    base = head.split("://", 1)
    host = base[1].split("/", 1)[0]
    return f"{base[0]}://{host}/{name}{sep}{query}"


@pytest.fixture(params=STORES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
    elif request.param == "mongo":
        async with AsyncMongoEcoProxyServer() as server:
            address = server.address
            yield f"mongodb://{address.host}:{address.port}/shop?directConnection=true"
    else:
        name = f"shop_test_{uuid.uuid4().hex[:12]}"
        yield _with_database(REAL_MONGODB_URL, name)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(REAL_MONGODB_URL)
        await client.drop_database(name)
        await client.close()


def app_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test app; keyword arguments override fields."""
    # A busy two-core machine can hold up mongoeco (in this process) past the 3 s a store
    # call may take in production: tests not about timeouts allow more.
    overrides.setdefault("store_timeout", 15.0)
    # Cheaper Argon2id than production so the suite stays quick; same algorithm and code.
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=b"test-secret-key-that-is-long-enough-0123456789",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        **overrides,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return app_settings(database_url, tmp_path)


@pytest.fixture
def make_client(
    settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Callable[..., Awaitable[Client]]:
    """A client for the real app; keyword arguments override settings fields.

    `settings` (so the database) comes first: set up before the app, torn down after it,
    so the app's shutdown (which writes pending token use) still finds its database.
    """

    async def make(**overrides: Any) -> Client:
        return await aiohttp_client(create_app(replace(settings, **overrides)))

    return make


@pytest.fixture
def sqlite_client(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> Callable[..., Awaitable[Client]]:
    """A client of an app on SQLite (tmp_path/shop.db), for what only SQLite has; keyword
    arguments are settings."""

    async def make(**overrides: Any) -> Client:
        settings = app_settings(f"sqlite:///{tmp_path / 'shop.db'}", tmp_path, **overrides)
        return await aiohttp_client(create_app(settings))

    return make


@pytest.fixture
async def client(make_client: Callable[..., Awaitable[Client]]) -> Client:
    return await make_client()


def registration(**fields: Any) -> dict[str, Any]:
    """A valid POST /api/users body with a unique email; keyword arguments override fields."""
    return {
        "first_name": "Ana",
        "last_name": "García",
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "age": 30,
        "password": PASSWORD,
        **fields,
    }


class Auth:
    """Registers and logs in through the public API, like a user would."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def register(self, email: str | None = None, **fields: Any) -> dict[str, Any]:
        body = registration(**fields) if email is None else registration(email=email, **fields)
        response = await self.client.post("/api/users", json=body)
        assert response.status == 201, await response.text()
        return (await response.json())["payload"]

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = await self.client.post(
            "/api/sessions/login", json={"email": email, "password": password}
        )
        assert response.status == 200, await response.text()
        return (await response.json())["payload"]

    async def user(self, **fields: Any) -> dict[str, Any]:
        """A new user, logged in on this client."""
        user = await self.register(**fields)
        await self.login(user["email"])
        return user

    async def admin(self, email: str | None = None) -> dict[str, Any]:
        """A new admin (made the way `shop create-admin` makes one), logged in."""
        email = email or f"admin-{uuid.uuid4().hex[:8]}@example.com"
        admin: User
        admin, _ = await self.client.app[USERS].create_admin(email, PASSWORD)
        await self.login(email)
        return admin.to_json()

    async def logout(self) -> None:
        response = await self.client.post("/api/sessions/logout")
        assert response.status == 200


@pytest.fixture
def auth(client: Client) -> Auth:
    return Auth(client)


@pytest.fixture
async def new_browser(client: Client) -> AsyncIterator[Callable[[], Awaitable[Client]]]:
    """Another client of the same server with its own cookies: a second user or device."""
    opened: list[Client] = []

    async def make() -> Client:
        other: Client = TestClient(client.server, cookie_jar=CookieJar(unsafe=True))
        await other.start_server()
        opened.append(other)
        return other

    yield make
    for other in opened:
        await other.session.close()


@pytest.fixture
async def admin_browser(new_browser: Callable[[], Awaitable[Client]]) -> Client:
    """Another browser, logged in as an admin: it creates the products the tests need."""
    browser = await new_browser()
    await Auth(browser).admin()
    return browser


def product_fields(**fields: Any) -> dict[str, Any]:
    """A valid product body with a unique code; keyword arguments override fields."""
    return {
        "title": "Yerba mate",
        "description": "Half a kilo",
        "code": f"P-{uuid.uuid4().hex[:10]}",
        "price": 12.5,
        "stock": 100,
        "category": "Drinks",
        "thumbnails": ["/static/img/mate.png"],
        **fields,
    }


@pytest.fixture
def product_body() -> Callable[..., dict[str, Any]]:
    return product_fields


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Debian's redis-server on a free loopback port, nothing kept on disk."""
    with redis_server(tmp_path / "redis") as server:
        yield server
