"""Versions, on every store: each write of a product or a cart bumps its version in write
order, answers and events carry it, pages show it; so a page can drop anything older
than what it shows (static/js/live.js)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser
from tests.test_ws import next_event, own_origin, success

ProductBody = Callable[..., dict[str, Any]]
MakeClient = Callable[..., Awaitable[Client]]


async def test_every_product_write_bumps_its_version_and_its_event_carries_it(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    ws = await client.ws_connect("/ws", origin=own_origin(client))
    assert (await next_event(ws))["type"] == "hello"
    created = await success(client.post("/api/products", json=product_body()), 201)
    assert created["version"] == 1
    assert (await next_event(ws))["product"] == created
    path = f"/api/products/{created['_id']}"
    for version, change in enumerate(({"price": 3}, {"stock": 0}, {"title": "Mate"}), start=2):
        updated = await success(client.put(path, json=change))
        assert updated["version"] == version
        assert await next_event(ws) == {"type": "product.updated", "product": updated}
    assert (await success(client.get(path)))["version"] == 4
    await ws.close()


async def test_concurrent_writes_get_distinct_versions_and_the_newest_is_what_stays(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    created = await success(client.post("/api/products", json=product_body()), 201)
    path = f"/api/products/{created['_id']}"
    answers = await asyncio.gather(
        *(success(client.put(path, json={"stock": stock})) for stock in range(1, 21))
    )
    assert sorted(answer["version"] for answer in answers) == list(range(2, 22))
    newest = max(answers, key=lambda answer: answer["version"])
    assert await success(client.get(path)) == newest


async def test_every_cart_change_bumps_the_cart_version_and_its_event_carries_it(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await new_browser()
    await Auth(admin).admin()
    pids = [
        (await success(admin.post("/api/products", json=product_body()), 201))["_id"]
        for _ in range(2)
    ]
    user = await auth.user()
    base = f"/api/carts/{user['cart']}"
    ws = await client.ws_connect("/ws", origin=own_origin(client))
    assert (await next_event(ws))["type"] == "hello"
    seen = [(await success(client.get(base)))["version"]]
    for method, path, body in [
        ("POST", f"{base}/product/{pids[0]}", {"quantity": 2}),
        ("PUT", f"{base}/product/{pids[0]}", {"quantity": 3}),
        ("POST", f"{base}/product/{pids[1]}", None),
        ("DELETE", f"{base}/product/{pids[0]}", None),
        ("PUT", base, {"products": [{"product": pids[0], "quantity": 1}]}),
        ("DELETE", base, None),
    ]:
        cart = await success(client.request(method, path, json=body))
        assert await next_event(ws) == {"type": "cart.updated", "cart": cart}
        assert cart["version"] > seen[-1]
        seen.append(cart["version"])
    await ws.close()


async def test_a_purchase_and_its_cancel_bump_the_versions_their_events_carry(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await new_browser()
    await Auth(admin).admin()
    products = [
        await success(admin.post("/api/products", json=product_body(stock=5)), 201)
        for _ in range(2)
    ]
    user = await auth.user()
    base = f"/api/carts/{user['cart']}"
    for product in products:
        await success(client.post(f"{base}/product/{product['_id']}", json={"quantity": 2}))
    # The second line cannot be bought: it goes back into the cart.
    await success(admin.put(f"/api/products/{products[1]['_id']}", json={"stock": 1}))
    before = await success(client.get(base))
    ws = await client.ws_connect("/ws", origin=own_origin(client))
    assert (await next_event(ws))["type"] == "hello"

    bought = await success(client.post(f"{base}/purchase"), 201)
    taken = await success(client.get(f"/api/products/{products[0]['_id']}"))
    assert taken["version"] == products[0]["version"] + 1
    assert await next_event(ws) == {"type": "product.updated", "product": taken}
    assert await next_event(ws) == {"type": "cart.updated", "cart": bought["cart"]}
    assert bought["cart"]["version"] > before["version"]
    assert bought["cart"] == await success(client.get(base))  # the version stored, too
    assert [line["product"]["_id"] for line in bought["cart"]["products"]] == [products[1]["_id"]]
    assert (await next_event(ws))["type"] == "order.updated"

    order = bought["order"]["_id"]
    await success(client.put(f"/api/orders/{order}", json={"status": "cancelled"}))
    returned = await success(client.get(f"/api/products/{products[0]['_id']}"))
    assert (returned["stock"], returned["version"]) == (5, taken["version"] + 1)
    assert await next_event(ws) == {"type": "product.updated", "product": returned}
    await ws.close()


async def test_concurrent_cart_adds_answer_carts_whose_version_names_their_content(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    """An answer may already hold a concurrent change (MongoDB reads the cart back after
    its update), but one version is always one content, and the newest stays."""
    admin = await new_browser()
    await Auth(admin).admin()
    pid = (await success(admin.post("/api/products", json=product_body()), 201))["_id"]
    user = await auth.user()
    path = f"/api/carts/{user['cart']}/product/{pid}"
    answers = await asyncio.gather(*(success(client.post(path)) for _ in range(10)))
    by_version: dict[int, dict[str, Any]] = {}
    for answer in answers:
        assert by_version.setdefault(answer["version"], answer) == answer
    newest = by_version[max(by_version)]
    assert newest["count"] == 10
    assert await success(client.get(f"/api/carts/{user['cart']}")) == newest


async def test_pages_show_the_versions_they_were_rendered_from(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await new_browser()
    await Auth(admin).admin()
    pid = (await success(admin.post("/api/products", json=product_body()), 201))["_id"]
    await success(admin.put(f"/api/products/{pid}", json={"stock": 5}))
    user = await auth.user()
    cart = await success(client.post(f"/api/carts/{user['cart']}/product/{pid}"))
    listing = await (await client.get("/products")).text()
    assert f'data-product-id="{pid}" data-version="2"' in listing
    assert f'data-cart-version="{cart["version"]}"' in listing
    detail = await (await client.get(f"/products/{pid}")).text()
    assert f'data-product-id="{pid}" data-version="2"' in detail
    cart_page = await (await client.get(f"/carts/{user['cart']}")).text()
    assert re.search(rf'id="cart"[^>]*data-version="{cart["version"]}"', cart_page)


# ---- SQLite: the version is the store's, whoever writes ---------------------------------------


async def test_on_sqlite_any_update_of_a_product_bumps_its_version(
    sqlite_client: MakeClient, tmp_path: Path, product_body: ProductBody
) -> None:
    """A purchase's stock change (or any code's UPDATE) is versioned by the schema's
    trigger; on MongoDB each update says `$inc: {version: 1}` itself (see the store)."""
    client = await sqlite_client()
    await Auth(client).admin()
    pid = (await success(client.post("/api/products", json=product_body()), 201))["_id"]
    db = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    db.execute("UPDATE products SET stock = stock - 1 WHERE id = ?", (pid,))
    db.execute("UPDATE products SET stock = stock - 1 WHERE id = ?", (pid,))
    db.close()
    product = await success(client.get(f"/api/products/{pid}"))
    assert (product["stock"], product["version"]) == (98, 3)


async def test_an_older_sqlite_file_gains_versions_when_opened(
    sqlite_client: MakeClient, tmp_path: Path, product_body: ProductBody
) -> None:
    client = await sqlite_client()
    admin = await Auth(client).admin()
    pid = (await success(client.post("/api/products", json=product_body()), 201))["_id"]
    await client.close()
    # What a file of the previous release looks like: no version columns, no triggers.
    db = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    for name in ("products_versioned", "cart_lines_versioned_insert"):
        db.execute(f"DROP TRIGGER {name}")
    for name in ("cart_lines_versioned_update", "cart_lines_versioned_delete"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("ALTER TABLE products DROP COLUMN version")
    db.execute("ALTER TABLE carts DROP COLUMN version")
    db.execute("PRAGMA user_version = 2")  # the release before versions (prices, search)
    db.close()

    client = await sqlite_client()
    await Auth(client).login(admin["email"])
    assert (await success(client.get(f"/api/products/{pid}")))["version"] == 1
    assert (await success(client.put(f"/api/products/{pid}", json={"stock": 1})))["version"] == 2
    cart = await success(client.post(f"/api/carts/{admin['cart']}/product/{pid}"))
    assert cart["version"] == 1
