"""The checkout and order pages through HTTP on every store: the cart's Buy button and its
problems, the confirmation form (CSRF, total, Idempotency-Key), the order's ticket, the
orders list, and the forms that cancel or move an order."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from yarl import URL

from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser
from tests.test_pages import (
    assert_csp_friendly,
    create_product,
    csrf_token,
    fill_cart,
    location,
    page,
    post_form,
)

ProductBody = Callable[..., dict[str, Any]]

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
TOTAL = re.compile(r'name="expected_total" value="([^"]+)"')


@pytest.fixture
async def mate(admin_browser: Client, product_body: ProductBody) -> dict[str, Any]:
    return await create_product(admin_browser, product_body(title="Yerba mate", price=12.5))


@pytest.fixture
async def cid(client: Client, auth: Auth) -> str:
    return (await auth.user())["cart"]


async def checkout_form(client: Client, cid: str) -> dict[str, str]:
    """The fields the confirmation page's form would post."""
    html = await page(await client.get(f"/carts/{cid}/checkout"))
    key, total = KEY.search(html), TOTAL.search(html)
    assert key is not None and total is not None
    return {"idempotency_key": key.group(1), "expected_total": total.group(1)}


async def api(client: Client, path: str) -> Any:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return (await response.json())["payload"]


# ---- the cart -------------------------------------------------------------------------------


async def test_cart_page_offers_to_buy_what_can_be_bought_and_marks_the_rest(
    client: Client, cid: str, admin_browser: Client, product_body: ProductBody
) -> None:
    tea = await create_product(admin_browser, product_body(title="Tea", price=2.5))
    mug = await create_product(admin_browser, product_body(title="Mug", price=10, stock=5))
    await fill_cart(client, cid, (tea, 2), (mug, 3))
    await admin_browser.put(f"/api/products/{mug['_id']}", json={"stock": 1})
    html = await page(await client.get(f"/carts/{cid}"))
    assert 'id="buy-form" method="get" action="/carts/' in html
    assert '<span id="buy-total" class="price">5.00</span>' in html
    row = re.search(
        rf'<tr class="cart-line has-problem" data-line-product-id="{mug["_id"]}"'
        r' data-version="\d+">',
        html,
    )
    assert row is not None
    assert "Only 1 in stock: lower the quantity to buy it." in html
    assert 'id="purchase-note" class="muted">' in html  # shown: a line stays behind


async def test_buy_button_is_off_when_nothing_can_be_bought(
    client: Client, cid: str, admin_browser: Client, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 1))
    await admin_browser.put(f"/api/products/{mate['_id']}", json={"status": False})
    html = await page(await client.get(f"/carts/{cid}"))
    assert re.search(r'<button id="buy-button"[^>]* disabled>', html)
    assert "No longer available: it stays in your cart when you buy." in html


# ---- the confirmation and the purchase ----------------------------------------------------


async def test_checkout_page_shows_the_total_and_a_fresh_key_each_time(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 2))
    first = await checkout_form(client, cid)
    second = await checkout_form(client, cid)
    assert first["expected_total"] == "25.00"
    assert first["idempotency_key"] != second["idempotency_key"]
    html = await page(await client.get(f"/carts/{cid}/checkout"))
    assert f'action="/carts/{cid}/purchase"' in html
    assert 'name="csrf_token"' in html


async def test_confirming_buys_and_shows_the_ticket(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 2))
    response = await post_form(client, f"/carts/{cid}/purchase", await checkout_form(client, cid))
    target = location(response)
    assert re.fullmatch(r"/orders/[0-9a-f]{24}", target)
    html = await page(await client.get(target))
    order = await api(client, f"/api/orders/{target.rsplit('/', 1)[1]}")
    assert f"Thank you! Order {order['code']} is placed." in html
    assert f'<span class="order-code">{order["code"]}</span>' in html
    assert '<span id="order-total" class="price">25.00</span>' in html
    assert 'data-status="placed">Placed</span>' in html
    assert "Yerba mate" in html
    assert (await api(client, f"/api/products/{mate['_id']}"))["stock"] == 98


async def test_submitting_the_same_confirmation_twice_buys_once(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 2))
    form = await checkout_form(client, cid)
    token = await csrf_token(client, f"/carts/{cid}")
    first = await post_form(client, f"/carts/{cid}/purchase", form, token=token)
    second = await post_form(client, f"/carts/{cid}/purchase", form, token=token)
    assert location(first) == location(second)
    assert len((await (await client.get("/api/orders")).json())["payload"]) == 1
    assert (await api(client, f"/api/products/{mate['_id']}"))["stock"] == 98


async def test_purchase_form_without_a_csrf_token_is_403_and_buys_nothing(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 1))
    form = await checkout_form(client, cid)
    response = await client.post(f"/carts/{cid}/purchase", data=form, allow_redirects=False)
    await page(response, 403)
    assert (await api(client, f"/api/products/{mate['_id']}"))["stock"] == 100


async def test_lines_left_behind_are_explained_on_the_cart_page(
    client: Client, cid: str, admin_browser: Client, product_body: ProductBody
) -> None:
    tea = await create_product(admin_browser, product_body(title="Tea", price=2.5))
    mug = await create_product(admin_browser, product_body(title="Mug", price=10, stock=5))
    await fill_cart(client, cid, (tea, 1), (mug, 3))
    form = await checkout_form(client, cid)
    # Between the confirmation and the purchase someone bought the mugs: the total differs.
    await admin_browser.put(f"/api/products/{mug['_id']}", json={"stock": 2})
    response = await post_form(client, f"/carts/{cid}/purchase", form)
    assert location(response) == f"/carts/{cid}/checkout"
    html = await page(await client.get(location(response)))
    assert "The total is now 2.50: check what you buy and confirm again." in html
    assert "These stay in your cart" in html
    assert (await api(client, f"/api/products/{tea['_id']}"))["stock"] == 100

    response = await post_form(client, f"/carts/{cid}/purchase", await checkout_form(client, cid))
    assert location(response) == f"/carts/{cid}"
    html = await page(await client.get(f"/carts/{cid}"))
    assert "Some lines could not be bought and stay in your cart" in html
    assert re.search(r"Order [0-9A-Z]{4}-[0-9A-Z]{4} is placed\.", html)
    assert f'data-line-product-id="{mug["_id"]}"' in html
    assert f'data-line-product-id="{tea["_id"]}"' not in html
    assert "Only 2 in stock: lower the quantity to buy it." in html


async def test_confirming_when_nothing_can_be_bought_goes_back_to_the_cart(
    client: Client, cid: str, admin_browser: Client, mate: dict[str, Any]
) -> None:
    await fill_cart(client, cid, (mate, 1))
    form = await checkout_form(client, cid)
    await admin_browser.put(f"/api/products/{mate['_id']}", json={"stock": 0})
    response = await post_form(client, f"/carts/{cid}/purchase", form)
    assert location(response) == f"/carts/{cid}"
    html = await page(await client.get(location(response)))
    assert "Nothing in your cart can be bought now" in html
    assert "Sold out: it stays in your cart when you buy." in html


@pytest.mark.parametrize(
    ("fields", "status"), [({"idempotency_key": "a b"}, 400), ({"expected_total": "1,2,3"}, 303)]
)
async def test_tampered_confirmation_fields_buy_nothing(
    client: Client, cid: str, mate: dict[str, Any], fields: dict[str, str], status: int
) -> None:
    await fill_cart(client, cid, (mate, 1))
    form = {**await checkout_form(client, cid), **fields}
    response = await post_form(client, f"/carts/{cid}/purchase", form)
    assert response.status == status
    assert (await api(client, f"/api/products/{mate['_id']}"))["stock"] == 100


async def test_someone_elses_checkout_is_403_and_anonymous_goes_to_login(
    client: Client, cid: str, new_browser: NewBrowser
) -> None:
    other = await new_browser()
    await Auth(other).user()
    html = await page(await other.get(f"/carts/{cid}/checkout"), 403)
    assert "data-line-product-id" not in html
    anonymous = await new_browser()
    response = await anonymous.get(f"/carts/{cid}/checkout", allow_redirects=False)
    assert URL(location(response)).path == "/login"
    response = await anonymous.post(f"/carts/{cid}/purchase", data={}, allow_redirects=False)
    assert URL(location(response)).query["next"] == f"/carts/{cid}"


# ---- the orders -------------------------------------------------------------------------------


async def buy(client: Client, cid: str, item: dict[str, Any], quantity: int = 1) -> str:
    await fill_cart(client, cid, (item, quantity))
    response = await client.post(f"/api/carts/{cid}/purchase")
    assert response.status == 201, await response.text()
    return (await response.json())["payload"]["order"]["_id"]


async def test_orders_page_lists_the_users_own_orders_in_pages(
    client: Client, cid: str, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    oids = [await buy(client, cid, mate) for _ in range(11)]
    other = await new_browser()
    theirs = await buy(other, (await Auth(other).user())["cart"], mate)
    html = await page(await client.get("/orders"))
    assert "11 orders" in html
    listed = re.findall(r'data-order-id="([0-9a-f]{24})"', html)
    assert listed == oids[::-1][:10]
    assert theirs not in html
    assert 'href="/orders?page=2"' in html
    html = await page(await client.get("/orders?page=2"))
    assert re.findall(r'data-order-id="([0-9a-f]{24})"', html) == [oids[0]]


async def test_orders_page_without_orders_says_so(client: Client, cid: str) -> None:
    assert "You have no orders yet." in await page(await client.get("/orders"))


async def test_someone_elses_order_page_is_403_and_an_unknown_one_404(
    client: Client, cid: str, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    oid = await buy(client, cid, mate)
    other = await new_browser()
    await Auth(other).user()
    html = await page(await other.get(f"/orders/{oid}"), 403)
    assert "Yerba mate" not in html
    await page(await client.get(f"/orders/{MISSING_ID}"), 404)


async def test_owner_cancels_a_placed_order_from_its_page(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    oid = await buy(client, cid, mate, 3)
    html = await page(await client.get(f"/orders/{oid}"))
    assert 'class="cancel-order-form"' in html
    assert 'class="status-form"' not in html
    response = await post_form(client, f"/orders/{oid}/status", {"status": "cancelled"})
    assert location(response) == f"/orders/{oid}"
    html = await page(await client.get(f"/orders/{oid}"))
    assert 'data-status="cancelled">Cancelled</span>' in html
    assert 'class="cancel-order-form"' not in html
    assert (await api(client, f"/api/products/{mate['_id']}"))["stock"] == 100


async def test_owner_asking_for_another_status_is_told_no(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    oid = await buy(client, cid, mate)
    response = await post_form(client, f"/orders/{oid}/status", {"status": "delivered"})
    html = await page(await client.get(location(response)))
    assert "you may only cancel your order" in html
    assert 'data-status="placed"' in html


async def test_admin_moves_an_order_from_its_page(
    client: Client, cid: str, mate: dict[str, Any], admin_browser: Client
) -> None:
    oid = await buy(client, cid, mate)
    html = await page(await admin_browser.get(f"/orders/{oid}"))
    assert '<option value="paid">Paid</option>' in html
    assert '<option value="cancelled">Cancelled</option>' in html
    token = await csrf_token(admin_browser, f"/orders/{oid}")
    response = await post_form(
        admin_browser, f"/orders/{oid}/status", {"status": "paid"}, token=token
    )
    html = await page(await admin_browser.get(location(response)))
    assert "Order " in html and ": Paid." in html
    assert '<option value="shipped">Shipped</option>' in html
    response = await post_form(
        admin_browser, f"/orders/{oid}/status", {"status": "lost"}, token=token
    )
    assert "Choose one of the statuses offered." in await page(
        await admin_browser.get(location(response))
    )


async def test_status_form_without_a_csrf_token_is_403(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    oid = await buy(client, cid, mate)
    response = await client.post(
        f"/orders/{oid}/status", data={"status": "cancelled"}, allow_redirects=False
    )
    await page(response, 403)
    assert (await api(client, f"/api/orders/{oid}"))["status"] == "placed"


async def test_order_pages_have_no_inline_script_or_style_and_a_print_stylesheet(
    client: Client, cid: str, mate: dict[str, Any]
) -> None:
    oid = await buy(client, cid, mate)
    await fill_cart(client, cid, (mate, 1))
    for path in (f"/carts/{cid}", f"/carts/{cid}/checkout", "/orders", f"/orders/{oid}"):
        response = await client.get(path)
        assert_csp_friendly(response, await page(response))
    css = await (await client.get("/static/css/shop.css")).text()
    assert "@media print" in css
    for script in ("checkout.js", "orders.js"):
        assert (await client.get(f"/static/js/{script}")).status == 200
