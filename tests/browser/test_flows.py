"""The shop's flows in a real Chromium: forms, the live cart badge, live catalogue updates
and escaping, against the element contract the pages promise."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    AdminApi,
    Contexts,
    Server,
    login,
    register,
)

pytestmark = pytest.mark.browser

LOGOUT = re.compile(r"log\s*out|sign\s*out", re.IGNORECASE)


# ---- helpers -----------------------------------------------------------------------------


async def wait_live(page: Page) -> None:
    """Wait until the page's websocket is open, so no event can slip past it."""
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "open")


async def mark_loaded(page: Page) -> None:
    """Tag this document; `assert_not_reloaded` fails if a navigation replaced it."""
    await page.evaluate("window.__shopDocument = true")


async def assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__shopDocument === true"), f"{page.url} was reloaded"


async def goto(page: Page, path: str) -> None:
    """Navigate and insist the page (after any redirect) answered successfully."""
    response = await page.goto(path)
    assert response is not None and response.ok, f"GET {path}: {response and response.status}"


def card(page: Page, pid: str) -> Locator:
    return page.locator(f'[data-product-id="{pid}"]')


def form_with(page: Page, field: str) -> Locator:
    """The form holding an input named `field` (not the header's logout form)."""
    return page.locator(f'form:has([name="{field}"])')


def submit_button(form: Locator) -> Locator:
    return form.locator('button[type="submit"], button:not([type]), input[type="submit"]').first


async def current_email(context: BrowserContext) -> str | None:
    """Who the server thinks this context is logged in as."""
    response = await context.request.get("/api/sessions/current")
    if response.status == 401:
        return None
    assert response.status == 200, await response.text()
    return (await response.json())["payload"]["email"]


async def add_to_cart(context: BrowserContext, cid: str, pid: str, quantity: int = 1) -> None:
    response = await context.request.post(
        f"/api/carts/{cid}/products/{pid}", data={"quantity": quantity}
    )
    assert response.status == 200, await response.text()


# ---- (1) register, log out, log in --------------------------------------------------------


async def test_register_lands_logged_in_then_logout_and_login_work(
    contexts: Contexts, server: Server
) -> None:
    context = await contexts.new()
    page = await contexts.new_page(context)
    email = f"reg-{uuid.uuid4().hex[:8]}@example.com"

    await goto(page, "/register")
    form = form_with(page, "first_name")
    await form.locator('[name="first_name"]').fill("Lucía")
    await form.locator('[name="last_name"]').fill("Pérez")
    await form.locator('[name="email"]').fill(email)
    await form.locator('[name="age"]').fill("29")
    await form.locator('[name="password"]').fill(PASSWORD)
    await submit_button(form).click()

    logout = page.locator("header").get_by_role("button", name=LOGOUT)
    await expect(logout).to_be_visible()
    assert urlsplit(page.url).path != "/register"
    assert await current_email(context) == email

    await logout.click()
    await expect(logout).to_have_count(0)
    assert await current_email(context) is None

    await goto(page, "/login")
    form = form_with(page, "password")
    await form.locator('[name="email"]').fill(email)
    await form.locator('[name="password"]').fill(PASSWORD)
    await submit_button(form).click()

    await expect(page.locator("header").get_by_role("button", name=LOGOUT)).to_be_visible()
    assert urlsplit(page.url).path != "/login"
    assert await current_email(context) == email


# ---- (6) login required ------------------------------------------------------------------


async def test_profile_redirects_to_login_and_back_after_login(
    contexts: Contexts, server: Server
) -> None:
    user = await register(await contexts.new())  # made elsewhere; this browser is anonymous
    page = await contexts.new_page()

    await goto(page, "/profile")
    await expect(page).to_have_url(re.compile(r"/login\?"))
    assert parse_qs(urlsplit(page.url).query)["next"] == ["/profile"]

    form = form_with(page, "password")
    await form.locator('[name="email"]').fill(user["email"])
    await form.locator('[name="password"]').fill(PASSWORD)
    await submit_button(form).click()

    await expect(page).to_have_url(f"{server.url}/profile")
    await expect(page.locator("#profile-email")).to_have_text(user["email"])


# ---- (2) the cart badge --------------------------------------------------------------------


async def test_adding_two_products_counts_up_the_badge_without_reload(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5)
    bombilla = await admin_api.create_product(title="Bombilla", price=7.0, category="Tools")
    context = await contexts.new()
    user = await register(context)
    page = await contexts.new_page(context)

    await goto(page, "/products")
    await wait_live(page)
    await mark_loaded(page)
    badge = page.locator("#cart-badge")
    await expect(badge.locator(".cart-count")).to_have_text("0")
    await expect(badge).to_have_attribute("href", re.compile(rf"/carts/{user['cart']}$"))

    await card(page, mate["_id"]).locator(".add-to-cart").click()
    await expect(badge.locator(".cart-count")).to_have_text("1")
    await card(page, bombilla["_id"]).locator(".add-to-cart").click()
    await expect(badge.locator(".cart-count")).to_have_text("2")

    await assert_not_reloaded(page)
    response = await context.request.get(f"/api/carts/{user['cart']}")
    lines = (await response.json())["payload"]["products"]
    assert sorted((line["product"]["_id"], line["quantity"]) for line in lines) == sorted(
        [(mate["_id"], 1), (bombilla["_id"], 1)]
    )


# ---- (3) the cart in two tabs --------------------------------------------------------------


async def test_quantity_change_in_one_tab_appears_in_the_other_without_reload(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5)
    bombilla = await admin_api.create_product(title="Bombilla", price=4.25)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 1)
    await add_to_cart(context, cid, bombilla["_id"], 2)
    first, second = await contexts.new_page(context), await contexts.new_page(context)
    for page in (first, second):
        await goto(page, f"/carts/{cid}")
        await wait_live(page)
    await mark_loaded(first)
    await mark_loaded(second)
    watched = second.locator(f'[data-line-product-id="{mate["_id"]}"]')
    await expect(watched.locator("input.quantity")).to_have_value("1")
    await expect(second.locator("#cart-total")).to_contain_text("21")  # 12.5 + 2 x 4.25

    line = first.locator(f'[data-line-product-id="{mate["_id"]}"]')
    await line.locator("input.quantity").fill("3")
    await submit_button(line.locator("form:has(input.quantity)")).click()

    await expect(watched.locator("input.quantity")).to_have_value("3")
    await expect(watched.locator(".line-total")).to_contain_text("37.5")
    await expect(second.locator("#cart-total")).to_contain_text("46")  # 37.5 + 8.5
    await expect(second.locator("#cart-badge .cart-count")).to_have_text("5")
    await assert_not_reloaded(first)
    await assert_not_reloaded(second)


# ---- (4) the admin's live catalogue ----------------------------------------------------------


async def admin_page(contexts: Contexts, path: str) -> Page:
    context = await contexts.new()
    await login(context, ADMIN_EMAIL)
    page = await contexts.new_page(context)
    await goto(page, path)
    await wait_live(page)
    return page


async def create_on_admin_page(page: Page, title: str) -> None:
    form = page.locator("#create-product-form")
    await form.locator('[name="title"]').fill(title)
    await form.locator('[name="description"]').fill("Fresh from the fields")
    await form.locator('[name="code"]').fill(f"RT-{uuid.uuid4().hex[:8]}")
    await form.locator('[name="price"]').fill("9.75")
    await form.locator('[name="stock"]').fill("12")
    await form.locator('[name="category"]').fill("Snacks")
    await submit_button(form).click()


async def test_product_created_on_realtimeproducts_appears_on_anonymous_products_page(
    contexts: Contexts,
) -> None:
    watcher = await contexts.new_page()
    await goto(watcher, "/products")
    await wait_live(watcher)
    await mark_loaded(watcher)
    admin = await admin_page(contexts, "/realtimeproducts")
    title = f"Alfajor {uuid.uuid4().hex[:6]}"

    await create_on_admin_page(admin, title)

    await expect(admin.locator("[data-product-id]", has_text=title)).to_have_count(1)
    fresh = watcher.locator("[data-product-id]", has_text=title)
    await expect(fresh).to_have_count(1)
    await expect(fresh.locator(".product-title")).to_have_text(title)
    await expect(fresh.locator(".product-price")).to_have_text("$9.75")
    await expect(fresh.locator(".availability")).to_have_text("In stock")
    await assert_not_reloaded(watcher)


async def test_product_created_on_realtimeproducts_appears_on_anonymous_realtimeproducts(
    contexts: Contexts,
) -> None:
    watcher = await contexts.new_page()
    await goto(watcher, "/realtimeproducts")
    await wait_live(watcher)
    await mark_loaded(watcher)
    admin = await admin_page(contexts, "/realtimeproducts")
    title = f"Dulce de leche {uuid.uuid4().hex[:6]}"

    await create_on_admin_page(admin, title)

    fresh = watcher.locator("[data-product-id]", has_text=title)
    await expect(fresh.locator(".product-title")).to_have_text(title)
    await assert_not_reloaded(watcher)


async def test_price_and_stock_changes_through_the_api_update_the_card_in_place(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5)
    await admin_api.create_product(title="Bombilla", price=7.0)
    page = await contexts.new_page()
    await goto(page, "/products")
    await wait_live(page)
    await mark_loaded(page)
    cards = page.locator("[data-product-id]")
    await expect(cards).to_have_count(2)
    before = await cards.evaluate_all("cards => cards.map(c => c.dataset.productId)")
    await expect(card(page, mate["_id"]).locator(".product-price")).to_contain_text("12.5")

    await admin_api.update_product(mate["_id"], price=99.9)

    await expect(card(page, mate["_id"]).locator(".product-price")).to_contain_text("99.9")
    assert await cards.evaluate_all("cards => cards.map(c => c.dataset.productId)") == before

    await admin_api.update_product(mate["_id"], stock=3)

    # The count shows only when low.
    availability = card(page, mate["_id"]).locator(".availability")
    await expect(availability).to_have_text("Only 3 left")
    await admin_api.update_product(mate["_id"], stock=0)
    await expect(availability).to_have_text("Sold out")
    await expect(availability).to_have_attribute("data-availability", "sold_out")
    await expect(card(page, mate["_id"]).locator(".add-to-cart")).to_have_count(0)
    await assert_not_reloaded(page)


async def test_deleting_on_realtimeproducts_removes_the_card_elsewhere(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate")
    watcher = await contexts.new_page()
    await goto(watcher, "/products")
    await wait_live(watcher)
    await expect(card(watcher, mate["_id"])).to_have_count(1)
    admin = await admin_page(contexts, "/realtimeproducts")

    await card(admin, mate["_id"]).locator(".delete-product").click()
    # It asks first, in place.
    await card(admin, mate["_id"]).locator(".confirm-delete").click()

    await expect(card(admin, mate["_id"])).to_have_count(0)
    await expect(card(watcher, mate["_id"])).to_have_count(0)


# ---- (5) escaping ----------------------------------------------------------------------------


async def test_markup_in_a_title_is_shown_as_text_never_run(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    script = "<script>alert(1)</script>"
    image = '<img src="x" onerror="alert(2)">'
    seeded = await admin_api.create_product(title=script)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, seeded["_id"])
    page = await contexts.new_page(context)
    await goto(page, "/products")
    await wait_live(page)
    admin = await admin_page(contexts, "/realtimeproducts")

    # Rendered by the server...
    assert await card(page, seeded["_id"]).locator(".product-title").text_content() == script
    assert await card(admin, seeded["_id"]).locator(".product-title").text_content() == script
    # ...and by the page's script when it arrives live.
    live = await admin_api.create_product(title=image)
    for where in (page, admin):
        title = card(where, live["_id"]).locator(".product-title")
        await expect(title).to_have_count(1)
        assert await title.text_content() == image
        assert await where.locator('img[src="x"]').count() == 0

    cart = await contexts.new_page(context)
    await goto(cart, f"/carts/{cid}")
    await expect(cart.locator(f'[data-line-product-id="{seeded["_id"]}"]')).to_contain_text(script)
    assert contexts.problems == []


# ---- screenshots -----------------------------------------------------------------------------

CATALOGUE = [
    ("Yerba mate Playadito 1 kg", "Drinks", 8.9, 40),
    ("Alfajores Havanna x12", "Sweets", 15.5, 12),
    ("Dulce de leche 450 g", "Sweets", 4.25, 0),
    ("Mate de calabaza", "Tools", 22.0, 7),
    ("Bombilla de alpaca", "Tools", 11.75, 25),
    ("Galletitas Criollitas", "Snacks", 2.3, 80),
]


SHOTS = (
    ("", {"width": 1280, "height": 800}),
    ("-phone", {"width": 390, "height": 844}),
)


async def test_catalogue_and_filled_cart_render_for_screenshots(
    contexts: Contexts, admin_api: AdminApi, tmp_path: Path
) -> None:
    """Saves products-<language>[-phone].png, product-... and cart-... to
    SHOP_SCREENSHOT_DIR (or a temporary dir): desktop and phone, English and Spanish."""
    out = Path(os.environ.get("SHOP_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    products = [
        await admin_api.create_product(
            title=title,
            description=f"{title}, from Argentina",
            category=category,
            price=price,
            stock=stock,
        )
        for title, category, price, stock in CATALOGUE
    ]
    context = await contexts.new()
    cid = (await register(context))["cart"]
    page = await contexts.new_page(context)
    await goto(page, "/products")
    await wait_live(page)
    for product, clicks in ((products[0], 2), (products[1], 1), (products[3], 1)):
        for _ in range(clicks):
            await card(page, product["_id"]).locator(".add-to-cart").click()
    await expect(page.locator("#cart-badge .cart-count")).to_have_text("4")
    for language in ("en", "es"):
        await context.add_cookies(
            [{"name": "shop_language", "value": language, "url": contexts.server.url}]
        )
        for suffix, viewport in SHOTS:
            await page.set_viewport_size(viewport)
            # Fresh loads: no "Added ..." messages, the sticky header at the top.
            await goto(page, "/products")
            await wait_live(page)
            await expect(page.locator("#cart-badge .cart-count")).to_have_text("4")
            await page.screenshot(path=out / f"products-{language}{suffix}.png", full_page=True)
            await goto(page, f"/products/{products[3]['_id']}")
            await wait_live(page)
            await page.screenshot(path=out / f"product-{language}{suffix}.png", full_page=True)
            await goto(page, f"/carts/{cid}")
            await wait_live(page)
            await expect(page.locator("[data-line-product-id]")).to_have_count(3)
            await page.screenshot(path=out / f"cart-{language}{suffix}.png", full_page=True)
