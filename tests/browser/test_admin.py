"""The back office in a real Chromium: every admin flow (create a product with an image,
edit it, reorder and remove its images, delete it, change a role), with and without
JavaScript; the products table kept current live. Every back-office page's accessibility
and phone layout: tests/browser/test_accessibility.py."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.conftest import ADMIN_EMAIL, AdminApi, Contexts, login, register
from tests.browser.test_flows import goto, wait_live
from tests.pictures import picture

pytestmark = pytest.mark.browser

EDIT_PAGE = re.compile(r"/admin/products/[0-9a-f]{24}(#images)?$")
RED, GREEN, BLUE = (picture("PNG", (400, 300), color=c) for c in ("red", "green", "blue"))


async def admin_context(contexts: Contexts, **options: object) -> BrowserContext:
    """A browser context logged in as the shop's admin."""
    context = (
        await contexts.browser.new_context(base_url=contexts.server.url, **options)
        if options
        else await contexts.new()
    )
    await login(context, ADMIN_EMAIL)
    return context


async def fill_product(page: Page, **fields: str) -> None:
    for name, value in fields.items():
        await page.locator(f'form.product-form [name="{name}"]').fill(value)


async def upload(page: Page, name: str, data: bytes) -> None:
    await page.locator('input[name="image"]').set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": data}
    )
    await page.get_by_role("button", name="Upload").click()
    await page.wait_for_url(EDIT_PAGE)


def pid_of(page: Page) -> str:
    match = re.search(r"/admin/products/([0-9a-f]{24})", page.url)
    assert match is not None, page.url
    return match.group(1)


async def thumbnails(context: BrowserContext, pid: str) -> list[str]:
    response = await context.request.get(f"/api/products/{pid}")
    return (await response.json())["payload"]["thumbnails"]


async def image_sources(page: Page) -> list[str]:
    return await page.locator(".image-item img").evaluate_all(
        "images => images.map(image => image.getAttribute('src'))"
    )


def still_life(ground: str, thing: str) -> bytes:
    """A product photo stand-in for screenshots: a round thing on a table, in PNG."""
    image = Image.new("RGB", (800, 600), ground)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 420, 800, 600), fill="#d9cbb3")
    draw.ellipse((250, 150, 550, 470), fill=thing)
    draw.ellipse((300, 170, 500, 230), fill="#f4f1ea")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def card_size(urls: list[str]) -> list[str]:
    return [url.replace(".webp", ".card.webp") for url in urls]


# ---- the product flows, with JavaScript --------------------------------------------------------


async def test_a_product_is_created_with_an_image_edited_and_deleted(contexts: Contexts) -> None:
    context = await admin_context(contexts)
    page = await contexts.new_page(context)
    await goto(page, "/admin/products")
    await page.get_by_role("link", name="New product").click()
    fields = {
        "title": "Yerba mate suave",
        "code": "YER 500",
        "price": "0",
        "stock": "40",
        "category": "Yerba",
        "description": "Medio kilo.\nSin palo.",
    }
    await fill_product(page, **fields)
    await page.get_by_role("button", name="Create the product").click()
    # Mistakes show next to their fields, with what was typed kept.
    await expect(page.locator("#error-price")).to_have_text("must be greater than 0")
    await expect(page.locator("#error-code")).to_be_visible()
    await expect(page.locator('[name="code"]')).to_have_attribute("aria-invalid", "true")
    await expect(page.locator('[name="description"]')).to_have_value(fields["description"])
    await fill_product(page, code="YER-500", price="12,50")
    await page.get_by_role("button", name="Create the product").click()
    await page.wait_for_url(EDIT_PAGE)
    await expect(page.locator(".flash-success")).to_contain_text("Yerba mate suave is created")
    pid = pid_of(page)

    await upload(page, "mate.png", RED)
    await expect(page.locator(".flash-success")).to_contain_text("The image is added.")
    [url] = await thumbnails(context, pid)
    assert await image_sources(page) == card_size([url])
    shop = await contexts.new_page()  # the shop's card shows it
    await goto(shop, "/products")
    await expect(shop.locator(f'[data-product-id="{pid}"] img.product-thumb')).to_have_attribute(
        "src", card_size([url])[0]
    )

    await fill_product(page, title="Yerba mate barbacuá", stock="35")
    await page.get_by_role("button", name="Save").click()
    await page.wait_for_url(EDIT_PAGE)
    await expect(page.locator(".flash-success")).to_contain_text("Yerba mate barbacuá is saved.")
    await expect(page.locator('[name="stock"]')).to_have_value("35")
    await expect(page.locator('[name="price"]')).to_have_value("12.50")
    product = (await (await context.request.get(f"/api/products/{pid}")).json())["payload"]
    assert (product["title"], product["stock"], product["price"]) == (
        "Yerba mate barbacuá",
        35,
        12.5,
    )
    assert product["description"] == "Medio kilo.\nSin palo."

    delete = page.locator(".page-head").get_by_role("link", name="Delete")
    await delete.click()
    await expect(page.get_by_role("heading", name="Delete “Yerba mate barbacuá”?")).to_be_visible()
    await page.get_by_role("link", name="Keep it").click()
    await page.wait_for_url(EDIT_PAGE)
    await delete.click()
    await page.get_by_role("button", name="Delete the product").click()
    await page.wait_for_url(re.compile(r"/admin/products$"))
    await expect(page.locator(".flash-success")).to_contain_text("Yerba mate barbacuá is deleted.")
    assert (await context.request.get(f"/api/products/{pid}")).status == 404
    assert (await context.request.get(url)).status == 404


async def test_images_are_reordered_and_removed_and_a_huge_one_refused(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    product = await admin_api.create_product(title="Termo")
    pid = product["_id"]
    red, green, blue = [await admin_api.upload_image(pid, data) for data in (RED, GREEN, BLUE)]
    context = await admin_context(contexts)
    page = await contexts.new_page(context)
    await goto(page, f"/admin/products/{pid}")
    assert await image_sources(page) == card_size([red, green, blue])

    await page.locator(".image-item").nth(2).get_by_role("button", name="Earlier").click()
    await page.wait_for_url(EDIT_PAGE)
    await expect(page.locator(".flash-success")).to_contain_text("new order")
    assert await image_sources(page) == card_size([red, blue, green])
    await page.locator(".image-item").nth(0).get_by_role("button", name="Later").click()
    await page.wait_for_url(EDIT_PAGE)
    assert await image_sources(page) == card_size([blue, red, green])
    first = page.locator(".image-item").first
    await expect(first.get_by_role("button", name="Earlier")).to_be_disabled()

    await page.locator(".image-item").nth(1).get_by_role("button", name="Remove").click()
    await page.wait_for_url(EDIT_PAGE)
    await expect(page.locator(".flash-success")).to_contain_text("The image is removed.")
    assert await thumbnails(context, pid) == [blue, green]
    assert await image_sources(page) == card_size([blue, green])
    assert (await context.request.get(red)).status == 404

    # A file over the limit is refused before it is sent.
    await page.evaluate("window.__kept = true")
    await page.locator('input[name="image"]').set_input_files(
        {"name": "huge.png", "mimeType": "image/png", "buffer": bytes(5 * 1024 * 1024 + 1)}
    )
    await expect(page.locator("#error-image")).to_have_text(
        "larger than 5 MB: choose a smaller file"
    )
    await page.get_by_role("button", name="Upload").click()
    await expect(page.locator('input[name="image"]')).to_be_focused()
    assert await page.evaluate("window.__kept === true")
    assert await thumbnails(context, pid) == [blue, green]


# ---- the product flows, without JavaScript --------------------------------------------------


async def test_every_product_form_works_without_javascript(contexts: Contexts) -> None:
    context = await admin_context(contexts, java_script_enabled=False)
    try:
        page = await context.new_page()
        await goto(page, "/admin/products/new")
        await fill_product(
            page, title="Mate", code="MAT-1", price="25", stock="3", category="Mates"
        )
        await page.get_by_role("button", name="Create the product").click()
        await page.wait_for_url(EDIT_PAGE)
        pid = pid_of(page)
        await upload(page, "one.png", RED)
        await upload(page, "two.png", GREEN)
        first, second = await thumbnails(context, pid)
        await page.locator(".image-item").nth(1).get_by_role("button", name="Earlier").click()
        await page.wait_for_url(EDIT_PAGE)
        assert await thumbnails(context, pid) == [second, first]
        await page.locator(".image-item").nth(0).get_by_role("button", name="Remove").click()
        await page.wait_for_url(EDIT_PAGE)
        assert await thumbnails(context, pid) == [first]
        await page.get_by_role("link", name="Delete").first.click()
        await page.get_by_role("button", name="Delete the product").click()
        await page.wait_for_url(re.compile(r"/admin/products$"))
        await expect(page.locator(".flash-success")).to_contain_text("Mate is deleted.")
    finally:
        await context.close()


# ---- the table, live ---------------------------------------------------------------------------


async def test_the_table_and_the_form_follow_changes_live(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Mate", price=25, stock=10)
    gourd = await admin_api.create_product(title="Calabaza", price=9, stock=4)
    context = await admin_context(contexts)
    form = await contexts.new_page(context)
    await goto(form, f"/admin/products/{gourd['_id']}")
    await wait_live(form)
    page = await contexts.new_page(context)
    await goto(page, "/admin/products")
    await wait_live(page)
    await page.evaluate("window.__kept = true")
    row = page.locator(f'tr[data-product-id="{mate["_id"]}"]')

    await admin_api.update_product(mate["_id"], price=27.5, stock=3, title="Mate imperial")
    await expect(row.locator(".product-price")).to_have_text("$27.50")
    await expect(row.locator(".product-title")).to_have_text("Mate imperial")
    await expect(row.locator(".row-low")).to_be_visible()
    await expect(row.locator(".product-stock")).to_have_text("3")
    await admin_api.update_product(mate["_id"], stock=0)
    await expect(row.locator(".row-availability")).to_have_text("Sold out")
    await expect(row.locator(".row-low")).to_be_hidden()
    await admin_api.update_product(mate["_id"], status=False)
    await expect(row.locator(".row-availability")).to_have_text("Off sale")
    await expect(row).to_have_class(re.compile(r"\bis-unavailable\b"))

    await expect(form.locator("#product-changed")).to_be_hidden()
    await admin_api.update_product(gourd["_id"], stock=1)
    await expect(form.locator("#product-changed")).to_be_visible()
    await admin_api.session.delete(f"/api/products/{gourd['_id']}")
    await expect(form.locator("#product-gone")).to_be_visible()
    gone = page.locator(f'tr[data-product-id="{gourd["_id"]}"]')
    await expect(gone.locator(".row-availability")).to_have_text("Deleted")
    await expect(gone).to_have_class(re.compile(r"\bis-deleted\b"))

    await expect(page.locator("#products-added")).to_be_hidden()
    await admin_api.create_product(title="Termo")
    await expect(page.locator("#products-added")).to_be_visible()
    assert await page.evaluate("window.__kept === true")  # all without a reload


# ---- users ------------------------------------------------------------------------------------


async def test_change_a_role_and_keep_the_last_admin(contexts: Contexts) -> None:
    other = await contexts.new()
    user = await register(other, first_name="Valentina", last_name="Sosa")
    page = await contexts.new_page(await admin_context(contexts))
    await goto(page, "/admin/users")
    await page.get_by_label("Name or email").fill("valen")
    await page.locator("#main").get_by_role("button", name="Search").click()
    row = page.locator(f'tr[data-account-id="{user["_id"]}"]')
    await expect(page.locator("tr[data-account-id]")).to_have_count(1)

    await row.get_by_role("button", name="Make admin").click()
    await expect(page.locator(".flash-success")).to_contain_text("Valentina Sosa")
    assert "q=valen" in page.url  # back to the same search
    await expect(row.locator(".role-badge")).to_have_text("Admin")
    await row.get_by_role("button", name="Make user").click()
    await expect(row.locator(".role-badge")).to_have_text("User")
    await expect(row.get_by_role("link", name="Orders")).to_have_attribute(
        "href", f"/admin/orders?user={user['_id']}"
    )

    await goto(page, "/admin/users?q=admin")
    me = page.locator("tr[data-account-id]", has_text="you")
    await me.get_by_role("button", name="Make user").click()
    await expect(page.locator(".flash-error")).to_contain_text("at least one admin")
    await expect(me.locator(".role-badge")).to_have_text("Admin")


# ---- the screenshot ---------------------------------------------------------------------------


async def test_the_product_form_renders_for_screenshots(
    contexts: Contexts, admin_api: AdminApi, tmp_path: Path
) -> None:
    """Saves admin-product.png (and, for review, the other admin pages at both widths) to
    SHOP_SCREENSHOT_DIR (or a temporary dir)."""
    out = Path(os.environ.get("SHOP_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    product = await admin_api.create_product(
        title="Yerba mate Playadito 1 kg",
        code="YER-PLA-1000",
        description="Yerba mate con palo, de Colonia Liebig, Corrientes.\nSabor suave.",
        category="Yerba",
        price=8.9,
        stock=4,
    )
    for ground, thing in (("#e8efe2", "#2f6b3b"), ("#f6ecd0", "#c9a227"), ("#efe4dc", "#8a5a3b")):
        await admin_api.upload_image(product["_id"], still_life(ground, thing))
    page = await contexts.new_page(await admin_context(contexts))
    await goto(page, f"/admin/products/{product['_id']}")
    await wait_live(page)
    await page.screenshot(path=out / "admin-product.png", full_page=True)
    if os.environ.get("SHOP_SCREENSHOT_ALL"):
        await admin_api.create_product(title="Termo Stanley", status=False, stock=0)
        await admin_api.create_product(title="Bombilla", stock=0)
        pages = {
            "products": "/admin/products",
            "users": "/admin/users",
            "product": f"/admin/products/{product['_id']}",
            "new": "/admin/products/new",
            "delete": f"/admin/products/{product['_id']}/delete",
        }
        for name, path in pages.items():
            for width in (1280, 390):
                await page.set_viewport_size({"width": width, "height": 844})
                await goto(page, path)
                await page.screenshot(path=out / f"admin-{name}-{width}.png", full_page=True)
