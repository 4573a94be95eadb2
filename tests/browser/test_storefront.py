"""The storefront in a real Chromium: the language switch, prices written by the scripts
as the server writes them, sorting on choice, live listings that keep their count and
pages, the cart badge, messages, and the question before emptying a cart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from playwright.async_api import Page, expect

from tests.browser.conftest import AdminApi, Contexts, register
from tests.browser.test_flows import (
    add_to_cart,
    assert_not_reloaded,
    card,
    goto,
    mark_loaded,
    wait_live,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


async def test_the_language_switch_works_for_anonymous_visitors_without_a_session(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    await admin_api.create_product(title="Yerba mate", price=1499.99, stock=3)
    context = await contexts.new()
    page = await contexts.new_page(context)
    await goto(page, "/products?sort=price_asc")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator(".product-price")).to_have_text("$1,499.99")

    await page.get_by_role("link", name="Español").click()

    await page.wait_for_url(re.compile(r"/products\?sort=price_asc$"))
    await expect(page.locator("html")).to_have_attribute("lang", "es-AR")
    await expect(page.locator("h1")).to_have_text("Productos")
    await expect(page.locator(".product-price")).to_have_text("US$1.499,99")
    await expect(page.locator(".availability")).to_have_text("Quedan solo 3")
    names = {cookie["name"] for cookie in await context.cookies()}
    assert names == {"shop_language"}


AMOUNTS = ["0", "0.5", "9.99", "1000", "1499.99", "1234567.89", "99999999.99"]


@pytest.mark.parametrize(("tag", "locale"), [("en", "en"), ("es-AR", "es_AR")])
async def test_the_scripts_write_money_and_numbers_as_babel_does(
    contexts: Contexts, tag: str, locale: str
) -> None:
    context = await contexts.new()
    await context.add_cookies(
        [{"name": "shop_language", "value": tag, "url": contexts.server.url}]
    )
    page = await contexts.new_page(context)
    await goto(page, "/products")
    written = await page.evaluate(
        "amounts => amounts.map(a => window.ShopText.money(Number(a)))", AMOUNTS
    )
    assert written == [format_currency(Decimal(a), "USD", locale=locale) for a in AMOUNTS]
    counts = [0, 7, 1000, 100000, 1000000]
    numbers = await page.evaluate("ns => ns.map(n => window.ShopText.number(n))", counts)
    assert numbers == [format_decimal(n, locale=locale) for n in counts]


async def test_a_chosen_sort_applies_at_once(contexts: Contexts, admin_api: AdminApi) -> None:
    cheap = await admin_api.create_product(title="Cheap", price=1)
    dear = await admin_api.create_product(title="Dear", price=9)
    page = await contexts.new_page()
    await goto(page, "/products")
    cards = page.locator("#product-grid [data-product-id]")
    await expect(cards.first).to_have_attribute("data-product-id", cheap["_id"])
    # No Apply button with JavaScript: choosing is enough.
    await expect(page.get_by_role("button", name="Apply")).to_have_count(0)

    await page.locator("#filter-sort").select_option("price_desc")

    await page.wait_for_url(re.compile(r"sort=price_desc"))
    await expect(cards.first).to_have_attribute("data-product-id", dear["_id"])


async def test_a_deleted_cards_place_is_filled_from_the_next_page_and_the_count_follows(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    first, second, third = [
        await admin_api.create_product(title=title) for title in ("Uno", "Dos", "Tres")
    ]
    page = await contexts.new_page()
    await goto(page, "/products?limit=2")
    await wait_live(page)
    await mark_loaded(page)
    cards = page.locator("#product-grid [data-product-id]")
    await expect(cards).to_have_count(2)
    await expect(page.locator("#products-total")).to_have_text("3 products")
    await expect(page.locator(".pagination-summary")).to_have_text("Page 1 of 2")

    await admin_api.delete_product(first["_id"])

    await expect(card(page, first["_id"])).to_have_count(0)
    await expect(card(page, third["_id"])).to_have_count(1)  # up from page 2
    await expect(cards).to_have_count(2)
    await expect(page.locator("#products-total")).to_have_text("2 products")
    await expect(page.locator(".pagination")).to_have_count(0)  # one page now

    fourth = await admin_api.create_product(title="Cuatro")

    await expect(page.locator("#products-total")).to_have_text("3 products")
    await expect(page.locator(".pagination-summary")).to_have_text("Page 1 of 2")
    await expect(card(page, fourth["_id"])).to_have_count(0)  # it belongs to page 2
    await expect(card(page, second["_id"])).to_have_count(1)
    await assert_not_reloaded(page)


async def test_a_page_left_past_the_end_offers_the_last_page(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    products = [await admin_api.create_product(title=f"P{n}") for n in range(3)]
    page = await contexts.new_page()
    await goto(page, "/products?limit=2&page=2")
    await wait_live(page)
    await expect(card(page, products[2]["_id"])).to_have_count(1)

    await admin_api.delete_product(products[2]["_id"])

    await expect(page.locator(".past-end")).to_contain_text("the last page is 1")
    await page.locator(".past-end a").click()
    await page.wait_for_url(re.compile(r"page=1"))
    await expect(page.locator("#product-grid [data-product-id]")).to_have_count(2)


async def test_the_cart_badge_follows_a_repriced_or_deleted_product(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=10)
    elsewhere = await admin_api.create_product(title="Bombilla", price=5)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 2)
    page = await contexts.new_page(context)
    await goto(page, "/profile")  # any page: the badge is in the header
    await wait_live(page)
    badge = page.locator("#cart-badge")
    await expect(badge.locator(".cart-total")).to_contain_text("$20.00")

    await admin_api.update_product(mate["_id"], price=12.5)
    await expect(badge.locator(".cart-total")).to_contain_text("$25.00")

    await add_to_cart(context, cid, elsewhere["_id"], 1)
    await expect(badge.locator(".cart-count")).to_have_text("3")
    await admin_api.delete_product(mate["_id"])
    await expect(badge.locator(".cart-count")).to_have_text("1")
    await expect(badge.locator(".cart-total")).to_contain_text("$5.00")
    await expect(badge).to_have_accessible_name(re.compile(r"Cart, 1 item"))


async def test_a_refused_quantity_is_said_next_to_its_field(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", stock=2)
    context = await contexts.new()
    await register(context)
    page = await contexts.new_page(context)
    await goto(page, f"/products/{mate['_id']}")
    quantity = page.locator("#add-quantity")
    await quantity.fill("5")
    await page.locator(".add-to-cart").click()

    note = page.locator(f"#quantity-note-{mate['_id']}")
    await expect(note).to_have_text("only 2 of Yerba mate in stock")
    await expect(quantity).to_have_attribute("aria-invalid", "true")
    await expect(quantity).to_have_accessible_description("only 2 of Yerba mate in stock")


async def test_flashes_close_on_a_click_and_by_themselves(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate")
    context = await contexts.new()
    await register(context)
    page = await contexts.new_page(context)
    await goto(page, "/products")
    flashes = page.locator("#flashes .flash")
    await card(page, mate["_id"]).locator(".add-to-cart").click()
    await expect(flashes).to_have_count(1)
    await expect(flashes).to_contain_text("Added Yerba mate to your cart.")
    await flashes.first.click()
    await expect(flashes).to_have_count(0)

    await card(page, mate["_id"]).locator(".add-to-cart").click()
    await expect(flashes).to_have_count(1)
    # A success message goes after five seconds by itself.
    await expect(flashes).to_have_count(0, timeout=9000)


async def test_on_a_phone_flashes_cover_neither_the_header_nor_the_title(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate")
    context = await contexts.browser.new_context(
        base_url=contexts.server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    try:
        await register(context)
        page = await context.new_page()
        await goto(page, "/products")
        await card(page, mate["_id"]).locator(".add-to-cart").tap()
        flash = page.locator("#flashes .flash")
        await expect(flash).to_be_visible()
        box = await flash.bounding_box()
        header = await page.locator(".site-header").bounding_box()
        title = await page.locator("h1").bounding_box()
        assert box and header and title
        for other in (header, title):
            assert (
                box["y"] >= other["y"] + other["height"] or box["y"] + box["height"] <= other["y"]
            )
    finally:
        await context.close()


async def test_emptying_the_cart_asks_first(contexts: Contexts, admin_api: AdminApi) -> None:
    mate = await admin_api.create_product(title="Yerba mate")
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 2)
    page = await contexts.new_page(context)
    await goto(page, f"/carts/{cid}")
    await page.locator("#clear-cart").click()
    # Asked in place; keeping it changes nothing.
    await page.get_by_role("button", name="Keep it").click()
    await expect(page.locator("[data-line-product-id]")).to_have_count(1)
    await page.locator("#clear-cart").click()
    await page.get_by_role("button", name="Empty it").click()
    await expect(page.locator("#cart-empty")).to_be_visible()
    await expect(page.locator("#cart-badge .cart-count")).to_have_text("0")


async def test_emptying_the_cart_without_javascript_asks_on_a_page(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate")
    context = await contexts.browser.new_context(
        base_url=contexts.server.url, java_script_enabled=False
    )
    try:
        cid = (await register(context))["cart"]
        await add_to_cart(context, cid, mate["_id"], 2)
        page: Page = await context.new_page()
        await goto(page, f"/carts/{cid}")
        await page.get_by_role("link", name="Empty the cart").click()
        await expect(page.locator("h1")).to_have_text("Empty your cart?")
        await page.get_by_role("button", name="Empty the cart").click()
        await page.wait_for_url(re.compile(rf"/carts/{cid}$"))
        await expect(page.locator("#cart-empty")).to_be_visible()
    finally:
        await context.close()
