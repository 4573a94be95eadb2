"""The back office's doors: admins only; anonymous visitors log in and come back, other
users get the 403 page."""

from __future__ import annotations

import pytest
from yarl import URL

from tests.conftest import Auth, Client
from tests.pictures import image_form, origin, picture
from tests.test_pages import csrf_token, page

PID = "0123456789abcdef01234567"  # the doors are checked before any lookup
SECTIONS = [
    "/admin",
    "/admin/products",
    "/admin/products?q=mate&sort=price_asc",
    "/admin/products/new",
    f"/admin/products/{PID}",
    f"/admin/products/{PID}/delete",
    "/admin/users",
    f"/admin/users/{PID}/delete",
]
# Each form post of the back office, and the page an anonymous poster logs in to return to.
FORMS = [
    ("/admin/products/new", "/admin/products/new"),
    (f"/admin/products/{PID}", f"/admin/products/{PID}"),
    (f"/admin/products/{PID}/delete", f"/admin/products/{PID}/delete"),
    (f"/admin/products/{PID}/images/move", f"/admin/products/{PID}"),
    (f"/admin/products/{PID}/images/remove", f"/admin/products/{PID}"),
    (f"/admin/users/{PID}/role", "/admin/users"),
    (f"/admin/users/{PID}/delete", f"/admin/users/{PID}/delete"),
]


@pytest.mark.parametrize("path", SECTIONS)
async def test_anonymous_visitor_is_sent_to_log_in_and_back(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == str(URL("/login").with_query(next=path))


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


@pytest.mark.parametrize(("path", "back"), FORMS)
async def test_an_anonymous_form_post_goes_to_log_in_and_back_to_the_page(
    client: Client, path: str, back: str
) -> None:
    token = await csrf_token(client)
    response = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == str(URL("/login").with_query(next=back))


@pytest.mark.parametrize(("path", "back"), FORMS)
async def test_a_user_form_post_gets_the_403_page(
    client: Client, auth: Auth, path: str, back: str
) -> None:
    await auth.user()
    token = await csrf_token(client)
    response = await client.post(path, data={"csrf_token": token}, allow_redirects=False)
    assert "admin only" in await page(response, 403)


async def test_a_user_cannot_upload_through_the_back_office(client: Client, auth: Auth) -> None:
    await auth.user()
    form = image_form(picture("PNG"))
    form.add_field("csrf_token", await csrf_token(client))
    response = await client.post(
        f"/admin/products/{PID}/images", data=form, headers=origin(client)
    )
    assert "admin only" in await page(response, 403)
