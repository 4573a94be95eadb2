"""The /api/sessions contract, on every store: log in, who am I, log out."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse

from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import NewBrowser, error, success

PUBLIC_USER_KEYS = {"_id", "first_name", "last_name", "email", "age", "role", "cart"}


async def login(client: Client, email: Any, password: Any = PASSWORD) -> ClientResponse:
    return await client.post("/api/sessions/login", json={"email": email, "password": password})


async def test_login_returns_the_user(client: Client, auth: Auth) -> None:
    user = await auth.register()
    assert await success(await login(client, user["email"])) == user


async def test_login_response_holds_no_password_or_hash(client: Client, auth: Auth) -> None:
    user = await auth.register()
    raw = await (await login(client, user["email"])).text()
    assert "password" not in raw
    assert "$argon2" not in raw


async def test_login_ignores_the_case_of_the_email(client: Client, auth: Auth) -> None:
    user = await auth.register(email="ines@example.com")
    assert (await success(await login(client, "Ines@EXAMPLE.com")))["_id"] == user["_id"]


async def test_login_with_a_wrong_password_is_401(client: Client, auth: Auth) -> None:
    user = await auth.register()
    await error(await login(client, user["email"], "wrong password!"), 401)
    await error(await client.get("/api/sessions/current"), 401)


async def test_login_answers_an_unknown_email_like_a_wrong_password(
    client: Client, auth: Auth
) -> None:
    user = await auth.register()
    wrong = await error(await login(client, user["email"], "wrong password!"), 401)
    unknown = await error(await login(client, "nobody@example.com"), 401)
    assert wrong == unknown


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"email": {"$gt": ""}, "password": PASSWORD}, "email"),
        ({"email": "a@b.co", "password": {"$ne": None}}, "password"),
        ({"email": "a@b.co"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@b.co", "password": PASSWORD, "role": "admin"}, "role"),
    ],
)
async def test_login_with_an_invalid_body_is_400_naming_the_field(
    client: Client, body: dict[str, Any], name: str
) -> None:
    await error(await client.post("/api/sessions/login", json=body), 400, name)


async def test_current_returns_only_the_public_fields(client: Client, auth: Auth) -> None:
    user = await auth.user()
    current = await success(await client.get("/api/sessions/current"))
    assert set(current) == PUBLIC_USER_KEYS
    assert current == user


async def test_current_anonymous_is_401(client: Client) -> None:
    await error(await client.get("/api/sessions/current"), 401)


async def test_current_of_an_admin_says_admin(client: Client, auth: Auth) -> None:
    await auth.admin()
    assert (await success(await client.get("/api/sessions/current")))["role"] == "admin"


async def test_logout_then_current_is_401(client: Client, auth: Auth) -> None:
    await auth.user()
    assert await success(await client.post("/api/sessions/logout")) == {"logged_out": True}
    await error(await client.get("/api/sessions/current"), 401)


async def test_logout_without_a_session_succeeds(client: Client) -> None:
    await success(await client.post("/api/sessions/logout"))


async def test_logout_leaves_other_devices_logged_in(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    other = Auth(await new_browser())
    await other.login(user["email"])
    await auth.logout()
    assert (await success(await other.client.get("/api/sessions/current")))["_id"] == user["_id"]


async def test_logout_all_ends_every_device(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    other = Auth(await new_browser())
    await other.login(user["email"])
    await success(await client.post("/api/sessions/logout-all"))
    await error(await client.get("/api/sessions/current"), 401)
    await error(await other.client.get("/api/sessions/current"), 401)


async def test_two_users_on_two_browsers_stay_apart(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    first = await auth.user()
    other = Auth(await new_browser())
    second = await other.user()
    assert (await success(await client.get("/api/sessions/current")))["_id"] == first["_id"]
    assert (await success(await other.client.get("/api/sessions/current")))["_id"] == second["_id"]
