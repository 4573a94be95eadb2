"""/readyz (can this process take writes?), /metrics (admins only, Prometheus text), and
the settings that configure them, on every store."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shop.settings import ConfigError, from_env
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser
from tests.test_api_tokens import bearer, new_token
from tests.test_ws import next_event, own_origin, success

MakeClient = Callable[..., Awaitable[Client]]
ProductBody = Callable[..., dict[str, Any]]


# ---- /readyz -------------------------------------------------------------------------------


async def test_readyz_is_200_when_the_store_takes_writes(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "success", "payload": {"store": "ok"}}


async def test_readyz_is_503_naming_the_disk_when_free_space_is_below_the_minimum(
    sqlite_client: MakeClient,
) -> None:
    client = await sqlite_client(min_free_mb=2**40)  # a petabyte
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["error"].startswith("not ready: store: ")
    assert "MiB free on the disk of shop.db, below 1099511627776" in body["error"]
    assert body["checks"] == {"store": body["error"].removeprefix("not ready: store: ")}
    assert (await client.get("/healthz")).status == 200  # alive, just not ready


async def test_readyz_is_503_naming_the_lock_while_another_process_holds_it(
    sqlite_client: MakeClient, tmp_path: Path
) -> None:
    client = await sqlite_client(store_timeout=3.0)  # the engine gives up first, after 2 s
    other = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["error"] == (
            "not ready: store: another process holds the database's write lock"
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (await client.get("/readyz")).status == 200


async def test_readyz_answers_json_to_a_browser_too(client: Client) -> None:
    response = await client.get("/readyz", headers={"Accept": "text/html"})
    assert response.content_type == "application/json"


# ---- /metrics ------------------------------------------------------------------------------


async def test_metrics_need_a_session(client: Client) -> None:
    response = await client.get("/metrics", headers={"Accept": "text/html"})
    assert response.status == 401  # a scraper gets 401, not a login page
    assert (await response.json())["error"] == "login required"


async def test_metrics_are_for_admins_only(client: Client, auth: Auth) -> None:
    await auth.user()
    response = await client.get("/metrics")
    assert response.status == 403
    assert (await response.json())["error"] == "admin only"


async def test_metrics_take_an_admins_bearer_token(
    client: Client, auth: Auth, new_browser: NewBrowser
) -> None:
    await auth.admin()
    admin_token = (await new_token(client, "prometheus"))["token"]
    scraper = await new_browser()  # no cookie: only the token
    response = await scraper.get("/metrics", headers=bearer(admin_token))
    assert response.status == 200
    assert "shop_http_requests_total" in await response.text()

    user = await new_browser()
    await Auth(user).user()
    user_token = (await new_token(user))["token"]
    response = await scraper.get("/metrics", headers=bearer(user_token))
    assert response.status == 403
    response = await scraper.get("/metrics", headers=bearer("shop_" + "x" * 43))
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return samples(await response.text())


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


async def test_metrics_count_requests_by_route_template_and_status(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    pid = (await success(client.post("/api/products", json=product_body()), 201))["_id"]
    for _ in range(3):
        await success(client.get(f"/api/products/{pid}"))
    assert (await client.get(f"/api/products/{'0' * 24}")).status == 404
    assert (await client.get("/no/such/page")).status == 404
    found = await scrape(client)
    route = "/api/products/{pid}"
    assert found["shop_http_requests_total", labels(method="GET", route=route, status="200")] == 3
    assert found["shop_http_requests_total", labels(method="GET", route=route, status="404")] == 1
    unmatched = labels(method="GET", route="unmatched", status="404")
    assert found["shop_http_requests_total", unmatched] == 1
    get = {"method": "GET", "route": route}
    assert found["shop_http_request_duration_seconds_count", labels(**get)] == 4
    assert found["shop_http_request_duration_seconds_sum", labels(**get)] > 0
    buckets = sorted(
        (float(dict(pairs)["le"]), value)
        for (name, pairs), value in found.items()
        if name == "shop_http_request_duration_seconds_bucket" and pairs > labels(**get)
    )
    counts = [value for _, value in buckets]
    assert counts == sorted(counts)  # cumulative
    assert buckets[-1] == (float("inf"), 4)
    assert not any(pid in value for _, pairs in found for _, value in pairs)  # no ids as labels


async def test_metrics_count_events_websockets_and_store_operations(
    client: Client, auth: Auth, product_body: ProductBody
) -> None:
    await auth.admin()
    ws = await client.ws_connect("/ws", origin=own_origin(client))
    assert (await next_event(ws))["type"] == "hello"
    await success(client.post("/api/products", json=product_body()), 201)
    assert (await next_event(ws))["type"] == "product.created"
    found = await scrape(client)
    assert found["shop_websockets_open", labels()] == 1
    assert found["shop_events_published_total", labels(topic="products")] == 1
    assert found["shop_events_delivered_total", labels(topic="products")] == 1
    timed = labels(operation="products.insert")
    assert found["shop_store_operation_duration_seconds_count", timed] == 1
    assert found["shop_store_errors_total", timed] == 0
    assert ("shop_orders_placed_total", labels()) in found
    await ws.close()


async def test_metrics_count_each_placed_order_once(
    client: Client, auth: Auth, new_browser: NewBrowser, product_body: ProductBody
) -> None:
    admin = await new_browser()
    await Auth(admin).admin()
    pid = (await success(admin.post("/api/products", json=product_body(stock=5)), 201))["_id"]
    cart = f"/api/carts/{(await auth.user())['cart']}"
    await success(client.post(f"{cart}/product/{pid}", json={"quantity": 2}))
    key = {"Idempotency-Key": "metrics-1"}
    await success(client.post(f"{cart}/purchase", headers=key), 201)
    await success(client.post(f"{cart}/purchase", headers=key), 201)  # a replay
    assert (await client.post(f"{cart}/purchase")).status == 400  # an empty cart
    found = await scrape(admin)
    assert found["shop_orders_placed_total", labels()] == 1
    # Orders are timed like every aggregate (a replay is a purchase call too).
    timed = labels(operation="orders.purchase")
    assert found["shop_store_operation_duration_seconds_count", timed] == 3


async def test_refusals_of_the_store_are_not_counted_as_store_errors(
    client: Client, auth: Auth
) -> None:
    await auth.admin()
    assert (await client.get(f"/api/carts/{'0' * 24}")).status == 404  # MissingCart
    found = await scrape(client)
    assert found["shop_store_operation_duration_seconds_count", labels(operation="carts.get")]
    assert found["shop_store_errors_total", labels(operation="carts.get")] == 0


# ---- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("SHOP_REDIS_URL", "http://localhost:6379", "SHOP_REDIS_URL must start with redis://"),
        ("SHOP_STORE_TIMEOUT", "soon", "SHOP_STORE_TIMEOUT must be a number"),
        ("SHOP_STORE_TIMEOUT", "0", "SHOP_STORE_TIMEOUT must be between 0.1 and 300"),
        ("SHOP_STORE_TIMEOUT", "nan", "SHOP_STORE_TIMEOUT must be between"),
        ("SHOP_MIN_FREE_MB", "-1", "SHOP_MIN_FREE_MB must be a whole number"),
        ("SHOP_MIN_FREE_MB", "1.5", "SHOP_MIN_FREE_MB must be a whole number"),
    ],
)
def test_a_bad_new_setting_is_refused_naming_it(
    tmp_path: Path, variable: str, value: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        from_env({"SHOP_DATA_DIR": str(tmp_path), variable: value})


def test_the_new_settings_default_and_parse(tmp_path: Path) -> None:
    settings = from_env({"SHOP_DATA_DIR": str(tmp_path)})
    assert (settings.redis_url, settings.store_timeout, settings.min_free_mb) == (None, 3.0, 100)
    settings = from_env(
        {
            "SHOP_DATA_DIR": str(tmp_path),
            "SHOP_REDIS_URL": "redis://10.0.0.5:6379/2",
            "SHOP_STORE_TIMEOUT": "1.5",
            "SHOP_MIN_FREE_MB": "500",
        }
    )
    assert (settings.redis_url, settings.store_timeout, settings.min_free_mb) == (
        "redis://10.0.0.5:6379/2",
        1.5,
        500,
    )


async def test_an_unavailable_store_is_counted_as_a_store_error(
    sqlite_client: MakeClient, tmp_path: Path, product_body: ProductBody
) -> None:
    client = await sqlite_client(store_timeout=3.0)  # the engine gives up first, after 2 s
    await Auth(client).admin()
    other = sqlite3.connect(tmp_path / "shop.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        assert (await client.post("/api/products", json=product_body())).status == 503
    finally:
        other.execute("ROLLBACK")
        other.close()
    await success(client.post("/api/products", json=product_body()), 201)
    found = await scrape(client)
    timed = labels(operation="products.insert")
    assert found["shop_store_operation_duration_seconds_count", timed] == 2
    assert found["shop_store_errors_total", timed] == 1
    buckets = sorted(
        (float(dict(pairs)["le"]), value)
        for (name, pairs), value in found.items()
        if name == "shop_store_operation_duration_seconds_bucket"
        and dict(pairs)["operation"] == "products.insert"
    )
    # The refused insert waited out the lock (2 s): it is in the 2.5 s bucket, not below.
    assert [count for le, count in buckets if le in (1.0, 2.5, float("inf"))] == [1, 2, 2]
