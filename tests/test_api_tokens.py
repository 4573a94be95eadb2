"""Personal API tokens on every store: issued once, kept as a hash, a bearer that decides
alone, revoked one by one, guessed only a few times."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from shop.keys import SETTINGS
from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser, error, success

MakeClient = Callable[..., Awaitable[Client]]
TIMEOUT = 5.0
EVIL = "https://evil.example"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_token(client: Client, name: str = "ci") -> dict[str, Any]:
    return await success(await client.post("/api/tokens", json={"name": name}), 201)


async def whoami(browser: Client, token: str) -> tuple[int, Any]:
    response = await browser.get("/api/sessions/current", headers=bearer(token))
    return response.status, await response.json()


async def stored_token_rows(client: Client) -> list[str]:
    """Every stored token record, as text: what a copy of the database would show."""
    url = client.app[SETTINGS].database_url
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(client.app[SETTINGS].sqlite_path)) as db:
            return [repr(tuple(row)) for row in db.execute("SELECT * FROM tokens")]
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        docs = await mongo.get_default_database()["tokens"].find().to_list()
    finally:
        await mongo.close()
    return [repr(doc) for doc in docs]


# ---- issuing and listing ------------------------------------------------------------------


async def test_new_token_is_shown_once_and_stored_only_as_its_hash(
    client: Client, auth: Auth
) -> None:
    await auth.user()
    created = await new_token(client, "deploy script")
    assert created.keys() == {"_id", "name", "created", "last_used", "token"}
    assert created["name"] == "deploy script"
    assert created["last_used"] is None
    assert created["created"].endswith("Z")
    token = created["token"]
    assert token.startswith("shop_") and len(token) >= 40

    listed = await success(await client.get("/api/tokens"))
    assert listed == [{key: created[key] for key in ("_id", "name", "created", "last_used")}]
    assert token not in str(listed)

    rows = await stored_token_rows(client)
    assert len(rows) == 1
    assert token not in rows[0]
    assert token.removeprefix("shop_") not in rows[0]
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]


async def test_tokens_list_only_their_owners(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    mine = await new_token(client, "mine")
    other = await new_browser()
    await Auth(other).user()
    await new_token(other, "theirs")
    listed = await success(await client.get("/api/tokens"))
    assert [token["_id"] for token in listed] == [mine["_id"]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "is required"),
        ({"name": ""}, "must not be empty"),
        ({"name": "n" * 101}, "must be at most 100 characters"),
        ({"name": "ci\u0000"}, "must not contain control characters"),
        ({"name": "ci\nX-Forged: 1"}, "must not contain control characters"),
        ({"name": 7}, "must be text"),
    ],
)
async def test_token_name_is_checked(
    client: Client, auth: Auth, body: dict[str, Any], message: str
) -> None:
    await auth.user()
    response = await client.post("/api/tokens", json=body)
    await error(response, 400, "name")
    assert (await response.json())["fields"] == {"name": message}
    assert await success(await client.get("/api/tokens")) == []


# ---- the bearer ---------------------------------------------------------------------------


async def test_bearer_token_authenticates_as_its_user_with_their_role(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: Callable[..., Any]
) -> None:
    admin = await auth.admin()
    token = (await new_token(client))["token"]
    script = await new_browser()  # no cookie at all
    status, body = await whoami(script, token)
    assert status == 200
    assert body["payload"]["_id"] == admin["_id"]
    response = await script.post("/api/products", json=product_body(), headers=bearer(token))
    await success(response, 201)


async def test_bearer_decides_when_a_cookie_comes_too(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    owner = await auth.user()
    token = (await new_token(client))["token"]
    browser = await new_browser()
    someone = await Auth(browser).user()  # logged in by cookie as someone else
    status, body = await whoami(browser, token)
    assert status == 200
    assert body["payload"]["_id"] == owner["_id"] != someone["_id"]


async def test_wrong_token_is_401_even_with_a_good_cookie(client: Client, auth: Auth) -> None:
    await auth.user()
    real = (await new_token(client))["token"]
    for credentials in (
        "Bearer shop_" + "A" * 43,
        "Bearer " + real[:-1],
        "Bearer",
        "Bearer " + real + "x",
        "Basic dXNlcjpwYXNz",
        real,
    ):
        response = await client.get(
            "/api/sessions/current", headers={"Authorization": credentials}
        )
        await error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "invalid_token" in response.headers["WWW-Authenticate"]
    # The cookie alone still works.
    await success(await client.get("/api/sessions/current"))


async def test_api_401_names_the_bearer_scheme(client: Client) -> None:
    response = await client.get("/api/sessions/current")
    await error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_bearer_request_needs_no_origin_check(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    token = (await new_token(client))["token"]
    script = await new_browser()
    headers = {**bearer(token), "Origin": EVIL}
    cart = await success(await script.post("/api/carts", headers=headers), 201)
    assert cart["owner"] == user["_id"]
    # The same request riding the cookie is refused.
    response = await client.post("/api/carts", headers={"Origin": EVIL})
    await error(response, 403)


async def test_bearer_request_still_sends_json_bodies_only(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    token = (await new_token(client))["token"]
    script = await new_browser()
    response = await script.post(
        "/api/tokens",
        data='{"name": "x"}',
        headers={**bearer(token), "Content-Type": "text/plain"},
    )
    await error(response, 415)


async def test_bearer_is_ignored_by_the_pages(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    token = (await new_token(client))["token"]
    page = await (await new_browser()).get(
        "/profile", headers=bearer(token), allow_redirects=False
    )
    assert page.status == 303
    assert page.headers["Location"].startswith("/login")


# ---- revoking -----------------------------------------------------------------------------


async def test_revoked_token_is_401_and_the_others_keep_working(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    first, second = await new_token(client, "one"), await new_token(client, "two")
    script = await new_browser()
    await success(await client.delete(f"/api/tokens/{first['_id']}"))
    assert (await whoami(script, first["token"]))[0] == 401
    assert (await whoami(script, second["token"]))[0] == 200
    listed = await success(await client.get("/api/tokens"))
    assert [token["_id"] for token in listed] == [second["_id"]]


async def test_someone_elses_token_cannot_be_revoked(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    victim = await new_browser()
    await Auth(victim).user()
    theirs = await new_token(victim)
    for tid in (theirs["_id"], MISSING_ID):
        await error(await client.delete(f"/api/tokens/{tid}"), 404)
    assert (await whoami(await new_browser(), theirs["token"]))[0] == 200


async def test_malformed_token_id_is_400_naming_it(client: Client, auth: Auth) -> None:
    await auth.user()
    await error(await client.delete("/api/tokens/not-an-id"), 400, "tid")


# ---- guessing -----------------------------------------------------------------------------


async def test_token_guessing_is_throttled_per_address(
    make_client: MakeClient, new_browser: NewBrowser
) -> None:
    client = await make_client(login_max_failures_per_address=3, trust_forwarded=True)
    await Auth(client).user()
    token = (await new_token(client))["token"]
    guesser = {"X-Forwarded-For": "203.0.113.5"}
    for n in range(3):
        guess = {**guesser, **bearer(f"shop_{n:043d}")}
        assert (await client.get("/api/sessions/current", headers=guess)).status == 401
    for credentials in (bearer("shop_" + "z" * 43), bearer(token)):
        response = await client.get("/api/sessions/current", headers={**guesser, **credentials})
        await error(response, 429)
        assert int(response.headers["Retry-After"]) > 0
    # Other addresses are not locked out.
    elsewhere = {**bearer(token), "X-Forwarded-For": "198.51.100.5"}
    await success(await client.get("/api/sessions/current", headers=elsewhere))


# ---- last used ------------------------------------------------------------------------------


async def test_last_use_is_not_written_on_the_requests_path(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.user()
    token = (await new_token(client))["token"]
    script = await new_browser()
    for _ in range(5):
        assert (await whoami(script, token))[0] == 200
    # Recorded in memory and written in the next batch (a minute away by default).
    listed = await success(await client.get("/api/tokens"))
    assert listed[0]["last_used"] is None


async def test_last_use_is_written_in_the_next_batch(make_client: MakeClient) -> None:
    client = await make_client(token_touch_interval=0.05)
    await Auth(client).user()
    created = await new_token(client)
    status, _ = await whoami(client, created["token"])
    assert status == 200

    async def last_used() -> str:
        while True:
            listed = await success(await client.get("/api/tokens"))
            if listed[0]["last_used"] is not None:
                return listed[0]["last_used"]
            await asyncio.sleep(0.02)  # polling the API for the batch, bounded below

    used = await asyncio.wait_for(last_used(), TIMEOUT)
    assert used >= created["created"]


async def test_last_use_is_written_when_the_shop_stops(make_client: MakeClient) -> None:
    first = await make_client()
    user = await Auth(first).user()
    token = (await new_token(first))["token"]
    assert (await whoami(first, token))[0] == 200
    await first.close()  # a clean stop writes what is pending
    second = await make_client()  # another process on the same database
    await Auth(second).login(user["email"])
    listed = await success(await second.get("/api/tokens"))
    assert listed[0]["last_used"] is not None


async def test_token_of_a_deleted_user_is_401(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    token = (await new_token(client))["token"]
    await success(await client.delete(f"/api/users/{user['_id']}"))
    assert (await whoami(await new_browser(), token))[0] == 401


async def test_login_with_a_bearer_still_needs_the_password(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    token = (await new_token(client))["token"]
    script = await new_browser()
    response = await script.post(
        "/api/sessions/login",
        json={"email": user["email"], "password": "not " + PASSWORD},
        headers=bearer(token),
    )
    await error(response, 401)
