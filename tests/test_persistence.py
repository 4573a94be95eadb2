"""A killed server loses no acknowledged write (SQLite, the embedded default)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, ClientSession, CookieJar

from tests.conftest import PASSWORD
from tests.test_health_cli import run_cli, running_server, shop_env

USER = {
    "first_name": "Ana",
    "last_name": "García",
    "email": "ana@example.com",
    "age": 30,
    "password": PASSWORD,
}
USER_LOGIN = {"email": USER["email"], "password": PASSWORD}
CONCURRENT = 40
ADMIN_LOGIN = {"email": "admin@example.com", "password": PASSWORD}
PRODUCT = {
    "title": "Yerba mate",
    "description": "Half a kilo",
    "code": "MATE-500",
    "price": 12.5,
    "stock": 100,
    "category": "Drinks",
}


async def payload(response: ClientResponse) -> Any:
    assert 200 <= response.status < 300, await response.text()
    return (await response.json())["payload"]


def browser() -> ClientSession:
    # unsafe: the server is addressed by IP, whose cookies the default jar refuses.
    return ClientSession(cookie_jar=CookieJar(unsafe=True))


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    env = shop_env(tmp_path, SHOP_DATABASE_URL=f"sqlite:///{tmp_path / 'shop.db'}")
    log = tmp_path / "server.log"
    code, _, err = await run_cli(
        env, "create-admin", "--email", "admin@example.com", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, err

    async with browser() as admin, browser() as user:
        async with running_server(env, log) as base:
            registered = await payload(await user.post(f"{base}/api/users", json=USER))
            await payload(await user.post(f"{base}/api/sessions/login", json=USER_LOGIN))
            await payload(await admin.post(f"{base}/api/sessions/login", json=ADMIN_LOGIN))
            product = await payload(await admin.post(f"{base}/api/products", json=PRODUCT))
            cart = f"/api/carts/{registered['cart']}"
            line = f"{cart}/product/{product['_id']}"
            await payload(await user.post(f"{base}{line}", json={"quantity": 3}))
            # Adds arriving together share commits (group commit): each was answered only
            # once its commit was durable, so every one of them must survive the kill.
            together = await asyncio.gather(
                *(user.post(f"{base}{line}") for _ in range(CONCURRENT))
            )
            assert [response.status for response in together] == [200] * CONCURRENT
            # running_server's exit kills the process with SIGKILL: no shutdown hook runs.

        async with running_server(env, log) as base:
            # The session acknowledged before the kill is still there.
            current = await payload(await user.get(f"{base}/api/sessions/current"))
            assert current["_id"] == registered["_id"]
            assert (
                await payload(await user.get(f"{base}/api/products/{product['_id']}")) == product
            )
            lines = (await payload(await user.get(f"{base}{cart}")))["products"]
            assert [(ln["product"]["_id"], ln["quantity"]) for ln in lines] == [
                (product["_id"], 3 + CONCURRENT)
            ]
            async with browser() as again:
                relogged = await payload(
                    await again.post(f"{base}/api/sessions/login", json=USER_LOGIN)
                )
                assert relogged == registered
