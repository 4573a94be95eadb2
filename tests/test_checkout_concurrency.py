"""What checkout must hold under concurrency, on every store, with real concurrent requests:
no overselling, one order per Idempotency-Key, one stock return per cancelled order, and
orders that keep their lines whatever happens to the products afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, success

ProductBody = Callable[..., dict[str, Any]]


async def admin_of(new_browser: NewBrowser) -> Client:
    admin = await new_browser()
    await Auth(admin).admin()
    return admin


async def buyer(new_browser: NewBrowser, pid: str, quantity: int = 1) -> tuple[Client, str]:
    """A new user with `quantity` of the product in their cart; their browser and cart."""
    browser = await new_browser()
    user = await Auth(browser).user()
    response = await browser.post(
        f"/api/carts/{user['cart']}/product/{pid}", json={"quantity": quantity}
    )
    assert response.status == 200, await response.text()
    return browser, user["cart"]


async def stock_of(client: Client, pid: str) -> int:
    return (await success(await client.get(f"/api/products/{pid}")))["stock"]


async def every_order(admin: Client) -> list[dict[str, Any]]:
    return (await (await admin.get("/api/orders?limit=100")).json())["payload"]


async def test_fifty_buyers_of_the_last_unit_make_one_order(
    client: Client, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await admin_of(new_browser)
    last = await success(await admin.post("/api/products", json=product_body(stock=1)), 201)
    buyers = await asyncio.gather(*(buyer(new_browser, last["_id"]) for _ in range(50)))

    responses = await asyncio.gather(
        *(browser.post(f"/api/carts/{cid}/purchase") for browser, cid in buyers)
    )
    statuses = sorted(response.status for response in responses)
    assert statuses == [201] + [409] * 49
    for response in responses:
        if response.status == 409:
            body = await response.json()
            assert body["unfilled"] == [
                {"product": last["_id"], "requested": 1, "available": 0, "reason": "out_of_stock"}
            ]
    assert await stock_of(client, last["_id"]) == 0
    orders = await every_order(admin)
    assert len(orders) == 1
    assert orders[0]["lines"][0]["quantity"] == 1


async def test_twenty_identical_purchases_with_one_key_make_one_order_and_one_answer(
    client: Client, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await admin_of(new_browser)
    mate = await success(await admin.post("/api/products", json=product_body(stock=10)), 201)
    browser, cid = await buyer(new_browser, mate["_id"], 3)
    headers = {"Idempotency-Key": "double-click-7f3a"}

    responses = await asyncio.gather(
        *(
            browser.post(
                f"/api/carts/{cid}/purchase", json={"expected_total": 37.5}, headers=headers
            )
            for _ in range(20)
        )
    )
    assert [response.status for response in responses] == [201] * 20
    bodies = [await response.read() for response in responses]
    assert len(set(bodies)) == 1
    assert await stock_of(client, mate["_id"]) == 7
    assert len(await every_order(admin)) == 1


async def test_twenty_concurrent_cancels_return_the_stock_once(
    client: Client, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await admin_of(new_browser)
    mate = await success(await admin.post("/api/products", json=product_body(stock=10)), 201)
    browser, cid = await buyer(new_browser, mate["_id"], 4)
    order = (await success(await browser.post(f"/api/carts/{cid}/purchase"), 201))["order"]
    assert await stock_of(client, mate["_id"]) == 6

    cancel = {"status": "cancelled"}
    path = f"/api/orders/{order['_id']}"
    # The owner and an admin race each other: the owner is refused (403) once it is no
    # longer placed, the admin with 409.
    responses = await asyncio.gather(
        *(who.put(path, json=cancel) for who in [browser, admin] * 10)
    )
    statuses = [response.status for response in responses]
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 403, 409}
    assert await stock_of(client, mate["_id"]) == 10
    assert (await success(await admin.get(path)))["status"] == "cancelled"


async def test_repricing_or_deleting_a_product_leaves_its_orders_unchanged(
    client: Client, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await admin_of(new_browser)
    mate = await success(
        await admin.post("/api/products", json=product_body(title="Mate", price=12.5)), 201
    )
    browser, cid = await buyer(new_browser, mate["_id"], 2)
    order = (await success(await browser.post(f"/api/carts/{cid}/purchase"), 201))["order"]
    path = f"/api/orders/{order['_id']}"

    await success(
        await admin.put(
            f"/api/products/{mate['_id']}",
            json={"price": 99.99, "title": "Renamed", "code": "X-1"},
        )
    )
    assert await success(await browser.get(path)) == order
    await success(await admin.delete(f"/api/products/{mate['_id']}"))
    assert await success(await browser.get(path)) == order
    assert (await (await browser.get("/api/orders")).json())["payload"] == [order]
    assert order["lines"][0] == {
        "product": mate["_id"],
        "title": "Mate",
        "code": mate["code"],
        "price": 12.5,
        "quantity": 2,
        "subtotal": 25.0,
    }
