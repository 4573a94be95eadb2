"""`kill -9` during a stream of purchases and cancels, on both stores: after a restart every
acknowledged order is there, and for every product, stock + units in non-cancelled orders
is the stock it started with.

The shop runs as a subprocess and is killed with SIGKILL while requests are in flight. For
MongoDB the mongoeco wire server runs in this test's process, so it outlives the shop.
Budget: about 10 s per store.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientError, ClientSession
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from tests.conftest import PASSWORD, registration
from tests.test_health_cli import run_cli, running_server, shop_env
from tests.test_persistence import browser, payload

PRODUCTS = 3
STARTING_STOCK = 500
BUYERS = 8
ACKNOWLEDGED_BEFORE_KILL = 40
ADMIN = {"email": "admin@example.com", "password": PASSWORD}


@asynccontextmanager
async def database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    async with AsyncMongoEcoProxyServer() as server:
        address = server.address
        yield f"mongodb://{address.host}:{address.port}/shop?directConnection=true"


class Stream:
    """Buyers purchasing (and now and then cancelling) until the server dies."""

    def __init__(self, base: str, pids: list[str]) -> None:
        self.base = base
        self.pids = pids
        self.acknowledged: dict[str, dict[str, Any]] = {}  # order id -> order as answered
        self.cancelled: set[str] = set()
        self.enough = asyncio.Event()

    async def buyer(self, session: ClientSession, cart: str, seed: int) -> None:
        rng = random.Random(seed)
        for n in itertools.count():
            try:
                for pid in rng.sample(self.pids, rng.randint(1, len(self.pids))):
                    await session.post(
                        f"{self.base}/api/carts/{cart}/product/{pid}",
                        json={"quantity": rng.randint(1, 3)},
                    )
                response = await session.post(
                    f"{self.base}/api/carts/{cart}/purchase",
                    headers={"Idempotency-Key": f"buyer-{seed}-{n}"},
                )
                if response.status == 201:
                    order = (await response.json())["payload"]["order"]
                    self.acknowledged[order["_id"]] = order
                    if len(self.acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        self.enough.set()
                    if rng.random() < 0.3:
                        cancel = await session.put(
                            f"{self.base}/api/orders/{order['_id']}", json={"status": "cancelled"}
                        )
                        if cancel.status == 200:
                            self.cancelled.add(order["_id"])
            except ClientError:
                return  # the server was killed


@pytest.mark.parametrize("kind", ["sqlite", "mongo"])
async def test_sigkill_during_purchases_loses_no_order_and_no_stock(
    tmp_path: Path, kind: str
) -> None:
    async with database(kind, tmp_path) as url:
        env = shop_env(tmp_path, SHOP_DATABASE_URL=url)
        log = tmp_path / "server.log"
        code, _, err = await run_cli(
            env, "create-admin", "--email", ADMIN["email"], "--password-stdin", stdin=PASSWORD
        )
        assert code == 0, err
        sessions = [browser() for _ in range(BUYERS + 1)]
        admin, buyers = sessions[0], sessions[1:]
        try:
            async with running_server(env, log) as base:
                await payload(await admin.post(f"{base}/api/sessions/login", json=ADMIN))
                pids = []
                for n in range(PRODUCTS):
                    body = {
                        "title": f"Product {n}",
                        "code": f"CRASH-{n}",
                        "price": 1.25 + n,
                        "stock": STARTING_STOCK,
                        "category": "Crash",
                    }
                    pids.append(
                        (await payload(await admin.post(f"{base}/api/products", json=body)))["_id"]
                    )
                carts = []
                for session in buyers:
                    user = await payload(
                        await session.post(f"{base}/api/users", json=registration())
                    )
                    login = {"email": user["email"], "password": PASSWORD}
                    await payload(await session.post(f"{base}/api/sessions/login", json=login))
                    carts.append(user["cart"])
                stream = Stream(base, pids)
                tasks = [
                    asyncio.create_task(stream.buyer(session, cart, seed))
                    for seed, (session, cart) in enumerate(zip(buyers, carts, strict=True))
                ]
                async with asyncio.timeout(60):
                    await stream.enough.wait()
                # Leaving the block kills the server with SIGKILL, mid-stream.
            async with asyncio.timeout(30):
                await asyncio.gather(*tasks)

            async with running_server(env, log) as base:
                await payload(await admin.post(f"{base}/api/sessions/login", json=ADMIN))
                orders = await all_orders(admin, base)
                by_id = {order["_id"]: order for order in orders}
                for oid, answered in stream.acknowledged.items():
                    assert oid in by_id, f"acknowledged order {oid} is lost"
                    kept = by_id[oid]
                    assert {**kept, "status": "placed"} == {**answered, "status": "placed"}
                for oid in stream.cancelled:
                    assert by_id[oid]["status"] == "cancelled"
                for pid in pids:
                    stock = (await payload(await admin.get(f"{base}/api/products/{pid}")))["stock"]
                    sold = sum(
                        line["quantity"]
                        for order in orders
                        if order["status"] != "cancelled"
                        for line in order["lines"]
                        if line["product"] == pid
                    )
                    assert stock + sold == STARTING_STOCK, (pid, stock, sold)
        finally:
            for session in sessions:
                await session.close()


async def all_orders(admin: ClientSession, base: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    for page in itertools.count(1):
        listing = await admin.get(f"{base}/api/orders?limit=100&page={page}")
        body = await listing.json()
        orders += body["payload"]
        if not body["hasNextPage"]:
            return orders
    raise AssertionError("unreachable")
