"""The /api/carts contract, on every store: owners, lines, stock and concurrent changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser, error, error_with, success

ProductBody = Callable[..., dict[str, Any]]


class Shop:
    """A logged-in user on `client`, and products made by an admin on another browser."""

    def __init__(self, client: Client, admin: Client, user: dict[str, Any]) -> None:
        self.client = client
        self.admin = admin
        self.user = user
        self.cart = f"/api/carts/{user['cart']}"

    async def product(self, body: dict[str, Any]) -> dict[str, Any]:
        return await success(await self.admin.post("/api/products", json=body), 201)

    def line(self, pid: str, spelling: str = "product") -> str:
        return f"{self.cart}/{spelling}/{pid}"

    async def lines(self) -> list[tuple[str, int]]:
        cart = await success(await self.client.get(self.cart))
        return [(line["product"]["_id"], line["quantity"]) for line in cart["products"]]


@pytest.fixture
async def shop(client: Client, auth: Auth, new_browser: NewBrowser) -> Shop:
    admin = Auth(await new_browser())
    await admin.admin()
    return Shop(client, admin.client, await auth.user())


@pytest.fixture
async def pid(shop: Shop, product_body: ProductBody) -> str:
    """A product with stock 100."""
    return (await shop.product(product_body(stock=100)))["_id"]


# ---- the user's cart -------------------------------------------------------------------------


async def test_registration_gives_the_user_an_empty_cart_they_can_read(
    client: Client, auth: Auth
) -> None:
    user = await auth.user()
    assert isinstance(user["cart"], str)
    cart = await success(await client.get(f"/api/carts/{user['cart']}"))
    assert cart["_id"] == user["cart"]
    assert cart["owner"] == user["_id"]
    assert cart["products"] == []


async def test_post_creates_a_new_empty_cart_owned_by_the_caller(shop: Shop) -> None:
    created = await success(await shop.client.post("/api/carts"), 201)
    assert created["_id"] != shop.user["cart"]
    assert created["owner"] == shop.user["_id"]
    assert created["products"] == []
    assert await success(await shop.client.get(f"/api/carts/{created['_id']}")) == created


async def test_new_cart_does_not_replace_the_users_cart(shop: Shop) -> None:
    await success(await shop.client.post("/api/carts"), 201)
    current = await success(await shop.client.get("/api/sessions/current"))
    assert current["cart"] == shop.user["cart"]


# ---- lines -----------------------------------------------------------------------------------


async def test_add_without_body_adds_one(shop: Shop, pid: str) -> None:
    cart = await success(await shop.client.post(shop.line(pid)))
    assert [(line["product"]["_id"], line["quantity"]) for line in cart["products"]] == [(pid, 1)]
    assert await shop.lines() == [(pid, 1)]


async def test_add_with_quantity_adds_to_the_existing_line(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid)))
    await success(await shop.client.post(shop.line(pid), json={"quantity": 3}))
    assert await shop.lines() == [(pid, 4)]


async def test_add_with_empty_json_object_adds_one(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid), json={}))
    assert await shop.lines() == [(pid, 1)]


async def test_products_spelling_serves_the_same_line(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid, "product")))
    await success(await shop.client.post(shop.line(pid, "products"), json={"quantity": 2}))
    assert await shop.lines() == [(pid, 3)]


async def test_products_spelling_sets_and_deletes_lines(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid, "products")))
    await success(await shop.client.put(shop.line(pid, "products"), json={"quantity": 5}))
    assert await shop.lines() == [(pid, 5)]
    await success(await shop.client.delete(shop.line(pid, "products")))
    assert await shop.lines() == []


async def test_lines_hold_the_full_product_in_insertion_order(
    shop: Shop, product_body: ProductBody
) -> None:
    products = [await shop.product(product_body(price=price)) for price in (30, 10, 20)]
    for product in products:
        await success(await shop.client.post(shop.line(product["_id"]), json={"quantity": 2}))
    cart = await success(await shop.client.get(shop.cart))
    assert cart["products"] == [
        {"product": product, "quantity": 2, "available": product["stock"]} for product in products
    ]


async def test_adding_to_an_existing_line_keeps_its_place(
    shop: Shop, product_body: ProductBody
) -> None:
    first = (await shop.product(product_body()))["_id"]
    second = (await shop.product(product_body()))["_id"]
    for product in (first, second, first):
        await success(await shop.client.post(shop.line(product)))
    assert await shop.lines() == [(first, 2), (second, 1)]


async def test_put_line_sets_the_quantity(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid), json={"quantity": 3}))
    cart = await success(await shop.client.put(shop.line(pid), json={"quantity": 7}))
    assert cart["products"][0]["quantity"] == 7
    assert await shop.lines() == [(pid, 7)]


async def test_put_line_without_a_quantity_is_refused_and_changes_nothing(
    shop: Shop, pid: str
) -> None:
    await success(await shop.client.post(shop.line(pid), json={"quantity": 3}))
    await error(await shop.client.put(shop.line(pid), json={}), 400, "quantity")
    assert await shop.lines() == [(pid, 3)]


async def test_delete_line_removes_only_that_line(shop: Shop, product_body: ProductBody) -> None:
    first = (await shop.product(product_body()))["_id"]
    second = (await shop.product(product_body()))["_id"]
    await success(await shop.client.post(shop.line(first)))
    await success(await shop.client.post(shop.line(second)))
    cart = await success(await shop.client.delete(shop.line(first)))
    assert [line["product"]["_id"] for line in cart["products"]] == [second]
    assert await shop.lines() == [(second, 1)]


async def test_put_line_not_in_the_cart_is_404(shop: Shop, pid: str) -> None:
    await error(await shop.client.put(shop.line(pid), json={"quantity": 2}), 404, pid)
    assert await shop.lines() == []


async def test_delete_line_not_in_the_cart_is_404(shop: Shop, pid: str) -> None:
    await error(await shop.client.delete(shop.line(pid)), 404, pid)


# ---- replacing and clearing ----------------------------------------------------------------


async def test_put_cart_replaces_every_line_in_the_given_order(
    shop: Shop, product_body: ProductBody
) -> None:
    old, first, second = [(await shop.product(product_body()))["_id"] for _ in range(3)]
    await success(await shop.client.post(shop.line(old)))
    body = {"products": [{"product": second, "quantity": 2}, {"product": first, "quantity": 5}]}
    cart = await success(await shop.client.put(shop.cart, json=body))
    assert [(line["product"]["_id"], line["quantity"]) for line in cart["products"]] == [
        (second, 2),
        (first, 5),
    ]
    assert await shop.lines() == [(second, 2), (first, 5)]


async def test_put_cart_with_no_products_empties_it(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid)))
    await success(await shop.client.put(shop.cart, json={"products": []}))
    assert await shop.lines() == []


async def test_put_cart_with_an_unknown_product_is_404_and_changes_nothing(
    shop: Shop, pid: str
) -> None:
    await success(await shop.client.post(shop.line(pid), json={"quantity": 2}))
    body = {"products": [{"product": pid, "quantity": 9}, {"product": MISSING_ID, "quantity": 1}]}
    await error(await shop.client.put(shop.cart, json=body), 404)
    assert await shop.lines() == [(pid, 2)]


async def test_put_cart_over_stock_is_409_and_changes_nothing(
    shop: Shop, product_body: ProductBody
) -> None:
    plenty = (await shop.product(product_body(stock=100)))["_id"]
    scarce = (await shop.product(product_body(stock=2)))["_id"]
    await success(await shop.client.post(shop.line(plenty)))
    body = {"products": [{"product": plenty, "quantity": 9}, {"product": scarce, "quantity": 3}]}
    refused = await error_with(await shop.client.put(shop.cart, json=body), 409, "available")
    assert refused["error"] == "quantity: only 2 of Yerba mate in stock"
    assert refused["available"] == 2
    assert await shop.lines() == [(plenty, 1)]


async def test_put_cart_naming_a_product_twice_holds_both_quantities(shop: Shop, pid: str) -> None:
    body = {"products": [{"product": pid, "quantity": 1}, {"product": pid, "quantity": 2}]}
    await success(await shop.client.put(shop.cart, json=body))
    assert await shop.lines() == [(pid, 3)]


async def test_put_cart_naming_a_product_twice_past_the_line_limit_is_409(
    shop: Shop, pid: str
) -> None:
    body = {"products": [{"product": pid, "quantity": 6_000}] * 2}
    await error(await shop.client.put(shop.cart, json=body), 409, "quantity")
    assert await shop.lines() == []


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({}, "products"),
        ({"products": "x"}, "products"),
        ({"products": [{"product": "nope", "quantity": 1}]}, "product"),
        ({"products": [{"product": MISSING_ID, "quantity": 0}]}, "quantity"),
        ({"products": [{"product": MISSING_ID}]}, "quantity"),
        ({"products": [{"product": {"$ne": None}, "quantity": 1}]}, "product"),
        ({"products": [], "owner": MISSING_ID}, "owner"),
    ],
)
async def test_put_cart_with_an_invalid_body_is_400_naming_the_field(
    shop: Shop, body: dict[str, Any], name: str
) -> None:
    await error(await shop.client.put(shop.cart, json=body), 400, name)


async def test_delete_cart_empties_it(shop: Shop, product_body: ProductBody) -> None:
    for _ in range(2):
        await success(
            await shop.client.post(shop.line((await shop.product(product_body()))["_id"]))
        )
    cart = await success(await shop.client.delete(shop.cart))
    assert cart["_id"] == shop.user["cart"]
    assert cart["products"] == []
    assert await shop.lines() == []


# ---- invalid input -------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None, 10_001])
async def test_add_with_an_invalid_quantity_is_400(shop: Shop, pid: str, quantity: Any) -> None:
    response = await shop.client.post(shop.line(pid), json={"quantity": quantity})
    await error(response, 400, "quantity")
    assert await shop.lines() == []


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True])
async def test_put_line_with_an_invalid_quantity_is_400(
    shop: Shop, pid: str, quantity: Any
) -> None:
    await success(await shop.client.post(shop.line(pid)))
    response = await shop.client.put(shop.line(pid), json={"quantity": quantity})
    await error(response, 400, "quantity")
    assert await shop.lines() == [(pid, 1)]


async def test_add_with_an_unknown_field_is_400(shop: Shop, pid: str) -> None:
    response = await shop.client.post(shop.line(pid), json={"quantity": 1, "price": 0.01})
    await error(response, 400, "price")


async def test_add_with_a_form_body_is_415(shop: Shop, pid: str) -> None:
    await error(await shop.client.post(shop.line(pid), data={"quantity": "1"}), 415)
    assert await shop.lines() == []


async def test_add_an_unknown_product_is_404(shop: Shop) -> None:
    await error(await shop.client.post(shop.line(MISSING_ID)), 404, MISSING_ID)
    assert await shop.lines() == []


async def test_unknown_cart_is_404(shop: Shop) -> None:
    await error(await shop.client.get(f"/api/carts/{MISSING_ID}"), 404, MISSING_ID)


async def test_add_to_an_unknown_cart_is_404(shop: Shop, pid: str) -> None:
    await error(await shop.client.post(f"/api/carts/{MISSING_ID}/product/{pid}"), 404)


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "/api/carts/not-an-id", "cid"),
        ("PUT", "/api/carts/0123", "cid"),
        ("DELETE", "/api/carts/ZZZZZZZZZZZZZZZZZZZZZZZZ", "cid"),
        ("POST", "/api/carts/xyz/product/0123456789abcdef01234567", "cid"),
        ("POST", "/api/carts/0123456789abcdef01234567/product/xyz", "pid"),
        ("PUT", "/api/carts/0123456789abcdef01234567/products/$ne", "pid"),
        ("DELETE", "/api/carts/0123456789abcdef01234567/product/123", "pid"),
    ],
)
async def test_malformed_id_is_400_naming_it(
    shop: Shop, method: str, path: str, name: str
) -> None:
    response = await shop.client.request(method, path, json={"quantity": 1, "products": []})
    await error(response, 400, name)


# ---- stock -----------------------------------------------------------------------------------


async def test_add_more_than_stock_is_409_and_changes_nothing(
    shop: Shop, product_body: ProductBody
) -> None:
    scarce = (await shop.product(product_body(stock=5)))["_id"]
    await success(await shop.client.post(shop.line(scarce), json={"quantity": 3}))
    response = await shop.client.post(shop.line(scarce), json={"quantity": 3})
    refused = await error_with(response, 409, "available")
    # It names the product and what is possible, and the count is there for scripts.
    assert refused["error"] == ("quantity: only 5 of Yerba mate in stock, and your cart holds 3")
    assert refused["available"] == 5
    assert await shop.lines() == [(scarce, 3)]


async def test_add_exactly_the_stock_is_allowed(shop: Shop, product_body: ProductBody) -> None:
    scarce = (await shop.product(product_body(stock=5)))["_id"]
    await success(await shop.client.post(shop.line(scarce), json={"quantity": 5}))
    assert await shop.lines() == [(scarce, 5)]


async def test_add_to_a_product_without_stock_is_409(
    shop: Shop, product_body: ProductBody
) -> None:
    empty = (await shop.product(product_body(stock=0)))["_id"]
    refused = await error_with(await shop.client.post(shop.line(empty)), 409, "available")
    assert refused == {
        "status": "error",
        "error": "quantity: Yerba mate is sold out",
        "available": 0,
    }
    assert await shop.lines() == []


async def test_adding_to_a_line_never_takes_it_past_ten_thousand(
    shop: Shop, product_body: ProductBody
) -> None:
    plenty = (await shop.product(product_body(stock=50_000)))["_id"]
    await success(await shop.client.post(shop.line(plenty), json={"quantity": 9_999}))
    await error(await shop.client.post(shop.line(plenty), json={"quantity": 2}), 409, "10000")
    assert await shop.lines() == [(plenty, 9_999)]
    await success(await shop.client.post(shop.line(plenty), json={"quantity": 1}))
    await error(await shop.client.post(shop.line(plenty)), 409, "10000")
    assert await shop.lines() == [(plenty, 10_000)]


async def test_put_line_over_stock_is_409_and_changes_nothing(
    shop: Shop, product_body: ProductBody
) -> None:
    scarce = (await shop.product(product_body(stock=5)))["_id"]
    await success(await shop.client.post(shop.line(scarce), json={"quantity": 2}))
    response = await shop.client.put(shop.line(scarce), json={"quantity": 6})
    assert (await error_with(response, 409, "available"))["available"] == 5
    assert await shop.lines() == [(scarce, 2)]


# ---- ownership -------------------------------------------------------------------------------


def _other_user_requests(pid: str) -> dict[str, tuple[str, str, Any]]:
    return {
        "get": ("GET", "", None),
        "add": ("POST", f"/product/{pid}", None),
        "set": ("PUT", f"/product/{pid}", {"quantity": 9}),
        "remove": ("DELETE", f"/product/{pid}", None),
        "replace": ("PUT", "", {"products": [{"product": pid, "quantity": 9}]}),
        "clear": ("DELETE", "", None),
    }


@pytest.mark.parametrize("action", ["get", "add", "set", "remove", "replace", "clear"])
async def test_another_users_cart_is_403_and_unchanged(
    shop: Shop, pid: str, new_browser: NewBrowser, action: str
) -> None:
    await success(await shop.client.post(shop.line(pid), json={"quantity": 2}))
    intruder = Auth(await new_browser())
    await intruder.user()
    method, suffix, body = _other_user_requests(pid)[action]
    response = await intruder.client.request(method, shop.cart + suffix, json=body)
    message = await error(response, 403)
    assert pid not in message
    assert await shop.lines() == [(pid, 2)]


async def test_another_users_cart_body_is_not_in_the_403(
    shop: Shop, pid: str, new_browser: NewBrowser
) -> None:
    await success(await shop.client.post(shop.line(pid)))
    intruder = Auth(await new_browser())
    await intruder.user()
    response = await intruder.client.get(shop.cart)
    assert response.status == 403
    assert shop.user["_id"] not in await response.text()


async def test_admin_can_read_any_cart(shop: Shop, pid: str) -> None:
    await success(await shop.client.post(shop.line(pid), json={"quantity": 2}))
    cart = await success(await shop.admin.get(shop.cart))
    assert cart["owner"] == shop.user["_id"]
    assert [(line["product"]["_id"], line["quantity"]) for line in cart["products"]] == [(pid, 2)]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("PUT", ""),
        ("DELETE", ""),
        ("POST", "/product/0123456789abcdef01234567"),
        ("PUT", "/products/0123456789abcdef01234567"),
        ("DELETE", "/product/0123456789abcdef01234567"),
    ],
)
async def test_anonymous_cart_request_is_401(
    client: Client, auth: Auth, method: str, suffix: str
) -> None:
    user = await auth.register()
    path = f"/api/carts/{user['cart']}{suffix}"
    response = await client.request(method, path, json={"quantity": 1, "products": []})
    await error(response, 401)


async def test_anonymous_cannot_create_a_cart(client: Client) -> None:
    await error(await client.post("/api/carts"), 401)


# ---- concurrency -----------------------------------------------------------------------------


async def test_concurrent_adds_lose_no_update(shop: Shop, pid: str) -> None:
    responses = await asyncio.gather(*(shop.client.post(shop.line(pid)) for _ in range(50)))
    assert [response.status for response in responses] == [200] * 50
    assert await shop.lines() == [(pid, 50)]


async def test_concurrent_adds_never_exceed_stock(shop: Shop, product_body: ProductBody) -> None:
    scarce = (await shop.product(product_body(stock=10)))["_id"]
    responses = await asyncio.gather(*(shop.client.post(shop.line(scarce)) for _ in range(30)))
    statuses = sorted(response.status for response in responses)
    assert statuses == [200] * 10 + [409] * 20
    assert await shop.lines() == [(scarce, 10)]


async def test_concurrent_refusals_undo_only_themselves(
    shop: Shop, pid: str, product_body: ProductBody
) -> None:
    # Arriving together, on SQLite these share transactions (group commit): each refusal
    # must take back its own change alone, and every accepted add must stay.
    scarce = (await shop.product(product_body(stock=1)))["_id"]
    requests = [shop.client.post(shop.line(pid)) for _ in range(20)]
    requests += [shop.client.post(shop.line(scarce), json={"quantity": 2}) for _ in range(20)]
    requests += [shop.client.post(shop.line(MISSING_ID)) for _ in range(10)]
    responses = await asyncio.gather(*requests)
    statuses = [response.status for response in responses]
    assert statuses == [200] * 20 + [409] * 20 + [404] * 10
    assert await shop.lines() == [(pid, 20)]
