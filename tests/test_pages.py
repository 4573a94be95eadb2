"""The server-rendered pages, through HTTP on every store: forms, CSRF, redirects, escaping
and the headers and markup the CSP relies on."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from yarl import URL

from shop.keys import PRODUCTS, STORE
from shop.models.images import card_url
from shop.models.products import ProductIn
from shop.store.base import StoreUnavailable
from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser
from tests.pictures import picture, upload

ProductBody = Callable[..., dict[str, Any]]

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


async def page(response: ClientResponse, status: int = 200) -> str:
    """The HTML of a page answer with the expected status."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == "text/html"
    return text


async def csrf_token(client: Client, path: str = "/login") -> str:
    """The form token a page gives this browser."""
    match = TOKEN.search(await page(await client.get(path)))
    assert match is not None
    return match.group(1)


async def post_form(
    client: Client, path: str, data: dict[str, str], *, token: str | None = None
) -> ClientResponse:
    """Post a form like the browser does, with this browser's CSRF token; no redirects."""
    if token is None:
        token = await csrf_token(client)
    return await client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)


def registration(**fields: str) -> dict[str, str]:
    """The register form's fields, filled in; keyword arguments override them."""
    return {
        "first_name": "Ana",
        "last_name": "García",
        "email": "ana@example.com",
        "age": "30",
        "password": PASSWORD,
        **fields,
    }


def location(response: ClientResponse) -> str:
    assert response.status == 303, response.status
    return response.headers["Location"]


async def create_product(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create a product as an admin on a separate session of the same server."""
    response = await client.post("/api/products", json=body)
    assert response.status == 201, await response.text()
    return (await response.json())["payload"]


@pytest.fixture
async def product(admin_browser: Client, product_body: ProductBody) -> dict[str, Any]:
    return await create_product(admin_browser, product_body())


# ---- the catalogue ------------------------------------------------------------------------


async def test_root_redirects_to_the_products(client: Client) -> None:
    response = await client.get("/", allow_redirects=False)
    assert location(response) == "/products"


async def test_products_page_shows_each_product_as_a_card(
    client: Client, product: dict[str, Any]
) -> None:
    html = await page(await client.get("/products"))
    assert f'data-product-id="{product["_id"]}"' in html
    assert 'class="product-link product-title"' in html
    assert '<span class="price product-price">$12.50</span>' in html
    assert '<p class="availability" data-availability="in_stock">In stock</p>' in html
    assert f'href="/products/{product["_id"]}"' in html
    assert 'alt="Yerba mate"' in html


async def test_products_page_escapes_a_script_in_a_title(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    await create_product(admin_browser, product_body(title="<script>alert(1)</script>"))
    html = await page(await client.get("/products"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


async def test_products_page_links_the_next_page_keeping_the_query(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    for _ in range(3):
        await create_product(admin_browser, product_body())
    first = await page(await client.get("/products?limit=2"))
    assert 'rel="next" href="/products?limit=2&amp;page=2"' in first
    second = await page(await client.get("/products?limit=2&page=2"))
    assert 'rel="prev" href="/products?limit=2&amp;page=1"' in second
    assert second.count("data-product-id=") == 1 + 1  # one card, plus the live template


async def test_products_page_sorts_and_filters_by_category(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    cheap = await create_product(admin_browser, product_body(price=1.0, category="Tea"))
    dear = await create_product(admin_browser, product_body(price=9.0, category="Tea"))
    await create_product(admin_browser, product_body(category="Coffee"))
    html = await page(await client.get("/products?query=Tea&sort=desc"))
    assert html.index(dear["_id"]) < html.index(cheap["_id"])
    assert "Coffee" not in html.split('id="product-grid"')[1].split("<template")[0]


async def test_products_page_refuses_an_unknown_query_parameter(client: Client) -> None:
    html = await page(await client.get("/products?query[$ne]=x"), 400)
    assert "query[$ne]: is not an accepted parameter" in html


async def test_product_page_shows_the_product(client: Client, product: dict[str, Any]) -> None:
    html = await page(await client.get(f"/products/{product['_id']}"))
    assert '<h1 class="product-title">Yerba mate</h1>' in html
    assert "Half a kilo" in html


async def test_unknown_product_page_is_a_404_page(client: Client) -> None:
    html = await page(await client.get(f"/products/{MISSING_ID}"), 404)
    assert "Not Found" in html
    assert 'class="site-header"' in html


async def test_malformed_product_id_page_is_a_400_page(client: Client) -> None:
    html = await page(await client.get("/products/not-an-id"), 400)
    assert "pid: must be a 24-character hexadecimal id" in html


async def test_unknown_page_is_a_404_page_in_the_layout(client: Client) -> None:
    html = await page(await client.get("/no/such/page"), 404)
    assert 'id="live-status"' in html


async def test_store_outage_is_a_503_page_in_the_layout(
    client: Client, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.user()

    async def unavailable(*args: object) -> None:
        raise StoreUnavailable("connection refused")

    store = client.app[STORE]
    monkeypatch.setattr(store.products, "list", unavailable)
    monkeypatch.setattr(store.carts, "get", unavailable)  # the badge cannot count either
    html = await page(await client.get("/products"), 503)
    assert "the shop&#39;s database is unavailable" in html
    assert '<a id="cart-badge"' in html
    assert "connection refused" not in html


@pytest.mark.parametrize("path", ["/realtimeproducts", "/realTimeProducts"])
async def test_live_products_page_is_served_at_both_spellings(
    client: Client, product: dict[str, Any], path: str
) -> None:
    html = await page(await client.get(path))
    assert f'data-product-id="{product["_id"]}"' in html
    assert 'id="create-product-form"' not in html


async def test_live_products_page_gives_admins_the_create_and_delete_controls(
    admin_browser: Client, product: dict[str, Any]
) -> None:
    html = await page(await admin_browser.get("/realtimeproducts"))
    assert 'id="create-product-form"' in html
    assert 'class="button button-danger delete-product"' in html
    assert '<script src="/static/js/realtime.js" defer></script>' in html


async def test_live_products_page_pages_past_100_products(
    client: Client, product_body: ProductBody
) -> None:
    products = client.app[PRODUCTS]
    ids = [(await products.create(ProductIn(**product_body()))).id for _ in range(101)]
    first = await page(await client.get("/realtimeproducts"))
    assert first.count("data-product-id=") == 100 + 1  # the cards, plus the live template
    assert 'rel="next" href="/realtimeproducts?page=2"' in first
    assert 'class="pager" data-page="1" data-total-pages="2"' in first
    second = await page(await client.get("/realtimeproducts?page=2"))
    assert f'data-product-id="{ids[-1]}"' in second
    assert second.count("data-product-id=") == 1 + 1
    assert 'rel="prev" href="/realtimeproducts?page=1"' in second
    assert 'data-limit="100"' in second
    assert 'data-source="/api/products?limit=100&amp;page=2"' in second


async def test_live_products_page_past_the_last_links_the_last_page(client: Client) -> None:
    html = await page(await client.get("/realTimeProducts?page=3"))
    assert "There is no page 3 here: the last page is 1." in html
    assert 'href="/realTimeProducts?page=1">Go to page 1</a>' in html
    assert "Page 3 of 1" not in html


@pytest.mark.parametrize("query", ["page=0", "page=x", "page=1&page=2", "limit=5"])
async def test_live_products_page_refuses_a_bad_query(client: Client, query: str) -> None:
    await page(await client.get(f"/realtimeproducts?{query}"), 400)


# ---- product images ----------------------------------------------------------------------


async def test_cards_show_the_card_size_and_the_product_page_the_page_size(
    client: Client, admin_browser: Client, product: dict[str, Any]
) -> None:
    pid = product["_id"]
    uploads = []
    for color in ("red", "blue"):
        response = await upload(admin_browser, pid, picture(color=color))
        assert response.status == 201, await response.text()
        uploads.append(response.headers["Location"])
    first, second = uploads
    # [typed-in, first, second] becomes [first, typed-in, second].
    response = await admin_browser.put(f"/api/products/{pid}/images", json={"order": [1, 0, 2]})
    assert response.status == 200, await response.text()
    cards = await page(await client.get("/products"))
    assert f'class="product-thumb" src="{card_url(first)}"' in cards
    detail = await page(await client.get(f"/products/{pid}"))
    assert f'class="gallery-main" src="{first}"' in detail
    assert f'<a class="gallery-more" href="{second}"><img src="{card_url(second)}"' in detail
    typed = "/static/img/mate.png"
    assert f'<a class="gallery-more" href="{typed}"><img src="{typed}"' in detail


# ---- registering, logging in and out ----------------------------------------------------


async def test_register_without_a_csrf_token_is_403(client: Client) -> None:
    await csrf_token(client, "/register")  # the session has a token; the post lacks it
    response = await client.post(
        "/register",
        data=registration(),
        allow_redirects=False,
    )
    html = await page(response, 403)
    assert "security token" in html


async def test_login_with_a_wrong_csrf_token_is_403(client: Client, auth: Auth) -> None:
    user = await auth.register()
    response = await post_form(
        client, "/login", {"email": user["email"], "password": PASSWORD}, token="forged"
    )
    await page(response, 403)


async def test_register_form_creates_the_account_and_logs_in(client: Client) -> None:
    response = await post_form(
        client,
        "/register",
        registration(email="Ana.Form@Example.com"),
    )
    assert location(response) == "/products"
    html = await page(await client.get("/profile"))
    assert "ana.form@example.com" in html
    assert "Welcome, Ana!" in html


async def test_register_form_shows_field_errors_and_keeps_the_values(client: Client) -> None:
    response = await post_form(
        client,
        "/register",
        registration(last_name="", email="not-an-email", age="twelve", password="short"),
    )
    html = await page(response, 400)
    assert 'id="error-last_name"' in html
    assert 'id="error-email"' in html
    assert 'id="error-age"' in html
    assert 'id="error-password"' in html
    assert 'value="Ana"' in html
    assert 'value="not-an-email"' in html
    assert 'value="short"' not in html


async def test_register_form_with_a_taken_email_says_so_next_to_the_email(
    client: Client, auth: Auth
) -> None:
    taken = await auth.register()
    response = await post_form(
        client,
        "/register",
        registration(email=taken["email"]),
    )
    html = await page(response, 409)
    assert re.search(r'id="error-email">an account with this email already exists<', html)


async def test_register_form_ignores_a_role_field(client: Client) -> None:
    response = await post_form(
        client,
        "/register",
        registration(first_name="Eve", last_name="Doe", email="eve@example.com", role="admin"),
    )
    assert location(response) == "/products"
    html = await page(await client.get("/profile"))
    assert "<dt>Role</dt><dd>Customer</dd>" in html


async def test_login_with_a_wrong_password_shows_a_field_error_and_keeps_the_email(
    client: Client, auth: Auth
) -> None:
    user = await auth.register()
    response = await post_form(
        client, "/login", {"email": user["email"], "password": "wrong password"}
    )
    html = await page(response, 401)
    assert re.search(r'id="error-password">invalid email or password<', html)
    assert f'value="{user["email"]}"' in html
    assert "wrong password" not in html


async def test_login_form_for_an_unknown_email_answers_like_a_wrong_password(
    client: Client,
) -> None:
    response = await post_form(
        client, "/login", {"email": "nobody@example.com", "password": "wrong password"}
    )
    html = await page(response, 401)
    assert re.search(r'id="error-password">invalid email or password<', html)


async def test_login_form_is_throttled_like_the_api(client: Client, auth: Auth) -> None:
    user = await auth.register()
    token = await csrf_token(client)
    for _ in range(5):
        response = await post_form(
            client, "/login", {"email": user["email"], "password": "wrong"}, token=token
        )
        await page(response, 401)
    response = await post_form(
        client, "/login", {"email": user["email"], "password": PASSWORD}, token=token
    )
    html = await page(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    # The form stays, with the email kept and when to try again.
    assert '<form class="stack-form" method="post" action="/login"' in html
    assert f'value="{user["email"]}"' in html
    assert re.search(
        r'class="form-error" role="alert">too many failed attempts; try again in', html
    )
    assert PASSWORD not in html


async def test_throttled_password_form_says_when_to_retry(client: Client, auth: Auth) -> None:
    await auth.user()
    token = await csrf_token(client, "/profile")
    wrong = {
        "current_password": "wrong one",
        "new_password": "x" * 12,
        "new_password_confirm": "x" * 12,
    }
    for _ in range(5):
        await page(await post_form(client, "/profile/password", wrong, token=token), 403)
    right = {**wrong, "current_password": PASSWORD}
    response = await post_form(client, "/profile/password", right, token=token)
    html = await page(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert re.search(r'id="error-current_password">too many failed attempts; try again in', html)


async def test_login_honours_a_local_next(client: Client, auth: Auth) -> None:
    user = await auth.register()
    response = await post_form(
        client,
        "/login",
        {"email": user["email"], "password": PASSWORD, "next": "/products?page=2"},
    )
    assert location(response) == "/products?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/products",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
async def test_login_ignores_a_next_to_another_site(
    client: Client, auth: Auth, target: str
) -> None:
    user = await auth.register()
    response = await post_form(
        client, "/login", {"email": user["email"], "password": PASSWORD, "next": target}
    )
    assert location(response) == "/products"


async def test_login_page_carries_a_local_next_into_its_form(client: Client) -> None:
    html = await page(await client.get("/login?next=/profile"))
    assert '<input type="hidden" name="next" value="/profile">' in html
    html = await page(await client.get("/login?next=//evil.example"))
    assert '<input type="hidden" name="next" value="/products">' in html


async def test_login_starts_a_new_session(client: Client, auth: Auth) -> None:
    user = await auth.register()
    token = await csrf_token(client)
    before = client.session.cookie_jar.filter_cookies(client.make_url("/"))["shop_session"]
    response = await post_form(
        client, "/login", {"email": user["email"], "password": PASSWORD}, token=token
    )
    assert location(response) == "/products"
    after = client.session.cookie_jar.filter_cookies(client.make_url("/"))["shop_session"]
    assert after.value != before.value
    # The old page's token belonged to the old session.
    response = await post_form(client, "/logout", {}, token=token)
    await page(response, 403)


async def test_logout_form_ends_the_session(client: Client, auth: Auth) -> None:
    await auth.user()
    response = await post_form(client, "/logout", {}, token=await csrf_token(client, "/products"))
    assert location(response) == "/products"
    response = await client.get("/profile", allow_redirects=False)
    assert location(response).startswith("/login")


async def test_logout_without_a_csrf_token_is_403(client: Client, auth: Auth) -> None:
    await auth.user()
    response = await client.post("/logout", allow_redirects=False)
    await page(response, 403)
    await page(await client.get("/profile"))


async def test_logout_form_of_an_already_ended_session_just_goes_home(client: Client) -> None:
    response = await client.post("/logout", data={"csrf_token": "stale"}, allow_redirects=False)
    assert location(response) == "/products"


async def test_header_login_link_returns_to_the_current_page(client: Client) -> None:
    html = await page(await client.get("/products?query=Tea Pot"))
    assert 'href="/login?next=/products%3Fquery%3DTea%2BPot"' in html
    response = await client.get("/login?next=/products%3Fquery%3DTea%2BPot")
    assert '<input type="hidden" name="next" value="/products?query=Tea+Pot">' in await page(
        response
    )


# ---- login required and ownership ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/profile", f"/carts/{MISSING_ID}"])
async def test_protected_page_redirects_to_login_with_next(client: Client, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    target = URL(location(response))
    assert target.path == "/login"
    assert target.query["next"] == path


async def test_login_after_the_redirect_returns_to_the_page(client: Client, auth: Auth) -> None:
    user = await auth.register()
    response = await client.get("/profile")  # followed to the login page
    html = await page(response)
    match = TOKEN.search(html)
    assert match is not None
    assert '<input type="hidden" name="next" value="/profile">' in html
    response = await post_form(
        client,
        "/login",
        {"email": user["email"], "password": PASSWORD, "next": "/profile"},
        token=match.group(1),
    )
    assert location(response) == "/profile"


async def test_someone_elses_cart_page_is_a_403_page(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    other = await new_browser()
    victim = await Auth(other).user()
    await auth.user()
    html = await page(await client.get(f"/carts/{victim['cart']}"), 403)
    assert "this cart belongs to someone else" in html
    assert "data-line-product-id" not in html


async def test_unknown_cart_page_is_a_404_page(client: Client, auth: Auth) -> None:
    await auth.user()
    await page(await client.get(f"/carts/{MISSING_ID}"), 404)


# ---- the cart ---------------------------------------------------------------------------------


async def test_add_to_cart_form_adds_flashes_and_counts_in_the_badge(
    client: Client, auth: Auth, product: dict[str, Any]
) -> None:
    user = await auth.user()
    cid, pid = user["cart"], product["_id"]
    html = await page(await client.get("/products"))
    assert f'action="/carts/{cid}/add/{pid}"' in html
    response = await post_form(
        client, f"/carts/{cid}/add/{pid}", {"quantity": "2", "next": "/products"}
    )
    assert location(response) == "/products"
    html = await page(await client.get("/products"))
    assert "Added Yerba mate to your cart." in html
    badge = re.search(rf'<a id="cart-badge"[^>]*data-cart-id="{cid}".*?</a>', html, re.S)
    assert badge is not None
    assert '<span class="cart-count">2</span>' in badge.group()
    assert "$25.00" in badge.group()
    # A flash is shown once.
    assert "Added Yerba mate" not in await page(await client.get("/products"))


async def test_add_to_cart_form_without_a_csrf_token_is_403_and_adds_nothing(
    client: Client, auth: Auth, product: dict[str, Any]
) -> None:
    user = await auth.user()
    response = await client.post(
        f"/carts/{user['cart']}/add/{product['_id']}",
        data={"quantity": "1"},
        allow_redirects=False,
    )
    await page(response, 403)
    cart = (await (await client.get(f"/api/carts/{user['cart']}")).json())["payload"]
    assert cart["count"] == 0


async def test_add_to_cart_form_beyond_the_stock_flashes_an_error(
    client: Client, auth: Auth, admin_browser: Client, product_body: ProductBody
) -> None:
    scarce = await create_product(admin_browser, product_body(stock=1))
    user = await auth.user()
    response = await post_form(
        client, f"/carts/{user['cart']}/add/{scarce['_id']}", {"quantity": "2"}
    )
    assert location(response) == f"/products/{scarce['_id']}"
    html = await page(await client.get(location(response)))
    # Next to the quantity it is about, naming the product and what is possible.
    note = f'id="quantity-note-{scarce["_id"]}" role="alert">only 1 of Yerba mate in stock</p>'
    assert note in html


async def test_add_to_someone_elses_cart_form_is_403(
    client: Client, auth: Auth, new_browser: NewBrowser, product: dict[str, Any]
) -> None:
    victim = await Auth(await new_browser()).user()
    await auth.user()
    response = await post_form(client, f"/carts/{victim['cart']}/add/{product['_id']}", {})
    await page(response, 403)


async def test_anonymous_add_to_cart_form_goes_to_login_then_the_product(
    client: Client, product: dict[str, Any]
) -> None:
    response = await client.post(
        f"/carts/{MISSING_ID}/add/{product['_id']}", data={}, allow_redirects=False
    )
    target = URL(location(response))
    assert target.path == "/login"
    assert target.query["next"] == f"/products/{product['_id']}"


@pytest.fixture
async def tea_and_mug(
    admin_browser: Client, product_body: ProductBody
) -> tuple[dict[str, Any], dict[str, Any]]:
    tea = await create_product(admin_browser, product_body(title="Tea", price=2.5))
    mug = await create_product(admin_browser, product_body(title="Mug", price=10.0))
    return tea, mug


async def fill_cart(client: Client, cid: str, *lines: tuple[dict[str, Any], int]) -> None:
    for item, quantity in lines:
        response = await client.post(
            f"/api/carts/{cid}/product/{item['_id']}", json={"quantity": quantity}
        )
        assert response.status == 200, await response.text()


async def test_cart_page_lists_lines_and_totals(
    client: Client, auth: Auth, tea_and_mug: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    tea, mug = tea_and_mug
    cid = (await auth.user())["cart"]
    await fill_cart(client, cid, (tea, 3), (mug, 1))
    html = await page(await client.get(f"/carts/{cid}"))
    assert f'data-line-product-id="{tea["_id"]}"' in html
    assert '<span class="price line-total">$7.50</span>' in html
    assert '<span class="price line-total">$10.00</span>' in html
    assert '<span id="cart-total" class="price">$17.50</span>' in html
    assert 'class="quantity" type="number" name="quantity"' in html


async def test_cart_forms_set_remove_and_empty(
    client: Client, auth: Auth, tea_and_mug: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    tea, mug = tea_and_mug
    cid = (await auth.user())["cart"]
    await fill_cart(client, cid, (tea, 1), (mug, 1))
    token = await csrf_token(client, f"/carts/{cid}")

    response = await post_form(
        client, f"/carts/{cid}/set/{tea['_id']}", {"quantity": "4"}, token=token
    )
    assert location(response) == f"/carts/{cid}"
    html = await page(await client.get(f"/carts/{cid}"))
    assert '<span id="cart-total" class="price">$20.00</span>' in html

    response = await post_form(client, f"/carts/{cid}/remove/{mug['_id']}", {}, token=token)
    assert location(response) == f"/carts/{cid}"
    html = await page(await client.get(f"/carts/{cid}"))
    assert f'data-line-product-id="{mug["_id"]}"' not in html
    assert '<span id="cart-total" class="price">$10.00</span>' in html

    # Emptying asks first: a page whose form posts the same.
    question = await page(await client.get(f"/carts/{cid}/clear"))
    assert "Empty your cart?" in question
    assert "The 4 items in it will be removed." in question
    assert f'action="/carts/{cid}/clear"' in question
    response = await post_form(client, f"/carts/{cid}/clear", {}, token=token)
    assert location(response) == f"/carts/{cid}"
    html = await page(await client.get(f"/carts/{cid}"))
    assert "Your cart is empty now." in html
    assert '<span id="cart-total" class="price">$0.00</span>' in html


async def test_cart_set_form_refuses_a_fractional_quantity(
    client: Client, auth: Auth, product: dict[str, Any]
) -> None:
    cid = (await auth.user())["cart"]
    await fill_cart(client, cid, (product, 1))
    response = await post_form(client, f"/carts/{cid}/set/{product['_id']}", {"quantity": "1.5"})
    html = await page(await client.get(location(response)))
    note = f'id="quantity-note-{product["_id"]}" role="alert">must be a whole number</p>'
    assert note in html
    cart = (await (await client.get(f"/api/carts/{cid}")).json())["payload"]
    assert cart["count"] == 1


# ---- the profile ------------------------------------------------------------------------------


async def test_profile_shows_the_user_and_never_the_password_hash(
    client: Client, auth: Auth
) -> None:
    user = await auth.user()
    html = await page(await client.get("/profile"))
    assert user["email"] in html
    assert "argon2" not in html


async def test_password_form_with_a_wrong_current_password_says_so(
    client: Client, auth: Auth
) -> None:
    await auth.user()
    response = await post_form(
        client,
        "/profile/password",
        {
            "current_password": "not my password",
            "new_password": "a brand new password",
            "new_password_confirm": "a brand new password",
        },
        token=await csrf_token(client, "/profile"),
    )
    html = await page(response, 403)
    assert re.search(r'id="error-current_password">does not match<', html)


async def test_password_form_changes_it_and_ends_the_other_sessions(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    other = await new_browser()
    await Auth(other).login(user["email"])
    response = await post_form(
        client,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new password",
            "new_password_confirm": "a brand new password",
        },
        token=await csrf_token(client, "/profile"),
    )
    assert location(response) == "/profile"
    assert "Your password was changed" in await page(await client.get("/profile"))
    response = await other.get("/profile", allow_redirects=False)
    assert URL(location(response)).path == "/login"


async def test_log_out_everywhere_ends_every_session(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    user = await auth.user()
    other = await new_browser()
    await Auth(other).login(user["email"])
    response = await post_form(
        client, "/profile/logout-all", {}, token=await csrf_token(client, "/profile")
    )
    assert location(response) == "/login"
    for browser in (client, other):
        response = await browser.get("/profile", allow_redirects=False)
        assert URL(location(response)).path == "/login"


# ---- headers and markup the Content-Security-Policy relies on ---------------------------


PAGES = ["/products", "/products?limit=1", "/realtimeproducts", "/login", "/register"]


def assert_csp_friendly(response: ClientResponse, html: str) -> None:
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert INLINE_SCRIPT.search(html) is None
    assert " style=" not in html
    assert INLINE_HANDLER.search(html) is None


@pytest.mark.parametrize("path", PAGES)
async def test_anonymous_pages_send_a_csp_and_have_no_inline_script_or_style(
    client: Client, product: dict[str, Any], path: str
) -> None:
    response = await client.get(path)
    assert_csp_friendly(response, await page(response))


async def test_logged_in_pages_have_no_inline_script_or_style(
    admin_browser: Client, product: dict[str, Any]
) -> None:
    admin = (await (await admin_browser.get("/api/sessions/current")).json())["payload"]
    await admin_browser.post(f"/api/carts/{admin['cart']}/product/{product['_id']}")
    paths = [*PAGES[:3], f"/products/{product['_id']}", f"/carts/{admin['cart']}", "/profile"]
    for path in paths:
        response = await admin_browser.get(path)
        assert_csp_friendly(response, await page(response))


async def test_error_pages_send_a_csp_and_have_no_inline_script(client: Client) -> None:
    response = await client.get(f"/products/{MISSING_ID}")
    assert_csp_friendly(response, await page(response, 404))


async def test_static_assets_are_served(client: Client) -> None:
    for path, kind in [
        ("/static/css/shop.css", "text/css"),
        ("/static/js/live.js", "javascript"),
        ("/static/js/cart.js", "javascript"),
        ("/static/js/realtime.js", "javascript"),
        ("/static/img/placeholder.svg", "image/svg+xml"),
    ]:
        response = await client.get(path)
        assert response.status == 200, path
        assert kind in response.content_type
