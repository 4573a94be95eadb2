"""/apidocs in Chromium: Swagger UI loads from the shop's own files, renders every operation
of the document, and breaks no rule of the Content-Security-Policy."""

from __future__ import annotations

from playwright.async_api import ConsoleMessage, Page, expect

from tests.browser.conftest import Contexts, Server

# Recorded by the page itself: a CSP violation is an event in the document.
LISTEN_FOR_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


async def operation_count(page: Page) -> int:
    response = await page.request.get("/api/openapi.json")
    doc = await response.json()
    return sum(len(item) for item in doc["paths"].values())


async def test_apidocs_renders_every_operation_without_a_csp_violation(
    contexts: Contexts, server: Server
) -> None:
    page = await contexts.new_page()
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(message.text)

    page.on("console", record)
    await page.add_init_script(LISTEN_FOR_VIOLATIONS)
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: request.url.startswith(server.url) or foreign.append(request.url),
    )
    response = await page.goto("/apidocs")
    assert response is not None and response.status == 200
    blocks = page.locator(".opblock")
    await expect(blocks).to_have_count(await operation_count(page))
    await expect(page.locator(".info .title")).to_contain_text("shop API")
    await expect(page.locator("#operations-products-list_products")).to_be_visible()
    assert await page.evaluate("window.__violations") == []
    assert not [text for text in console if "Content Security Policy" in text], console
    assert foreign == []
