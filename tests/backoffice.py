"""An admin's browser on the back office, for the HTTP tests of its pages and forms."""

from __future__ import annotations

import io
import re
import uuid
from html import unescape
from typing import Any

from aiohttp import ClientResponse, FormData

from tests.conftest import Client, product_fields
from tests.envelopes import success
from tests.pictures import origin
from tests.test_pages import TOKEN, page

SEEN = re.compile(r'name="(seen_\w+)" value="([0-9a-f]+)"')
FIELD_ERROR = re.compile(r'<p class="field-error" id="error-(\w+)">([^<]*)</p>')


def form_fields(**fields: str) -> dict[str, str]:
    """The product form filled in as an admin types it; keyword arguments override fields."""
    return {
        "title": "Yerba mate",
        "code": f"F-{uuid.uuid4().hex[:10]}",
        "price": "12,50",
        "stock": "10",
        "category": "Drinks",
        "status": "true",
        "description": "Half a kilo",
        **fields,
    }


def field_errors(html: str) -> dict[str, str]:
    """Each field's inline error on a form page, as the reader sees it."""
    return {name: unescape(text) for name, text in FIELD_ERROR.findall(html)}


def seen(html: str) -> dict[str, str]:
    """The product form's hidden record of what it showed."""
    return dict(SEEN.findall(html))


def location(response: ClientResponse) -> str:
    assert response.status == 303, response.status
    return response.headers["Location"]


class BackOffice:
    """Reads the back office's pages and posts its forms as the browser does (no redirects
    followed, so each answer can be checked)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def page(self, path: str, status: int = 200) -> str:
        return await page(await self.client.get(path), status)

    async def token(self) -> str:
        match = TOKEN.search(await self.page("/products"))
        assert match is not None
        return match.group(1)

    async def post(
        self, path: str, data: dict[str, str], *, token: str | None = None
    ) -> ClientResponse:
        token = await self.token() if token is None else token
        return await self.client.post(
            path, data={"csrf_token": token, **data}, allow_redirects=False
        )

    async def flashes(self) -> str:
        """The flash messages the next page shows."""
        html = await self.page("/products")
        return html.split('id="flashes"')[1].split("</div>")[0]

    async def product(self, **fields: Any) -> dict[str, Any]:
        """A product made through the API (no thumbnails unless asked)."""
        body = product_fields(**{"thumbnails": [], **fields})
        return await success(await self.client.post("/api/products", json=body), 201)

    async def get_product(self, pid: str) -> dict[str, Any]:
        return await success(await self.client.get(f"/api/products/{pid}"))

    async def open_form(self, pid: str) -> dict[str, str]:
        """The product form's fields as its page shows them now, hidden record included."""
        html = await self.page(f"/admin/products/{pid}")
        shown = await self.get_product(pid)
        values = form_fields(
            title=shown["title"],
            code=shown["code"],
            price=f"{shown['price']:.2f}",
            stock=str(shown["stock"]),
            category=shown["category"],
            status="true" if shown["status"] else "",
            description=shown["description"],
        )
        return {**values, **seen(html)}

    async def save(
        self, pid: str, opened: dict[str, str], *, token: str | None = None, **changes: str
    ) -> ClientResponse:
        """Post a form opened earlier, with these fields changed."""
        return await self.post(f"/admin/products/{pid}", {**opened, **changes}, token=token)

    async def edit(self, pid: str, **changes: str) -> ClientResponse:
        """Save the product form as shown now, with these fields changed."""
        return await self.save(pid, await self.open_form(pid), **changes)

    async def upload(
        self,
        pid: str,
        data: bytes,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        filename: str = "photo.png",
    ) -> ClientResponse:
        """Post the form's upload (multipart, with the CSRF token) as Chromium does."""
        form = FormData()
        form.add_field("csrf_token", await self.token() if token is None else token)
        # A stream rather than bytes: aiohttp refuses bytes bodies this large in a form.
        form.add_field("image", io.BytesIO(data), filename=filename, content_type="image/png")
        return await self.client.post(
            f"/admin/products/{pid}/images",
            data=form,
            headers=origin(self.client) if headers is None else headers,
            allow_redirects=False,
        )
