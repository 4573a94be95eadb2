"""Trips to the store per request: a logged-in request looks its session up once, a cart
change is one store call (on MongoDB at most two round trips), and an anonymous read does
no session work at all."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pymongo import monitoring

from shop.keys import STORE
from shop.store.sqlite import product_reads
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, success

ProductBody = Callable[..., dict[str, Any]]


class Recorder[T]:
    """What happened while recording: `with recorder.record() as seen: ...`."""

    def __init__(self) -> None:
        self.seen: list[T] = []
        self.recording = False

    def note(self, what: T) -> None:
        if self.recording:
            self.seen.append(what)

    @contextmanager
    def record(self) -> Iterator[list[T]]:
        self.seen = []
        self.recording = True
        try:
            yield self.seen
        finally:
            self.recording = False


class Commands(Recorder[tuple[str, str]], monitoring.CommandListener):
    """Every command the MongoDB client sends, as (name, collection)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.note((event.command_name, str(event.command.get(event.command_name))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class EngineCalls(Recorder[str]):
    """Every call the SQLite store makes to its engine: "read" or "write"."""

    def __init__(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        engine = client.app[STORE].engine  # type: ignore[attr-defined]
        for kind in ("read", "write"):
            monkeypatch.setattr(engine, kind, self._counting(kind, getattr(engine, kind)))

    def _counting(
        self, kind: str, call: Callable[[Any], Awaitable[Any]]
    ) -> Callable[[Any], Awaitable[Any]]:
        def counted(job: Any) -> Awaitable[Any]:
            self.note(kind)
            return call(job)  # what the engine answers: a read's future stays a future

        return counted


@pytest.fixture
def commands() -> Commands:
    return Commands()


@pytest.fixture
async def client(
    make_client: Callable[..., Awaitable[Client]], commands: Commands, database_url: str
) -> Client:
    """The app, with the MongoDB client reporting every command to `commands`."""
    return await make_client(mongo_listeners=(commands,))


@pytest.fixture
async def shop(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> dict[str, Any]:
    """A logged-in user on `client` and two products with stock."""
    admin = Auth(await new_browser())
    await admin.admin()
    products = [
        await success(await admin.client.post("/api/products", json=product_body()), 201)
        for _ in range(2)
    ]
    user = await auth.user()
    return {"cart": f"/api/carts/{user['cart']}", "pids": [p["_id"] for p in products]}


def every_change(shop: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One request of every kind of cart change: (method, path, JSON body)."""
    cart, (first, second) = shop["cart"], shop["pids"]
    return [
        ("POST", f"{cart}/product/{first}", None),  # a new line
        ("POST", f"{cart}/product/{first}", {"quantity": 2}),  # a line it has
        ("POST", f"{cart}/product/{second}", None),
        ("PUT", f"{cart}/product/{first}", {"quantity": 5}),
        ("DELETE", f"{cart}/product/{second}", None),
        ("PUT", cart, {"products": [{"product": second, "quantity": 1}]}),
        ("DELETE", cart, None),
    ]


def is_sqlite(client: Client) -> bool:
    return hasattr(client.app[STORE], "engine")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_cart_change_is_one_session_lookup_and_one_store_call_on_sqlite(
    client: Client, shop: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = EngineCalls(client, monkeypatch)
    for method, path, body in every_change(shop):
        with calls.record() as made:
            await success(await client.request(method, path, json=body))
        assert made == ["read", "write"], (method, path)
    with calls.record() as made:
        await success(await client.get(shop["cart"]))
    assert made == ["read", "read"]


@pytest.mark.parametrize("database_url", ["mongo"], indirect=True)
async def test_a_cart_change_is_at_most_two_round_trips_on_mongodb(
    client: Client, shop: dict[str, Any], commands: Commands
) -> None:
    for method, path, body in every_change(shop):
        with commands.record() as sent:
            await success(await client.request(method, path, json=body))
        # The session: one aggregate joining the session to its user.
        assert sent[0] == ("aggregate", "sessions"), (method, path, sent)
        assert 1 <= len(sent[1:]) <= 2, (method, path, sent)
    with commands.record() as sent:
        await success(await client.get(shop["cart"]))
    assert sent == [("aggregate", "sessions"), ("aggregate", "carts")]


async def test_an_anonymous_read_does_no_session_work(
    client: Client,
    shop: dict[str, Any],
    commands: Commands,
    new_browser: NewBrowser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sessions = client.app[STORE].sessions
    looked_up: list[tuple[Any, ...]] = []
    original = sessions.get_user

    async def get_user(*args: Any) -> Any:
        looked_up.append(args)
        return await original(*args)

    monkeypatch.setattr(sessions, "get_user", get_user)
    anonymous = await new_browser()
    # Never read since it was created: the read goes to the store, not the cache.
    pid = shop["pids"][0]
    with commands.record() as sent:
        response = await anonymous.get(f"/api/products/{pid}")
        assert (await success(response))["_id"] == pid
    assert "Set-Cookie" not in response.headers  # no session made, none encrypted
    assert looked_up == []
    if not is_sqlite(client):
        assert sent == [("find", "products")]


@pytest.fixture
async def filled_cart(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> str:
    """A logged-in user's cart holding three lines that can all be bought."""
    admin = Auth(await new_browser())
    await admin.admin()
    user = await auth.user()
    cart = f"/api/carts/{user['cart']}"
    for _ in range(3):
        product = await success(await admin.client.post("/api/products", json=product_body()), 201)
        await success(await client.post(f"{cart}/product/{product['_id']}"))
    return cart


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_purchase_is_one_session_lookup_and_one_store_call_on_sqlite(
    client: Client, filled_cart: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = EngineCalls(client, monkeypatch)
    with calls.record() as made:
        await success(await client.post(f"{filled_cart}/purchase"), 201)
    assert made == ["read", "write"]


@pytest.mark.parametrize("database_url", ["mongo"], indirect=True)
async def test_a_purchase_is_at_most_two_round_trips_and_one_per_line_on_mongodb(
    client: Client, filled_cart: str, commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The markers of completed purchases are dropped in a shared batch a moment later, off
    # the request's path; hold that batch back so only the purchase's own trips count.
    monkeypatch.setattr("shop.store.mongo.sweeper.SWEEP_DELAY", 60.0)
    with commands.record() as sent:
        await success(await client.post(f"{filled_cart}/purchase"), 201)
    assert sent[0] == ("aggregate", "sessions"), sent
    assert len(sent[1:]) <= 2 + 3, sent


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("max_ids", [product_reads.MAX_IDS, 5])
async def test_catalogue_misses_that_come_together_share_one_read_on_sqlite(
    client: Client,
    new_browser: NewBrowser,
    product_body: ProductBody,
    monkeypatch: pytest.MonkeyPatch,
    max_ids: int,
) -> None:
    monkeypatch.setattr(product_reads, "MAX_IDS", max_ids)
    admin = Auth(await new_browser())
    await admin.admin()
    hidden = product_body(status=False)
    created = [
        await success(await admin.client.post("/api/products", json=body), 201)
        for body in [product_body() for _ in range(11)] + [hidden]
    ]
    pids = [product["_id"] for product in created]
    missing = "0" * 24
    # Never read since they were made: every one misses the catalogue cache. One id twice,
    # one that no product has.
    asked = [*pids, pids[0], missing]
    calls = EngineCalls(client, monkeypatch)
    anonymous = await new_browser()
    with calls.record() as made:
        answers = await asyncio.gather(*(anonymous.get(f"/api/products/{pid}") for pid in asked))
    for pid, response in zip(asked, answers, strict=True):
        if pid == missing:
            assert response.status == 404
        else:
            payload = await success(response)
            assert payload == next(p for p in created if p["_id"] == pid)
    assert made.count("read") < len(asked) / 2, made
    # 13 different ids: in statements of at most max_ids.
    assert made.count("read") >= math.ceil(13 / max_ids), made
