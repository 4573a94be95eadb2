"""The /api/users contract, on every store: registration, the admin's list, deletion and
password changes."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientResponse
from yarl import URL

from tests.conftest import PASSWORD, Auth, Client, registration
from tests.envelopes import LISTING_KEYS, MISSING_ID, NewBrowser, error, success

NEW_PASSWORD = "a brand new passphrase"
PUBLIC_USER_KEYS = {"_id", "first_name", "last_name", "email", "age", "role", "cart"}


async def login_status(client: Client, email: str, password: str = PASSWORD) -> int:
    response = await client.post(
        "/api/sessions/login", json={"email": email, "password": password}
    )
    return response.status


# ---- registration ----------------------------------------------------------------------------


async def test_register_creates_a_user_with_role_user(client: Client) -> None:
    body = registration()
    user = await success(await client.post("/api/users", json=body), 201)
    assert set(user) == PUBLIC_USER_KEYS
    assert user["role"] == "user"
    assert {key: user[key] for key in ("first_name", "last_name", "email", "age")} == {
        key: body[key] for key in ("first_name", "last_name", "email", "age")
    }


async def test_register_response_holds_no_password_or_hash(client: Client) -> None:
    response = await client.post("/api/users", json=registration())
    assert response.status == 201
    raw = await response.text()
    assert "password" not in raw
    assert "$argon2" not in raw
    assert PASSWORD not in raw


async def test_register_does_not_log_in(client: Client) -> None:
    await success(await client.post("/api/users", json=registration()), 201)
    await error(await client.get("/api/sessions/current"), 401)


async def test_registered_user_can_log_in(client: Client) -> None:
    body = registration()
    await success(await client.post("/api/users", json=body), 201)
    assert await login_status(client, body["email"]) == 200


async def test_register_stores_the_email_in_lower_case(client: Client) -> None:
    user = await success(
        await client.post("/api/users", json=registration(email="Ana.Garcia@Example.COM")), 201
    )
    assert user["email"] == "ana.garcia@example.com"
    assert await login_status(client, "ana.garcia@example.com") == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "admin"), ("_id", MISSING_ID), ("cart", MISSING_ID), ("is_admin", True)],
)
async def test_register_with_a_field_it_does_not_own_is_400_and_creates_nobody(
    client: Client, field: str, value: Any
) -> None:
    body = registration(**{field: value})
    await error(await client.post("/api/users", json=body), 400, field)
    assert await login_status(client, body["email"]) == 401


async def test_register_with_a_taken_email_is_409(client: Client) -> None:
    body = registration()
    await success(await client.post("/api/users", json=body), 201)
    await error(
        await client.post("/api/users", json=registration(email=body["email"])), 409, "email"
    )


async def test_register_with_a_taken_email_in_another_case_is_409(client: Client) -> None:
    body = registration(email="maria@example.com")
    await success(await client.post("/api/users", json=body), 201)
    other = registration(email="MARIA@Example.com", password="another passphrase")
    await error(await client.post("/api/users", json=other), 409, "email")
    assert await login_status(client, "maria@example.com") == 200


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": {"$gt": ""}}, "email"),
        ({"email": 12}, "email"),
        ({"age": "30"}, "age"),
        ({"age": 30.5}, "age"),
        ({"age": -1}, "age"),
        ({"age": 12}, "age"),
        ({"age": 131}, "age"),
        ({"age": True}, "age"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 257}, "password"),
        ({"password": 12345678}, "password"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "$where"}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
    ],
)
async def test_register_with_an_invalid_field_is_400_naming_it(
    client: Client, fields: dict[str, Any], name: str
) -> None:
    await error(await client.post("/api/users", json=registration(**fields)), 400, name)


@pytest.mark.parametrize("name", ["first_name", "last_name", "email", "age", "password"])
async def test_register_without_a_required_field_is_400_naming_it(
    client: Client, name: str
) -> None:
    body = registration()
    del body[name]
    await error(await client.post("/api/users", json=body), 400, name)


async def test_register_with_a_256_character_password_is_accepted(client: Client) -> None:
    body = registration(password="p" * 256)
    await success(await client.post("/api/users", json=body), 201)
    assert await login_status(client, body["email"], "p" * 256) == 200


async def test_register_with_a_form_body_is_415(client: Client) -> None:
    await error(await client.post("/api/users", data=registration(age="30")), 415)


# ---- the admin's list ----------------------------------------------------------------------


async def test_list_users_anonymous_is_401(client: Client) -> None:
    await error(await client.get("/api/users"), 401)


async def test_list_users_as_user_is_403(client: Client, auth: Auth) -> None:
    await auth.user()
    await error(await client.get("/api/users"), 403)


async def test_list_users_as_admin_has_the_listing_envelope(client: Client, auth: Auth) -> None:
    admin = await auth.admin()
    response = await client.get("/api/users")
    assert response.status == 200
    body = await response.json()
    assert set(body) == LISTING_KEYS
    assert body["status"] == "success"
    assert body["payload"] == [admin]
    assert body["totalPages"] == 1
    assert body["nextLink"] is None


async def test_list_users_pages_in_creation_order(client: Client, auth: Auth) -> None:
    admin = await auth.admin()
    users = [await auth.register() for _ in range(2)]
    response = await client.get("/api/users?limit=2&page=2")
    body = await response.json()
    assert body["payload"] == [users[1]]
    assert body["totalPages"] == 2
    assert body["hasPrevPage"] is True
    assert URL(body["prevLink"]) == URL("/api/users?limit=2&page=1")
    first = await (await client.get(body["prevLink"])).json()
    assert first["payload"] == [admin, users[0]]


async def test_list_users_holds_no_password_hash(client: Client, auth: Auth) -> None:
    await auth.admin()
    await auth.register()
    response = await client.get("/api/users")
    raw = await response.text()
    assert "password" not in raw
    assert "$argon2" not in raw
    assert all(set(user) == PUBLIC_USER_KEYS for user in (await response.json())["payload"])


@pytest.mark.parametrize(
    ("query", "name"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("page=0", "page"), ("sort=asc", "sort")],
)
async def test_list_users_with_a_bad_parameter_is_400_naming_it(
    client: Client, auth: Auth, query: str, name: str
) -> None:
    await auth.admin()
    await error(await client.get(f"/api/users?{query}"), 400, name)


# ---- deletion --------------------------------------------------------------------------------


async def test_user_deletes_their_own_account(client: Client, auth: Auth) -> None:
    user = await auth.user()
    assert await success(await client.delete(f"/api/users/{user['_id']}")) == {"_id": user["_id"]}
    assert await login_status(client, user["email"]) == 401


async def test_deleting_your_account_ends_your_session(client: Client, auth: Auth) -> None:
    user = await auth.user()
    await success(await client.delete(f"/api/users/{user['_id']}"))
    await error(await client.get("/api/sessions/current"), 401)


async def test_deleting_your_account_deletes_your_cart(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    await success(await client.delete(f"/api/users/{user['_id']}"))
    admin = Auth(await new_browser())
    await admin.admin()
    await error(await admin.client.get(f"/api/carts/{user['cart']}"), 404)


async def test_deleting_another_users_account_is_403(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    victim = await auth.register()
    intruder = Auth(await new_browser())
    await intruder.user()
    await error(await intruder.client.delete(f"/api/users/{victim['_id']}"), 403)
    assert await login_status(client, victim["email"]) == 200


async def test_admin_deletes_another_user(client: Client, auth: Auth) -> None:
    victim = await auth.register()
    await auth.admin()
    response = await client.delete(f"/api/users/{victim['_id']}")
    assert await success(response) == {"_id": victim["_id"]}
    assert await login_status(client, victim["email"]) == 401


async def test_admin_deleting_a_user_ends_that_users_sessions(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    victim = Auth(await new_browser())
    user = await victim.user()
    await auth.admin()
    await success(await client.delete(f"/api/users/{user['_id']}"))
    await error(await victim.client.get("/api/sessions/current"), 401)


async def test_admin_deleting_an_unknown_user_is_404(client: Client, auth: Auth) -> None:
    await auth.admin()
    await error(await client.delete(f"/api/users/{MISSING_ID}"), 404, MISSING_ID)


async def test_deleting_a_malformed_user_id_is_400(client: Client, auth: Auth) -> None:
    await auth.admin()
    await error(await client.delete("/api/users/not-an-id"), 400, "uid")


async def test_deleting_a_user_anonymous_is_401(client: Client, auth: Auth) -> None:
    victim = await auth.register()
    await error(await client.delete(f"/api/users/{victim['_id']}"), 401)
    assert await login_status(client, victim["email"]) == 200


# ---- password change -----------------------------------------------------------------------


async def change_password(client: Client, current: str, new: str) -> ClientResponse:
    return await client.put(
        "/api/users/me/password", json={"current_password": current, "new_password": new}
    )


async def test_password_change_with_a_wrong_current_password_is_403(
    client: Client, auth: Auth
) -> None:
    user = await auth.user()
    response = await change_password(client, "not my password", NEW_PASSWORD)
    await error(response, 403, "current_password")
    assert await login_status(client, user["email"]) == 200


async def test_password_change_to_a_short_password_is_400(client: Client, auth: Auth) -> None:
    user = await auth.user()
    await error(await change_password(client, PASSWORD, "short"), 400, "new_password")
    assert await login_status(client, user["email"]) == 200


async def test_password_change_with_an_unknown_field_is_400(client: Client, auth: Auth) -> None:
    await auth.user()
    response = await client.put(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"},
    )
    await error(response, 400, "role")


async def test_password_change_anonymous_is_401(client: Client) -> None:
    await error(await change_password(client, PASSWORD, NEW_PASSWORD), 401)


async def test_password_change_replaces_the_old_password(client: Client, auth: Auth) -> None:
    user = await auth.user()
    assert await success(await change_password(client, PASSWORD, NEW_PASSWORD)) == {
        "changed": True
    }
    assert await login_status(client, user["email"], PASSWORD) == 401
    assert await login_status(client, user["email"], NEW_PASSWORD) == 200


async def test_password_change_keeps_this_session(client: Client, auth: Auth) -> None:
    user = await auth.user()
    await success(await change_password(client, PASSWORD, NEW_PASSWORD))
    assert (await success(await client.get("/api/sessions/current")))["_id"] == user["_id"]


async def test_password_change_ends_the_other_sessions(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    other = Auth(await new_browser())
    await other.login(user["email"])
    await success(await change_password(client, PASSWORD, NEW_PASSWORD))
    await error(await other.client.get("/api/sessions/current"), 401)
