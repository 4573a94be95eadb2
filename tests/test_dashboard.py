"""/admin, the dashboard, on every store: revenue per day (in SHOP_TIMEZONE, cancelled
orders left out) as a server-drawn chart with a text summary and a table, orders by status,
products low on stock and the best sellers; with no orders at all; counted by the store."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton

from shop.settings import ConfigError, from_env
from shop.store.sqlite.reports import BEST_SELLERS_SQL, days_sql
from shop.store.sqlite.schema import prepare
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, success
from tests.test_pages import assert_csp_friendly, page
from tests.test_store_trips import Commands

MakeClient = Callable[..., Awaitable[Client]]
TABLE_ROW = re.compile(
    r'<tr data-day="([\d-]+)"><th scope="row">.*?</th><td class="money" data-label="Orders">'
    r'(\d+)</td><td class="money" data-label="Revenue"><span class="price">\$([\d.,]+)</span>'
)
STATUS_COUNT = re.compile(r'<span class="status-count" data-status="(\w+)">(\d+)</span>')


def day_table(html: str) -> dict[str, tuple[int, str]]:
    """The table under the chart: {day: (orders, revenue)}."""
    return {day: (int(orders), revenue) for day, orders, revenue in TABLE_ROW.findall(html)}


def local_day(order: dict[str, Any], zone: str) -> str:
    moment = datetime.fromisoformat(order["purchase_datetime"])
    return moment.astimezone(ZoneInfo(zone)).date().isoformat()


class Store:
    """An admin on `client` who makes products; shoppers who buy them."""

    def __init__(self, admin: Client, new_browser: NewBrowser, product_body: Any) -> None:
        self.admin = admin
        self.new_browser = new_browser
        self.product_body = product_body

    async def product(self, **fields: Any) -> dict[str, Any]:
        body = self.product_body(**fields)
        return await success(await self.admin.post("/api/products", json=body), 201)

    async def buy(self, *lines: tuple[dict[str, Any], int]) -> dict[str, Any]:
        browser = await self.new_browser()
        cart = f"/api/carts/{(await Auth(browser).user())['cart']}"
        for product, quantity in lines:
            response = await browser.post(
                f"{cart}/product/{product['_id']}", json={"quantity": quantity}
            )
            await success(response)
        return (await success(await browser.post(f"{cart}/purchase"), 201))["order"]

    async def move(self, order: dict[str, Any], status: str) -> None:
        response = await self.admin.put(f"/api/orders/{order['_id']}", json={"status": status})
        await success(response)


@pytest.fixture
async def store(client: Client, auth: Auth, new_browser: NewBrowser, product_body: Any) -> Store:
    await auth.admin()
    return Store(client, new_browser, product_body)


async def dashboard(client: Client) -> str:
    return await page(await client.get("/admin"))


# ---- no orders yet ------------------------------------------------------------------------


async def test_the_dashboard_works_with_no_orders_at_all(store: Store) -> None:
    html = await dashboard(store.admin)
    assert html.count('<rect class="chart-bar"') == 30
    assert 'height="0.0"' in html
    assert "No sales in the last 30 days yet" in html
    table = day_table(html)
    assert len(table) == 30
    assert set(table.values()) == {(0, "0.00")}
    assert dict(STATUS_COUNT.findall(html)) == {
        "placed": "0",
        "paid": "0",
        "shipped": "0",
        "delivered": "0",
        "cancelled": "0",
    }
    assert "Nothing sold in the last 30 days." in html
    assert "The catalogue is empty" in html  # and how to fill it
    assert "Every product has more than 5 in stock." not in html


async def test_the_chart_is_accessible_and_keeps_to_the_csp(store: Store) -> None:
    response = await store.admin.get("/admin")
    html = await page(response)
    assert_csp_friendly(response, html)
    assert re.search(
        r'<svg class="revenue-chart" [^>]*role="img" '
        r'aria-labelledby="revenue-chart-title revenue-chart-desc"',
        html,
    )
    assert '<title id="revenue-chart-title">Revenue per day over the last 30 days</title>' in html
    assert '<desc id="revenue-chart-desc">' in html
    assert '<figcaption id="revenue-summary"' in html
    assert "<summary>Show the figures as a table</summary>" in html


# ---- with orders ------------------------------------------------------------------------


async def test_todays_sales_count_every_order_but_the_cancelled(store: Store) -> None:
    mate = await store.product(title="Mate", price=20, stock=50)
    yerba = await store.product(title="Yerba", price=7.5, stock=50)
    first = await store.buy((mate, 1), (yerba, 2))  # 35.00
    await store.buy((yerba, 1))  # 7.50
    cancelled = await store.buy((mate, 3))  # 60.00, cancelled below
    await store.move(cancelled, "cancelled")
    html = await dashboard(store.admin)
    today = local_day(first, "UTC")
    assert day_table(html)[today] == (2, "42.50")
    assert '<span class="price" id="stat-revenue">$42.50</span>' in html
    assert '<span class="stat-value" id="stat-orders">2</span>' in html
    assert "$42.50 from 2 orders that were not cancelled in the last 30 days." in html
    assert re.search(rf'data-day="{today}"><title>[^<]+: \$42.50 \(2 orders\)</title>', html)


async def test_orders_by_status_count_every_order(store: Store) -> None:
    mate = await store.product(price=10, stock=50)
    orders = [await store.buy((mate, 1)) for _ in range(4)]
    await store.move(orders[0], "paid")
    await store.move(orders[1], "paid")
    await store.move(orders[1], "shipped")
    await store.move(orders[2], "cancelled")
    counts = dict(STATUS_COUNT.findall(await dashboard(store.admin)))
    assert counts == {
        "placed": "1",
        "paid": "1",
        "shipped": "1",
        "delivered": "0",
        "cancelled": "1",
    }


async def test_best_sellers_rank_products_by_units_over_the_days(store: Store) -> None:
    mate = await store.product(title="Mate", price=30, stock=50)
    yerba = await store.product(title="Yerba", price=5, stock=50)
    termo = await store.product(title="Termo", price=90, stock=50)
    await store.buy((yerba, 3), (mate, 1))
    await store.buy((yerba, 2), (termo, 1))
    await store.buy((mate, 1))
    cancelled = await store.buy((termo, 9))
    await store.move(cancelled, "cancelled")
    await store.admin.put(f"/api/products/{yerba['_id']}", json={"title": "Yerba renamed"})
    html = await dashboard(store.admin)
    best = re.findall(
        r'<li><a href="/products/([0-9a-f]{24})">([^<]+)</a> <span class="muted">(\d+) units?',
        html,
    )
    assert best == [
        (yerba["_id"], "Yerba", "5"),  # the title as its orders have it
        (mate["_id"], "Mate", "2"),
        (termo["_id"], "Termo", "1"),
    ]


async def test_a_catalogue_without_low_stock_says_so(store: Store) -> None:
    await store.product(title="Plenty", stock=6)
    html = await dashboard(store.admin)
    assert "Every product has more than 5 in stock." in html
    assert "The catalogue is empty" not in html


async def test_products_low_on_stock_are_listed_lowest_first(store: Store) -> None:
    await store.product(title="Plenty", stock=6)
    await store.product(title="Few", code="FEW", stock=5)
    await store.product(title="None left", code="ZERO", stock=0)
    await store.product(title="Hidden", code="HID", stock=2, status=False)
    html = await dashboard(store.admin)
    section = html[
        html.index('id="low-stock"') : html.index("</table>", html.index('id="low-stock"'))
    ]
    assert re.findall(r'class="line-title" [^>]*>([^<]+)</a>', section) == [
        "None left",
        "Hidden",
        "Few",
    ]
    assert "Plenty" not in section
    assert '<span class="tag">Hidden</span>' in section


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
async def test_sales_are_counted_by_the_day_in_the_shops_time_zone(
    store: Store, make_client: MakeClient, zone: str
) -> None:
    mate = await store.product(price=12.5, stock=10)
    order = await store.buy((mate, 2))
    shop = await make_client(timezone=zone)
    await Auth(shop).admin()
    html = await dashboard(shop)
    # UTC+14 and UTC-11: at any moment one of them is another day than UTC.
    assert day_table(html)[local_day(order, zone)] == (1, "25.00")
    assert f"by purchase day in {zone.replace('_', ' ')}" in html
    today = datetime.now(ZoneInfo(zone)).date()
    assert max(day_table(html)) == today.isoformat()
    assert min(day_table(html)) == date.fromordinal(today.toordinal() - 29).isoformat()


# ---- counted by the store ------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["mongo"], indirect=True)
async def test_on_mongodb_the_figures_come_from_aggregations_not_reads_of_orders(
    make_client: MakeClient,
) -> None:
    commands = Commands()
    client = await make_client(mongo_listeners=(commands,))
    await Auth(client).admin()
    with commands.record() as seen:
        await dashboard(client)
    on_orders = [name for name, collection in seen if collection == "orders"]
    assert sorted(on_orders) == ["aggregate", "aggregate", "aggregate"]


@pytest.mark.parametrize("sql", [days_sql(30), BEST_SELLERS_SQL])
def test_on_sqlite_the_figures_search_the_purchase_time_index(sql: str) -> None:
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        prepare(db)
        params = ["x"] * sql.count("?")
        plan = " / ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "SEARCH o USING COVERING INDEX orders_purchased_at (purchased_at>? AND" in plan
    assert "SCAN o" not in plan


# ---- SHOP_TIMEZONE ----------------------------------------------------------------------


def test_shop_timezone_defaults_to_utc_and_takes_iana_names(tmp_path: Any) -> None:
    env = {"SHOP_DATA_DIR": str(tmp_path)}
    assert from_env(env).timezone == "UTC"
    zone = "America/Argentina/Buenos_Aires"
    assert from_env({**env, "SHOP_TIMEZONE": zone}).timezone == zone


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../../etc/passwd", "UTC+3", "zone.tab"])
def test_an_unknown_time_zone_is_refused_at_start_up(tmp_path: Any, bad: str) -> None:
    with pytest.raises(ConfigError, match="SHOP_TIMEZONE"):
        from_env({"SHOP_DATA_DIR": str(tmp_path), "SHOP_TIMEZONE": bad})


# ---- in the reader's language -----------------------------------------------------------


async def test_the_chart_writes_its_days_and_amounts_in_the_readers_language(
    store: Store,
) -> None:
    """Days and amounts by Babel for the language: "Nov 28" and "1,000", "28 nov" and
    "1.000"; the figures' words translated."""
    product = await store.product(price=1499.99, stock=5)
    order = await store.buy((product, 1))
    today = date.fromisoformat(local_day(order, "UTC"))  # the chart's last day is labelled
    english = await dashboard(store.admin)
    assert f'text-anchor="middle">{format_skeleton("MMMd", today, locale="en")}</text>' in english
    assert 'text-anchor="start">1,000</text>' in english
    assert "$1,499.99 from 1 order that was not cancelled in the last 30 days." in english
    store.admin.session.cookie_jar.update_cookies({"shop_language": "es-AR"})
    spanish = await dashboard(store.admin)
    label = format_skeleton("MMMd", today, locale="es_AR")  # "28 nov"
    assert f'text-anchor="middle">{label}</text>' in spanish
    assert 'text-anchor="start">1.000</text>' in spanish
    assert "US$1.499,99 en 1 pedido no cancelado en los últimos 30 días." in spanish
    assert f"El mejor día fue el {label}, con US$1.499,99." in spanish
    assert '<h2 id="revenue-heading">Facturación por día</h2>' in spanish
