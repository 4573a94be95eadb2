"""A trailing slash on an API path is served by the same handler (as Express does): no
redirect, no 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import Auth, Client
from tests.envelopes import error, success


async def test_listing_with_a_trailing_slash_is_the_listing(client: Client) -> None:
    plain = await client.get("/api/products", params={"limit": "5"}, allow_redirects=False)
    slashed = await client.get("/api/products/", params={"limit": "5"}, allow_redirects=False)
    assert plain.status == slashed.status == 200
    assert (await slashed.json())["page"] == 1


async def test_paths_with_ids_and_a_trailing_slash_reach_their_handler(
    client: Client, auth: Auth, product_body: Callable[..., dict[str, Any]]
) -> None:
    user = await auth.admin()
    product = await success(await client.post("/api/products/", json=product_body()), 201)
    pid = product["_id"]
    assert (await success(await client.get(f"/api/products/{pid}/")))["_id"] == pid
    cart = await success(await client.post(f"/api/carts/{user['cart']}/product/{pid}/"))
    assert cart["count"] == 1
    await success(await client.delete(f"/api/products/{pid}//"))
    await error(await client.get(f"/api/products/{pid}/"), 404)


async def test_a_trailing_slash_keeps_the_checks_of_the_route(client: Client) -> None:
    await error(await client.get("/api/products/nope/"), 400, "pid")
    await error(await client.post("/api/carts/"), 401)
    response = await client.post("/api/carts/", data="x", headers={"Content-Type": "text/plain"})
    await error(response, 415)


async def test_wrong_method_with_a_trailing_slash_is_405(client: Client) -> None:
    response = await client.get("/api/sessions/logout/", allow_redirects=False)
    await error(response, 405)
    assert response.headers["Allow"] == "POST"


async def test_unknown_path_with_a_trailing_slash_is_404(client: Client) -> None:
    await error(await client.get("/api/nowhere/", allow_redirects=False), 404)
    await error(await client.get("/api/", allow_redirects=False), 404)
