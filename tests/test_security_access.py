"""Access control (SECURITY.md): who may call what, whose data they may touch, and which
fields a request may set. Every attack goes through HTTP, once per store."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shop.keys import PRODUCTS, STORE
from shop.models.products import ProductIn, ProductQuery
from shop.models.users import Role
from tests.conftest import PASSWORD, Auth, Client, registration
from tests.envelopes import NewBrowser, assert_error_body

ProductBody = Callable[..., dict[str, Any]]

# Well-formed ids of nothing: an anonymous caller is refused before any lookup.
CID = "0123456789abcdef01234567"
PID = "fedcba9876543210fedcba98"
UID = "00112233445566778899aabb"
TID = "aabbccddeeff001122334455"
OID = "bbccddeeff00112233445566"
SOME_PRODUCT = {
    "title": "Mate",
    "code": "M-1",
    "price": 3.5,
    "stock": 5,
    "category": "Drinks",
}

PUBLIC = {
    ("GET", "/api/products"),
    ("GET", "/api/products/{pid}"),
    ("GET", "/api/categories"),
    ("POST", "/api/users"),
    ("POST", "/api/sessions/login"),
    ("POST", "/api/sessions/logout"),
    ("GET", "/api/openapi.json"),
}
# Every other API endpoint, with a body it would accept.
PROTECTED: list[tuple[str, str, Any]] = [
    ("POST", "/api/carts", None),
    ("GET", "/api/carts/{cid}", None),
    ("PUT", "/api/carts/{cid}", {"products": []}),
    ("DELETE", "/api/carts/{cid}", None),
    *[
        (method, f"/api/carts/{{cid}}/{spelling}/{{pid}}", body)
        for spelling in ("product", "products")
        for method, body in (("POST", {"quantity": 1}), ("PUT", {"quantity": 1}), ("DELETE", None))
    ],
    ("GET", "/api/users", None),
    ("DELETE", "/api/users/{uid}", None),
    ("PUT", "/api/users/{uid}/role", {"role": "admin"}),
    ("PUT", "/api/users/me/password", {"current_password": PASSWORD, "new_password": "x" * 12}),
    ("GET", "/api/sessions/current", None),
    ("POST", "/api/sessions/logout-all", None),
    ("POST", "/api/products", SOME_PRODUCT),
    ("PUT", "/api/products/{pid}", {"price": 1.0}),
    ("DELETE", "/api/products/{pid}", None),
    ("POST", "/api/products/{pid}/images", None),
    ("PUT", "/api/products/{pid}/images", {"order": []}),
    ("DELETE", "/api/products/{pid}/images/{n}", None),
    ("GET", "/api/products/export", None),
    ("POST", "/api/products/import", None),
    ("POST", "/api/tokens", {"name": "script"}),
    ("GET", "/api/tokens", None),
    ("DELETE", "/api/tokens/{tid}", None),
    ("POST", "/api/carts/{cid}/purchase", None),
    ("GET", "/api/orders", None),
    ("GET", "/api/orders/{oid}", None),
    ("PUT", "/api/orders/{oid}", {"status": "cancelled"}),
]


def assert_error(status: int, body: dict[str, Any], *expected: int) -> None:
    assert status in expected, body
    assert_error_body(body, status)


async def call(
    client: Client, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    response = await client.request(method, path, json=body, headers=headers)
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


async def new_product(client: Client, product_body: ProductBody, **fields: Any) -> str:
    product = await client.app[PRODUCTS].create(ProductIn(**product_body(**fields)))
    return product.id


@dataclass
class Victim:
    browser: Client
    user: dict[str, Any]
    pid: str
    title: str


@pytest.fixture
async def victim(client: Client, new_browser: NewBrowser, product_body: ProductBody) -> Victim:
    """Another user, logged in on their own browser, with one product in their cart."""
    title = "Victim's secret gift"
    pid = await new_product(client, product_body, title=title)
    browser = await new_browser()
    user = await Auth(browser).user()
    response = await browser.post(f"/api/carts/{user['cart']}/product/{pid}", json={"quantity": 2})
    assert response.status == 200, await response.text()
    return Victim(browser, user, pid, title)


async def victims_cart(victim: Victim) -> Any:
    response = await victim.browser.get(f"/api/carts/{victim.user['cart']}")
    assert response.status == 200
    return (await response.json())["payload"]


# ---- anonymous -------------------------------------------------------------------------


async def test_anonymous_may_browse_products(client: Client, product_body: ProductBody) -> None:
    pid = await new_product(client, product_body)
    status, listing = await call(client, "GET", "/api/products")
    assert status == 200
    assert [item["_id"] for item in listing["payload"]] == [pid]
    status, one = await call(client, "GET", f"/api/products/{pid}")
    assert status == 200
    assert one["payload"]["_id"] == pid


def api_routes(client: Client) -> set[tuple[str, str]]:
    routes = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        template = info.get("formatter") or info.get("path") or ""
        if template.startswith("/api/") and route.method != "HEAD":
            routes.add((route.method, template))
    return routes


async def test_every_api_route_is_either_public_or_checked_here(client: Client) -> None:
    # A new endpoint must be added to PUBLIC or PROTECTED, so it cannot skip this suite.
    assert api_routes(client) == PUBLIC | {(method, path) for method, path, _ in PROTECTED}


@pytest.mark.parametrize(("method", "template", "body"), PROTECTED)
async def test_anonymous_call_is_refused_with_401_json(
    client: Client, method: str, template: str, body: Any
) -> None:
    path = template.format(cid=CID, pid=PID, uid=UID, tid=TID, n=0, oid=OID)
    assert_error(*await call(client, method, path, body), 401)


async def test_anonymous_cannot_read_a_real_cart(client: Client, victim: Victim) -> None:
    response = await client.get(f"/api/carts/{victim.user['cart']}")
    assert response.status == 401
    text = await response.text()
    assert victim.pid not in text
    assert victim.title not in text


# ---- admin only -----------------------------------------------------------------------


async def test_user_cannot_do_what_only_an_admin_may(
    client: Client, auth: Auth, victim: Victim, product_body: ProductBody
) -> None:
    client_user = await auth.user()
    pid = victim.pid
    before = await client.app[STORE].products.get(pid)
    attempts = [
        ("POST", "/api/products", product_body()),
        ("PUT", f"/api/products/{pid}", {"price": 0.01, "stock": 0}),
        ("DELETE", f"/api/products/{pid}", None),
        ("PUT", f"/api/products/{pid}/images", {"order": []}),
        ("DELETE", f"/api/products/{pid}/images/0", None),
        ("GET", "/api/users", None),
        ("DELETE", f"/api/users/{victim.user['_id']}", None),
        ("PUT", f"/api/users/{victim.user['_id']}/role", {"role": "admin"}),
        ("PUT", f"/api/users/{client_user['_id']}/role", {"role": "admin"}),
    ]
    for method, path, body in attempts:
        status, answer = await call(client, method, path, body)
        assert_error(status, answer, 403)
        assert victim.user["email"] not in json.dumps(answer)

    assert await client.app[STORE].products.get(pid) == before
    listing = await client.app[PRODUCTS].list(ProductQuery(), None)
    assert [product.id for product in listing.items] == [pid]
    assert (await victim.browser.get("/api/sessions/current")).status == 200
    for user in (client_user, victim.user):
        stored = await client.app[STORE].users.get(user["_id"])
        assert stored is not None
        assert stored.role is Role.USER


# ---- ownership --------------------------------------------------------------------------


async def test_another_users_cart_cannot_be_read(
    client: Client, auth: Auth, victim: Victim
) -> None:
    await auth.user()
    response = await client.get(f"/api/carts/{victim.user['cart']}")
    assert response.status in (403, 404)
    text = await response.text()
    assert victim.pid not in text
    assert victim.title not in text
    assert victim.user["_id"] not in text


async def test_another_users_cart_cannot_be_changed(
    client: Client, auth: Auth, victim: Victim, product_body: ProductBody
) -> None:
    me = await auth.user()
    mine = await new_product(client, product_body)
    cid, pid = victim.user["cart"], victim.pid
    before = await victims_cart(victim)
    attempts = [
        ("POST", f"/api/carts/{cid}/product/{mine}", {"quantity": 1}),
        ("POST", f"/api/carts/{cid}/products/{pid}", {"quantity": 1}),
        ("PUT", f"/api/carts/{cid}/product/{pid}", {"quantity": 5}),
        ("DELETE", f"/api/carts/{cid}/product/{pid}", None),
        ("PUT", f"/api/carts/{cid}", {"products": [{"product": mine, "quantity": 1}]}),
        ("DELETE", f"/api/carts/{cid}", None),
    ]
    for method, path, body in attempts:
        status, answer = await call(client, method, path, body)
        assert_error(status, answer, 403, 404)
        assert victim.title not in json.dumps(answer)

    assert await victims_cart(victim) == before
    # The attacker's own cart is untouched by the attempts too.
    status, own = await call(client, "GET", f"/api/carts/{me['cart']}")
    assert status == 200
    assert own["payload"]["products"] == []


async def test_another_user_cannot_be_deleted(client: Client, auth: Auth, victim: Victim) -> None:
    await auth.user()
    assert_error(*await call(client, "DELETE", f"/api/users/{victim.user['_id']}"), 403, 404)
    assert (await victim.browser.get("/api/sessions/current")).status == 200
    assert await client.app[STORE].users.get(victim.user["_id"]) is not None


# ---- orders -----------------------------------------------------------------------------


async def victims_order(client: Client, victim: Victim) -> dict[str, Any]:
    """The victim buys their cart; their order."""
    response = await victim.browser.post(f"/api/carts/{victim.user['cart']}/purchase")
    assert response.status == 201, await response.text()
    return (await response.json())["payload"]["order"]


async def test_another_users_cart_cannot_be_bought(
    client: Client, auth: Auth, victim: Victim
) -> None:
    await auth.user()
    stock = (await client.app[STORE].products.get(victim.pid)).stock
    before = await victims_cart(victim)
    path = f"/api/carts/{victim.user['cart']}/purchase"
    status, answer = await call(client, "POST", path, None, {"Idempotency-Key": "steal"})
    assert_error(status, answer, 403, 404)
    assert victim.title not in json.dumps(answer)
    assert await victims_cart(victim) == before
    assert (await client.app[STORE].products.get(victim.pid)).stock == stock


async def test_another_users_orders_cannot_be_read_or_cancelled(
    client: Client, auth: Auth, victim: Victim
) -> None:
    await auth.user()
    order = await victims_order(client, victim)
    attempts = [
        ("GET", f"/api/orders/{order['_id']}", None),
        ("PUT", f"/api/orders/{order['_id']}", {"status": "cancelled"}),
        ("GET", f"/api/orders?user={victim.user['_id']}", None),
    ]
    for method, path, body in attempts:
        status, answer = await call(client, method, path, body)
        assert_error(status, answer, 403, 404)
        for secret in (victim.title, victim.user["email"], order["code"]):
            assert secret not in json.dumps(answer)
    status, own = await call(client, "GET", "/api/orders")
    assert (status, own["payload"]) == (200, [])
    response = await victim.browser.get(f"/api/orders/{order['_id']}")
    assert (await response.json())["payload"]["status"] == "placed"


async def test_buyer_cannot_mark_their_own_order_paid_or_shipped(
    client: Client, victim: Victim
) -> None:
    order = await victims_order(client, victim)
    for status in ("paid", "shipped", "delivered"):
        response = await victim.browser.put(f"/api/orders/{order['_id']}", json={"status": status})
        assert_error(response.status, await response.json(), 403)
    response = await victim.browser.get(f"/api/orders/{order['_id']}")
    assert (await response.json())["payload"]["status"] == "placed"


# ---- mass assignment ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("role", "admin"),
        ("role", "ADMIN"),
        ("_id", "0123456789abcdef01234567"),
        ("cart", "0123456789abcdef01234567"),
        ("password_hash", "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"),
        ("is_admin", True),
        ("roles", ["admin"]),
    ],
)
async def test_registration_refuses_fields_it_does_not_own(
    client: Client, field: str, value: Any
) -> None:
    status, answer = await call(
        client, "POST", "/api/users", registration(email="mallory@example.com", **{field: value})
    )
    assert_error(status, answer, 400)
    assert field in answer["error"]
    assert await client.app[STORE].users.get_by_email("mallory@example.com") is None


async def test_no_request_can_create_an_admin(client: Client, auth: Auth) -> None:
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/users", registration(role="admin")),
        ("POST", "/api/users", registration(email="m2@example.com", Role="admin")),
        ("POST", "/api/users", registration(email="m3@example.com", user={"role": "admin"})),
        ("POST", "/api/users", registration(email="m4@example.com", role=["admin"])),
        (
            "POST",
            "/api/sessions/login",
            {"email": "x@example.com", "password": "x", "role": "admin"},
        ),
    ]
    for method, path, body in attempts:
        status, answer = await call(client, method, path, body)
        assert_error(status, answer, 400)

    user = await auth.user()
    status, current = await call(client, "GET", "/api/sessions/current")
    assert status == 200
    assert current["payload"]["role"] == "user"
    status, answer = await call(
        client,
        "PUT",
        "/api/users/me/password",
        {"current_password": PASSWORD, "new_password": PASSWORD, "role": "admin"},
    )
    assert_error(status, answer, 400)
    status, current = await call(client, "GET", "/api/sessions/current")
    assert current["payload"]["role"] == "user"

    page = await client.app[STORE].users.list(100, 1)
    assert [u.id for u in page.items] == [user["_id"]]
    assert all(u.role is Role.USER for u in page.items)


async def test_registered_account_is_a_plain_user(client: Client, auth: Auth) -> None:
    await auth.user()
    status, current = await call(client, "GET", "/api/sessions/current")
    assert status == 200
    assert current["payload"]["role"] == "user"


@pytest.mark.parametrize(
    ("field", "value"),
    [("_id", "0123456789abcdef01234567"), ("id", "x"), ("owner", "me"), ("$set", {"stock": 0})],
)
async def test_product_update_refuses_fields_it_does_not_own(
    client: Client, auth: Auth, product_body: ProductBody, field: str, value: Any
) -> None:
    await auth.admin()
    pid = await new_product(client, product_body)
    before = await client.app[STORE].products.get(pid)

    status, answer = await call(
        client, "PUT", f"/api/products/{pid}", {"price": 99.0, field: value}
    )
    assert_error(status, answer, 400)
    assert field in answer["error"]
    assert await client.app[STORE].products.get(pid) == before


# ---- cross-site requests riding the session cookie ---------------------------------------

EVIL = "https://evil.example"


@dataclass
class Shopper:
    user: dict[str, Any]
    pid: str

    @property
    def line(self) -> str:
        return f"/api/carts/{self.user['cart']}/product/{self.pid}"


@pytest.fixture
async def shopper(client: Client, auth: Auth, product_body: ProductBody) -> Shopper:
    """A logged-in user on `client` (the browser the forged requests ride) and a product."""
    pid = await new_product(client, product_body)
    return Shopper(await auth.user(), pid)


async def cart_lines(client: Client, shopper: Shopper) -> list[Any]:
    response = await client.get(f"/api/carts/{shopper.user['cart']}")
    assert response.status == 200
    return (await response.json())["payload"]["products"]


def same_origin(client: Client) -> str:
    return f"http://{client.server.host}:{client.server.port}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": "null"},
        {"Origin": "http://evil.example"},
        {"Referer": f"{EVIL}/x"},
        {"Origin": EVIL, "Referer": "SAME/shop"},
    ],
    ids=["origin", "null-origin", "http-origin", "referer", "origin-beats-referer"],
)
async def test_cross_site_json_post_is_refused(
    client: Client, shopper: Shopper, headers: dict[str, str]
) -> None:
    headers = {k: v.replace("SAME", same_origin(client)) for k, v in headers.items()}
    status, answer = await call(client, "POST", shopper.line, {"quantity": 1}, headers)
    assert_error(status, answer, 403)
    assert await cart_lines(client, shopper) == []


async def test_cross_site_text_plain_form_post_is_refused(
    client: Client, shopper: Shopper
) -> None:
    # What a cross-site <form enctype="text/plain"> can send: a body that happens to be JSON.
    response = await client.post(
        shopper.line,
        data='{"quantity": 3}',
        headers={"Content-Type": "text/plain", "Origin": EVIL},
    )
    assert response.status == 403
    assert await cart_lines(client, shopper) == []


async def test_text_plain_body_without_origin_is_refused_as_unsupported(
    client: Client, shopper: Shopper
) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await client.post(
            shopper.line, data='{"quantity": 3}', headers={"Content-Type": content_type}
        )
        assert response.status == 415
        assert (await response.json())["status"] == "error"
    assert await cart_lines(client, shopper) == []


async def test_same_origin_json_post_is_allowed(client: Client, shopper: Shopper) -> None:
    status, answer = await call(
        client, "POST", shopper.line, {"quantity": 2}, {"Origin": same_origin(client)}
    )
    assert status == 200, answer
    lines = await cart_lines(client, shopper)
    assert [(line["product"]["_id"], line["quantity"]) for line in lines] == [(shopper.pid, 2)]


async def test_same_origin_referer_post_is_allowed(client: Client, shopper: Shopper) -> None:
    status, answer = await call(
        client, "POST", shopper.line, {"quantity": 1}, {"Referer": f"{same_origin(client)}/x"}
    )
    assert status == 200, answer


async def test_cross_site_account_changes_are_refused(client: Client, shopper: Shopper) -> None:
    attacks = [
        ("DELETE", f"/api/users/{shopper.user['_id']}", None),
        (
            "PUT",
            "/api/users/me/password",
            {"current_password": PASSWORD, "new_password": "p" * 12},
        ),
        ("POST", "/api/sessions/logout-all", None),
        ("POST", "/api/sessions/logout", None),
        ("DELETE", f"/api/carts/{shopper.user['cart']}", None),
    ]
    for method, path, body in attacks:
        status, answer = await call(client, method, path, body, {"Origin": EVIL})
        assert_error(status, answer, 403)
    status, current = await call(client, "GET", "/api/sessions/current")
    assert status == 200
    assert current["payload"]["_id"] == shopper.user["_id"]


async def test_cross_site_login_is_refused(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    # Login CSRF: a foreign page logging the victim's browser into the attacker's account.
    user = await auth.register()
    browser = await new_browser()
    status, answer = await call(
        browser,
        "POST",
        "/api/sessions/login",
        {"email": user["email"], "password": PASSWORD},
        {"Origin": EVIL},
    )
    assert_error(status, answer, 403)
    assert (await browser.get("/api/sessions/current")).status == 401


@pytest.mark.parametrize("path", ["/api/sessions/logout", "/api/sessions/logout-all", "/logout"])
async def test_get_never_logs_out(client: Client, auth: Auth, path: str) -> None:
    await auth.user()
    response = await client.get(path)
    assert response.status in (404, 405)
    assert (await client.get("/api/sessions/current")).status == 200


async def test_get_never_changes_a_cart(client: Client, shopper: Shopper) -> None:
    for path in (shopper.line, f"/api/carts/{shopper.user['cart']}/products/{shopper.pid}"):
        response = await client.get(path, params={"quantity": "1"})
        assert response.status in (404, 405)
    assert await cart_lines(client, shopper) == []


async def test_neither_get_nor_a_cross_site_post_buys_a_cart(
    client: Client, shopper: Shopper
) -> None:
    await call(client, "POST", shopper.line, {"quantity": 1})
    purchase = f"/api/carts/{shopper.user['cart']}/purchase"
    assert (await client.get(purchase)).status == 405
    status, answer = await call(client, "POST", purchase, None, {"Origin": EVIL})
    assert_error(status, answer, 403)
    assert len(await cart_lines(client, shopper)) == 1
    status, orders = await call(client, "GET", "/api/orders")
    assert orders["payload"] == []
