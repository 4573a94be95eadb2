"""Finding products, on every store: text search by word prefixes (accents and case
ignored), combined with category, availability, low stock, sort and paging; what shoppers
see; categories with their counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from shop.settings import Settings
from tests.conftest import Auth, Client
from tests.envelopes import NewBrowser, error, success
from tests.test_money import old_mongo_database, old_sqlite_file

ProductBody = Callable[..., dict[str, Any]]
MakeClient = Callable[..., Awaitable[Client]]


class Catalogue:
    """An admin's browser that fills the catalogue, and the anonymous `client`."""

    def __init__(self, client: Client, admin: Client, product_body: ProductBody) -> None:
        self.client = client
        self.admin = admin
        self._body = product_body

    async def add(self, **fields: Any) -> dict[str, Any]:
        response = await self.admin.post("/api/products", json=self._body(**fields))
        return await success(response, 201)

    async def change(self, pid: str, **fields: Any) -> None:
        await success(await self.admin.put(f"/api/products/{pid}", json=fields))

    async def find(self, query: str, as_admin: bool = False) -> dict[str, Any]:
        browser = self.admin if as_admin else self.client
        response = await browser.get(f"/api/products?{query}")
        assert response.status == 200, await response.text()
        return await response.json()

    async def titles(self, query: str, as_admin: bool = False) -> list[str]:
        return [product["title"] for product in (await self.find(query, as_admin))["payload"]]


@pytest.fixture
async def shop(client: Client, new_browser: NewBrowser, product_body: ProductBody) -> Catalogue:
    admin = Auth(await new_browser())
    await admin.admin()
    return Catalogue(client, admin.client, product_body)


@pytest.fixture
async def pantry(shop: Catalogue) -> Catalogue:
    await shop.add(
        title="Azúcar mascabo",
        description="Caña de azúcar integral",
        code="AZ-1",
        category="Almacén",
        price=3.5,
        stock=40,
    )
    await shop.add(
        title="Yerba mate suave",
        description="Medio kilo, sin palo",
        code="YER-001",
        category="Yerba",
        price=12,
        stock=10,
    )
    await shop.add(
        title="Mate de calabaza",
        description="Curado a mano",
        code="MAT-7",
        category="Mates",
        price=25,
        stock=3,
    )
    await shop.add(
        title="Dulce de leche",
        description="Repostero, 1 kg",
        code="DDL-1",
        category="Almacén",
        price=8.25,
        stock=0,
    )
    return shop


async def test_a_word_without_its_accent_finds_the_accented_title(pantry: Catalogue) -> None:
    assert await pantry.titles("q=azucar") == ["Azúcar mascabo"]
    assert await pantry.titles("q=AZÚCAR") == ["Azúcar mascabo"]


async def test_each_query_word_must_start_a_word_of_the_product(pantry: Catalogue) -> None:
    assert await pantry.titles("q=yer+sua") == ["Yerba mate suave"]
    assert await pantry.titles("q=yerba+calabaza") == []
    assert await pantry.titles("q=ucar") == []  # inside a word, not at its start


async def test_description_and_code_words_are_searched_too(pantry: Catalogue) -> None:
    assert await pantry.titles("q=curado") == ["Mate de calabaza"]
    assert await pantry.titles("q=yer-001") == ["Yerba mate suave"]
    assert await pantry.titles("q=001") == ["Yerba mate suave"]


async def test_search_combines_with_category_sort_and_paging(pantry: Catalogue) -> None:
    assert await pantry.titles("q=mate&sort=price_desc") == [
        "Mate de calabaza",
        "Yerba mate suave",
    ]
    assert await pantry.titles("q=mate&category=yerba") == ["Yerba mate suave"]
    body = await pantry.find("q=mate&sort=title_asc&limit=1&page=2")
    assert [p["title"] for p in body["payload"]] == ["Yerba mate suave"]
    assert body["totalPages"] == 2
    assert body["prevPage"] == 1


async def test_search_text_with_operators_is_only_text(pantry: Catalogue) -> None:
    for query in ("q=.*", "q=%5B", "q=(", "q=%24where", "q=%5Ca", "q=+++"):
        body = await pantry.find(query)
        assert body["status"] == "success"
    assert len((await pantry.find("q=.*"))["payload"]) == 4  # no words: no text filter


async def test_over_long_search_is_400_naming_q(client: Client) -> None:
    await error(await client.get("/api/products?q=" + "x" * 201), 400, "q")


async def test_available_means_on_sale_and_in_stock(pantry: Catalogue) -> None:
    available = await pantry.titles("available=true&sort=title_asc")
    assert available == ["Azúcar mascabo", "Mate de calabaza", "Yerba mate suave"]
    assert await pantry.titles("query=available&sort=title_asc") == available
    assert await pantry.titles("available=false") == ["Dulce de leche"]


async def test_category_and_available_combine(pantry: Catalogue) -> None:
    assert await pantry.titles("category=almac%C3%A9n&available=true") == ["Azúcar mascabo"]
    assert await pantry.titles("query=Almac%C3%A9n&available=false") == ["Dulce de leche"]


async def test_two_different_categories_match_nothing(pantry: Catalogue) -> None:
    # Every filter combines with the others, and a product has one category.
    assert await pantry.titles("query=Yerba&category=Mates") == []
    assert await pantry.titles("query=yerba&category=Yerba") != []


async def test_low_stock_lists_five_or_fewer_left(pantry: Catalogue) -> None:
    assert await pantry.titles("low_stock=true&sort=stock_asc") == [
        "Dulce de leche",
        "Mate de calabaza",
    ]


async def test_title_sort_ignores_case_and_accents(shop: Catalogue) -> None:
    for title in ("banana", "Árbol", "azul", "Avena"):
        await shop.add(title=title)
    assert await shop.titles("sort=title_asc") == ["Árbol", "Avena", "azul", "banana"]
    assert await shop.titles("sort=title_desc") == ["banana", "azul", "Avena", "Árbol"]


async def test_bad_sort_or_flag_is_400_naming_it(client: Client) -> None:
    await error(await client.get("/api/products?sort=price"), 400, "sort")
    await error(await client.get("/api/products?available=yes"), 400, "available")
    await error(await client.get("/api/products?low_stock=1"), 400, "low_stock")


async def test_changing_a_title_changes_what_finds_it(pantry: Catalogue) -> None:
    (found,) = (await pantry.find("q=calabaza"))["payload"]
    await pantry.change(found["_id"], title="Mate imperial", description="De alpaca")
    assert await pantry.titles("q=calabaza") == []
    assert await pantry.titles("q=imperial") == ["Mate imperial"]
    assert await pantry.titles("q=alpaca") == ["Mate imperial"]


async def test_a_deleted_product_is_no_longer_found(pantry: Catalogue) -> None:
    (found,) = (await pantry.find("q=dulce"))["payload"]
    await success(await pantry.admin.delete(f"/api/products/{found['_id']}"))
    assert await pantry.titles("q=dulce") == []


# ---- what shoppers see --------------------------------------------------------------------


@pytest.fixture
async def hidden(pantry: Catalogue) -> dict[str, Any]:
    return await pantry.add(title="Alfajor de prueba", category="Almacén", status=False, stock=9)


async def test_shoppers_never_see_products_that_are_off_sale(
    pantry: Catalogue, hidden: dict[str, Any], auth: Auth
) -> None:
    for query in ("", "q=alfajor", "category=almac%C3%A9n", "available=false", "low_stock=false"):
        assert "Alfajor de prueba" not in await pantry.titles(query)
    assert (await pantry.find("limit=1"))["totalPages"] == 4
    await auth.user()  # a logged-in shopper sees the same
    assert "Alfajor de prueba" not in await pantry.titles("limit=100")


async def test_admins_see_every_product_and_its_status(
    pantry: Catalogue, hidden: dict[str, Any]
) -> None:
    body = await pantry.find("q=alfajor", as_admin=True)
    assert [(p["title"], p["status"]) for p in body["payload"]] == [("Alfajor de prueba", False)]
    assert (await pantry.find("limit=1", as_admin=True))["totalPages"] == 5


async def test_an_off_sale_product_still_answers_by_id_marked(
    pantry: Catalogue, hidden: dict[str, Any]
) -> None:
    product = await success(await pantry.client.get(f"/api/products/{hidden['_id']}"))
    assert product["status"] is False


# ---- categories ---------------------------------------------------------------------------


async def test_categories_count_what_shoppers_can_see(
    pantry: Catalogue, hidden: dict[str, Any]
) -> None:
    categories = await success(await pantry.client.get("/api/categories"))
    assert categories == [
        {"name": "Almacén", "count": 2},
        {"name": "Mates", "count": 1},
        {"name": "Yerba", "count": 1},
    ]


async def test_categories_follow_status_category_and_deletion_changes(pantry: Catalogue) -> None:
    listing = await pantry.find("q=yerba")
    (yerba,) = listing["payload"]
    await pantry.change(yerba["_id"], category="Mates")
    (mate,) = (await pantry.find("q=calabaza"))["payload"]
    await pantry.change(mate["_id"], status=False)
    categories = await success(await pantry.client.get("/api/categories"))
    assert categories == [{"name": "Almacén", "count": 2}, {"name": "Mates", "count": 1}]


async def test_listing_totals_follow_stock_reaching_zero(pantry: Catalogue) -> None:
    (yerba,) = (await pantry.find("q=yerba"))["payload"]
    assert (await pantry.find("available=true&limit=1"))["totalPages"] == 3
    await pantry.change(yerba["_id"], stock=0)
    assert (await pantry.find("available=true&limit=1"))["totalPages"] == 2
    assert (await pantry.find("query=available&limit=1"))["totalPages"] == 2
    await pantry.change(yerba["_id"], stock=4)
    assert (await pantry.find("available=true&limit=1"))["totalPages"] == 3


async def test_products_of_an_older_database_are_found_after_start_up(
    settings: Settings, make_client: MakeClient
) -> None:
    if settings.is_mongo:
        await old_mongo_database(settings.database_url)
    else:
        old_sqlite_file(settings.sqlite_path)
    client = await make_client()
    body = await (await client.get("/api/products?q=old&sort=title_desc&limit=2")).json()
    assert [p["title"] for p in body["payload"]] == ["Old 3", "Old 2"]
    assert body["totalPages"] == 2
    assert await success(await client.get("/api/categories")) == [{"name": "Old", "count": 4}]


# ---- a search's total is counted up to a limit -------------------------------------------


@pytest.fixture
def count_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """A small COUNT_LIMIT, on both stores, so a few products are "more than" it."""
    limit = 5
    for module in ("shop.store.sqlite.products", "shop.store.mongo.products"):
        monkeypatch.setattr(f"{module}.COUNT_LIMIT", limit)
    return limit


async def test_a_search_counts_up_to_its_limit_then_says_more(
    shop: Catalogue, count_limit: int
) -> None:
    for n in range(count_limit + 3):
        await shop.add(title=f"Mate {n}")
    await shop.add(title="Termo")
    found = await shop.find("q=mate")
    assert (found["totalDocs"], found["totalDocsExact"]) == (count_limit, False)
    assert found["totalPages"] == 1
    assert len(found["payload"]) == count_limit
    # Only that many are paged: the last page stops at the limit, and none comes after.
    assert len((await shop.find("q=mate&limit=3&page=2"))["payload"]) == count_limit - 3
    assert (await shop.find("q=mate&limit=3&page=3"))["payload"] == []
    exact = await shop.find("q=term")
    assert (exact["totalDocs"], exact["totalDocsExact"]) == (1, True)
    # A listing without words counts everything.
    plain = await shop.find("limit=1")
    assert (plain["totalDocs"], plain["totalDocsExact"]) == (count_limit + 4, True)


async def test_a_product_holding_two_words_of_a_prefix_counts_once(
    shop: Catalogue, count_limit: int
) -> None:
    await shop.add(title="Mate matero", description="Para el mate")
    await shop.add(title="Matera de cuero")
    found = await shop.find("q=mat")
    assert (found["totalDocs"], found["totalDocsExact"]) == (2, True)
    assert await shop.titles("q=mat+cuero") == ["Matera de cuero"]


async def test_the_page_says_more_than_the_limit(shop: Catalogue, count_limit: int) -> None:
    for _ in range(count_limit + 1):
        await shop.add(title="Yerba")
    response = await shop.client.get("/products?q=yerba")
    assert f">More than {count_limit} products</p>" in await response.text()
