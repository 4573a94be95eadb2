"""MongoDB checkout without transactions: each point a crash can stop a purchase or a cancel
at is settled when the next shop process starts, exactly once.

A crash is staged by writing, with PyMongo, what a process killed at that point leaves in
the database (the markers `shop.store.mongo.checkout` documents); then a new app starts on
the same database and the API must show a shop where nothing was lost or done twice. (The
SQLite store does each purchase in one transaction: there is nothing to recover.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer
from pymongo import AsyncMongoClient

from shop.app import create_app
from shop.models.carts import CartLine
from shop.models.orders import PurchaseIn, PurchaseRequest, order_of, purchase_time
from shop.models.products import Product
from shop.service import orders as order_service
from shop.settings import Settings
from shop.store.mongo.order_docs import order_doc
from tests.conftest import Auth, Client, product_fields
from tests.envelopes import error, success

Doc = dict[str, Any]
Start = Callable[[], Awaitable[Client]]


@pytest.fixture
async def mongo_url() -> AsyncIterator[str]:
    async with AsyncMongoEcoProxyServer() as server:
        address = server.address
        yield f"mongodb://{address.host}:{address.port}/shop?directConnection=true"


@pytest.fixture
async def db(mongo_url: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield client.get_default_database()
    await client.close()


@pytest.fixture
def start(
    aiohttp_client: Callable[..., Awaitable[Client]], mongo_url: str, tmp_path: Path
) -> Start:
    """Start a shop process on the database: its store settles what the last one left."""

    async def started() -> Client:
        settings = Settings(
            database_url=mongo_url,
            data_dir=tmp_path,
            secret_key=b"test-secret-key-that-is-long-enough-0123456789",
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
        return await aiohttp_client(create_app(settings))

    return started


class World:
    """An admin and a buyer with two products (stock 10) in their cart, 2 of each."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def build(self) -> World:
        self.admin = Auth(self.client)
        await self.admin.admin()
        self.products = [
            await success(
                await self.client.post("/api/products", json=product_fields(stock=10)), 201
            )
            for _ in range(2)
        ]
        await self.admin.logout()
        self.user = await Auth(self.client).user()
        for product in self.products:
            path = f"/api/carts/{self.user['cart']}/product/{product['_id']}"
            await success(await self.client.post(path, json={"quantity": 2}))
        return self

    @property
    def pids(self) -> list[str]:
        return [product["_id"] for product in self.products]

    async def on(self, client: Client) -> World:
        """The same people, logged in on another shop process."""
        self.client = client
        await Auth(client).login(self.user["email"])
        return self

    async def stocks(self) -> list[int]:
        return [
            (await success(await self.client.get(f"/api/products/{pid}")))["stock"]
            for pid in self.pids
        ]

    async def lines(self) -> list[tuple[str, int]]:
        cart = await success(await self.client.get(f"/api/carts/{self.user['cart']}"))
        return [(line["product"]["_id"], line["quantity"]) for line in cart["products"]]

    async def orders(self) -> list[Doc]:
        return (await (await self.client.get("/api/orders")).json())["payload"]


async def reserve(db: Any, cid: str, oid: ObjectId) -> None:
    """What step 1 of a purchase writes: the cart's lines moved into its reservation."""
    cart = await db.carts.find_one({"_id": ObjectId(cid)})
    await db.carts.update_one(
        {"_id": ObjectId(cid)},
        {
            "$set": {"products": []},
            "$push": {"checkouts": {"order": oid, "lines": cart["products"]}},
        },
    )


async def take(db: Any, oid: ObjectId, pid: str, quantity: int) -> None:
    """What step 2 of a purchase writes: the stock taken, with its marker."""
    await db.products.update_one(
        {"_id": ObjectId(pid)},
        {"$inc": {"stock": -quantity}, "$push": {"takes": {"order": oid, "quantity": quantity}}},
    )


async def commit(db: Any, world: World, oid: ObjectId, pids: list[str]) -> None:
    """What step 3 writes: the order, holding 2 of each product in `pids`."""
    request = PurchaseRequest(
        cid=world.user["cart"],
        buyer=world.user["_id"],
        purchaser=world.user["email"],
        order_id=str(oid),
        expected_total=None,
        at=purchase_time(),
    )
    lines = [
        CartLine(Product(pid, "Mate", "", f"C-{n}", 1250, True, 8, "Drinks"), 2)
        for n, pid in enumerate(pids)
    ]
    order = order_of(request, "ABCD-EFGH", lines)
    await db.orders.insert_one(order_doc(order, world.user["cart"], []))


async def leftovers(db: Any) -> list[Doc]:
    """Markers on products and reservations in carts: none once everything is settled."""
    found = [
        doc
        async for doc in db.products.find({}, {"takes": 1, "returns": 1})
        if doc.get("takes") or doc.get("returns")
    ]
    return found + [doc async for doc in db.carts.find({"checkouts.0": {"$exists": True}})]


async def test_purchase_killed_after_reserving_the_lines_puts_them_back(
    db: Any, start: Start
) -> None:
    world = await World(await start()).build()
    await reserve(db, world.user["cart"], ObjectId())

    world = await world.on(await start())
    assert await world.lines() == [(pid, 2) for pid in world.pids]
    assert await world.stocks() == [10, 10]
    assert await leftovers(db) == []


async def test_purchase_killed_after_taking_stock_gives_it_back(db: Any, start: Start) -> None:
    world = await World(await start()).build()
    oid = ObjectId()
    await reserve(db, world.user["cart"], oid)
    for pid in world.pids:
        await take(db, oid, pid, 2)

    world = await world.on(await start())
    assert await world.stocks() == [10, 10]
    assert await world.lines() == [(pid, 2) for pid in world.pids]
    assert await world.orders() == []
    assert await leftovers(db) == []
    # A second start finds nothing left to do: the stock came back once.
    world = await world.on(await start())
    assert await world.stocks() == [10, 10]
    assert await world.lines() == [(pid, 2) for pid in world.pids]


async def test_purchase_killed_after_its_commit_is_finished(db: Any, start: Start) -> None:
    world = await World(await start()).build()
    oid = ObjectId()
    await reserve(db, world.user["cart"], oid)
    for pid in world.pids:
        await take(db, oid, pid, 2)
    await commit(db, world, oid, world.pids)

    world = await world.on(await start())
    assert [o["_id"] for o in await world.orders()] == [str(oid)]
    assert await world.stocks() == [8, 8]
    assert await world.lines() == []
    assert await leftovers(db) == []


async def test_partial_purchase_killed_after_its_commit_puts_back_what_it_did_not_buy(
    db: Any, start: Start
) -> None:
    world = await World(await start()).build()
    oid = ObjectId()
    await reserve(db, world.user["cart"], oid)
    await take(db, oid, world.pids[0], 2)
    await commit(db, world, oid, world.pids[:1])

    world = await world.on(await start())
    assert await world.stocks() == [8, 10]
    assert await world.lines() == [(world.pids[1], 2)]
    assert await leftovers(db) == []


async def test_cancel_killed_halfway_returns_each_products_stock_once(
    db: Any, start: Start
) -> None:
    world = await World(await start()).build()
    response = await world.client.post(f"/api/carts/{world.user['cart']}/purchase")
    order = (await success(response, 201))["order"]
    assert await world.stocks() == [8, 8]
    oid = ObjectId(order["_id"])
    # The status changed and the first product's stock came back; then the process died.
    await db.orders.update_one({"_id": oid}, {"$set": {"status": "cancelled", "restock": True}})
    await db.products.update_one(
        {"_id": ObjectId(world.pids[0])},
        {"$inc": {"stock": 2}, "$push": {"returns": {"order": oid, "quantity": 2}}},
    )

    world = await world.on(await start())
    assert await world.stocks() == [10, 10]
    assert [o["status"] for o in await world.orders()] == ["cancelled"]
    assert await leftovers(db) == []
    assert await db.orders.count_documents({"restock": {"$exists": True}}) == 0


async def test_key_of_a_purchase_killed_before_any_take_can_be_used_again(
    db: Any, start: Start
) -> None:
    world = await World(await start()).build()
    key_id = f"{world.user['_id']}:retry-me"
    await db.purchase_keys.insert_one(
        {
            "_id": key_id,
            "fingerprint": order_service.fingerprint(world.user["cart"], PurchaseIn()),
            "order": ObjectId(),
            "state": "pending",
            "created_at": purchase_time(),
        }
    )

    world = await world.on(await start())
    response = await world.client.post(
        f"/api/carts/{world.user['cart']}/purchase", headers={"Idempotency-Key": "retry-me"}
    )
    await success(response, 201)
    assert await world.stocks() == [8, 8]


async def test_purchase_that_loses_to_a_recovery_pass_buys_nothing(
    db: Any, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await World(await start()).build()
    # A starting process decided this purchase had died (its tombstone holds the order's
    # id) while the purchase was still taking stock: its commit must fail and undo.
    oid = ObjectId()
    await db.orders.insert_one({"_id": oid, "status": "aborted"})
    monkeypatch.setattr(order_service, "new_id", lambda: str(oid))
    response = await world.client.post(f"/api/carts/{world.user['cart']}/purchase")
    await error(response, 503)
    assert await world.stocks() == [10, 10]
    assert await world.lines() == [(pid, 2) for pid in world.pids]
    assert await world.orders() == []
    assert await leftovers(db) == []
