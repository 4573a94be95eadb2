"""The storefront through HTTP on every store: finding things (search box, category
navigation, sorting, pages past the end), availability in words, questions before
destructive actions, and what a visitor's browser is given (no cookie while browsing)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser
from tests.test_pages import create_product, csrf_token, location, page, post_form

ProductBody = Callable[..., dict[str, Any]]


def grid(html: str) -> str:
    """The listing's cards, without the blank card the live script clones."""
    return html.split('id="product-grid"')[1].split("<template")[0]


# ---- no cookie while browsing ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/products",
        "/products?q=mate&sort=price_asc",
        "/products/{pid}",
        "/realtimeproducts",
        "/api/products",
        "/api/categories",
        "/products?page=9",
        "/no/such/page",
    ],
)
async def test_anonymous_browsing_sets_no_cookie(
    client: Client, admin_browser: Client, product_body: ProductBody, path: str
) -> None:
    mate = await create_product(admin_browser, product_body())
    response = await client.get(path.replace("{pid}", mate["_id"]))
    assert response.status in (200, 404)
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/login", "/register"])
async def test_the_login_and_register_forms_set_the_cookie_their_token_needs(
    client: Client, path: str
) -> None:
    response = await client.get(path)
    assert response.status == 200
    assert "shop_session=" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/login", "/register", "/login?next=/orders"])
async def test_a_logged_in_user_opening_login_or_register_goes_on(
    client: Client, auth: Auth, path: str
) -> None:
    await auth.user()
    response = await client.get(path, allow_redirects=False)
    assert location(response) == ("/orders" if "next" in path else "/products")


# ---- finding things ----------------------------------------------------------------------


async def test_every_page_has_the_search_box(client: Client, auth: Auth) -> None:
    await auth.user()
    for path in ("/products", "/realtimeproducts", "/profile", "/orders", "/no/such/page"):
        html = await page(await client.get(path), 404 if path == "/no/such/page" else 200)
        assert re.search(
            r'<form class="site-search" role="search" method="get" action="/products">', html
        )
        assert 'id="site-search" class="search-input" type="search" name="q"' in html


async def test_the_search_box_keeps_the_words_of_a_search(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    await create_product(admin_browser, product_body(title="Azúcar mascabo"))
    await create_product(admin_browser, product_body(title="Café"))
    html = await page(await client.get("/products?q=azucar"))
    assert 'name="q" value="azucar"' in html
    assert "Results for “azucar”" in html
    assert "Azúcar mascabo" in grid(html)
    assert "Café" not in grid(html)
    assert ">1 product</p>" in html


async def test_category_navigation_lists_every_category_not_just_this_pages(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    for category in ("Yerba", "Yerba", "Té", "Café"):
        await create_product(admin_browser, product_body(category=category))
    await create_product(admin_browser, product_body(category="Hidden", status=False))
    html = await page(await client.get("/products?limit=1&sort=price_desc"))
    nav = html.split('<nav class="categories"')[1].split("</nav>")[0]
    links = re.findall(r'href="([^"]+)"[^>]*>([^<]+) <span class="category-count">(\d+)<', nav)
    # Sorted by name, with the counts shoppers see; each link keeps the order and size.
    assert [(name, count) for _, name, count in links] == [
        ("Café", "1"),
        ("Té", "1"),
        ("Yerba", "2"),
    ]
    assert links[0][0] == "/products?sort=price_desc&amp;limit=1&amp;category=Caf%C3%A9"
    assert "Hidden" not in nav
    chosen = await page(await client.get("/products?category=yerba"))
    assert re.search(r'aria-current="page">Yerba <span class="category-count">2<', chosen)


async def test_sorting_works_without_javascript(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    cheap = await create_product(admin_browser, product_body(price=1))
    dear = await create_product(admin_browser, product_body(price=9))
    html = await page(await client.get("/products?sort=price_desc"))
    assert grid(html).index(dear["_id"]) < grid(html).index(cheap["_id"])
    assert '<option value="price_desc" selected>' in html
    # Without JavaScript the form has its button; scripts send it when a choice changes.
    assert '<noscript><button class="button" type="submit">Apply</button></noscript>' in html
    assert '<script src="/static/js/filters.js" defer></script>' in html
    # The course's spelling still sorts, and shows as the same choice.
    assert '<option value="price_asc" selected>' in await page(
        await client.get("/products?sort=asc")
    )


async def test_only_what_can_be_bought_now(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    gone = await create_product(admin_browser, product_body(stock=0))
    there = await create_product(admin_browser, product_body(stock=4))
    html = await page(await client.get("/products?available=true"))
    assert there["_id"] in grid(html)
    assert gone["_id"] not in grid(html)
    assert 'name="available" value="true" checked' in html


async def test_a_page_past_the_end_links_the_last_page(
    client: Client, admin_browser: Client, product_body: ProductBody
) -> None:
    for _ in range(3):
        await create_product(admin_browser, product_body())
    html = await page(await client.get("/products?limit=2&page=99"))
    assert "There is no page 99 here: the last page is 2." in html
    assert 'href="/products?limit=2&amp;page=2">Go to page 2</a>' in html
    assert "Page 99 of 2" not in html
    assert 'id="products-empty" class="empty" hidden' in html
    assert 'data-product-id="' not in grid(html)


async def test_orders_past_the_end_link_the_last_page(client: Client, auth: Auth) -> None:
    await auth.user()
    html = await page(await client.get("/orders?page=4"))
    assert 'href="/orders?page=1">Go to page 1</a>' in html
    assert "You have no orders yet." not in html


# ---- availability -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "state", "words"),
    [
        ({"stock": 100}, "in_stock", "In stock"),
        ({"stock": 5}, "low", "Only 5 left"),
        ({"stock": 1}, "low", "Only 1 left"),
        ({"stock": 0}, "sold_out", "Sold out"),
    ],
)
async def test_cards_say_whether_a_product_can_be_bought(
    client: Client,
    admin_browser: Client,
    product_body: ProductBody,
    fields: dict[str, Any],
    state: str,
    words: str,
) -> None:
    await create_product(admin_browser, product_body(**fields))
    html = await page(await client.get("/products"))
    assert f'<p class="availability" data-availability="{state}">{words}</p>' in grid(html)


async def test_admins_see_counts_and_what_is_off_sale(
    admin_browser: Client, product_body: ProductBody, client: Client
) -> None:
    hidden = await create_product(admin_browser, product_body(status=False))
    await create_product(admin_browser, product_body(stock=120))
    html = await page(await admin_browser.get("/products"))
    assert 'data-availability="in_stock" data-show-count="true">120 in stock</p>' in html
    assert 'data-availability="unavailable" data-show-count="true">Unavailable</p>' in html
    # A shopper's product page still answers, marked.
    detail = await page(await client.get(f"/products/{hidden['_id']}"))
    assert 'data-availability="unavailable">Unavailable</p>' in detail


async def test_the_cart_badge_names_its_count_and_total(
    client: Client, auth: Auth, admin_browser: Client, product_body: ProductBody
) -> None:
    mate = await create_product(admin_browser, product_body(price=10))
    user = await auth.user()
    await client.post(f"/api/carts/{user['cart']}/product/{mate['_id']}", json={"quantity": 3})
    html = await page(await client.get("/products"))
    badge = re.search(r'<a id="cart-badge".*?</a>', html, re.S)
    assert badge is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", badge.group())).strip()
    # Screen readers hear every word; sighted readers see the count and the total.
    assert text == "Cart, 3 items , $30.00"
    assert f'data-products="{mate["_id"]}"' in badge.group()


# ---- asking before destroying --------------------------------------------------------------


async def test_deleting_a_product_asks_first_on_a_page_of_its_own(
    admin_browser: Client, product_body: ProductBody, client: Client
) -> None:
    mate = await create_product(admin_browser, product_body(title="Yerba mate"))
    path = f"/products/{mate['_id']}/delete"
    question = await page(await admin_browser.get(f"{path}?next=/realtimeproducts"))
    assert "<h1>Delete Yerba mate?</h1>" in question
    assert f'action="{path}"' in question
    assert 'href="/realtimeproducts">Keep it</a>' in question
    token = await csrf_token(admin_browser, path)
    response = await post_form(admin_browser, path, {}, token=token)
    assert location(response) == "/realtimeproducts"
    assert "Yerba mate was deleted." in await page(await admin_browser.get("/realtimeproducts"))
    assert (await client.get(f"/api/products/{mate['_id']}")).status == 404


async def test_only_admins_delete_products_from_the_pages(
    client: Client,
    auth: Auth,
    new_browser: NewBrowser,
    admin_browser: Client,
    product_body: ProductBody,
) -> None:
    mate = await create_product(admin_browser, product_body())
    path = f"/products/{mate['_id']}/delete"
    anonymous = await client.get(path, allow_redirects=False)
    assert location(anonymous).startswith("/login?next=")
    await auth.user()
    await page(await client.get(path), 403)
    token = await csrf_token(client, "/profile")
    await page(await post_form(client, path, {}, token=token), 403)
    assert (await client.get(f"/api/products/{mate['_id']}")).status == 200


async def test_deleting_without_the_forms_token_is_refused(
    admin_browser: Client, product_body: ProductBody
) -> None:
    mate = await create_product(admin_browser, product_body())
    path = f"/products/{mate['_id']}/delete"
    await admin_browser.get(path)
    response = await admin_browser.post(path, data={}, allow_redirects=False)
    await page(response, 403)
    assert (await admin_browser.get(f"/api/products/{mate['_id']}")).status == 200
