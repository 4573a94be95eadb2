"""The back office's second part in a real Chromium: orders arriving and moving live, the
dashboard's chart and its table, a catalogue file exported and imported back, and the
dashboard's screenshot over a demo shop."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel import Locale
from playwright.async_api import BrowserContext, Page, expect

from shop.i18n.formats import moment
from tests.browser.conftest import (
    ADMIN_EMAIL,
    PASSWORD,
    ROOT,
    AdminApi,
    Contexts,
    login,
    register,
    server_env,
)
from tests.browser.test_flows import add_to_cart, assert_not_reloaded, goto, mark_loaded, wait_live

pytestmark = pytest.mark.browser


async def admin_page(contexts: Contexts, width: int = 1280) -> Page:
    context = await contexts.new()
    await login(context, ADMIN_EMAIL, PASSWORD)
    page = await contexts.new_page(context)
    await page.set_viewport_size({"width": width, "height": 900})
    return page


async def buy(context: BrowserContext, cid: str, pid: str, quantity: int = 1) -> dict[str, Any]:
    await add_to_cart(context, cid, pid, quantity)
    response = await context.request.post(f"/api/carts/{cid}/purchase")
    assert response.status == 201, await response.text()
    return (await response.json())["payload"]["order"]


# ---- orders -------------------------------------------------------------------------------


async def test_new_orders_appear_live_and_their_buttons_move_them(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Mate imperial", price=54.9, stock=10)
    shopper = await contexts.new()
    cid = (await register(shopper, email="ana@example.com"))["cart"]
    first = await buy(shopper, cid, mate["_id"])

    page = await admin_page(contexts)
    await goto(page, "/admin/orders")
    await wait_live(page)
    await mark_loaded(page)
    rows = page.locator("#admin-order-rows tr")
    await expect(rows).to_have_count(1)
    await expect(page.locator("#orders-count")).to_have_text("1 order")

    second = await buy(shopper, cid, mate["_id"], 2)
    row = page.locator(f'[data-order-id="{second["_id"]}"]')
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_have_attribute("data-order-id", second["_id"])
    await expect(row.locator(".order-code")).to_have_text(second["code"])
    await expect(row.locator(".buyer-link")).to_have_text("ana@example.com")
    # The script writes the date as the server's rows have it (Babel's pattern, read in JS).
    placed = datetime.fromisoformat(second["purchase_datetime"])
    await expect(row.locator(".order-date")).to_have_text(moment(placed, Locale.parse("en")))
    await expect(row.locator(".order-amount")).to_have_text("$109.80")
    await expect(row.locator(".order-status")).to_have_text("Placed")
    await expect(row.locator(".order-action button")).to_have_text(["Mark paid", "Cancel"])
    await expect(page.locator("#orders-count")).to_have_text("2 orders")
    await assert_not_reloaded(page)

    # Paid elsewhere: the row follows, with the buttons of its new status.
    await admin_api.session.put(f"/api/orders/{first['_id']}", json={"status": "paid"})
    older = page.locator(f'[data-order-id="{first["_id"]}"]')
    await expect(older.locator(".order-status")).to_have_text("Paid")
    await expect(older.locator(".order-action button")).to_have_text(["Mark shipped", "Cancel"])
    await assert_not_reloaded(page)

    # A button is a plain form: it moves the order and comes back to this list.
    await row.get_by_role("button", name="Mark paid").click()
    await expect(page.locator(".flash-success")).to_contain_text(f"Order {second['code']}: Paid.")
    await expect(page).to_have_url(f"{contexts.server.url}/admin/orders")
    await expect(row.locator(".order-status")).to_have_text("Paid")


async def test_an_orders_page_shows_its_lines_and_follows_it_live(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Mate de calabaza", price=24.9, stock=10)
    yerba = await admin_api.create_product(title="Yerba suave", price=9.9, stock=10)
    shopper = await contexts.new()
    cid = (await register(shopper))["cart"]
    await add_to_cart(shopper, cid, mate["_id"], 1)
    order = await buy(shopper, cid, yerba["_id"], 3)

    page = await admin_page(contexts)
    await goto(page, f"/admin/orders/{order['_id']}")
    await wait_live(page)
    await mark_loaded(page)
    await expect(page.locator(".ticket-lines tbody tr")).to_have_count(2)
    await expect(page.locator("#order-total")).to_have_text("$54.60")
    panel = page.locator("#admin-order")
    for status, label, buttons in (
        ("paid", "Paid", ["Mark shipped", "Cancel"]),
        ("shipped", "Shipped", ["Mark delivered"]),
        ("delivered", "Delivered", []),
    ):
        await admin_api.session.put(f"/api/orders/{order['_id']}", json={"status": status})
        await expect(panel.locator(".order-status")).to_have_text(label)
        await expect(panel.locator(".order-action button")).to_have_text(buttons)
    await expect(page.locator("#no-actions")).to_be_visible()
    await assert_not_reloaded(page)


async def test_the_order_buttons_work_without_javascript(
    browser: Any, contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Termo", price=39.9, stock=10)
    shopper = await contexts.new()
    order = await buy(shopper, (await register(shopper))["cart"], mate["_id"])
    context = await browser.new_context(base_url=contexts.server.url, java_script_enabled=False)
    try:
        await login(context, ADMIN_EMAIL, PASSWORD)
        page = await context.new_page()
        await goto(page, f"/admin/orders/{order['_id']}")
        await page.get_by_role("button", name="Cancel").click()
        await expect(page.locator(".order-status")).to_have_text("Cancelled")
        await expect(page.locator(".order-action")).to_have_count(0)
    finally:
        await context.close()
    product = await admin_api.update_product(mate["_id"], title="Termo")
    assert product["stock"] == 10


# ---- the dashboard ----------------------------------------------------------------------


async def test_the_dashboard_draws_the_days_sales_with_a_table_alternative(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    mate = await admin_api.create_product(title="Mate", price=20, stock=10, code="MATE-1")
    await admin_api.create_product(title="Casi agotado", stock=2, code="LOW-1")
    shopper = await contexts.new()
    cid = (await register(shopper))["cart"]
    order = await buy(shopper, cid, mate["_id"], 2)

    page = await admin_page(contexts)
    await goto(page, "/admin")
    chart = page.get_by_role("img", name="Revenue per day over the last 30 days")
    await expect(chart).to_be_visible()
    await expect(chart.locator("rect.chart-bar")).to_have_count(30)
    today = order["purchase_datetime"][:10]
    bar = chart.locator(f'rect[data-day="{today}"]')
    assert float(await bar.get_attribute("height") or 0) > 100
    await expect(page.locator("#revenue-summary")).to_contain_text("$40.00 from 1 order that was")

    table = page.locator("#revenue-table")
    await expect(table).to_be_hidden()
    await page.get_by_text("Show the figures as a table").click()
    await expect(table).to_be_visible()
    await expect(table.locator(f'tr[data-day="{today}"] td')).to_have_text(["1", "$40.00"])
    await expect(page.locator("#low-stock")).to_contain_text("Casi agotado")
    await expect(page.locator("#best-sellers li")).to_have_count(1)


async def test_on_a_phone_the_chart_opens_on_its_latest_days(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    page = await admin_page(contexts, width=390)
    await goto(page, "/admin")
    scroller = page.locator(".chart-scroll")
    width = await scroller.evaluate("element => element.clientWidth")
    assert await scroller.evaluate("element => element.scrollWidth") > width
    # Today's bar (the last) is in view without scrolling; the first days are not.
    last = page.locator("rect.chart-bar").last
    first = page.locator("rect.chart-bar").first
    box = await scroller.bounding_box()
    last_box, first_box = await last.bounding_box(), await first.bounding_box()
    assert box is not None and last_box is not None and first_box is not None
    assert box["x"] <= last_box["x"] <= box["x"] + box["width"]
    assert first_box["x"] < box["x"]


# ---- the catalogue file -------------------------------------------------------------------


async def test_a_catalogue_file_goes_out_and_comes_back_through_the_pages(
    contexts: Contexts, admin_api: AdminApi, tmp_path: Path
) -> None:
    await admin_api.create_product(title="Alfajor de maicena", code="ALF-1", price=6.9)
    await admin_api.create_product(title='=HYPERLINK("x")', code="ODD-1", price=1)
    page = await admin_page(contexts)
    await goto(page, "/admin/products/import")
    async with page.expect_download() as waiting:
        await page.locator("#export-link").click()
    download = await waiting.value
    exported = tmp_path / "export.csv"
    await download.save_as(exported)
    text = exported.read_text(encoding="utf-8-sig")
    codes = [row["code"] for row in csv.DictReader(io.StringIO(text))]
    assert codes == ["ALF-1", "ODD-1"]
    assert "'=HYPERLINK" in text

    await page.locator("#import-file").set_input_files(exported)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.locator(".flash-success")).to_contain_text(
        "Imported: 0 new, 0 changed, 2 already up to date."
    )

    changed = tmp_path / "changed.csv"
    edited = text.replace("Alfajor de maicena", "Alfajor santafesino")
    changed.write_text(edited + ",Nuevo,,NEW-1,2.00,true,5,Dulces,\r\n", encoding="utf-8")
    await page.locator("#import-file").set_input_files(changed)
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.locator(".flash-success")).to_contain_text(
        "Imported: 1 new, 1 changed, 1 already up to date."
    )
    await goto(page, "/products?limit=10")
    await expect(page.locator(".product-title")).to_have_text(
        ["Alfajor santafesino", '=HYPERLINK("x")', "Nuevo"]
    )


async def test_a_file_with_bad_rows_is_shown_back_and_nothing_is_imported(
    contexts: Contexts, tmp_path: Path
) -> None:
    page = await admin_page(contexts)
    await goto(page, "/admin/products/import")
    bad = tmp_path / "bad.csv"
    bad.write_text("title;code;price;stock;category\nBien;OK-1;1,50;2;C\n;MAL 1;0;x;C\n")
    await page.locator("#import-file").set_input_files(bad)
    await page.get_by_role("button", name="Import", exact=True).click()
    problems = page.locator("#import-problems")
    await expect(problems).to_contain_text("Nothing was imported: 4 problems to fix")
    await expect(problems.locator("tbody tr")).to_have_count(4)
    await expect(problems.locator("tbody tr").first).to_contain_text("3")
    await goto(page, "/products")
    await expect(page.locator("#empty-shop")).to_contain_text("The catalogue is empty")


# ---- the screenshot ------------------------------------------------------------------------


@pytest.fixture
def demo_shop(tmp_path: Path) -> None:
    """The demo shop in the server's data folder, before the server starts."""
    env = server_env(tmp_path)
    Path(env["SHOP_DATA_DIR"]).mkdir()
    subprocess.run(
        [sys.executable, "-m", "shop", "seed-demo"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=180,
    )


async def test_the_dashboard_of_a_demo_shop_renders_for_screenshots(
    demo_shop: None, contexts: Contexts, tmp_path: Path
) -> None:
    """Saves dashboard.png and dashboard-es.png (in Spanish: the chart's days and amounts
    as Babel writes them for es-AR) to SHOP_SCREENSHOT_DIR (or a temporary dir)."""
    out = Path(os.environ.get("SHOP_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    page = await admin_page(contexts)
    for language, name in (("en", "dashboard.png"), ("es-AR", "dashboard-es.png")):
        await page.context.add_cookies(
            [{"name": "shop_language", "value": language, "url": contexts.server.url}]
        )
        await goto(page, "/admin")
        await wait_live(page)
        await expect(page.locator("#best-sellers li")).to_have_count(5)
        await expect(page.locator("#low-stock tbody tr").first).to_be_visible()
        await page.screenshot(path=out / name, full_page=True)
    # Spanish all through: the headings, the chart's day labels and its amounts.
    await expect(page.locator("#revenue-heading")).to_have_text("Facturación por día")
    labels = page.locator(".chart-labels text")
    await expect(labels.last).to_have_text(
        re.compile(r"^\d{1,2} [a-z]{3,4}$")
    )  # "28 nov", "3 sept"
    await expect(page.locator("#stat-revenue")).to_have_text(re.compile(r"^US\$[\d.]+,\d\d$"))
