"""axe-core on every page, logged out and in (a shopper and an admin), on a desktop and a
phone, in English and in Spanish: no serious or critical violation. On the phone every
page also keeps its header to one row and nothing wider than the screen.

The admin visits the back office's pages its navigation lists and the deeper ones: the
product form (new, and a long-titled product with an image), a product's delete
confirmation, an order, a user's delete confirmation and the catalogue import page.

Bounded on purpose: one server, one browser, one page per visitor, every page visited in
one loop (about 140 axe runs: about 85 s on two cores; keep it under 150 s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import ADMIN_EMAIL, AdminApi, Contexts, login, register
from tests.browser.test_flows import add_to_cart
from tests.pictures import picture

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "es-AR")
SERIOUS = frozenset({"serious", "critical"})
ONE_ROW = 72  # px: the header's height when nothing wraps


@dataclass
class Visitor:
    name: str
    context: BrowserContext
    paths: list[str]


async def _admin_paths(page: Page, base: str) -> list[str]:
    """The back office's pages, as its navigation lists them (whatever exists today)."""
    await page.goto(base + "/admin")
    hrefs = await page.locator(".admin-nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return sorted(set(hrefs))


async def _layout_problems(page: Page) -> list[str]:
    problems = []
    header = await page.locator(".header-inner").bounding_box()
    if header is None or header["height"] > ONE_ROW:
        problems.append(f"header is {header and header['height']}px high (wrapped)")
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        problems.append(f"{overflow}px wider than the screen")
    return problems


async def test_every_page_has_no_serious_accessibility_violation(
    contexts: Contexts, admin_api: AdminApi
) -> None:
    started = time.perf_counter()
    base = contexts.server.url
    mate = await admin_api.create_product(title="Yerba mate", price=1499.99, stock=120)
    low = await admin_api.create_product(title="Azúcar", category="Almacén", price=3.2, stock=2)
    await admin_api.create_product(title="Dulce de leche", stock=0)
    hidden = await admin_api.create_product(title="Termo", status=False)
    # The product form at its most crowded: a title that wraps, and an image to reorder.
    long = await admin_api.create_product(
        title="Yerba mate compuesta con hierbas serranas y cáscara de naranja", stock=2
    )
    await admin_api.upload_image(long["_id"], picture("PNG", (400, 300), color="red"))

    shopper = await contexts.new()
    me = await register(shopper)
    cid = me["cart"]
    await add_to_cart(shopper, cid, mate["_id"], 1)
    bought = await shopper.request.post(f"/api/carts/{cid}/purchase", data={})
    order = (await bought.json())["payload"]["order"]["_id"]
    await add_to_cart(shopper, cid, mate["_id"], 2)
    await add_to_cart(shopper, cid, low["_id"], 1)

    admin = await contexts.new()
    await login(admin, ADMIN_EMAIL)
    admin_page = await admin.new_page()
    admin_paths = await _admin_paths(admin_page, base)
    await admin_page.close()

    catalogue = [
        "/products",
        "/products?q=yerba",
        "/products?category=Almac%C3%A9n&sort=price_desc&available=true",
        "/products?page=99",
        f"/products/{mate['_id']}",
        f"/products/{hidden['_id']}",
        "/realtimeproducts",
    ]
    visitors = [
        Visitor(
            "anonymous", await contexts.new(), [*catalogue, "/login", "/register", "/nowhere"]
        ),
        Visitor(
            "shopper",
            shopper,
            [
                *catalogue[:5],
                f"/carts/{cid}",
                f"/carts/{cid}/checkout",
                f"/carts/{cid}/clear",
                "/orders",
                f"/orders/{order}",
                "/profile",
            ],
        ),
        Visitor(
            "admin",
            admin,
            [
                "/realtimeproducts",
                f"/products/{mate['_id']}",
                f"/products/{mate['_id']}/delete",
                *admin_paths,
                "/admin/products/new",
                f"/admin/products/{long['_id']}",
                f"/admin/products/{long['_id']}/delete",
                f"/admin/orders/{order}",
                f"/admin/users/{me['_id']}/delete",
                "/admin/products/import",
            ],
        ),
    ]

    axe = Axe()
    violations: list[str] = []
    runs = 0
    for visitor in visitors:
        page = await contexts.new_page(visitor.context)
        for language in LANGUAGES:
            await visitor.context.add_cookies(
                [{"name": "shop_language", "value": language, "url": base}]
            )
            for device, viewport in VIEWPORTS.items():
                await page.set_viewport_size(viewport)
                for path in visitor.paths:
                    where = f"{visitor.name} {language} {device} {path}"
                    await page.goto(base + path)
                    assert await page.locator("html").get_attribute("lang") == language, where
                    if device == "phone" and path == "/products":
                        await page.locator("details.menu summary").click()  # the open menu too
                    results = await axe.run(page)
                    runs += 1
                    for rule in results.response["violations"]:
                        if rule["impact"] in SERIOUS:
                            targets = [node["target"] for node in rule["nodes"]][:3]
                            violations.append(
                                f"{where}: {rule['id']} ({rule['impact']}) {targets}"
                            )
                    if device == "phone":
                        violations += [f"{where}: {p}" for p in await _layout_problems(page)]
        await page.close()
    elapsed = time.perf_counter() - started
    print(f"axe: {runs} runs in {elapsed:.0f}s")
    assert not violations, "\n".join(violations)
