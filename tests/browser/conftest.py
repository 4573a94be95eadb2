"""Fixtures for the browser flows: the real server in a subprocess and Debian's Chromium.

Each test gets its own server over a fresh SQLite database (the stores are proven
equivalent by the API suite), with `admin@shop.test` made by `shop create-admin`.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar, FormData
from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    Page,
    async_playwright,
    expect,
)

from tests.conftest import product_fields

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
ADMIN_EMAIL = "admin@shop.test"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0

TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(autouse=True)
def _chromium_present() -> None:
    if CHROMIUM.exists():
        return
    reason = f"browser tests need Debian's Chromium at {CHROMIUM}"
    if os.environ.get("SHOP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (SHOP_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Server:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def server_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the test's server (and of commands run on its data before it)."""
    data_dir = tmp_path / "data"
    return {
        **os.environ,
        "SHOP_DATA_DIR": str(data_dir),
        "SHOP_DATABASE_URL": f"sqlite:///{data_dir / 'shop.db'}",
        "SHOP_SECRET_KEY": "browser-test-secret-key-0123456789-abcdefghij",
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """`python -m shop serve` on a free port, over a fresh SQLite file, with an admin."""
    env = server_env(tmp_path)
    Path(env["SHOP_DATA_DIR"]).mkdir(exist_ok=True)  # a test may have filled it first
    subprocess.run(
        [sys.executable, "-m", "shop", "create-admin", "--email", ADMIN_EMAIL, "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shop", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        # Polling a process we just started: there is no event to await across processes.
        while not _healthy(port):
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /healthz:\n{log.read_text()}")
            time.sleep(0.05)
        yield Server(f"http://127.0.0.1:{port}", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Shown by pytest only when the test failed.
        print(f"---- server log ({log}) ----\n{log.read_text(errors='replace')}")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


class Contexts:
    """Opens browser contexts (separate cookie jars: separate people) on the server.

    Every page it opens records JavaScript errors and dialogs in `problems`; a dialog is
    dismissed so the page goes on, and the test fails at teardown if any were recorded.
    """

    def __init__(self, browser: Browser, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.problems: list[str] = []
        self._opened: list[BrowserContext] = []

    async def new(self) -> BrowserContext:
        context = await self.browser.new_context(base_url=self.server.url, viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        self._opened.append(context)
        return context

    async def new_page(self, context: BrowserContext | None = None) -> Page:
        page = await (context or await self.new()).new_page()

        async def on_dialog(dialog: Dialog) -> None:
            self.problems.append(f"{page.url}: {dialog.type} dialog {dialog.message!r}")
            await dialog.dismiss()

        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: {error}"))
        page.on("dialog", on_dialog)
        return page

    async def close(self) -> None:
        for context in self._opened:
            await context.close()


@pytest.fixture
async def contexts(browser: Browser, server: Server) -> AsyncIterator[Contexts]:
    opened = Contexts(browser, server)
    try:
        yield opened
    finally:
        await opened.close()
    assert not opened.problems, "\n".join(opened.problems)


async def register(context: BrowserContext, **fields: Any) -> dict[str, Any]:
    """Register through the API and log in, in this context's cookie jar."""
    body = {
        "first_name": "Ana",
        "last_name": "García",
        "email": f"{uuid.uuid4().hex[:10]}@example.com",
        "age": 30,
        "password": PASSWORD,
        **fields,
    }
    response = await context.request.post("/api/users", data=body)
    assert response.status == 201, await response.text()
    return await login(context, body["email"])


async def login(context: BrowserContext, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await context.request.post(
        "/api/sessions/login", data={"email": email, "password": password}
    )
    assert response.status == 200, await response.text()
    return (await response.json())["payload"]


class AdminApi:
    """The admin's JSON API, for seeding and changing products outside the browser."""

    def __init__(self, session: ClientSession, origin: str) -> None:
        self.session = session
        self.origin = origin

    async def create_product(self, **fields: Any) -> dict[str, Any]:
        # No thumbnails unless asked: the cards show the shop's placeholder image.
        body = product_fields(**{"thumbnails": [], **fields})
        async with self.session.post("/api/products", json=body) as response:
            assert response.status == 201, await response.text()
            return (await response.json())["payload"]

    async def update_product(self, pid: str, **changes: Any) -> dict[str, Any]:
        async with self.session.put(f"/api/products/{pid}", json=changes) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["payload"]

    async def delete_product(self, pid: str) -> None:
        async with self.session.delete(f"/api/products/{pid}") as response:
            assert response.status == 200, await response.text()

    async def upload_image(self, pid: str, data: bytes) -> str:
        """Upload an image to the product; its page-size URL."""
        form = FormData()
        form.add_field("image", data, filename="picture", content_type="image/png")
        async with self.session.post(
            f"/api/products/{pid}/images", data=form, headers={"Origin": self.origin}
        ) as response:
            assert response.status == 201, await response.text()
            return response.headers["Location"]


@pytest.fixture
async def admin_api(server: Server) -> AsyncIterator[AdminApi]:
    # unsafe=True: aiohttp's jar otherwise ignores cookies set by an IP-address host.
    async with ClientSession(base_url=server.url, cookie_jar=CookieJar(unsafe=True)) as session:
        async with session.post(
            "/api/sessions/login", json={"email": ADMIN_EMAIL, "password": PASSWORD}
        ) as response:
            assert response.status == 200, await response.text()
        yield AdminApi(session, server.url)
