"""The back office's doors: admins only; anonymous visitors log in and come back, other
users get the 403 page."""

from __future__ import annotations

import pytest

from tests.conftest import Auth, Client
from tests.test_pages import page

SECTIONS = ["/admin"]


@pytest.mark.parametrize("path", SECTIONS)
async def test_anonymous_visitor_is_sent_to_log_in_and_back(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("path", SECTIONS)
async def test_a_user_who_is_not_an_admin_gets_the_403_page(
    client: Client, auth: Auth, path: str
) -> None:
    await auth.user()
    html = await page(await client.get(path), 403)
    assert "admin only" in html


async def test_admin_sees_the_back_office_with_its_sections(client: Client, auth: Auth) -> None:
    await auth.admin()
    html = await page(await client.get("/admin"))
    assert '<a href="/admin" aria-current="page">' in html
    for section in ("/admin/products", "/admin/orders", "/admin/users"):
        assert f'href="{section}"' in html


async def test_only_admins_get_the_back_office_link_in_the_header(
    client: Client, auth: Auth
) -> None:
    assert 'href="/admin"' not in await page(await client.get("/products"))
    await auth.user()
    assert 'href="/admin"' not in await page(await client.get("/products"))
    await auth.admin()
    assert 'href="/admin"' in await page(await client.get("/products"))
