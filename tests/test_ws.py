"""GET /ws on every store: who receives which events, the client's messages, and refusals.

Nothing here sleeps to wait for an event: each test awaits the next message with a timeout.
"No message" is shown with a sentinel: a later event that everyone receives must be the
next message.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import (
    ClientResponse,
    ClientWebSocketResponse,
    WSCloseCode,
    WSMsgType,
    WSServerHandshakeError,
)

from shop import realtime
from shop.keys import HUB
from shop.realtime import SESSION_ENDED, Hub
from shop.realtime import subscriber as subscriber_module
from shop.routes import ws as ws_route
from shop.routes.ws import BURST, MAX_MESSAGE
from tests.conftest import PASSWORD, Auth, Client
from tests.envelopes import MISSING_ID, NewBrowser

TIMEOUT = 5.0

ProductBody = Callable[..., dict[str, Any]]
Socket = ClientWebSocketResponse
Connect = Callable[[Client], Awaitable[tuple[Socket, dict[str, Any]]]]


def own_origin(client: Client) -> str:
    return str(client.make_url("/").origin())


async def next_event(ws: Socket) -> dict[str, Any]:
    return await ws.receive_json(timeout=TIMEOUT)


async def ask(ws: Socket, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send_json(message)
    return await next_event(ws)


async def answer_and_event(
    ws: Socket, message: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send an action; its `ack` and the event it caused, whichever came first."""
    first = await ask(ws, message)
    second = await next_event(ws)
    ack, event = (first, second) if first["type"] == "ack" else (second, first)
    assert ack["type"] == "ack", (first, second)
    return ack, event


async def closed_with(ws: Socket) -> tuple[int, str]:
    """The next message must be the server's close: its code and reason."""
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type is WSMsgType.CLOSE, msg
    return msg.data, msg.extra


async def success(response: Awaitable[ClientResponse], status: int = 200) -> Any:
    answer = await response
    assert answer.status == status, await answer.text()
    return (await answer.json())["payload"]


async def create_product(admin: Client, body: dict[str, Any]) -> dict[str, Any]:
    return await success(admin.post("/api/products", json=body), 201)


@pytest.fixture
async def connect(client: Client, new_browser: NewBrowser) -> AsyncIterator[Connect]:
    """Opens a socket the way the shop's own pages do; returns it and its hello.

    Every socket is closed before the browsers it was opened from.
    """
    opened: list[Socket] = []

    async def open_socket(browser: Client) -> tuple[Socket, dict[str, Any]]:
        ws = await browser.ws_connect("/ws", origin=own_origin(browser))
        opened.append(ws)
        hello = await next_event(ws)
        assert hello["type"] == "hello"
        return ws, hello

    yield open_socket
    for ws in opened:
        await ws.close()


@pytest.fixture
def removed(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Set once a websocket handler has called Hub.remove (in its `finally`)."""
    event = asyncio.Event()
    remove = Hub.remove

    async def remove_and_tell(self: Hub, subscriber: realtime.Subscriber) -> None:
        # The test server cancels the handler of a lost connection (production does not),
        # which can interrupt remove() after it has detached the socket.
        try:
            await remove(self, subscriber)
        finally:
            event.set()

    monkeypatch.setattr(Hub, "remove", remove_and_tell)
    return event


@pytest.fixture
async def admin(new_browser: NewBrowser) -> Client:
    """A browser with an admin logged in."""
    browser = await new_browser()
    await Auth(browser).admin()
    return browser


@pytest.fixture
async def pid(admin: Client, product_body: ProductBody) -> str:
    return (await create_product(admin, product_body()))["_id"]


# ---- the handshake ---------------------------------------------------------------------


async def test_anonymous_socket_gets_hello_then_product_created(
    client: Client, admin: Client, product_body: ProductBody, connect: Connect
) -> None:
    ws, hello = await connect(client)
    assert hello == {"type": "hello", "user": None, "topics": ["products"]}
    product = await create_product(admin, product_body(title="Yerba mate"))
    assert await next_event(ws) == {"type": "product.created", "product": product}


async def test_socket_with_a_session_follows_products_its_cart_and_its_orders(
    client: Client, auth: Auth, connect: Connect
) -> None:
    user = await auth.user()
    _, hello = await connect(client)
    topics = ["products", "cart", "orders"]
    assert hello == {"type": "hello", "user": user["_id"], "topics": topics}


async def test_handshake_from_a_foreign_origin_is_refused_with_403(
    client: Client, auth: Auth
) -> None:
    await auth.user()  # the cookie a hijacking page would ride on
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin="https://evil.example")
    assert refused.value.status == 403


async def test_server_declines_per_message_compression(client: Client) -> None:
    ws = await client.ws_connect("/ws", origin=own_origin(client), compress=15)
    assert (await next_event(ws))["type"] == "hello"
    assert ws.compress == 0


async def test_peer_that_does_not_answer_heartbeats_is_dropped(
    client: Client, monkeypatch: pytest.MonkeyPatch, removed: asyncio.Event
) -> None:
    monkeypatch.setattr(ws_route, "HEARTBEAT", 0.2)
    ws = await client.ws_connect("/ws", origin=own_origin(client), autoping=False)
    while (msg := await ws.receive(timeout=TIMEOUT)).type in {WSMsgType.TEXT, WSMsgType.PING}:
        pass  # the hello, then pings this peer never answers
    assert msg.type in {WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR}
    await asyncio.wait_for(removed.wait(), TIMEOUT)
    assert len(client.app[HUB]) == 0


async def test_plain_get_without_upgrade_is_a_400(client: Client) -> None:
    response = await client.get("/ws")
    assert response.status == 400


# ---- product events --------------------------------------------------------------------


async def test_product_updates_and_deletions_reach_an_anonymous_socket(
    client: Client, admin: Client, pid: str, connect: Connect
) -> None:
    ws, _ = await connect(client)
    updated = await success(admin.put(f"/api/products/{pid}", json={"price": 9.5}))
    assert await next_event(ws) == {"type": "product.updated", "product": updated}
    await success(admin.delete(f"/api/products/{pid}"))
    assert await next_event(ws) == {"type": "product.deleted", "product": {"_id": pid}}


async def test_markup_in_a_title_travels_as_plain_json_text(
    client: Client, admin: Client, product_body: ProductBody, connect: Connect
) -> None:
    ws, _ = await connect(client)
    title = '<script>alert("x")</script> & <b>bold</b>'
    await create_product(admin, product_body(title=title))
    msg = await ws.receive(timeout=TIMEOUT)
    assert msg.type is WSMsgType.TEXT
    # Neither HTML-encoded nor altered: the page writes it with textContent.
    assert '<script>alert(\\"x\\")</script> & <b>bold</b>' in msg.data
    assert "&lt;" not in msg.data
    assert "&amp;" not in msg.data
    assert json.loads(msg.data)["product"]["title"] == title


# ---- cart events -----------------------------------------------------------------------


async def test_cart_change_reaches_both_sockets_of_its_user_and_no_other_user(
    client: Client, auth: Auth, new_browser: NewBrowser, admin: Client, pid: str, connect: Connect
) -> None:
    user = await auth.user()
    second = await new_browser()
    await Auth(second).login(user["email"])
    stranger = await new_browser()
    await Auth(stranger).user()
    mine = [(await connect(client))[0], (await connect(second))[0]]
    theirs, _ = await connect(stranger)

    await success(client.post(f"/api/carts/{user['cart']}/product/{pid}", json={"quantity": 2}))
    for ws in mine:
        event = await next_event(ws)
        assert event["type"] == "cart.updated"
        assert event["cart"]["_id"] == user["cart"]
        lines = [(line["product"]["_id"], line["quantity"]) for line in event["cart"]["products"]]
        assert lines == [(pid, 2)]

    # Had the cart event reached the stranger, it would be queued before this one.
    await success(admin.put(f"/api/products/{pid}", json={"stock": 7}))
    event = await next_event(theirs)
    assert event["type"] == "product.updated"
    assert event["product"]["stock"] == 7


async def test_subscribe_narrows_what_the_socket_receives(
    client: Client, auth: Auth, admin: Client, pid: str, connect: Connect
) -> None:
    user = await auth.user()
    ws, _ = await connect(client)
    line = f"/api/carts/{user['cart']}/product/{pid}"

    ack = await ask(ws, {"type": "subscribe", "topics": ["cart"]})
    assert ack == {"type": "ack", "action": "subscribe", "topics": ["cart"]}
    await success(admin.put(f"/api/products/{pid}", json={"stock": 8}))
    await success(client.post(line))
    assert (await next_event(ws))["type"] == "cart.updated"

    ack = await ask(ws, {"type": "subscribe", "topics": ["products"]})
    assert ack == {"type": "ack", "action": "subscribe", "topics": ["products"]}
    await success(client.post(line))
    await success(admin.put(f"/api/products/{pid}", json={"stock": 9}))
    event = await next_event(ws)
    assert event["type"] == "product.updated"
    assert event["product"]["stock"] == 9


async def test_cart_topic_needs_a_session(
    client: Client, admin: Client, pid: str, connect: Connect
) -> None:
    ws, _ = await connect(client)
    answer = await ask(ws, {"type": "subscribe", "topics": ["products", "cart"]})
    assert answer == {"type": "error", "error": "topics: cart needs a session"}
    # Still subscribed as before.
    await success(admin.put(f"/api/products/{pid}", json={"stock": 3}))
    assert (await next_event(ws))["type"] == "product.updated"


# ---- order events ----------------------------------------------------------------------


async def test_purchase_announces_stock_the_cart_and_the_order(
    client: Client, auth: Auth, new_browser: NewBrowser, admin: Client, pid: str, connect: Connect
) -> None:
    user = await auth.user()
    stranger = await new_browser()
    await Auth(stranger).user()
    mine, _ = await connect(client)
    admins, _ = await connect(admin)
    theirs, _ = await connect(stranger)
    await success(client.post(f"/api/carts/{user['cart']}/product/{pid}", json={"quantity": 3}))
    assert (await next_event(mine))["type"] == "cart.updated"

    payload = await success(client.post(f"/api/carts/{user['cart']}/purchase"), 201)
    stock = payload["order"]["lines"][0]["quantity"]
    product = await success(client.get(f"/api/products/{pid}"))
    assert product["stock"] == 100 - stock
    assert await next_event(mine) == {"type": "product.updated", "product": product}
    assert await next_event(mine) == {"type": "cart.updated", "cart": payload["cart"]}
    assert await next_event(mine) == {"type": "order.updated", "order": payload["order"]}
    assert await next_event(admins) == {"type": "product.updated", "product": product}
    assert await next_event(admins) == {"type": "order.updated", "order": payload["order"]}
    # Had the order reached the stranger, it would be queued before this product event.
    assert await next_event(theirs) == {"type": "product.updated", "product": product}
    await success(admin.put(f"/api/products/{pid}", json={"stock": 50}))
    assert (await next_event(theirs))["product"]["stock"] == 50


async def test_status_change_reaches_the_owner_and_admins_and_a_cancel_the_stock(
    client: Client, auth: Auth, new_browser: NewBrowser, admin: Client, pid: str, connect: Connect
) -> None:
    user = await auth.user()
    await success(client.post(f"/api/carts/{user['cart']}/product/{pid}", json={"quantity": 2}))
    order = (await success(client.post(f"/api/carts/{user['cart']}/purchase"), 201))["order"]
    other_admin = await new_browser()
    await Auth(other_admin).admin()
    stranger = await new_browser()
    await Auth(stranger).user()
    mine, _ = await connect(client)
    admins = [(await connect(admin))[0], (await connect(other_admin))[0]]
    theirs, _ = await connect(stranger)

    paid = await success(admin.put(f"/api/orders/{order['_id']}", json={"status": "paid"}))
    for ws in (mine, *admins):
        assert await next_event(ws) == {"type": "order.updated", "order": paid}

    await success(admin.put(f"/api/orders/{order['_id']}", json={"status": "cancelled"}))
    product = await success(client.get(f"/api/products/{pid}"))
    assert product["stock"] == 100
    for ws in (mine, *admins, theirs):
        assert await next_event(ws) == {"type": "product.updated", "product": product}
    for ws in (mine, *admins):
        event = await next_event(ws)
        assert (event["type"], event["order"]["status"]) == ("order.updated", "cancelled")


async def test_orders_topic_needs_a_session(client: Client, connect: Connect) -> None:
    ws, _ = await connect(client)
    answer = await ask(ws, {"type": "subscribe", "topics": ["orders"]})
    assert answer == {"type": "error", "error": "topics: orders needs a session"}


# ---- the admin's actions ---------------------------------------------------------------


async def test_admin_creates_a_product_over_the_socket(
    client: Client, admin: Client, product_body: ProductBody, connect: Connect
) -> None:
    watcher, _ = await connect(client)
    ws, _ = await connect(admin)
    body = product_body(title="Dulce de leche")
    # The answer and the broadcast both come, in either order.
    ack, created = await answer_and_event(ws, {"type": "product.create", "product": body})
    assert ack["action"] == "product.create"
    assert ack["product"]["title"] == "Dulce de leche"
    assert created == {"type": "product.created", "product": ack["product"]}
    assert await next_event(watcher) == created
    pid = created["product"]["_id"]
    assert await success(client.get(f"/api/products/{pid}")) == created["product"]


async def test_admin_deletes_a_product_over_the_socket(
    client: Client, admin: Client, pid: str, connect: Connect
) -> None:
    watcher, _ = await connect(client)
    ws, _ = await connect(admin)
    ack, deleted = await answer_and_event(ws, {"type": "product.delete", "pid": pid.upper()})
    assert ack == {"type": "ack", "action": "product.delete", "product": {"_id": pid}}
    assert deleted == {"type": "product.deleted", "product": {"_id": pid}}
    assert await next_event(watcher) == deleted
    assert (await client.get(f"/api/products/{pid}")).status == 404


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"product": {"price": "12"}}, "product.price: must be a number"),
        ({"product": {"stock": -1}}, "product.stock: "),
        ({"product": {"role": "admin"}}, "product.role: is not an accepted field"),
        ({"product": {"_id": MISSING_ID}}, "product._id: is not an accepted field"),
        ({"extra": 1}, "extra: is not an accepted field"),
    ],
)
async def test_admin_product_create_is_validated_like_the_api(
    client: Client,
    admin: Client,
    product_body: ProductBody,
    message: dict[str, Any],
    expected: str,
    connect: Connect,
) -> None:
    ws, _ = await connect(admin)
    product = product_body() | message.get("product", {})
    body = {"type": "product.create", "product": product} | {
        key: value for key, value in message.items() if key != "product"
    }
    answer = await ask(ws, body)
    assert answer["type"] == "error"
    assert answer["error"].startswith(expected)
    assert (await success(client.get("/api/products"))) == []


async def test_admin_product_create_with_a_taken_code_is_a_conflict(
    admin: Client, product_body: ProductBody, connect: Connect
) -> None:
    body = product_body()
    await create_product(admin, body)
    ws, _ = await connect(admin)
    answer = await ask(ws, {"type": "product.create", "product": body})
    assert answer == {
        "type": "error",
        "error": f"code: a product with code {body['code']!r} already exists",
    }


@pytest.mark.parametrize(
    ("pid", "expected"),
    [
        ("not-an-id", "pid: must be a 24-character hexadecimal id"),
        ("x" * 500, "pid: must be a 24-character hexadecimal id"),
        (MISSING_ID, f"product {MISSING_ID} not found"),
        (24, "pid: must be text"),
    ],
)
async def test_admin_product_delete_refuses_bad_and_unknown_ids(
    admin: Client, pid: object, expected: str, connect: Connect
) -> None:
    ws, _ = await connect(admin)
    assert await ask(ws, {"type": "product.delete", "pid": pid}) == {
        "type": "error",
        "error": expected,
    }


@pytest.mark.parametrize("role", ["anonymous", "user"])
async def test_product_actions_need_an_admin(
    client: Client,
    auth: Auth,
    admin: Client,
    pid: str,
    product_body: ProductBody,
    role: str,
    connect: Connect,
) -> None:
    if role == "user":
        await auth.user()
    ws, _ = await connect(client)
    create = {"type": "product.create", "product": product_body()}
    assert await ask(ws, create) == {"type": "error", "error": "admin only"}
    delete = {"type": "product.delete", "pid": pid}
    assert await ask(ws, delete) == {"type": "error", "error": "admin only"}
    products = await success(client.get("/api/products"))
    assert [product["_id"] for product in products] == [pid]


# ---- what the client sends -------------------------------------------------------------


async def test_ping_gets_pong(client: Client, connect: Connect) -> None:
    ws, _ = await connect(client)
    assert await ask(ws, {"type": "ping"}) == {"type": "pong"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "body: must be valid JSON"),
        ("", "body: must be valid JSON"),
        ("[1, 2]", "body: must be a JSON object"),
        ("{}", "type: is required"),
        ('{"type": 1}', "type: must be text"),
        ('{"type": "order.create"}', "type: must be one of: ping, subscribe"),
        ('{"type": "ping", "extra": 1}', "extra: is not an accepted field"),
        ('{"type": "subscribe"}', "topics: is required"),
        ('{"type": "subscribe", "topics": "products"}', "topics: must be a list"),
        (
            '{"type": "subscribe", "topics": ["secrets"]}',
            "topics.0: must be one of: products, cart, orders",
        ),
        ('{"type": "subscribe", "topics": {"$ne": 1}}', "topics: must be a list"),
    ],
)
async def test_invalid_message_gets_an_error_and_the_socket_stays_open(
    client: Client, raw: str, expected: str, connect: Connect
) -> None:
    ws, _ = await connect(client)
    await ws.send_str(raw)
    answer = await next_event(ws)
    assert answer["type"] == "error"
    assert answer["error"].startswith(expected), answer
    assert await ask(ws, {"type": "ping"}) == {"type": "pong"}


async def test_binary_message_gets_an_error_and_the_socket_stays_open(
    client: Client, connect: Connect
) -> None:
    ws, _ = await connect(client)
    await ws.send_bytes(b'{"type": "ping"}')
    answer = await next_event(ws)
    assert answer["type"] == "error"
    assert "binary" in answer["error"]
    assert await ask(ws, {"type": "ping"}) == {"type": "pong"}


async def test_oversize_message_closes_with_message_too_big(
    client: Client, connect: Connect
) -> None:
    ws, _ = await connect(client)
    await ws.send_str(json.dumps({"type": "ping", "pad": "x" * MAX_MESSAGE}))
    code, _ = await closed_with(ws)
    assert code == WSCloseCode.MESSAGE_TOO_BIG
    # The server is fine: a new socket works.
    other, _ = await connect(client)
    assert await ask(other, {"type": "ping"}) == {"type": "pong"}


async def test_flooding_gets_an_error_then_a_policy_violation_close(
    client: Client, connect: Connect
) -> None:
    ws, _ = await connect(client)
    for _ in range(3 * BURST):
        await ws.send_json({"type": "ping"})
    answers: list[dict[str, Any]] = []
    while (msg := await ws.receive(timeout=TIMEOUT)).type is WSMsgType.TEXT:
        answers.append(json.loads(msg.data))
    assert msg.type is WSMsgType.CLOSE
    assert msg.data == WSCloseCode.POLICY_VIOLATION
    *pongs, last = answers
    assert last["type"] == "error"
    assert last["error"].startswith("too many messages")
    assert {answer["type"] for answer in pongs} == {"pong"}
    assert BURST <= len(pongs) < 2 * BURST


# ---- ending sessions -------------------------------------------------------------------


async def end_session(client: Client, admin: Client, user: dict[str, Any], how: str) -> None:
    if how == "logout":
        await success(client.post("/api/sessions/logout"))
    elif how == "logout everywhere":
        await success(client.post("/api/sessions/logout-all"))
    elif how == "password change":
        new = {"current_password": PASSWORD, "new_password": "another long passphrase"}
        await success(client.put("/api/users/me/password", json=new))
    elif how == "account deletion":
        await success(client.delete(f"/api/users/{user['_id']}"))
    elif how == "role change":
        await success(admin.put(f"/api/users/{user['_id']}/role", json={"role": "admin"}))
    else:
        assert how == "login as someone else"
        await Auth(client).user()


@pytest.mark.parametrize(
    ("how", "everywhere"),
    [
        ("logout", False),
        ("login as someone else", False),
        ("logout everywhere", True),
        ("password change", True),
        ("account deletion", True),
        ("role change", True),
    ],
)
async def test_ending_a_session_closes_its_sockets(
    client: Client,
    auth: Auth,
    new_browser: NewBrowser,
    admin: Client,
    pid: str,
    how: str,
    everywhere: bool,
    connect: Connect,
) -> None:
    user = await auth.user()
    elsewhere = await new_browser()
    await Auth(elsewhere).login(user["email"])
    here = [(await connect(client))[0], (await connect(client))[0]]
    there, _ = await connect(elsewhere)

    await end_session(client, admin, user, how)
    for ws in here:
        assert await closed_with(ws) == (SESSION_ENDED, "session ended")
    if everywhere:
        assert await closed_with(there) == (SESSION_ENDED, "session ended")
    else:
        # The other session goes on: its socket still gets the user's cart.
        await success(elsewhere.post(f"/api/carts/{user['cart']}/product/{pid}"))
        assert (await next_event(there))["type"] == "cart.updated"


# ---- slow clients and shutdown ---------------------------------------------------------


async def test_client_that_stops_reading_is_dropped_without_stalling_others(
    client: Client, monkeypatch: pytest.MonkeyPatch, removed: asyncio.Event, connect: Connect
) -> None:
    monkeypatch.setattr(subscriber_module, "OUTBOX_SIZE", 8)
    monkeypatch.setattr(subscriber_module, "CLOSE_TIMEOUT", 0.5)
    hub = client.app[HUB]
    slow, _ = await connect(client)  # never reads again until it has been dropped
    fast, _ = await connect(client)

    filler = "x" * 60_000
    sent = 0
    while len(hub) == 2:
        assert sent < 2_000, "the slow socket was never dropped"
        hub.publish_products({"type": "product.updated", "n": sent, "filler": filler})
        sent += 1
        assert (await next_event(fast))["n"] == sent - 1  # the fast one is never held back

    hub.publish_products({"type": "product.deleted", "product": {"_id": MISSING_ID}})
    assert (await next_event(fast))["type"] == "product.deleted"
    await asyncio.wait_for(removed.wait(), TIMEOUT)  # the dropped socket's handler ended
    assert len(hub) == 1
    received = 0
    while (msg := await slow.receive(timeout=TIMEOUT)).type is WSMsgType.TEXT:
        received += 1
    assert msg.type in {WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR}
    assert received < sent


@pytest.mark.parametrize("size", [10, 200, 70_000])  # each of a frame's three length forms
async def test_an_event_of_any_size_arrives_whole(
    client: Client, connect: Connect, size: int
) -> None:
    ws, _ = await connect(client)
    event = {"type": "product.updated", "filler": "é" * size}
    client.app[HUB].publish_products(event)
    assert await next_event(ws) == event


async def test_shutdown_closes_every_socket_with_going_away(
    client: Client, auth: Auth, new_browser: NewBrowser, connect: Connect
) -> None:
    await auth.user()
    anonymous = await new_browser()
    sockets = [(await connect(client))[0], (await connect(anonymous))[0]]
    await client.server.close()
    for ws in sockets:
        code, reason = await closed_with(ws)
        assert code == WSCloseCode.GOING_AWAY
        assert reason == "server shutdown"
