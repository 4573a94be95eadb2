"""The deployment the README documents, in a real Chromium: Debian's nginx, run with
deploy/nginx.conf (ports changed), in front of three shop processes on one MongoDB and one
Redis. Whichever process holds the page's websocket, changes made on any process show live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import PASSWORD, Contexts, Server, register
from tests.browser.test_flows import card, goto, wait_live
from tests.conftest import product_fields
from tests.deployment import Cluster, Nginx

pytestmark = pytest.mark.browser


@pytest.fixture
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Nginx]:
    directory = tmp_path_factory.mktemp("deploy")
    cluster = Cluster(directory, PASSWORD)
    nginx = Nginx(directory / "nginx", [])
    try:
        await asyncio.to_thread(cluster.start)
        nginx.upstreams = [shop.port for shop in cluster.shops]
        await asyncio.to_thread(nginx.start)
        yield nginx
    finally:
        await asyncio.to_thread(nginx.stop)
        await asyncio.to_thread(cluster.stop)
        logs = sorted(directory.glob("shop-*.log"))
        print(
            "\n".join(f"---- {log.name} ----\n{log.read_text(errors='replace')}" for log in logs)
        )


@pytest.fixture
async def contexts_behind_nginx(browser: Browser, deployment: Nginx) -> AsyncIterator[Contexts]:
    opened = Contexts(browser, Server(deployment.url, deployment.directory / "error.log"))
    try:
        yield opened
    finally:
        await opened.close()
    assert not opened.problems, "\n".join(opened.problems)


async def test_pages_behind_nginx_show_changes_made_on_every_process(
    contexts_behind_nginx: Contexts, deployment: Nginx
) -> None:
    context = await contexts_behind_nginx.new()
    await register(context)
    page = await contexts_behind_nginx.new_page(context)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as admin:
        login = {"email": Cluster.ADMIN, "password": PASSWORD}
        processes = [f"http://127.0.0.1:{port}" for port in deployment.upstreams]
        async with admin.post(f"{processes[0]}/api/sessions/login", json=login) as response:
            assert response.status == 200, await response.text()
        body = product_fields(thumbnails=[], price=10)
        async with admin.post(f"{processes[0]}/api/products", json=body) as response:
            assert response.status == 201, await response.text()
            pid = (await response.json())["payload"]["_id"]

        await goto(page, "/products")
        await wait_live(page)
        price = card(page, pid).locator(".product-price")
        # The page's socket is on one of the three; two of these changes cross over Redis.
        for cents, process in zip((1100, 1200, 1300), processes, strict=True):
            change = {"price": cents / 100}
            async with admin.put(f"{process}/api/products/{pid}", json=change) as response:
                assert response.status == 200, await response.text()
            await expect(price).to_contain_text(f"{cents / 100:.2f}")

    # Writes through nginx pass the same-origin checks (Host reaches the shop unchanged).
    await card(page, pid).locator(".add-to-cart").click()
    await expect(page.locator("#cart-badge .cart-count")).to_have_text("1")
