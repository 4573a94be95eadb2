"""An empty catalogue on every store: /products tells an admin how to fill it, and shoppers
that there is nothing for sale yet."""

from __future__ import annotations

from typing import Any

from tests.conftest import Auth, Client
from tests.envelopes import success
from tests.test_pages import page


async def test_an_admin_is_told_how_to_fill_an_empty_catalogue(client: Client, auth: Auth) -> None:
    await auth.admin()
    html = await page(await client.get("/products"))
    assert "The catalogue is empty" in html
    assert 'href="/admin/products"' in html
    assert 'href="/admin/products/import"' in html
    assert "<code>shop import-products FILE</code>" in html
    assert "<code>shop seed-demo</code>" in html


async def test_shoppers_are_told_the_shop_has_nothing_yet(client: Client, auth: Auth) -> None:
    for who in ("anonymous", "user"):
        if who == "user":
            await auth.user()
        html = await page(await client.get("/products"))
        assert "The shop has nothing for sale yet." in html
        assert "seed-demo" not in html
        assert "/admin/products" not in html


async def test_shoppers_are_told_so_while_every_product_is_off_sale(
    client: Client, admin_browser: Client, product_body: Any
) -> None:
    await success(await admin_browser.post("/api/products", json=product_body(status=False)), 201)
    assert "The shop has nothing for sale yet." in await page(await client.get("/products"))
    # The admin sees the hidden product: the catalogue is not empty for them.
    html = await page(await admin_browser.get("/products"))
    assert "The catalogue is empty" not in html


async def test_the_hints_go_once_there_are_products_and_filters_say_no_match(
    client: Client, auth: Auth, product_body: Any
) -> None:
    await auth.admin()
    await success(await client.post("/api/products", json=product_body()), 201)
    html = await page(await client.get("/products"))
    assert "The catalogue is empty" not in html
    html = await page(await client.get("/products?query=nothing-like-this"))
    assert "No products here." in html
    assert "The catalogue is empty" not in html
