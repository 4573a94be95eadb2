"""Product images in a real Chromium: the same 4:3 frame whatever a picture's shape, and
uploads shown live on open pages; and the live product list's pages."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import AdminApi, Contexts
from tests.browser.test_flows import admin_page, card, create_on_admin_page, goto, wait_live
from tests.pictures import picture

pytestmark = pytest.mark.browser

WIDE = (1600, 400)
TALL = (300, 1200)


async def box(image: Locator) -> tuple[float, float]:
    """The rendered size of a loaded image (its picture decoded, not broken)."""
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("image => image.naturalWidth") > 0
    found = await image.bounding_box()
    assert found is not None
    return found["width"], found["height"]


def assert_four_by_three(size: tuple[float, float]) -> None:
    width, height = size
    assert width > 0
    assert abs(width / height - 4 / 3) < 0.02, size


async def test_wide_and_tall_pictures_fill_the_same_4_by_3_frames(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    wide = await admin_api.create_product(title="Wide")
    tall = await admin_api.create_product(title="Tall")
    wide_url = await admin_api.upload_image(wide["_id"], picture("PNG", WIDE, color="red"))
    tall_url = await admin_api.upload_image(tall["_id"], picture("PNG", TALL, color="blue"))
    page = await contexts.new_page()
    await goto(page, "/products")

    wide_card = card(page, wide["_id"]).locator("img.product-thumb")
    tall_card = card(page, tall["_id"]).locator("img.product-thumb")
    await expect(wide_card).to_have_attribute("src", wide_url.replace(".webp", ".card.webp"))
    sizes = [await box(wide_card), await box(tall_card)]
    assert_four_by_three(sizes[0])
    assert sizes[0] == sizes[1]

    for product, url in ((wide, wide_url), (tall, tall_url)):
        await goto(page, f"/products/{product['_id']}")
        main = page.locator(".gallery-main")
        await expect(main).to_have_attribute("src", url)
        assert_four_by_three(await box(main))


async def test_an_upload_shows_at_once_on_an_open_product_page_and_card(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    product = await admin_api.create_product(title="Mate cup")
    detail = await contexts.new_page()
    await goto(detail, f"/products/{product['_id']}")
    await wait_live(detail)
    listing = await contexts.new_page()
    await goto(listing, "/products")
    await wait_live(listing)

    first = await admin_api.upload_image(product["_id"], picture("PNG", (400, 300)))
    second = await admin_api.upload_image(product["_id"], picture("PNG", (300, 400), color="red"))

    await expect(detail.locator(".gallery-main")).to_have_attribute("src", first)
    more = detail.locator(".gallery-more")
    await expect(more).to_have_count(1)
    await expect(more).to_have_attribute("href", second)
    await expect(more.locator("img")).to_have_attribute(
        "src", second.replace(".webp", ".card.webp")
    )
    thumb = card(listing, product["_id"]).locator("img.product-thumb")
    await expect(thumb).to_have_attribute("src", first.replace(".webp", ".card.webp"))


async def test_live_products_past_100_are_on_page_2_and_new_ones_appear_there(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    for n in range(101):
        await admin_api.create_product(title=f"Product {n:03}")
    first: Page = await admin_page(contexts, "/realtimeproducts")
    await expect(first.locator("#product-grid [data-product-id]")).to_have_count(100)
    await first.locator('a[rel="next"]').click()
    await wait_live(first)
    await expect(first.locator("#product-grid [data-product-id]")).to_have_count(1)
    await expect(first.locator("#product-grid")).to_contain_text("Product 100")

    title = f"Empanada {uuid.uuid4().hex[:6]}"
    await create_on_admin_page(first, title)

    await expect(first.locator("#product-grid [data-product-id]")).to_have_count(2)
    await expect(first.locator("#product-grid")).to_contain_text(title)
