"""PUT /api/users/:uid/role on every store: admins change roles, the change applies at once,
and the shop always keeps an admin, even when admins demote each other at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shop.keys import STORE
from shop.models.users import Role
from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser, error, success


def role_path(user: dict[str, Any]) -> str:
    return f"/api/users/{user['_id']}/role"


async def stored_role(client: Client, uid: str) -> Role | None:
    user = await client.app[STORE].users.get(uid)
    return user.role if user else None


async def test_admin_promotes_a_user_who_then_acts_as_admin(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    browser = await new_browser()
    user = await Auth(browser).user()
    changed = await success(await client.put(role_path(user), json={"role": "admin"}))
    assert changed["role"] == "admin"
    # The old session carried the old role: it is over. A new login has the new one.
    await error(await browser.get("/api/users"), 401)
    await Auth(browser).login(user["email"])
    assert (await browser.get("/api/users")).status == 200


async def test_admin_demotes_another_admin(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    other_browser = await new_browser()
    other = await Auth(other_browser).admin()
    changed = await success(await client.put(role_path(other), json={"role": "user"}))
    assert changed["role"] == "user"
    assert await stored_role(client, other["_id"]) is Role.USER
    await Auth(other_browser).login(other["email"])
    await error(await other_browser.get("/api/users"), 403)


async def test_setting_the_role_a_user_has_changes_nothing(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    browser = await new_browser()
    user = await Auth(browser).user()
    await success(await client.put(role_path(user), json={"role": "user"}))
    await success(await browser.get("/api/sessions/current"))


async def test_the_last_admin_cannot_be_demoted(client: Client, auth: Auth) -> None:
    admin = await auth.admin()
    message = await error(await client.put(role_path(admin), json={"role": "user"}), 409)
    assert "at least one admin" in message
    assert await stored_role(client, admin["_id"]) is Role.ADMIN
    assert (await client.get("/api/users")).status == 200


async def test_the_last_admin_cannot_be_deleted(client: Client, auth: Auth) -> None:
    admin = await auth.admin()
    await error(await client.delete(f"/api/users/{admin['_id']}"), 409)
    assert await stored_role(client, admin["_id"]) is Role.ADMIN


async def test_an_admin_may_go_once_another_remains(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    first = await auth.admin()
    second_browser = await new_browser()
    second = await Auth(second_browser).admin()
    await success(await client.put(role_path(first), json={"role": "user"}))
    await success(await second_browser.delete(f"/api/users/{first['_id']}"))
    await error(await second_browser.delete(f"/api/users/{second['_id']}"), 409)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role": "root"}, "must be one of: user, admin"),
        ({"role": "ADMIN"}, "must be one of: user, admin"),
        ({"role": None}, "must be one of: user, admin"),
        ({}, "is required"),
    ],
)
async def test_unknown_role_is_400_in_plain_words(
    client: Client, auth: Auth, body: dict[str, Any], message: str
) -> None:
    admin = await auth.admin()
    response = await client.put(role_path(admin), json=body)
    await error(response, 400, "role")
    assert (await response.json())["fields"] == {"role": message}


async def test_role_of_an_unknown_user_is_404(client: Client, auth: Auth) -> None:
    await auth.admin()
    await error(await client.put(f"/api/users/{MISSING_ID}/role", json={"role": "user"}), 404)


# ---- at the same moment -------------------------------------------------------------------


async def two_admins(client: Client, new_browser: NewBrowser) -> list[tuple[Client, Any]]:
    admins = []
    for _ in range(2):
        browser = await new_browser()
        admins.append((browser, await Auth(browser).admin()))
    return admins


async def test_two_admins_demoting_each_other_at_once_leave_exactly_one(
    client: Client, new_browser: NewBrowser
) -> None:
    (a, admin_a), (b, admin_b) = await two_admins(client, new_browser)
    answers = await asyncio.gather(
        a.put(role_path(admin_b), json={"role": "user"}),
        b.put(role_path(admin_a), json={"role": "user"}),
    )
    statuses = sorted(answer.status for answer in answers)
    # One wins; the other is refused as the last admin (409), or finds its own session
    # already ended by the winner (401).
    assert statuses in ([200, 401], [200, 409]), statuses
    roles = [await stored_role(client, admin["_id"]) for admin in (admin_a, admin_b)]
    assert sorted(roles) == [Role.ADMIN, Role.USER]


async def test_two_admins_deleting_each_other_at_once_leave_exactly_one(
    client: Client, new_browser: NewBrowser
) -> None:
    (a, admin_a), (b, admin_b) = await two_admins(client, new_browser)
    answers = await asyncio.gather(
        a.delete(f"/api/users/{admin_b['_id']}"),
        b.delete(f"/api/users/{admin_a['_id']}"),
    )
    statuses = sorted(answer.status for answer in answers)
    assert statuses in ([200, 401], [200, 409]), statuses
    remaining = [await stored_role(client, admin["_id"]) for admin in (admin_a, admin_b)]
    assert sorted(remaining, key=str) == sorted([Role.ADMIN, None], key=str)


async def test_many_admins_demoting_themselves_at_once_keep_one(
    client: Client, new_browser: NewBrowser
) -> None:
    admins = []
    for _ in range(4):
        browser = await new_browser()
        admins.append((browser, await Auth(browser).admin()))
    answers = await asyncio.gather(
        *(browser.put(role_path(admin), json={"role": "user"}) for browser, admin in admins)
    )
    assert sorted(answer.status for answer in answers) == [200, 200, 200, 409]
    roles = [await stored_role(client, admin["_id"]) for _, admin in admins]
    assert roles.count(Role.ADMIN) == 1
