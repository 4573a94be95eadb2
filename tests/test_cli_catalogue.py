"""The command line on every store, run as a real process (`python -m shop ...`) against the
test's database (MongoDB: mongoeco's wire server in this process): `seed-demo`,
`export-products` and `import-products`, and what `serve` says about an empty catalogue."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest

from shop.demo.catalogue import CATALOGUE
from shop.demo.seed import SEED, _order_times
from shop.models.reports import SALES_DAYS, local_days, today_in
from shop.settings import Settings
from tests.conftest import Auth, Client, _with_database
from tests.envelopes import success
from tests.test_dashboard import day_table
from tests.test_health_cli import assert_one_line_error, run_cli, running_server, shop_env

MakeClient = Callable[..., Awaitable[Client]]
LOGIN = re.compile(r"the demo shopper logs in as (\S+) with the password (\S+)")
INITIAL_STOCK = {product.code: product.stock for product in CATALOGUE}
# A whole demo draws and stores 48 pictures: on mongoeco (a slow stand-in) that takes a
# while on a busy machine.
DEMO_TIMEOUT = 120


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: the test's database and data folder."""
    return shop_env(tmp_path, SHOP_DATABASE_URL=settings.database_url)


async def admin_client(make_client: MakeClient) -> Client:
    client = await make_client()
    await Auth(client).admin()
    return client


async def every(client: Client, path: str) -> list[dict[str, Any]]:
    """Every item of a paginated API listing."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        separator = "&" if "?" in path else "?"
        body = await (await client.get(f"{path}{separator}limit=100&page={page}")).json()
        items += body["payload"]
        if not body["hasNextPage"]:
            return items
        page += 1


async def assert_stock_matches_orders(client: Client, initial: dict[str, int]) -> None:
    """For each product: stock + units in orders that are not cancelled = initial stock."""
    sold: Counter[str] = Counter()
    for order in await every(client, "/api/orders"):
        if order["status"] != "cancelled":
            for line in order["lines"]:
                sold[line["code"]] += line["quantity"]
    products = await every(client, "/api/products")
    assert sold, "no order bought anything"
    for product in products:
        assert product["stock"] + sold[product["code"]] == initial[product["code"]], product


# ---- seed-demo ---------------------------------------------------------------------------


async def test_seed_demo_fills_an_empty_shop_that_the_dashboard_then_shows(
    env: dict[str, str], make_client: MakeClient
) -> None:
    code, out, err = await run_cli(env, "seed-demo", timeout=DEMO_TIMEOUT)
    assert code == 0, err
    assert "Traceback" not in err
    match = LOGIN.search(out)
    assert match is not None, out
    assert "shop create-admin --email" in out
    client = await admin_client(make_client)

    products = await every(client, "/api/products")
    assert len(products) >= 36
    categories = await success(await client.get("/api/categories"))
    assert len(categories) >= 6
    assert any("á" in p["title"] or "ó" in p["title"] or "í" in p["title"] for p in products)
    for product in products:
        [url] = product["thumbnails"]
        assert re.fullmatch(rf"/media/{product['_id']}/[0-9a-f]{{16}}-[0-9a-f]{{8}}\.webp", url)
    picture = await client.get(products[0]["thumbnails"][0])
    assert picture.status == 200
    assert picture.content_type == "image/webp"

    email, password = match.groups()
    shopper = await make_client()
    assert (await Auth(shopper).login(email, password))["role"] == "user"

    orders = await every(client, "/api/orders")
    assert len(orders) >= 10
    moments = [datetime.fromisoformat(order["purchase_datetime"]) for order in orders]
    assert moments == sorted(moments, reverse=True)  # back-dated, yet newest first
    assert len({moment.date() for moment in moments}) >= 10
    assert min(moments) > datetime.now(UTC) - timedelta(days=30)
    assert {order["status"] for order in orders} >= {"delivered", "cancelled"}
    await assert_stock_matches_orders(client, INITIAL_STOCK)

    # The dashboard's days are the orders' days (UTC, the default time zone).
    expected: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        if order["status"] != "cancelled":
            day = datetime.fromisoformat(order["purchase_datetime"]).date().isoformat()
            expected[day][0] += 1
            expected[day][1] += round(order["amount"] * 100)
    table = day_table(await (await client.get("/admin")).text())
    for day, (count, revenue) in table.items():
        cents = expected.get(day, [0, 0])[1]
        assert (count, revenue) == (
            expected.get(day, [0, 0])[0],
            f"{cents // 100}.{cents % 100:02d}",
        )
    assert sum(count for count, _ in table.values()) == sum(n for n, _ in expected.values())


@pytest.mark.parametrize(
    "now",
    [
        "2026-11-29T00:03:00+00:00",  # just after midnight UTC: the oldest day's edge
        "2026-11-28T23:58:00+00:00",
        "2026-03-08T03:10:00-04:00",  # New York, an hour after clocks went forward
        "2026-11-02T00:30:00-03:00",  # Buenos Aires, just after midnight
    ],
)
@pytest.mark.parametrize("timezone", ["UTC", "America/New_York", "America/Argentina/Buenos_Aires"])
def test_demo_orders_fall_on_the_dashboards_days_whatever_the_hour(
    now: str, timezone: str
) -> None:
    # The clock cannot be set through `seed-demo`, and the hour decides where the orders
    # fall: the plan itself, at the edges of the day.
    moment = datetime.fromisoformat(now).astimezone(UTC)
    days = local_days(today_in(timezone, moment), SALES_DAYS, timezone)
    plan = _order_times(moment, timezone, Random(SEED))
    assert len(plan) >= 30
    for age, at in plan:
        day = days[len(days) - 1 - age]
        assert day.start <= at < day.end, (age, at, day)
        assert at <= moment
        assert at.microsecond % 1000 == 0  # what both stores keep exactly


async def test_seed_demo_adds_nothing_to_a_shop_with_products(
    env: dict[str, str], make_client: MakeClient, product_body: Any
) -> None:
    client = await admin_client(make_client)
    await success(await client.post("/api/products", json=product_body()), 201)
    code, out, err = await run_cli(env, "seed-demo", "--products", "3")
    assert code == 0, err
    assert "the shop has 1 products already: nothing added" in out
    assert "--force" in out
    assert len(await every(client, "/api/products")) == 1
    assert await every(client, "/api/orders") == []


async def test_seed_demo_with_force_adds_the_demo_again_beside_it(
    env: dict[str, str], make_client: MakeClient
) -> None:
    first = await run_cli(env, "seed-demo", "--products", "4")
    second = await run_cli(env, "seed-demo", "--products", "4", "--force")
    assert first[0] == second[0] == 0, first[2] + second[2]
    first_login, second_login = LOGIN.search(first[1]), LOGIN.search(second[1])
    assert first_login is not None and second_login is not None
    assert first_login.group(1) != second_login.group(1)
    client = await admin_client(make_client)
    codes = sorted(product["code"] for product in await every(client, "/api/products"))
    demo = sorted(product.code for product in CATALOGUE[:4])
    assert codes == sorted(demo + [f"{code}-2" for code in demo])
    initial = {**INITIAL_STOCK, **{f"{code}-2": stock for code, stock in INITIAL_STOCK.items()}}
    await assert_stock_matches_orders(client, initial)


# On SQLite only: MongoDB's bulk writes are the import's, tested on both stores there, and
# the pictures take mongoeco a while.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_seed_demo_products_makes_a_large_catalogue_in_one_go(
    env: dict[str, str], make_client: MakeClient
) -> None:
    code, out, err = await run_cli(env, "seed-demo", "--products", "100", timeout=DEMO_TIMEOUT)
    assert code == 0, err
    assert "100 products in 8 categories" in out
    client = await admin_client(make_client)
    first = await (await client.get("/api/products?limit=1")).json()
    assert first["totalPages"] == 100
    found = await (await client.get("/api/products?q=tranquera+lote&limit=1")).json()
    assert found["totalPages"] > 0  # the generated products are searchable
    with_pictures = await every(client, "/api/products?q=suave")
    assert any(product["thumbnails"] for product in with_pictures)


@pytest.mark.parametrize("value", ["0", "-5", "many", "2000000"])
async def test_seed_demo_products_must_be_a_sensible_count(tmp_path: Path, value: str) -> None:
    code, _, err = await run_cli(shop_env(tmp_path), "seed-demo", "--products", value)
    assert code == 2
    assert "--products: must be a whole number from 1 to 1,000,000" in err


# ---- export-products and import-products ------------------------------------------------


async def test_export_to_stdout_is_the_file_alone_and_imports_back_unchanged(
    env: dict[str, str], make_client: MakeClient, product_body: Any
) -> None:
    client = await admin_client(make_client)
    for body in (product_body(title="Alfajor", code="A1"), product_body(title="=1+1", code="A2")):
        await success(await client.post("/api/products", json=body), 201)
    code, out, err = await run_cli(env, "export-products")
    assert code == 0, err
    assert out.startswith(
        "\ufeff_id,title,description,code,price,status,stock,category,thumbnails"
    )
    assert [row["code"] for row in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))] == [
        "A1",
        "A2",
    ]
    assert "database:" in err and "exported 2 products to standard output" in err
    code, said, err = await run_cli(env, "import-products", "-", stdin=out)
    assert code == 0, err
    assert "0 new, 0 changed, 2 already up to date" in said


async def test_export_to_a_file_then_import_it_elsewhere_creates_the_products(
    env: dict[str, str], make_client: MakeClient, product_body: Any, tmp_path: Path
) -> None:
    client = await admin_client(make_client)
    await success(
        await client.post("/api/products", json=product_body(code="X1", title="Mate")), 201
    )
    target = tmp_path / "catalogo.csv"
    code, out, err = await run_cli(env, "export-products", str(target))
    assert code == 0, err
    assert f"exported 1 products to {target}" in out
    text = target.read_text(encoding="utf-8-sig").replace("X1", "X2").replace("Mate", "Termo")
    changed = tmp_path / "cambiado.csv"
    changed.write_text(text, encoding="utf-8")
    code, out, err = await run_cli(env, "import-products", str(changed))
    assert code == 0, err
    assert "1 new, 0 changed, 0 already up to date" in out
    titles = {p["code"]: p["title"] for p in await every(client, "/api/products")}
    assert titles == {"X1": "Mate", "X2": "Termo"}


async def test_a_catalogue_moved_to_another_shop_leaves_its_pictures_behind_and_says_so(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    code, _, err = await run_cli(env, "seed-demo", "--products", "2")
    assert code == 0, err
    target = tmp_path / "catalogo.csv"
    assert (await run_cli(env, "export-products", str(target)))[0] == 0
    if settings.is_mongo:
        other = shop_env(
            tmp_path, SHOP_DATABASE_URL=_with_database(settings.database_url, "other")
        )
    else:
        other = shop_env(tmp_path / "other")
    code, out, err = await run_cli(other, "import-products", str(target))
    assert code == 0, err
    assert "2 new, 0 changed, 0 already up to date" in out
    assert "2 image addresses of another shop (or another product) were left out" in out
    code, exported, _ = await run_cli(other, "export-products")
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [(row["code"], row["thumbnails"]) for row in rows] == [
        (product.code, "") for product in CATALOGUE[:2]
    ]


async def test_import_with_bad_rows_exits_1_lists_them_and_imports_nothing(
    env: dict[str, str], make_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "malo.csv"
    path.write_text(
        "title;code;price;stock;category\nBueno;B1;1,50;1;C\n;B2;0;x;C\nOtro;B1;2;2;C\n",
        encoding="utf-8",
    )
    code, _, err = await run_cli(env, "import-products", str(path))
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "shop: error: nothing was imported: 4 problems"
    assert lines[1:] == [
        "line 3, title: must not be empty",
        "line 3, price: must be greater than 0",
        "line 3, stock: must be a whole number",
        "line 4, code: repeats the code of line 2",
    ]
    client = await admin_client(make_client)
    assert await every(client, "/api/products") == []


async def test_import_of_a_missing_file_is_one_line_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = await run_cli(env, "import-products", str(tmp_path / "nope.csv"))
    assert result[0] == 1
    await assert_one_line_error(result, "nope.csv", "No such file")


# ---- serve -----------------------------------------------------------------------------


async def test_serve_says_once_how_to_fill_an_empty_catalogue(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    async with running_server(shop_env(tmp_path), log):
        pass
    said = log.read_text()
    assert said.count("the catalogue is empty") == 1
    assert "shop seed-demo" in said and "/admin/products" in said


async def test_serve_with_a_bad_time_zone_is_one_line_error(tmp_path: Path) -> None:
    result = await run_cli(shop_env(tmp_path, SHOP_TIMEZONE="Mars/Olympus"), "serve")
    await assert_one_line_error(result, "SHOP_TIMEZONE")
