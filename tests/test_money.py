"""Money is exact on every store: prices are integer cents, sums have no float drift, and
databases written with float prices are converted when the shop starts."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient

from shop.settings import Settings
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, error, success

ProductBody = Callable[..., dict[str, Any]]
MakeClient = Callable[..., Awaitable[Client]]


async def test_cart_total_of_a_tenth_and_a_fifth_is_three_tenths(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = Auth(await new_browser())
    await admin.admin()
    tenth = await success(
        await admin.client.post("/api/products", json=product_body(price=0.1)), 201
    )
    fifth = await success(
        await admin.client.post("/api/products", json=product_body(price=0.2)), 201
    )
    user = await auth.user()
    for product in (tenth, fifth):
        await success(await client.post(f"/api/carts/{user['cart']}/product/{product['_id']}"))
    cart = await success(await client.get(f"/api/carts/{user['cart']}"))
    assert cart["total"] == 0.3
    assert [line["product"]["price"] for line in cart["products"]] == [0.1, 0.2]


@pytest.mark.parametrize("price", [12.345, 0.001, 19.999, 1e-3])
async def test_price_with_more_than_two_decimals_is_400(
    client: Client, auth: Auth, product_body: ProductBody, price: float
) -> None:
    await auth.admin()
    message = await error(
        await client.post("/api/products", json=product_body(price=price)), 400, "price"
    )
    assert "two decimals" in message


async def test_price_written_with_trailing_zeros_is_accepted_exactly(
    client: Client, auth: Auth
) -> None:
    await auth.admin()
    body = b'{"title": "Mate", "code": "ZEROS", "price": 1499.990, "stock": 1, "category": "Gear"}'
    response = await client.post(
        "/api/products", data=body, headers={"Content-Type": "application/json"}
    )
    product = await success(response, 201)
    assert product["price"] == 1499.99


async def test_price_change_to_a_sub_cent_amount_is_400_and_changes_nothing(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    product = await success(await client.post("/api/products", json=product_body(price=5)), 201)
    path = f"/api/products/{product['_id']}"
    await error(await client.put(path, json={"price": 5.005}), 400, "price")
    assert (await success(await client.get(path)))["price"] == 5


# ---- databases written before prices were cents -------------------------------------------

OLD_SQLITE_PRODUCTS = """
CREATE TABLE products (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE, price REAL NOT NULL,
    status INTEGER NOT NULL CHECK (status IN (0, 1)), stock INTEGER NOT NULL CHECK (stock >= 0),
    category TEXT NOT NULL, category_key TEXT NOT NULL, thumbnails TEXT NOT NULL
) STRICT;
CREATE INDEX products_price ON products (price, id);
CREATE INDEX products_category_price ON products (category_key, price, id);
CREATE INDEX products_status_price ON products (status, price, id);
"""
OLD_PRICES = [19.99, 0.1, 1499.99, 7.0]


def old_sqlite_file(path: Path) -> list[str]:
    ids = [str(ObjectId()) for _ in OLD_PRICES]
    with closing(sqlite3.connect(path)) as db:
        db.executescript(OLD_SQLITE_PRODUCTS)
        db.executemany(
            "INSERT INTO products VALUES (?, ?, '', ?, ?, 1, 5, 'Old', 'old', '[]')",
            [
                (pid, f"Old {n}", f"OLD-{n}", price)
                for n, (pid, price) in enumerate(zip(ids, OLD_PRICES, strict=True))
            ],
        )
        db.commit()
    return ids


async def old_mongo_database(url: str) -> list[str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        products = client.get_default_database()["products"]
        ids = [ObjectId() for _ in OLD_PRICES]
        await products.insert_many(
            [
                {
                    "_id": pid,
                    "title": f"Old {n}",
                    "description": "",
                    "code": f"OLD-{n}",
                    "price": price,
                    "status": True,
                    "stock": 5,
                    "category": "Old",
                    "category_key": "old",
                    "thumbnails": [],
                }
                for n, (pid, price) in enumerate(zip(ids, OLD_PRICES, strict=True))
            ]
        )
    finally:
        await client.close()
    return [str(pid) for pid in ids]


async def test_float_prices_of_an_older_database_are_converted_at_start_up(
    settings: Settings, make_client: MakeClient, tmp_path: Path
) -> None:
    if settings.is_mongo:
        ids = await old_mongo_database(settings.database_url)
    else:
        ids = old_sqlite_file(settings.sqlite_path)
    client = await make_client()
    for pid, price in zip(ids, OLD_PRICES, strict=True):
        assert (await success(await client.get(f"/api/products/{pid}")))["price"] == price
    listing = await client.get("/api/products?sort=asc")
    assert [p["price"] for p in (await listing.json())["payload"]] == sorted(OLD_PRICES)


async def test_conversion_runs_once_so_a_second_start_changes_nothing(
    settings: Settings, make_client: MakeClient
) -> None:
    if settings.is_mongo:
        ids = await old_mongo_database(settings.database_url)
    else:
        ids = old_sqlite_file(settings.sqlite_path)
    first = await make_client()
    await first.close()
    second = await make_client()
    prices = [(await success(await second.get(f"/api/products/{pid}")))["price"] for pid in ids]
    assert prices == OLD_PRICES
