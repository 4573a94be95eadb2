"""/admin/orders on every store: every order, filtered by status, buyer's email or account,
each order's lines, and the buttons that move it along the workflow (plain forms)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from yarl import URL

from tests.conftest import Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser, success
from tests.test_pages import assert_csp_friendly, csrf_token, location, page, post_form

ROW = re.compile(r'<tr class="order-row" data-order-id="([0-9a-f]{24})">')
ACTION = re.compile(r'<form class="order-action inline-form" [^>]*data-status="(\w+)">')


class Buyers:
    """An admin on `client`, and shoppers on browsers of their own who buy."""

    def __init__(self, admin: Client, new_browser: NewBrowser, product: dict[str, Any]) -> None:
        self.admin = admin
        self.new_browser = new_browser
        self.product = product

    async def shopper(self, **fields: Any) -> tuple[Client, dict[str, Any]]:
        browser = await self.new_browser()
        return browser, await Auth(browser).user(**fields)

    async def buy(self, browser: Client, user: dict[str, Any], quantity: int = 1) -> str:
        cart = f"/api/carts/{user['cart']}"
        await success(
            await browser.post(
                f"{cart}/product/{self.product['_id']}", json={"quantity": quantity}
            )
        )
        response = await browser.post(f"{cart}/purchase")
        return (await success(response, 201))["order"]["_id"]

    async def move(self, oid: str, *statuses: str) -> None:
        for status in statuses:
            await success(await self.admin.put(f"/api/orders/{oid}", json={"status": status}))

    async def order(self, oid: str) -> dict[str, Any]:
        return await success(await self.admin.get(f"/api/orders/{oid}"))


@pytest.fixture
async def buyers(client: Client, auth: Auth, new_browser: NewBrowser, product_body: Any) -> Buyers:
    await auth.admin()
    body = product_body(title="Yerba mate <suave>", code="YER-1", price=12.5, stock=100)
    product = await success(await client.post("/api/products", json=body), 201)
    return Buyers(client, new_browser, product)


def listed(html: str) -> list[str]:
    return ROW.findall(html)


def actions(html: str, oid: str) -> list[str]:
    """The statuses the buttons of the order's row (or page) move it to."""
    start = html.index(f'data-order-id="{oid}"')
    tag = html.rindex("<", 0, start)
    end = html.index("</article>" if html.startswith("<article", tag) else "</tr>", start)
    return ACTION.findall(html[start:end])


# ---- who may see them -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/orders", f"/admin/orders/{MISSING_ID}"])
async def test_the_order_pages_are_for_admins(client: Client, auth: Auth, path: str) -> None:
    response = await client.get(path, allow_redirects=False)
    assert location(response) == f"/login?next={path}"
    await auth.user()
    html = await page(await client.get(path), 403)
    assert "admin only" in html


async def test_a_shopper_cannot_move_an_order_through_the_admin_form(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user)
    token = await csrf_token(browser, "/orders")
    response = await post_form(
        browser, f"/admin/orders/{oid}/status", {"status": "paid"}, token=token
    )
    await page(response, 403)
    assert (await buyers.order(oid))["status"] == "placed"


# ---- the list ---------------------------------------------------------------------------


async def test_the_list_shows_every_order_newest_first_with_its_buyer_and_total(
    buyers: Buyers,
) -> None:
    ana_browser, ana = await buyers.shopper(email="ana@example.com")
    leo_browser, leo = await buyers.shopper(email="leo@example.com")
    first = await buyers.buy(ana_browser, ana, 2)
    second = await buyers.buy(leo_browser, leo, 1)
    html = await page(await buyers.admin.get("/admin/orders"))
    assert listed(html) == [second, first]
    assert "2 orders" in html
    code = (await buyers.order(first))["code"]
    assert f'<a class="order-code" href="/admin/orders/{first}">{code}</a>' in html
    assert (
        '<a class="buyer-link" href="/admin/orders?buyer=ana%40example.com">'
        "ana<wbr>@example.com</a>" in html
    )
    assert '<span class="price order-amount">$25.00</span>' in html
    assert '<span class="order-items">2</span>' in html


async def test_each_order_offers_only_the_moves_its_status_allows(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    placed, paid, shipped, delivered, cancelled = [
        await buyers.buy(browser, user) for _ in range(5)
    ]
    await buyers.move(paid, "paid")
    await buyers.move(shipped, "paid", "shipped")
    await buyers.move(delivered, "paid", "shipped", "delivered")
    await buyers.move(cancelled, "cancelled")
    html = await page(await buyers.admin.get("/admin/orders"))
    assert actions(html, placed) == ["paid", "cancelled"]
    assert actions(html, paid) == ["shipped", "cancelled"]
    assert actions(html, shipped) == ["delivered"]
    assert actions(html, delivered) == []
    assert actions(html, cancelled) == []


async def test_the_list_filters_by_status(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    placed = await buyers.buy(browser, user)
    paid = await buyers.buy(browser, user)
    await buyers.move(paid, "paid")
    assert listed(await page(await buyers.admin.get("/admin/orders?status=paid"))) == [paid]
    html = await page(await buyers.admin.get("/admin/orders?status=placed"))
    assert listed(html) == [placed]
    assert '<option value="placed" selected>' in html
    html = await page(await buyers.admin.get("/admin/orders?status=shipped"))
    assert listed(html) == []
    assert "No order matches these filters." in html


async def test_the_list_filters_by_the_buyers_email_whatever_its_case(buyers: Buyers) -> None:
    ana_browser, ana = await buyers.shopper(email="ana@example.com")
    leo_browser, leo = await buyers.shopper(email="leo@example.com")
    ana_order = await buyers.buy(ana_browser, ana)
    await buyers.buy(leo_browser, leo)
    html = await page(await buyers.admin.get("/admin/orders?buyer=ANA@Example.com"))
    assert listed(html) == [ana_order]
    assert 'value="ana@example.com"' in html
    assert listed(await page(await buyers.admin.get("/admin/orders?buyer=nobody@x.com"))) == []


async def test_the_users_page_links_a_users_orders_by_id(buyers: Buyers) -> None:
    ana_browser, ana = await buyers.shopper(email="ana@example.com")
    leo_browser, leo = await buyers.shopper()
    ana_order = await buyers.buy(ana_browser, ana)
    await buyers.buy(leo_browser, leo)
    html = await page(await buyers.admin.get(f"/admin/orders?user={ana['_id']}"))
    assert listed(html) == [ana_order]
    assert "Orders of the account ana@example.com." in html
    # The filters keep the account when the status changes.
    assert f'<input type="hidden" name="user" value="{ana["_id"]}">' in html
    html = await page(await buyers.admin.get(f"/admin/orders?user={ana['_id']}&status=paid"))
    assert listed(html) == []


async def test_a_deleted_accounts_orders_are_still_listed_and_shown(buyers: Buyers) -> None:
    browser, user = await buyers.shopper(email="gone@example.com")
    oid = await buyers.buy(browser, user)
    await success(await buyers.admin.delete(f"/api/users/{user['_id']}"))
    html = await page(await buyers.admin.get(f"/admin/orders?user={user['_id']}"))
    assert listed(html) == [oid]
    assert f"Orders of the account {user['_id']}." in html
    html = await page(await buyers.admin.get(f"/admin/orders/{oid}"))
    assert "account deleted" in html
    assert "gone@example.com" in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("user=nope", "user"),
        ("page=0", "page"),
        ("colour=red", "colour"),
    ],
)
async def test_bad_filters_are_a_400_page_naming_them(
    buyers: Buyers, query: str, field: str
) -> None:
    html = await page(await buyers.admin.get(f"/admin/orders?{query}"), 400)
    assert field in html


async def test_the_list_pages_twenty_at_a_time_keeping_its_filters(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    oids = [await buyers.buy(browser, user) for _ in range(21)]
    html = await page(await buyers.admin.get("/admin/orders?status=placed"))
    assert listed(html) == oids[::-1][:20]
    assert 'href="/admin/orders?status=placed&amp;page=2"' in html
    second = await page(await buyers.admin.get("/admin/orders?status=placed&page=2"))
    assert listed(second) == [oids[0]]


async def test_no_orders_yet_says_they_will_appear(buyers: Buyers) -> None:
    html = await page(await buyers.admin.get("/admin/orders"))
    assert "No orders yet: they appear here as shoppers buy." in html
    assert listed(html) == []


# ---- one order ----------------------------------------------------------------------------


async def test_an_orders_page_shows_its_lines_buyer_and_total(buyers: Buyers) -> None:
    browser, user = await buyers.shopper(email="ana@example.com", first_name="Ana")
    oid = await buyers.buy(browser, user, 3)
    html = await page(await buyers.admin.get(f"/admin/orders/{oid}"))
    order = await buyers.order(oid)
    assert f'<span class="order-code">{order["code"]}</span>' in html
    assert "Yerba mate &lt;suave&gt;" in html  # escaped
    assert f'href="/products/{buyers.product["_id"]}"' in html
    assert "YER-1" in html
    assert '<span id="order-total" class="price">$37.50</span>' in html
    assert 'href="/admin/orders?buyer=ana%40example.com">ana@example.com</a> · Ana García' in html
    assert f'href="/admin/orders?user={user["_id"]}"' in html
    assert actions(html, oid) == ["paid", "cancelled"]


async def test_an_unknown_order_is_404_and_a_malformed_id_400(buyers: Buyers) -> None:
    await page(await buyers.admin.get(f"/admin/orders/{MISSING_ID}"), 404)
    await page(await buyers.admin.get("/admin/orders/nope"), 400)


# ---- moving an order -----------------------------------------------------------------------


async def test_a_button_moves_the_order_and_comes_back_to_the_page_it_was_on(
    buyers: Buyers,
) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user)
    back = "/admin/orders?status=placed&page=1"
    token = await csrf_token(buyers.admin, back)
    response = await post_form(
        buyers.admin, f"/admin/orders/{oid}/status", {"status": "paid", "next": back}, token=token
    )
    assert location(response) == back
    assert (await buyers.order(oid))["status"] == "paid"
    html = await page(await buyers.admin.get(back))
    assert ": Paid." in html
    html = await page(await buyers.admin.get(f"/admin/orders/{oid}"))
    assert 'data-status="paid">Paid</span>' in html
    assert actions(html, oid) == ["shipped", "cancelled"]


async def test_cancelling_from_the_back_office_returns_the_stock(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user, 4)
    token = await csrf_token(buyers.admin, f"/admin/orders/{oid}")
    response = await post_form(
        buyers.admin, f"/admin/orders/{oid}/status", {"status": "cancelled"}, token=token
    )
    assert location(response) == f"/admin/orders/{oid}"
    product = await success(await buyers.admin.get(f"/api/products/{buyers.product['_id']}"))
    assert product["stock"] == 100


async def test_a_move_the_status_no_longer_allows_is_explained_and_changes_nothing(
    buyers: Buyers,
) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user)
    token = await csrf_token(buyers.admin, f"/admin/orders/{oid}")
    # The page was drawn while it was placed; meanwhile it was cancelled elsewhere.
    await buyers.move(oid, "cancelled")
    response = await post_form(
        buyers.admin, f"/admin/orders/{oid}/status", {"status": "paid"}, token=token
    )
    html = await page(await buyers.admin.get(location(response)))
    assert "an order that is cancelled cannot become paid" in html
    assert (await buyers.order(oid))["status"] == "cancelled"


async def test_the_status_form_needs_its_csrf_token_and_a_local_way_back(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user)
    response = await buyers.admin.post(
        f"/admin/orders/{oid}/status", data={"status": "paid"}, allow_redirects=False
    )
    await page(response, 403)
    assert (await buyers.order(oid))["status"] == "placed"
    token = await csrf_token(buyers.admin, "/admin/orders")
    response = await post_form(
        buyers.admin,
        f"/admin/orders/{oid}/status",
        {"status": "paid", "next": "//evil.example/x"},
        token=token,
    )
    assert location(response) == f"/admin/orders/{oid}"


async def test_an_anonymous_status_post_goes_to_log_in_and_back_to_the_order(
    buyers: Buyers, new_browser: NewBrowser
) -> None:
    anonymous = await new_browser()
    response = await anonymous.post(
        f"/admin/orders/{MISSING_ID}/status", data={"status": "paid"}, allow_redirects=False
    )
    assert URL(location(response)).query["next"] == f"/admin/orders/{MISSING_ID}"


async def test_the_order_pages_keep_to_the_csp(buyers: Buyers) -> None:
    browser, user = await buyers.shopper()
    oid = await buyers.buy(browser, user)
    for path in ("/admin/orders", f"/admin/orders/{oid}"):
        response = await buyers.admin.get(path)
        assert_csp_friendly(response, await page(response))
    assert (await buyers.admin.get("/static/js/admin-orders.js")).status == 200
