"""Identity and sessions (SECURITY.md): how passwords are kept, how login answers and is
throttled, and how the session cookie is issued, rotated, scoped and revoked.

Every attack goes through HTTP against the real app, once per store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from http.cookies import Morsel, SimpleCookie
from typing import Any

from aiohttp import ClientResponse

from shop.keys import STORE
from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import NewBrowser

COOKIE = "shop_session"
HTTPS_COOKIE = "__Host-shop"
NEW_PASSWORD = "a different long passphrase"
MAX_COOKIE_LIFETIME = 30 * 24 * 3600


def set_cookie(response: ClientResponse, name: str = COOKIE) -> Morsel[str]:
    """The session cookie a response sets, parsed from its raw Set-Cookie header."""
    for header in response.headers.getall("Set-Cookie", []):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name]
    raise AssertionError(f"no {name} cookie in {response.headers.getall('Set-Cookie', [])}")


async def login(
    client: Client,
    email: str,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> ClientResponse:
    body = {"email": email, "password": password}
    return await client.post("/api/sessions/login", json=body, headers=headers)


async def logged_in_cookie(client: Client, email: str, password: str = PASSWORD) -> str:
    response = await login(client, email, password)
    assert response.status == 200, await response.text()
    return set_cookie(response).value


async def browser_with_cookie(new_browser: NewBrowser, value: str, name: str = COOKIE) -> Client:
    """Another device holding a copy of (or a forgery of) a session cookie."""
    other = await new_browser()
    other.session.cookie_jar.update_cookies({name: value})
    return other


async def whoami(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/api/sessions/current")
    assert response.content_type == "application/json"
    return response.status, await response.json()


def assert_logged_out(status: int, body: dict[str, Any]) -> None:
    assert status == 401
    assert body == {"status": "error", "error": body["error"]}
    assert isinstance(body["error"], str)


# ---- stored passwords ---------------------------------------------------------------


async def test_password_is_stored_only_as_an_argon2id_hash(client: Client, auth: Auth) -> None:
    user = await auth.register()
    stored = await client.app[STORE].users.get_by_email(user["email"])
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


async def test_changed_password_is_stored_only_as_an_argon2id_hash(
    client: Client, auth: Auth
) -> None:
    user = await auth.user()
    response = await client.put(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status == 200, await response.text()
    stored = await client.app[STORE].users.get_by_email(user["email"])
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored.password_hash


async def test_no_response_reveals_the_password_hash(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    other = await new_browser()
    bodies: list[str] = []

    async def record(response: ClientResponse) -> dict[str, Any]:
        assert response.status < 400, await response.text()
        bodies.append(await response.text())
        return await response.json()

    email = f"{uuid.uuid4().hex[:10]}@example.com"
    user = (
        await record(
            await other.post(
                "/api/users",
                json={
                    "first_name": "Eve",
                    "last_name": "Doe",
                    "email": email,
                    "age": 40,
                    "password": PASSWORD,
                },
            )
        )
    )["payload"]
    await record(await login(other, email))
    await record(await other.get("/api/sessions/current"))
    await record(await client.get("/api/users", params={"limit": "100"}))
    await record(
        await other.put(
            "/api/users/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
    )
    stored = await client.app[STORE].users.get_by_email(email)
    assert stored is not None
    await record(await client.get("/api/users", params={"limit": "100"}))
    await record(await client.delete(f"/api/users/{user['_id']}"))

    for body in bodies:
        assert "$argon2" not in body
        assert stored.password_hash not in body
        assert "password_hash" not in body
        assert PASSWORD not in body
        assert NEW_PASSWORD not in body


# ---- login answers ------------------------------------------------------------------


async def test_login_answers_alike_for_unknown_email_and_wrong_password(
    client: Client, auth: Auth
) -> None:
    user = await auth.register()
    unknown = await login(client, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    wrong = await login(client, user["email"], "not the password at all")
    assert unknown.status == wrong.status == 401
    assert await unknown.json() == await wrong.json()
    assert unknown.content_type == wrong.content_type == "application/json"
    assert COOKIE not in unknown.cookies
    assert COOKIE not in wrong.cookies


# ---- throttling ---------------------------------------------------------------------


def assert_throttled(response: ClientResponse, body: dict[str, Any]) -> None:
    assert response.status == 429
    assert body["status"] == "error"
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit(), retry_after
    assert int(retry_after) > 0
    assert COOKIE not in response.cookies


async def test_failures_lock_that_account_from_that_address_even_for_the_right_password(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(login_max_failures=3)
    user = await Auth(client).register()
    for _ in range(3):
        assert (await login(client, user["email"], "guessing wrong")).status == 401
    response = await login(client, user["email"])
    assert_throttled(response, await response.json())
    assert (await client.get("/api/sessions/current")).status == 401


async def test_failures_from_one_address_leave_the_account_open_to_other_addresses(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    # The defect: behind one proxy address, a guesser locked the real owner out too.
    client = await make_client(trust_forwarded=True)
    user = await Auth(client).register()
    attacker = {"X-Forwarded-For": "203.0.113.66"}
    for _ in range(5):
        assert (await login(client, user["email"], "guessing wrong", attacker)).status == 401
    assert (await login(client, user["email"], PASSWORD, attacker)).status == 429
    owner = await login(client, user["email"], PASSWORD, {"X-Forwarded-For": "198.51.100.7"})
    assert owner.status == 200, await owner.text()


async def test_failures_on_one_account_leave_other_accounts_open_from_that_address(
    client: Client, auth: Auth
) -> None:
    # The defect: after 5 failures from one address, every account there got 429.
    victim = await auth.register()
    neighbour = await auth.register()
    for _ in range(5):
        assert (await login(client, victim["email"], "guessing wrong")).status == 401
    assert (await login(client, victim["email"])).status == 429
    response = await login(client, neighbour["email"])
    assert response.status == 200, await response.text()


async def test_account_ceiling_holds_when_the_guesses_come_from_many_addresses(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(login_max_failures_per_account=3, trust_forwarded=True)
    user = await Auth(client).register()
    for n in range(2):
        address = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        assert (await login(client, user["email"], "guessing wrong", address)).status == 401
    # Under the ceiling, the right password from an address that has not failed works.
    fresh = await login(client, user["email"], PASSWORD, {"X-Forwarded-For": "198.51.100.1"})
    assert fresh.status == 200
    address = {"X-Forwarded-For": "203.0.113.3"}
    assert (await login(client, user["email"], "guessing wrong", address)).status == 401
    response = await login(client, user["email"], PASSWORD, {"X-Forwarded-For": "198.51.100.2"})
    assert_throttled(response, await response.json())


async def test_address_ceiling_holds_when_the_guesses_spread_over_many_accounts(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(login_max_failures_per_address=3)
    user = await Auth(client).register()
    for _ in range(3):
        other = f"victim-{uuid.uuid4().hex[:8]}@example.com"
        assert (await login(client, other, "guessing wrong")).status == 401
    response = await login(client, user["email"])
    assert_throttled(response, await response.json())


async def test_right_password_forgives_that_addresss_earlier_failures(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(login_max_failures=3)
    user = await Auth(client).register()
    for _ in range(2):
        assert (await login(client, user["email"], "typo in it")).status == 401
    assert (await login(client, user["email"])).status == 200
    for _ in range(2):
        assert (await login(client, user["email"], "another typo")).status == 401
    assert (await login(client, user["email"])).status == 200


async def test_password_changes_draw_on_the_same_counts_as_logins(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(login_max_failures=3, trust_forwarded=True)
    auth = Auth(client)
    user = await auth.user()
    wrong = {"current_password": "not my password", "new_password": NEW_PASSWORD}
    for _ in range(2):
        response = await client.put("/api/users/me/password", json=wrong)
        assert response.status == 403
    assert (await login(client, user["email"], "guessing wrong")).status == 401
    # Three failures from this address: the right password is refused here, both ways.
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = await client.put("/api/users/me/password", json=right)
    assert_throttled(response, await response.json())
    assert (await login(client, user["email"])).status == 429
    elsewhere = {"X-Forwarded-For": "198.51.100.9"}
    assert (await login(client, user["email"], PASSWORD, elsewhere)).status == 200


async def test_failure_counts_are_shared_by_every_process_of_the_shop(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    # Two app instances over one database, as two processes behind a load balancer.
    first = await make_client(login_max_failures=4)
    second = await make_client(login_max_failures=4)
    user = await Auth(first).register()
    for client in (first, second, first, second):
        assert (await login(client, user["email"], "guessing wrong")).status == 401
    for client in (first, second):
        response = await login(client, user["email"])
        assert_throttled(response, await response.json())


# ---- fixation -----------------------------------------------------------------------


async def test_cookie_from_before_login_is_replaced_at_login(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    # The login page starts an anonymous session (it holds the form's CSRF token).
    before = set_cookie(await client.get("/login")).value

    after = set_cookie(await login(client, user["email"])).value
    assert after not in ("", before)
    assert (await whoami(client))[0] == 200
    assert_logged_out(*await whoami(await browser_with_cookie(new_browser, before)))


async def test_attackers_planted_cookie_is_replaced_at_login(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    attacker = await new_browser()
    attacker_auth = Auth(attacker)
    planted = await logged_in_cookie(attacker, (await attacker_auth.register())["email"])
    victim = await auth.register()
    client.session.cookie_jar.update_cookies({COOKIE: planted})

    issued = set_cookie(await login(client, victim["email"])).value
    assert issued != planted

    status, body = await whoami(client)
    assert status == 200
    assert body["payload"]["email"] == victim["email"]
    # The attacker's copy of the cookie they planted does not ride the victim's login.
    status, body = await whoami(attacker)
    assert victim["email"] not in str(body)
    assert status in (200, 401)


async def test_forged_cookie_is_ignored_and_replaced_at_login(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    forged = "forged-session-value"
    client.session.cookie_jar.update_cookies({COOKIE: forged})
    assert_logged_out(*await whoami(client))
    user = await auth.register()

    issued = set_cookie(await login(client, user["email"])).value
    assert issued != forged
    assert (await whoami(client))[0] == 200
    assert_logged_out(*await whoami(await browser_with_cookie(new_browser, forged)))


async def test_login_issues_a_new_cookie_even_over_a_live_session(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    first = await logged_in_cookie(client, user["email"])
    second = await logged_in_cookie(client, user["email"])
    assert second != first
    assert (await whoami(client))[0] == 200
    # The session the second login replaced is over, copies included.
    assert_logged_out(*await whoami(await browser_with_cookie(new_browser, first)))


# ---- revocation ---------------------------------------------------------------------


async def test_logout_clears_the_cookie_and_ends_every_copy(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    cookie = await logged_in_cookie(client, user["email"])
    copy = await browser_with_cookie(new_browser, cookie)
    assert (await whoami(copy))[0] == 200

    response = await client.post("/api/sessions/logout")
    assert response.status == 200
    cleared = set_cookie(response)
    assert cleared.value == ""
    assert cleared["max-age"] == "0" or cleared["expires"]

    assert_logged_out(*await whoami(client))
    assert_logged_out(*await whoami(copy))


async def test_logout_all_ends_the_session_on_every_device(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    cookie = await logged_in_cookie(client, user["email"])
    copy = await browser_with_cookie(new_browser, cookie)
    phone = await new_browser()
    await Auth(phone).login(user["email"])
    assert (await whoami(phone))[0] == 200

    response = await client.post("/api/sessions/logout-all")
    assert response.status == 200

    for device in (client, copy, phone):
        assert_logged_out(*await whoami(device))


async def test_password_change_ends_the_other_devices_sessions(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    old_cookie = await logged_in_cookie(client, user["email"])
    copy = await browser_with_cookie(new_browser, old_cookie)
    phone = await new_browser()
    await Auth(phone).login(user["email"])

    response = await client.put(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status == 200, await response.text()
    assert set_cookie(response).value not in ("", old_cookie)

    assert (await whoami(client))[0] == 200
    assert_logged_out(*await whoami(copy))
    assert_logged_out(*await whoami(phone))
    assert (await login(phone, user["email"], PASSWORD)).status == 401
    assert (await login(phone, user["email"], NEW_PASSWORD)).status == 200


async def test_deleting_your_account_ends_every_copy_of_the_cookie(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    cookie = await logged_in_cookie(client, user["email"])
    copy = await browser_with_cookie(new_browser, cookie)

    response = await client.delete(f"/api/users/{user['_id']}")
    assert response.status == 200, await response.text()

    assert_logged_out(*await whoami(client))
    assert_logged_out(*await whoami(copy))
    assert (await login(copy, user["email"])).status == 401


async def test_admin_deleting_a_user_ends_that_users_sessions(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    browser = await new_browser()
    user = await Auth(browser).user()
    assert (await whoami(browser))[0] == 200

    response = await client.delete(f"/api/users/{user['_id']}")
    assert response.status == 200, await response.text()

    assert_logged_out(*await whoami(browser))


# ---- cookie attributes ----------------------------------------------------------------


async def test_session_cookie_is_httponly_lax_site_wide_and_short_lived(
    client: Client, auth: Auth
) -> None:
    user = await auth.register()
    cookie = set_cookie(await login(client, user["email"]))
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert cookie["max-age"].isdigit()
    assert 0 < int(cookie["max-age"]) <= MAX_COOKIE_LIFETIME


async def test_https_cookie_is_secure_host_prefixed_and_hsts_is_sent(
    make_client: Callable[..., Awaitable[Client]],
) -> None:
    client = await make_client(https=True)
    user = await Auth(client).register()
    response = await login(client, user["email"])
    assert response.status == 200, await response.text()

    cookie = set_cookie(response, HTTPS_COOKIE)
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert 0 < int(cookie["max-age"]) <= MAX_COOKIE_LIFETIME
    assert COOKIE not in response.cookies

    for answer in (response, await client.get("/api/products"), await client.get("/nowhere")):
        hsts = answer.headers.get("Strict-Transport-Security", "")
        assert hsts.startswith("max-age="), hsts
        assert int(hsts.split(";")[0].removeprefix("max-age=")) >= 180 * 24 * 3600


async def test_plain_http_shop_sends_no_hsts(client: Client) -> None:
    response = await client.get("/api/products")
    assert "Strict-Transport-Security" not in response.headers


def _tampered(value: str) -> list[str]:
    """Variants that decode to different bytes. (Appending after the base64 padding, or
    adding characters outside the alphabet, decodes to the same token: not a forgery.)"""
    middle = len(value) // 2
    flipped = "A" if value[middle] != "A" else "B"
    return [
        value[:middle] + flipped + value[middle + 1 :],
        value[:-8],
        value[::-1],
        "x" * len(value),
        "é" * len(value),
    ]


async def test_tampered_cookie_is_ignored(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.register()
    cookie = await logged_in_cookie(client, user["email"])
    for value in _tampered(cookie):
        browser = await browser_with_cookie(new_browser, value)
        assert_logged_out(*await whoami(browser))
        response = await browser.get("/api/products")
        assert response.status == 200
        response = await browser.post("/api/carts")
        assert response.status == 401


async def test_undecodable_cookie_bytes_are_ignored(client: Client) -> None:
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            b"GET /api/sessions/current HTTP/1.1\r\n"
            + f"Host: {host}:{port}\r\n".encode()
            + b"Cookie: shop_session=\xff\xfe\x80gAAAA\r\n"
            + b"Connection: close\r\n\r\n"
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    assert status_line.split()[1] == b"401", status_line
