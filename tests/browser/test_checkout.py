"""Buying in a real Chromium: the cart's Buy button and its confirmation, the order's ticket
with its live status, lines left behind, and the same purchase without JavaScript."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.browser.conftest import AdminApi, Contexts, register
from tests.browser.test_flows import add_to_cart, assert_not_reloaded, goto, mark_loaded, wait_live

pytestmark = pytest.mark.browser

ORDER_PAGE = re.compile(r"/orders/[0-9a-f]{24}$")


async def test_buying_the_cart_leads_to_its_ticket_whose_status_changes_live(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5, stock=10)
    bombilla = await admin_api.create_product(title="Bombilla", price=4.25, stock=10)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 2)
    await add_to_cart(context, cid, bombilla["_id"], 1)
    page = await contexts.new_page(context)
    await goto(page, f"/carts/{cid}")
    await wait_live(page)

    await expect(page.locator("#buy-button")).to_contain_text("$29.25")
    await page.locator("#buy-button").click()
    confirm = page.locator("#buy-confirm")
    await expect(confirm).to_be_visible()
    await expect(confirm.locator(".confirm-total")).to_have_text("$29.25")
    await confirm.get_by_role("button", name="Confirm purchase").click()

    await page.wait_for_url(ORDER_PAGE)
    oid = page.url.rsplit("/", 1)[1]
    ticket = page.locator("#ticket")
    await expect(ticket.locator("#order-total")).to_have_text("$29.25")
    await expect(ticket.locator(".order-status")).to_have_text("Placed")
    await expect(ticket.locator("tbody tr")).to_have_count(2)
    await expect(page.locator("#cart-badge .cart-count")).to_have_text("0")
    await expect(page.locator("#print-order")).to_be_visible()

    await wait_live(page)
    await mark_loaded(page)
    await admin_api.session.put(f"/api/orders/{oid}", json={"status": "paid"})
    await expect(ticket.locator(".order-status")).to_have_text("Paid")
    await expect(ticket.locator(".order-status")).to_have_attribute("data-status", "paid")
    await expect(page.locator(".cancel-order-form")).to_be_hidden()
    await assert_not_reloaded(page)
    assert (await admin_api.update_product(mate["_id"], title="Yerba mate"))["stock"] == 8


async def test_lines_that_cannot_be_bought_are_marked_live_and_stay_after_buying(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5, stock=10)
    mug = await admin_api.create_product(title="Mug", price=10, stock=10)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 1)
    await add_to_cart(context, cid, mug["_id"], 3)
    page = await contexts.new_page(context)
    await goto(page, f"/carts/{cid}")
    await wait_live(page)
    await mark_loaded(page)
    line = page.locator(f'[data-line-product-id="{mug["_id"]}"]')
    await expect(line.locator(".line-problem")).to_be_hidden()

    await admin_api.update_product(mug["_id"], stock=2)
    await expect(line.locator(".line-problem")).to_have_text(
        "Only 2 in stock: lower the quantity to buy it."
    )
    await expect(page.locator("#buy-total")).to_have_text("$12.50")
    await expect(page.locator("#purchase-note")).to_be_visible()

    await page.locator("#buy-button").click()
    await page.locator("#buy-confirm-button").click()
    result = page.locator("#purchase-result")
    await expect(result).to_be_visible()
    await expect(result.get_by_role("link", name="See the order")).to_have_attribute(
        "href", ORDER_PAGE
    )
    await expect(page.locator("[data-line-product-id]")).to_have_count(1)
    await expect(line.locator(".line-problem")).to_be_visible()
    await expect(page.locator("#buy-button")).to_be_disabled()
    await assert_not_reloaded(page)


async def test_a_changed_total_is_shown_before_anything_is_bought(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5, stock=10)
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 2)
    page = await contexts.new_page(context)
    await goto(page, f"/carts/{cid}")
    await wait_live(page)
    await page.locator("#buy-button").click()
    # The price changes while the confirmation is open; the live page sees it, but the
    # confirmation holds what the shopper was shown.
    await admin_api.update_product(mate["_id"], price=13)
    await expect(page.locator("#buy-total")).to_have_text("$26.00")
    await page.locator("#buy-confirm-button").click()
    await expect(page.locator("#buy-error")).to_contain_text("The total is now $26.00")
    await expect(page.locator("#buy-confirm .confirm-total")).to_have_text("$26.00")
    assert (await admin_api.update_product(mate["_id"], price=13))["stock"] == 10

    await page.locator("#buy-confirm-button").click()
    await page.wait_for_url(ORDER_PAGE)
    await expect(page.locator("#order-total")).to_have_text("$26.00")


async def test_buying_without_javascript_goes_through_the_confirmation_page(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Yerba mate", price=12.5, stock=10)
    context = await contexts.browser.new_context(
        base_url=contexts.server.url, java_script_enabled=False
    )
    try:
        cid = (await register(context))["cart"]
        await add_to_cart(context, cid, mate["_id"], 3)
        page = await context.new_page()
        await goto(page, f"/carts/{cid}")
        await page.locator("#buy-button").click()
        # A GET form without fields: the browser adds an empty query ("checkout?").
        await page.wait_for_url(re.compile(rf"/carts/{cid}/checkout\??$"))
        await expect(page.locator("#checkout-total")).to_have_text("$37.50")
        await page.get_by_role("button", name=re.compile("Confirm purchase")).click()
        await page.wait_for_url(ORDER_PAGE)
        await expect(page.locator(".flash-success")).to_contain_text("is placed")
        await expect(page.locator("#order-total")).to_have_text("$37.50")
        await page.go_back()  # back to the confirmation, and submit it again: bought once
        await page.get_by_role("button", name=re.compile("Confirm purchase")).click()
        await page.wait_for_url(ORDER_PAGE)
        response = await context.request.get("/api/orders")
        assert len((await response.json())["payload"]) == 1
    finally:
        await context.close()


async def test_order_ticket_renders_for_screenshots(
    contexts: Contexts, admin_api: AdminApi, tmp_path: Path
) -> None:
    """Saves order-en.png and order-es-phone.png to SHOP_SCREENSHOT_DIR (or a temporary dir)."""
    out = Path(os.environ.get("SHOP_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    mate = await admin_api.create_product(title="Yerba mate Playadito 1 kg", price=8.9)
    gourd = await admin_api.create_product(title="Mate de calabaza", price=22, category="Tools")
    context = await contexts.new()
    cid = (await register(context))["cart"]
    await add_to_cart(context, cid, mate["_id"], 2)
    await add_to_cart(context, cid, gourd["_id"], 1)
    response = await context.request.post(f"/api/carts/{cid}/purchase")
    oid = (await response.json())["payload"]["order"]["_id"]
    page = await contexts.new_page(context)
    await goto(page, f"/orders/{oid}")
    await wait_live(page)
    await expect(page.locator("#order-total")).to_have_text("$39.80")
    await page.screenshot(path=out / "order-en.png", full_page=True)
    await context.add_cookies(
        [{"name": "shop_language", "value": "es-AR", "url": contexts.server.url}]
    )
    await page.set_viewport_size({"width": 390, "height": 844})
    await goto(page, f"/orders/{oid}")
    await expect(page.locator("#order-total")).to_have_text("US$39,80")
    await page.screenshot(path=out / "order-es-phone.png", full_page=True)
