"""Request bodies on every route (shop.bodies): JSON or nothing, unless a route declares
itself an upload route with its own types, size limit and Origin rule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from shop.app import create_app
from shop.bodies import JSON_TYPE, upload
from shop.routes.common import success as answer
from shop.routes.operation import operation_of
from shop.security import current_user, requires
from shop.settings import Settings
from tests.conftest import Auth, Client
from tests.envelopes import error, success

EVIL = "https://evil.example"
UPLOAD_LIMIT = 100_000  # over the app's 64 KiB, to show the route's own limit applies


def api_routes(client: Client) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, the body types it takes) of each API route that may take a body."""
    routes = []
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path") or ""
        if template.startswith("/api/") and route.method not in ("HEAD", "GET"):
            op = operation_of(route.handler)
            upload = op.upload if op is not None else None
            types = upload.media_types if upload is not None else frozenset({JSON_TYPE})
            routes.append((route.method, template, types))
    return routes


IDS = {
    "pid": "0123456789abcdef01234567",
    "cid": "0123456789abcdef01234567",
    "uid": "0123456789abcdef01234567",
    "tid": "0123456789abcdef01234567",
    "oid": "0123456789abcdef01234567",
    "n": "0",
}


async def test_every_api_route_refuses_a_body_that_is_not_json(client: Client) -> None:
    routes = api_routes(client)
    assert ("POST", "/api/carts", {JSON_TYPE}) in routes
    assert ("POST", "/api/sessions/logout", {JSON_TYPE}) in routes
    assert ("POST", "/api/products/import", {"text/csv"}) in routes
    for method, template, types in routes:
        path = template.format(**IDS)
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "text/csv"):
            if content_type in types:
                continue
            response = await client.request(
                method, path, data=b'{"a": 1}', headers={"Content-Type": content_type}
            )
            message = await error(response, 415)
            # JSON, or an upload route's own types (image uploads: multipart; the CSV import).
            assert message.startswith("the body must be "), (method, path)
            assert any(name in message for name in types), (method, path, message)


async def test_cart_creation_and_logout_refuse_other_bodies(client: Client, auth: Auth) -> None:
    # Before: both accepted any type, since they read no body.
    await auth.user()
    for path in ("/api/carts", "/api/sessions/logout"):
        response = await client.post(path, data="x=1", headers={"Content-Type": "text/plain"})
        await error(response, 415)
    await success(await client.get("/api/sessions/current"))


async def test_empty_body_needs_no_content_type(client: Client, auth: Auth) -> None:
    await auth.user()
    await success(await client.post("/api/carts"), 201)
    await success(await client.post("/api/carts", data=b""), 201)
    await success(await client.post("/api/sessions/logout"))


async def test_chunked_empty_body_needs_no_content_type(client: Client, auth: Auth) -> None:
    await auth.user()

    async def nothing() -> AsyncIterator[bytes]:
        yield b""

    response = await client.post("/api/carts", data=nothing())
    await success(response, 201)


async def test_page_forms_take_form_bodies_and_no_other(client: Client) -> None:
    response = await client.post(
        "/login", data='{"email": "a@b.co"}', headers={"Content-Type": "application/json"}
    )
    assert response.status == 415
    response = await client.post("/login", data={"email": "a@b.co"}, allow_redirects=False)
    assert response.status == 403  # the form reached its CSRF check


# ---- upload routes ------------------------------------------------------------------------


@upload("multipart/form-data", "text/csv", max_size=UPLOAD_LIMIT)
async def anonymous_upload(request: web.Request) -> web.Response:
    body = await request.read()
    return answer({"size": len(body), "type": request.content_type})


@requires()
@upload("multipart/form-data", "text/csv", max_size=UPLOAD_LIMIT)
async def user_upload(request: web.Request) -> web.Response:
    body = await request.read()
    return answer({"size": len(body), "user": current_user(request).id})


@pytest.fixture
async def shop(settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    """The real app with two upload routes added, as the images branch will add its own."""
    app = create_app(settings)
    app.router.add_post("/api/test/upload", anonymous_upload)
    app.router.add_post("/api/test/mine", user_upload)
    return await aiohttp_client(app)


def csv(size: int) -> dict[str, Any]:
    return {"data": b"a" * size, "headers": {"Content-Type": "text/csv"}}


async def test_upload_route_takes_its_types_over_the_json_limit(shop: Client) -> None:
    payload = await success(await shop.post("/api/test/upload", **csv(90_000)))
    assert payload == {"size": 90_000, "type": "text/csv"}


async def test_upload_route_refuses_other_types(shop: Client) -> None:
    for content_type in ("application/json", "text/plain", "image/png"):
        response = await shop.post(
            "/api/test/upload", data=b"{}", headers={"Content-Type": content_type}
        )
        message = await error(response, 415)
        assert "multipart/form-data or text/csv" in message


async def test_upload_over_its_limit_is_413_before_it_is_read(shop: Client) -> None:
    await error(await shop.post("/api/test/upload", **csv(UPLOAD_LIMIT + 1)), 413)


async def test_upload_without_a_length_is_411(shop: Client) -> None:
    # Declared lengths only: aiohttp then never reads past the route's limit, even when
    # the handler streams the body.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"a" * 5_000

    response = await shop.post(
        "/api/test/upload", data=chunks(), headers={"Content-Type": "text/csv"}
    )
    await error(response, 411)


async def test_chunked_empty_upload_needs_no_content_type(shop: Client) -> None:
    async def nothing() -> AsyncIterator[bytes]:
        yield b""

    assert (await success(await shop.post("/api/test/upload", data=nothing())))["size"] == 0


async def test_cookie_upload_needs_the_shops_own_origin(shop: Client) -> None:
    user = await Auth(shop).user()
    own = str(shop.make_url("/").origin())
    for headers in ({}, {"Origin": EVIL}, {"Origin": "null"}, {"Referer": f"{own}/x"}):
        response = await shop.post(
            "/api/test/mine", data=b"a,b", headers={"Content-Type": "text/csv", **headers}
        )
        await error(response, 403)
    response = await shop.post(
        "/api/test/mine", data=b"a,b", headers={"Content-Type": "text/csv", "Origin": own}
    )
    assert (await success(response))["user"] == user["_id"]


async def test_bearer_upload_needs_no_origin(shop: Client) -> None:
    user = await Auth(shop).user()
    created = await success(await shop.post("/api/tokens", json={"name": "uploader"}), 201)
    # The cookie rides along, but the bearer decides: no ambient credential, no check.
    response = await shop.post(
        "/api/test/mine",
        data=b"a,b",
        headers={"Content-Type": "text/csv", "Authorization": f"Bearer {created['token']}"},
    )
    assert (await success(response))["user"] == user["_id"]


async def test_anonymous_upload_is_left_to_the_route(shop: Client) -> None:
    await error(await shop.post("/api/test/mine", **csv(3)), 401)
    await success(await shop.post("/api/test/upload", **csv(3)))
