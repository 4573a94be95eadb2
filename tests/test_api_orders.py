"""Checkout and /api/orders on every store: what a purchase buys and answers, its refusals,
Idempotency-Keys, the order workflow and who may read or move an order."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from aiohttp import ClientResponse

from shop.keys import STORE
from tests.conftest import Auth, Client
from tests.envelopes import LISTING_KEYS, MISSING_ID, NewBrowser, error, error_with, success
from tests.test_api_carts import Shop as CartShop

ProductBody = Callable[..., dict[str, Any]]

ORDER_KEYS = {
    "_id",
    "code",
    "purchase_datetime",
    "amount",
    "purchaser",
    "user",
    "status",
    "lines",
}


class Shop(CartShop):
    """The buyer and the admin of the cart tests, who also buy and read orders."""

    async def change(self, pid: str, **fields: Any) -> None:
        await success(await self.admin.put(f"/api/products/{pid}", json=fields))

    async def add(self, pid: str, quantity: int = 1) -> dict[str, Any]:
        response = await self.client.post(
            f"{self.cart}/product/{pid}", json={"quantity": quantity}
        )
        return await success(response)

    async def buy(
        self, body: Any = None, key: str | None = None, cart: str | None = None
    ) -> ClientResponse:
        headers = {"Idempotency-Key": key} if key is not None else {}
        return await self.client.post(f"{cart or self.cart}/purchase", json=body, headers=headers)

    async def bought(self, body: Any = None, key: str | None = None) -> dict[str, Any]:
        return await success(await self.buy(body, key), 201)

    async def stock(self, pid: str) -> int:
        return (await success(await self.client.get(f"/api/products/{pid}")))["stock"]

    async def orders(self, client: Client | None = None, query: str = "") -> dict[str, Any]:
        response = await (client or self.client).get(f"/api/orders{query}")
        assert response.status == 200, await response.text()
        return await response.json()


@pytest.fixture
async def shop(client: Client, auth: Auth, new_browser: NewBrowser) -> Shop:
    admin = Auth(await new_browser())
    await admin.admin()
    return Shop(client, admin.client, await auth.user())


@pytest.fixture
async def mate(shop: Shop, product_body: ProductBody) -> dict[str, Any]:
    """Yerba mate at 12.50, 5 in stock."""
    return await shop.product(product_body(title="Yerba mate", price=12.5, stock=5))


async def placed_order(shop: Shop, mate: dict[str, Any], quantity: int = 2) -> dict[str, Any]:
    await shop.add(mate["_id"], quantity)
    return (await shop.bought())["order"]


# ---- buying ----------------------------------------------------------------------------------


async def test_purchase_answers_the_order_and_takes_the_stock(
    shop: Shop, mate: dict[str, Any]
) -> None:
    assert await shop.stock(mate["_id"]) == 5  # read once, so a cache would hold it
    await shop.add(mate["_id"], 2)
    payload = await shop.bought()
    assert payload.keys() == {"order", "unfilled", "cart"}
    order = payload["order"]
    assert order.keys() == ORDER_KEYS
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", order["code"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", order["purchase_datetime"])
    assert abs(datetime.fromisoformat(order["purchase_datetime"]).timestamp() - time.time()) < 60
    assert order["amount"] == 25.0
    assert order["purchaser"] == shop.user["email"]
    assert order["user"] == shop.user["_id"]
    assert order["status"] == "placed"
    assert order["lines"] == [
        {
            "product": mate["_id"],
            "title": "Yerba mate",
            "code": mate["code"],
            "price": 12.5,
            "quantity": 2,
            "subtotal": 25.0,
        }
    ]
    assert payload["unfilled"] == []
    assert payload["cart"]["_id"] == shop.user["cart"]
    assert payload["cart"]["products"] == []
    assert await shop.stock(mate["_id"]) == 3
    assert await shop.lines() == []


async def test_order_is_readable_after_the_purchase(shop: Shop, mate: dict[str, Any]) -> None:
    order = await placed_order(shop, mate)
    assert await success(await shop.client.get(f"/api/orders/{order['_id']}")) == order


async def test_lines_that_cannot_be_filled_stay_in_the_cart_unchanged(
    shop: Shop, product_body: ProductBody
) -> None:
    plenty = await shop.product(product_body(title="Plenty", price=1, stock=10))
    scarce = await shop.product(product_body(title="Scarce", price=2, stock=10))
    hidden = await shop.product(product_body(title="Hidden", price=3, stock=10))
    await shop.add(plenty["_id"], 2)
    await shop.add(scarce["_id"], 4)
    await shop.add(hidden["_id"], 1)
    await shop.change(scarce["_id"], stock=3)
    await shop.change(hidden["_id"], status=False)

    payload = await shop.bought()
    assert [(line["product"], line["quantity"]) for line in payload["order"]["lines"]] == [
        (plenty["_id"], 2)
    ]
    assert payload["order"]["amount"] == 2.0
    assert payload["unfilled"] == [
        {"product": scarce["_id"], "requested": 4, "available": 3, "reason": "out_of_stock"},
        {"product": hidden["_id"], "requested": 1, "available": 0, "reason": "unavailable"},
    ]
    assert [line["product"]["_id"] for line in payload["cart"]["products"]] == [
        scarce["_id"],
        hidden["_id"],
    ]
    assert await shop.lines() == [(scarce["_id"], 4), (hidden["_id"], 1)]
    assert [await shop.stock(p["_id"]) for p in (plenty, scarce, hidden)] == [8, 3, 10]


async def test_purchase_of_an_empty_cart_is_400(shop: Shop) -> None:
    await error(await shop.buy(), 400, "cart")


async def test_cart_where_nothing_can_be_filled_is_409_with_unfilled_and_changes_nothing(
    shop: Shop, mate: dict[str, Any]
) -> None:
    await shop.add(mate["_id"], 4)
    await shop.change(mate["_id"], stock=3)
    body = await error_with(await shop.buy(), 409, "unfilled")
    assert body["unfilled"] == [
        {"product": mate["_id"], "requested": 4, "available": 3, "reason": "out_of_stock"}
    ]
    assert await shop.lines() == [(mate["_id"], 4)]
    assert await shop.stock(mate["_id"]) == 3
    assert (await shop.orders())["payload"] == []


async def test_a_tenth_and_a_fifth_cost_exactly_three_tenths(
    shop: Shop, product_body: ProductBody
) -> None:
    for price in (0.1, 0.2):
        await shop.add((await shop.product(product_body(price=price)))["_id"])
    cart = await success(await shop.client.get(shop.cart))
    assert cart["purchasable_total"] == 0.3
    payload = await shop.bought({"expected_total": 0.3})
    assert payload["order"]["amount"] == 0.3
    assert [line["subtotal"] for line in payload["order"]["lines"]] == [0.1, 0.2]


async def test_expected_total_that_differs_is_409_with_the_total_and_changes_nothing(
    shop: Shop, mate: dict[str, Any]
) -> None:
    await shop.add(mate["_id"], 2)
    await shop.change(mate["_id"], price=13)
    body = await error_with(await shop.buy({"expected_total": 25}), 409, "total")
    assert body["total"] == 26.0
    assert "expected_total" in body["error"]
    assert await shop.lines() == [(mate["_id"], 2)]
    assert await shop.stock(mate["_id"]) == 5
    payload = await shop.bought({"expected_total": 26})
    assert payload["order"]["amount"] == 26.0


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"expected_total": 12.505}, "expected_total"),
        ({"expected_total": "25"}, "expected_total"),
        ({"expected_total": True}, "expected_total"),
        ({"expected_total": {"$gt": 0}}, "expected_total"),
        ({"total": 25}, "total"),
        ([], "body"),
    ],
)
async def test_invalid_purchase_body_is_400_naming_the_field(
    shop: Shop, mate: dict[str, Any], body: Any, name: str
) -> None:
    await shop.add(mate["_id"])
    await error(await shop.buy(body), 400, name)
    assert await shop.stock(mate["_id"]) == 5


async def test_purchase_with_a_form_body_is_415(shop: Shop, mate: dict[str, Any]) -> None:
    await shop.add(mate["_id"])
    response = await shop.client.post(f"{shop.cart}/purchase", data={"expected_total": "12.5"})
    await error(response, 415)
    assert await shop.lines() == [(mate["_id"], 1)]


async def test_purchase_of_an_unknown_cart_is_404(shop: Shop) -> None:
    await error(await shop.buy(cart=f"/api/carts/{MISSING_ID}"), 404, MISSING_ID)


async def test_purchase_with_a_malformed_cart_id_is_400(shop: Shop) -> None:
    await error(await shop.buy(cart="/api/carts/not-an-id"), 400, "cid")


async def test_anonymous_purchase_is_401(client: Client, shop: Shop, mate: dict[str, Any]) -> None:
    await shop.add(mate["_id"])
    await Auth(client).logout()
    await error(await shop.buy(), 401)


async def test_nobody_buys_another_users_cart_not_even_an_admin(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    await shop.add(mate["_id"])
    stranger = await new_browser()
    await Auth(stranger).user()
    for intruder in (stranger, shop.admin):
        response = await intruder.post(f"{shop.cart}/purchase")
        message = await error(response, 403)
        assert mate["title"] not in message
    assert await shop.lines() == [(mate["_id"], 1)]
    assert await shop.stock(mate["_id"]) == 5


# ---- the cart before buying ------------------------------------------------------------------


async def test_cart_shows_what_can_be_bought_and_why_not(
    shop: Shop, product_body: ProductBody
) -> None:
    ok = await shop.product(product_body(price=2, stock=5))
    scarce = await shop.product(product_body(price=3, stock=5))
    hidden = await shop.product(product_body(price=4, stock=5))
    for product in (ok, scarce, hidden):
        await shop.add(product["_id"], 2)
    await shop.change(scarce["_id"], stock=1)
    await shop.change(hidden["_id"], status=False)
    cart = await success(await shop.client.get(shop.cart))
    assert cart["total"] == 18.0
    assert cart["purchasable_total"] == 4.0
    lines = {line["product"]["_id"]: line for line in cart["products"]}
    assert lines[ok["_id"]]["available"] == 5
    assert "problem" not in lines[ok["_id"]]
    assert (lines[scarce["_id"]]["available"], lines[scarce["_id"]]["problem"]) == (
        1,
        "out_of_stock",
    )
    assert (lines[hidden["_id"]]["available"], lines[hidden["_id"]]["problem"]) == (
        0,
        "unavailable",
    )


# ---- Idempotency-Key -------------------------------------------------------------------------


async def test_retry_with_the_same_key_answers_the_same_and_buys_once(
    shop: Shop, mate: dict[str, Any]
) -> None:
    await shop.add(mate["_id"], 2)
    first = await shop.buy(key="order-1")
    assert first.status == 201
    await shop.add(mate["_id"], 1)  # the cart changes; the retry still answers the first
    again = await shop.buy(key="order-1")
    assert again.status == 201
    assert await again.json() == await first.json()
    assert await shop.stock(mate["_id"]) == 3
    assert len((await shop.orders())["payload"]) == 1
    assert await shop.lines() == [(mate["_id"], 1)]


async def test_retry_of_a_refusal_answers_the_same_refusal(
    shop: Shop, mate: dict[str, Any]
) -> None:
    first = await shop.buy(key="empty-cart")
    body = await error_with(first, 400, "fields")
    await shop.add(mate["_id"])
    again = await shop.buy(key="empty-cart")
    assert await error_with(again, 400, "fields") == body
    assert await shop.lines() == [(mate["_id"], 1)]


async def test_same_key_with_another_body_is_422(shop: Shop, mate: dict[str, Any]) -> None:
    await shop.add(mate["_id"], 2)
    await shop.bought({"expected_total": 25}, key="k")
    await shop.add(mate["_id"], 1)
    await error(await shop.buy({"expected_total": 12.5}, key="k"), 422, "Idempotency-Key")
    await error(await shop.buy(key="k"), 422, "Idempotency-Key")
    assert await shop.lines() == [(mate["_id"], 1)]


async def test_same_key_with_another_cart_is_422(shop: Shop, mate: dict[str, Any]) -> None:
    await shop.add(mate["_id"], 1)
    await shop.bought(key="k")
    other = await success(await shop.client.post("/api/carts"), 201)
    await success(await shop.client.post(f"/api/carts/{other['_id']}/product/{mate['_id']}"))
    await error(await shop.buy(key="k", cart=f"/api/carts/{other['_id']}"), 422)
    assert await shop.stock(mate["_id"]) == 4


async def test_keys_belong_to_the_user_who_sent_them(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    await shop.add(mate["_id"], 1)
    mine = await shop.bought(key="shared-key")
    other = await new_browser()
    them = await Auth(other).user()
    cart = f"/api/carts/{them['cart']}"
    await success(await other.post(f"{cart}/product/{mate['_id']}", json={"quantity": 2}))
    response = await other.post(f"{cart}/purchase", headers={"Idempotency-Key": "shared-key"})
    theirs = await success(response, 201)
    assert theirs["order"]["_id"] != mine["order"]["_id"]
    assert theirs["order"]["user"] == them["_id"]
    assert await shop.stock(mate["_id"]) == 2


@pytest.mark.parametrize("key", ["", " ", "a b", "x" * 256, "tab\there", "ñandú"])
async def test_malformed_idempotency_key_is_400(
    shop: Shop, mate: dict[str, Any], key: str
) -> None:
    await shop.add(mate["_id"])
    await error(await shop.buy(key=key), 400, "Idempotency-Key")
    assert await shop.stock(mate["_id"]) == 5


async def test_longest_key_and_every_visible_character_are_accepted(
    shop: Shop, mate: dict[str, Any]
) -> None:
    await shop.add(mate["_id"])
    await shop.bought(key="k" * 255)
    await shop.add(mate["_id"])
    await shop.bought(key="".join(chr(c) for c in range(0x21, 0x7F)))
    assert await shop.stock(mate["_id"]) == 3


async def test_keys_are_kept_a_day_then_forgotten(
    client: Client, shop: Shop, mate: dict[str, Any]
) -> None:
    await shop.add(mate["_id"])
    first = await shop.bought(key="daily")
    orders = client.app[STORE].orders
    assert await orders.purge_keys(time.time() - 24 * 3600) == 0
    await shop.add(mate["_id"])
    assert await shop.bought(key="daily") == first
    assert await orders.purge_keys(time.time() + 1) == 1
    again = await shop.bought(key="daily")
    assert again["order"]["_id"] != first["order"]["_id"]


# ---- listing and reading orders --------------------------------------------------------------


async def test_orders_list_is_the_users_own_newest_first_with_the_listing_envelope(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    first = await placed_order(shop, mate, 1)
    second = await placed_order(shop, mate, 1)
    other = await new_browser()
    them = await Auth(other).user()
    await success(await other.post(f"/api/carts/{them['cart']}/product/{mate['_id']}"))
    await success(await other.post(f"/api/carts/{them['cart']}/purchase"), 201)

    listing = await shop.orders()
    assert listing.keys() == LISTING_KEYS
    assert listing["payload"] == [second, first]
    assert listing["totalPages"] == 1

    page = await shop.orders(query="?limit=1&page=2")
    assert page["payload"] == [first]
    assert (page["page"], page["totalPages"], page["hasPrevPage"], page["hasNextPage"]) == (
        2,
        2,
        True,
        False,
    )
    assert page["prevLink"] == "/api/orders?limit=1&page=1"


async def test_orders_filter_by_status(shop: Shop, mate: dict[str, Any]) -> None:
    kept = await placed_order(shop, mate, 1)
    dropped = await placed_order(shop, mate, 1)
    await success(
        await shop.client.put(f"/api/orders/{dropped['_id']}", json={"status": "cancelled"})
    )
    placed = await shop.orders(query="?status=placed")
    assert [order["_id"] for order in placed["payload"]] == [kept["_id"]]
    cancelled = await shop.orders(query="?status=cancelled")
    assert [order["_id"] for order in cancelled["payload"]] == [dropped["_id"]]


async def test_admin_lists_every_order_and_may_filter_by_user(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    mine = await placed_order(shop, mate, 1)
    other = await new_browser()
    them = await Auth(other).user()
    await success(await other.post(f"/api/carts/{them['cart']}/product/{mate['_id']}"))
    theirs = (await success(await other.post(f"/api/carts/{them['cart']}/purchase"), 201))["order"]

    everyone = await shop.orders(shop.admin)
    assert [order["_id"] for order in everyone["payload"]] == [theirs["_id"], mine["_id"]]
    filtered = await shop.orders(shop.admin, f"?user={shop.user['_id']}")
    assert [order["_id"] for order in filtered["payload"]] == [mine["_id"]]


async def test_user_filter_on_someone_else_is_403(shop: Shop, mate: dict[str, Any]) -> None:
    await placed_order(shop, mate, 1)
    admin_id = (await success(await shop.admin.get("/api/sessions/current")))["_id"]
    await error(await shop.client.get(f"/api/orders?user={admin_id}"), 403, "user")
    own = await shop.orders(query=f"?user={shop.user['_id']}")
    assert len(own["payload"]) == 1


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("?status=lost", "status"),
        ("?status=PLACED", "status"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?page=0", "page"),
        ("?user=nope", "user"),
        ("?sort=asc", "sort"),
        ("?status=placed&status=paid", "status"),
    ],
)
async def test_invalid_orders_query_is_400(shop: Shop, query: str, name: str) -> None:
    await error(await shop.client.get(f"/api/orders{query}"), 400, name)


async def test_another_users_order_is_403_and_unknown_is_404(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    order = await placed_order(shop, mate)
    stranger = await new_browser()
    await Auth(stranger).user()
    message = await error(await stranger.get(f"/api/orders/{order['_id']}"), 403)
    assert shop.user["email"] not in message
    await error(await shop.client.get(f"/api/orders/{MISSING_ID}"), 404, MISSING_ID)
    await error(await shop.client.get("/api/orders/123"), 400, "oid")
    assert await success(await shop.admin.get(f"/api/orders/{order['_id']}")) == order


# ---- the status workflow ---------------------------------------------------------------------


async def set_status(client: Client, oid: str, status: Any) -> ClientResponse:
    return await client.put(f"/api/orders/{oid}", json={"status": status})


async def test_owner_cancels_a_placed_order_and_gets_the_stock_back(
    shop: Shop, mate: dict[str, Any]
) -> None:
    order = await placed_order(shop, mate, 2)
    assert await shop.stock(mate["_id"]) == 3
    cancelled = await success(await set_status(shop.client, order["_id"], "cancelled"))
    assert cancelled == {**order, "status": "cancelled"}
    assert await shop.stock(mate["_id"]) == 5
    # A second cancel is refused and returns nothing more.
    await error(await set_status(shop.client, order["_id"], "cancelled"), 403, "cancelled")
    assert await shop.stock(mate["_id"]) == 5


@pytest.mark.parametrize("status", ["paid", "shipped", "delivered", "placed"])
async def test_owner_may_not_move_an_order_except_to_cancel_it(
    shop: Shop, mate: dict[str, Any], status: str
) -> None:
    order = await placed_order(shop, mate)
    await error(await set_status(shop.client, order["_id"], status), 403, "status")
    current = await success(await shop.client.get(f"/api/orders/{order['_id']}"))
    assert current["status"] == "placed"


async def test_owner_may_not_cancel_a_paid_order(shop: Shop, mate: dict[str, Any]) -> None:
    order = await placed_order(shop, mate)
    await success(await set_status(shop.admin, order["_id"], "paid"))
    await error(await set_status(shop.client, order["_id"], "cancelled"), 403, "paid")
    assert await shop.stock(mate["_id"]) == 3


async def test_admin_moves_an_order_through_the_workflow(shop: Shop, mate: dict[str, Any]) -> None:
    order = await placed_order(shop, mate)
    for status in ("paid", "shipped", "delivered"):
        moved = await success(await set_status(shop.admin, order["_id"], status))
        assert moved["status"] == status
    await error(await set_status(shop.admin, order["_id"], "cancelled"), 409, "delivered")
    assert await shop.stock(mate["_id"]) == 3


async def test_admin_cancels_a_paid_order_and_the_stock_comes_back(
    shop: Shop, mate: dict[str, Any]
) -> None:
    order = await placed_order(shop, mate)
    await success(await set_status(shop.admin, order["_id"], "paid"))
    await success(await set_status(shop.admin, order["_id"], "cancelled"))
    assert await shop.stock(mate["_id"]) == 5


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ((), "shipped"),
        ((), "delivered"),
        ((), "placed"),
        (("paid",), "placed"),
        (("paid",), "delivered"),
        (("paid", "shipped"), "cancelled"),
        (("cancelled",), "paid"),
    ],
)
async def test_admin_transition_off_the_workflow_is_409(
    shop: Shop, mate: dict[str, Any], path: tuple[str, ...], to: str
) -> None:
    order = await placed_order(shop, mate)
    for status in path:
        await success(await set_status(shop.admin, order["_id"], status))
    await error(await set_status(shop.admin, order["_id"], to), 409, "status")
    current = await success(await shop.admin.get(f"/api/orders/{order['_id']}"))
    assert current["status"] == (path[-1] if path else "placed")


@pytest.mark.parametrize(
    "body", [{"status": "lost"}, {"status": 1}, {}, {"status": "paid", "x": 1}]
)
async def test_invalid_status_body_is_400(shop: Shop, mate: dict[str, Any], body: Any) -> None:
    order = await placed_order(shop, mate)
    response = await shop.admin.put(f"/api/orders/{order['_id']}", json=body)
    await error(response, 400)


async def test_status_change_of_an_unknown_or_foreign_order(
    shop: Shop, mate: dict[str, Any], new_browser: NewBrowser
) -> None:
    order = await placed_order(shop, mate)
    await error(await set_status(shop.admin, MISSING_ID, "paid"), 404, MISSING_ID)
    stranger = await new_browser()
    await Auth(stranger).user()
    await error(await set_status(stranger, order["_id"], "cancelled"), 403)
    assert await shop.stock(mate["_id"]) == 3


# ---- orders keep their history ---------------------------------------------------------------


async def test_order_outlives_its_buyers_account(shop: Shop, mate: dict[str, Any]) -> None:
    order = await placed_order(shop, mate)
    await success(await shop.client.delete(f"/api/users/{shop.user['_id']}"))
    assert await success(await shop.admin.get(f"/api/orders/{order['_id']}")) == order
    listing = await shop.orders(shop.admin, f"?user={shop.user['_id']}")
    assert listing["payload"] == [order]
