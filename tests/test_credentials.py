"""Each operation that ends credentials, on every store: which sessions and API tokens
survive it. A user holds two browser sessions and two tokens; one operation runs; every
credential is then tried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import NewBrowser, success

NEW_PASSWORD = "a brand new passphrase"


@dataclass
class Holder:
    """A user with sessions on two browsers, two tokens, and a script without cookies."""

    user: dict[str, Any]
    laptop: Client
    phone: Client
    tokens: list[str]
    token_ids: list[str]
    script: Client
    admin: Client


@pytest.fixture
async def holder(client: Client, auth: Auth, new_browser: NewBrowser) -> Holder:
    user = await auth.user()
    phone = await new_browser()
    await Auth(phone).login(user["email"])
    tokens, ids = [], []
    for name in ("ci", "backup"):
        created = await success(await client.post("/api/tokens", json={"name": name}), 201)
        tokens.append(created["token"])
        ids.append(created["_id"])
    admin = await new_browser()
    await Auth(admin).admin()
    return Holder(user, client, phone, tokens, ids, await new_browser(), admin)


async def alive(holder: Holder) -> dict[str, bool]:
    """Which credentials still authenticate as the user."""
    result = {}
    for name, browser in (("laptop", holder.laptop), ("phone", holder.phone)):
        result[name] = (await browser.get("/api/sessions/current")).status == 200
    for n, token in enumerate(holder.tokens):
        response = await holder.script.get(
            "/api/sessions/current", headers={"Authorization": f"Bearer {token}"}
        )
        result[f"token{n}"] = response.status == 200
    return result


def bearer(holder: Holder, n: int = 0) -> dict[str, str]:
    return {"Authorization": f"Bearer {holder.tokens[n]}"}


Operation = Callable[[Holder], Awaitable[Any]]


async def logout_all(h: Holder) -> None:
    await success(await h.laptop.post("/api/sessions/logout-all"))


async def logout_all_by_token(h: Holder) -> None:
    await success(await h.script.post("/api/sessions/logout-all", headers=bearer(h)))


async def change_password(h: Holder) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    await success(await h.laptop.put("/api/users/me/password", json=body))


async def change_password_by_token(h: Holder) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await h.script.put("/api/users/me/password", json=body, headers=bearer(h))
    await success(response)
    assert "Set-Cookie" not in response.headers  # a script gets no session


async def delete_self(h: Holder) -> None:
    await success(await h.laptop.delete(f"/api/users/{h.user['_id']}"))


async def delete_self_by_token(h: Holder) -> None:
    await success(await h.script.delete(f"/api/users/{h.user['_id']}", headers=bearer(h)))


async def revoke_token(h: Holder) -> None:
    await success(await h.laptop.delete(f"/api/tokens/{h.token_ids[0]}"))


async def change_role(h: Holder) -> None:
    path = f"/api/users/{h.user['_id']}/role"
    await success(await h.admin.put(path, json={"role": "admin"}))


async def logout(h: Holder) -> None:
    await success(await h.laptop.post("/api/sessions/logout"))


ALL_ENDED = {"laptop": False, "phone": False, "token0": False, "token1": False}
CASES: list[tuple[Operation, dict[str, bool]]] = [
    (logout_all, ALL_ENDED),
    (logout_all_by_token, ALL_ENDED),
    # The browser that changed the password goes on, on a new session.
    (change_password, {**ALL_ENDED, "laptop": True}),
    (change_password_by_token, ALL_ENDED),
    (delete_self, ALL_ENDED),
    (delete_self_by_token, ALL_ENDED),
    (revoke_token, {"laptop": True, "phone": True, "token0": False, "token1": True}),
    (change_role, ALL_ENDED),
    # Logging out ends one session, and no token.
    (logout, {"laptop": False, "phone": True, "token0": True, "token1": True}),
]


@pytest.mark.parametrize(
    ("operation", "expected"), CASES, ids=[operation.__name__ for operation, _ in CASES]
)
async def test_operation_ends_exactly_the_credentials_it_should(
    holder: Holder, operation: Operation, expected: dict[str, bool]
) -> None:
    assert await alive(holder) == dict.fromkeys(ALL_ENDED, True)
    await operation(holder)
    assert await alive(holder) == expected
