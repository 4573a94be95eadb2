"""/admin/users on every store: accounts paged and searched by name or email (a store
search through an index of their words), made admin or user through the role service
(never the last admin), deleted through a confirmation page."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from shop.keys import USERS
from shop.models.search import query_words
from shop.settings import Settings
from shop.store.sqlite.schema.migrations import INDEX_USER_WORDS, STEPS
from tests.backoffice import BackOffice, location
from tests.conftest import Auth, Client, registration
from tests.envelopes import MISSING_ID, NewBrowser, success

ROW = re.compile(r'<tr class="admin-row" data-account-id="([0-9a-f]{24})"')
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def office(client: Client, auth: Auth) -> BackOffice:
    await auth.admin("owner@shop.test")
    return BackOffice(client)


async def register(office: BackOffice, **fields: Any) -> dict[str, Any]:
    return await Auth(office.client).register(**fields)


async def role_of(office: BackOffice, uid: str) -> str:
    listing = await (await office.client.get("/api/users?limit=100")).json()
    return next(user["role"] for user in listing["payload"] if user["_id"] == uid)


def rows(html: str) -> list[str]:
    return ROW.findall(html)


# ---- the list and its search ----------------------------------------------------------------


async def test_the_list_shows_each_account_its_role_and_its_orders(office: BackOffice) -> None:
    ana = await register(office, first_name="Ana", last_name="Paz", email="ana@example.com")
    html = await office.page("/admin/users")
    assert len(rows(html)) == 2
    assert "Ana Paz" in html and "ana@example.com" in html
    assert '<span class="role-badge" data-role="admin">Admin</span>' in html
    assert '<span class="role-badge" data-role="user">User</span>' in html
    assert f'href="/admin/orders?user={ana["_id"]}"' in html
    assert f'action="/admin/users/{ana["_id"]}/role"' in html
    assert f'href="/admin/users/{ana["_id"]}/delete"' in html
    assert html.count(">you</span>") == 1  # the admin's own row


async def test_the_list_pages_twenty_at_a_time(office: BackOffice) -> None:
    for _ in range(24):
        await register(office)
    first = await office.page("/admin/users")
    assert len(rows(first)) == 20
    assert "25 accounts" in first
    assert 'rel="next" href="/admin/users?page=2"' in first
    assert len(rows(await office.page("/admin/users?page=2"))) == 5


async def test_search_finds_by_name_or_email_word_starts(office: BackOffice) -> None:
    ana = await register(
        office, first_name="Ana María", last_name="Núñez", email="amn@correo.example"
    )
    bob = await register(office, first_name="Bob", last_name="Nunes", email="bob@mail.example")
    for query, found in (
        ("nun", [ana, bob]),
        ("nunez", [ana]),
        ("MARIA", [ana]),
        ("bob@mail", [bob]),
        ("correo", [ana]),
        ("ana bob", []),
    ):
        html = await office.page(f"/admin/users?q={query}")
        assert rows(html) == [user["_id"] for user in found], query
    html = await office.page("/admin/users?q=zz%3Cb%3E")
    assert "No account matches “zz&lt;b&gt;”." in html


async def test_search_pages_its_results_keeping_the_query(office: BackOffice) -> None:
    for n in range(22):
        await register(office, last_name="Quiroga", email=f"q{n}@example.com")
    await register(office, last_name="Other")
    first = await office.page("/admin/users?q=quiroga")
    assert "22 accounts found" in first
    assert 'rel="next" href="/admin/users?q=quiroga&amp;page=2"' in first
    assert len(rows(await office.page("/admin/users?q=quiroga&page=2"))) == 2


@pytest.mark.parametrize("query", ["?q=" + "x" * 201, "?page=0", "?q[$ne]=1", "?limit=5"])
async def test_a_bad_parameter_is_a_400_page(office: BackOffice, query: str) -> None:
    await office.page(f"/admin/users{query}", 400)


async def test_the_store_search_uses_the_normalised_words(client: Client) -> None:
    users = client.app[USERS]
    await Auth(client).register(first_name="Íñigo", last_name="Ruiz", email="ir@example.com")
    page = await users.list(10, 1, query_words("inigo"))
    assert [user.first_name for user in page.items] == ["Íñigo"]
    assert page.total == 1
    assert (await users.list(10, 1, query_words("ruiz example"))).total == 1
    assert (await users.list(10, 1, query_words("ruiz zed"))).total == 0


async def test_accounts_of_an_older_database_are_found_after_start_up(
    settings: Settings, make_client: MakeClient
) -> None:
    first = await make_client()
    await Auth(first).register(first_name="Vieja", email="old@example.com")
    await first.close()
    if settings.is_mongo:  # written before accounts had their search words
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.database_url)
        await mongo.get_default_database()["users"].update_many({}, {"$unset": {"search": ""}})
        await mongo.close()
    else:  # a file from before the user_words table
        with closing(sqlite3.connect(settings.sqlite_path)) as db:
            db.execute("DROP TABLE user_words")
            db.execute(f"PRAGMA user_version = {STEPS.index(INDEX_USER_WORDS)}")
            db.commit()
    users = (await make_client()).app[USERS]
    assert [u.email for u in (await users.list(10, 1, query_words("viej"))).items] == [
        "old@example.com"
    ]


# ---- roles ----------------------------------------------------------------------------------


async def test_make_admin_then_make_user(office: BackOffice) -> None:
    ana = await register(office, first_name="Ana", last_name="Paz", email="ana@example.com")
    path = f"/admin/users/{ana['_id']}/role"
    response = await office.post(path, {"role": "admin", "next": "/admin/users?q=ana"})
    assert location(response) == "/admin/users?q=ana"
    assert await role_of(office, ana["_id"]) == "admin"
    assert "Ana Paz &lt;ana@example.com&gt; is now an admin." in await office.flashes()
    html = await office.page("/admin/users?q=ana")
    assert "Make user" in html
    assert location(await office.post(path, {"role": "user"})) == "/admin/users"
    assert await role_of(office, ana["_id"]) == "user"


async def test_a_role_change_applies_at_once_to_that_user(
    office: BackOffice, new_browser: NewBrowser
) -> None:
    browser = await new_browser()
    ana = await Auth(browser).user()
    await office.post(f"/admin/users/{ana['_id']}/role", {"role": "admin"})
    # Their session ended with the change: they log in again to act as admin.
    assert (await browser.get("/api/sessions/current")).status == 401


async def test_the_last_admin_stays_one_and_is_told_why(office: BackOffice) -> None:
    me = await success(await office.client.get("/api/sessions/current"))
    response = await office.post(f"/admin/users/{me['_id']}/role", {"role": "user"})
    assert location(response) == "/admin/users"
    assert "the shop must keep at least one admin" in await office.flashes()
    assert await role_of(office, me["_id"]) == "admin"


async def test_an_admin_who_makes_themself_a_user_leaves_the_back_office(
    office: BackOffice,
) -> None:
    other = await register(office)
    await office.post(f"/admin/users/{other['_id']}/role", {"role": "admin"})
    me = await success(await office.client.get("/api/sessions/current"))
    response = await office.post(f"/admin/users/{me['_id']}/role", {"role": "user"})
    assert location(response) == "/products"
    assert "You are no longer an admin." in await office.flashes()
    assert (await success(await office.client.get("/api/sessions/current")))["role"] == "user"
    await office.page("/admin/users", 403)


async def test_a_role_that_does_not_exist_is_refused_with_a_flash(office: BackOffice) -> None:
    ana = await register(office)
    response = await office.post(f"/admin/users/{ana['_id']}/role", {"role": "owner"})
    assert location(response) == "/admin/users"
    assert "Choose admin or user." in await office.flashes()
    assert await role_of(office, ana["_id"]) == "user"


async def test_a_role_form_goes_back_only_to_a_back_office_page(office: BackOffice) -> None:
    ana = await register(office)
    for target in ("https://evil.example/", "//evil.example", "/products"):
        response = await office.post(
            f"/admin/users/{ana['_id']}/role", {"role": "admin", "next": target}
        )
        assert location(response) == "/admin/users"


# ---- deleting -------------------------------------------------------------------------------


async def test_deleting_an_account_goes_through_a_confirmation_page(office: BackOffice) -> None:
    ana = await register(office, first_name="Ana", last_name="Paz", email="ana@example.com")
    path = f"/admin/users/{ana['_id']}/delete"
    html = await office.page(path)
    assert "Delete the account of Ana Paz?" in html
    assert f'<form class="confirm-actions" method="post" action="{path}">' in html
    assert "you will be logged out" not in html
    assert ana["_id"] in rows(await office.page("/admin/users"))  # the GET deleted nothing

    assert location(await office.post(path, {})) == "/admin/users"
    assert "The account of Ana Paz &lt;ana@example.com&gt; is deleted." in await office.flashes()
    assert ana["_id"] not in rows(await office.page("/admin/users"))


async def test_the_last_admin_cannot_delete_their_account(office: BackOffice) -> None:
    me = await success(await office.client.get("/api/sessions/current"))
    html = await office.page(f"/admin/users/{me['_id']}/delete")
    assert "This is your own account: you will be logged out." in html
    response = await office.post(f"/admin/users/{me['_id']}/delete", {})
    assert location(response) == "/admin/users"
    assert "the shop must keep at least one admin" in await office.flashes()
    assert (await office.client.get("/api/sessions/current")).status == 200


async def test_deleting_ones_own_account_logs_out(office: BackOffice) -> None:
    other = await register(office)
    await office.post(f"/admin/users/{other['_id']}/role", {"role": "admin"})
    me = await success(await office.client.get("/api/sessions/current"))
    response = await office.post(f"/admin/users/{me['_id']}/delete", {})
    assert location(response) == "/products"
    assert "Your account is deleted, and you are logged out." in await office.flashes()
    assert (await office.client.get("/api/sessions/current")).status == 401


async def test_deleting_an_account_already_gone_says_so(office: BackOffice) -> None:
    ana = await register(office)
    await office.client.delete(f"/api/users/{ana['_id']}")
    response = await office.post(f"/admin/users/{ana['_id']}/delete", {})
    assert location(response) == "/admin/users"
    assert "deleted meanwhile" in await office.flashes()
    await office.page(f"/admin/users/{MISSING_ID}/delete", 404)


async def test_role_and_delete_forms_need_the_token(office: BackOffice) -> None:
    ana = await register(office, **registration())
    for action, data in (("role", {"role": "admin"}), ("delete", {})):
        response = await office.post(f"/admin/users/{ana['_id']}/{action}", data, token="stale")
        assert response.status == 403
    assert await role_of(office, ana["_id"]) == "user"
