"""/admin/products on every store: the catalogue as a table that any catalogue size pages
through, searched by title or code, filtered by category (hidden products' too),
availability and low stock, sorted by title, price and stock, all in the query string."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.backoffice import BackOffice
from tests.conftest import Auth, Client

ROW = re.compile(r'<tr class="admin-row[^"]*" data-product-id="([0-9a-f]{24})"')


@pytest.fixture
async def office(client: Client, auth: Auth) -> BackOffice:
    await auth.admin()
    return BackOffice(client)


class Table:
    """The admin's product table at some query string."""

    def __init__(self, office: BackOffice) -> None:
        self.office = office
        self.titles: dict[str, str] = {}

    async def add(self, title: str, **fields: Any) -> str:
        product = await self.office.product(title=title, **fields)
        self.titles[product["_id"]] = title
        return product["_id"]

    async def rows(self, query: str = "") -> list[str]:
        """The titles of the rows the table shows, in order."""
        html = await self.office.page(f"/admin/products{query}")
        return [self.titles.get(pid, pid) for pid in ROW.findall(html)]


@pytest.fixture
async def table(office: BackOffice) -> Table:
    table = Table(office)
    await table.add("Yerba mate suave", code="YER-1", price=12, stock=40, category="Yerba")
    await table.add("Mate de calabaza", code="MAT-7", price=25, stock=3, category="Mates")
    await table.add("Bombilla", code="BOM-2", price=8.5, stock=0, category="Mates")
    await table.add("Termo", code="TER-9", price=60, stock=2, category="Termos", status=False)
    return table


async def test_the_table_lists_every_product_hidden_ones_included(table: Table) -> None:
    assert await table.rows() == ["Yerba mate suave", "Mate de calabaza", "Bombilla", "Termo"]


async def test_each_row_shows_its_status_and_off_sale_rows_are_marked(table: Table) -> None:
    html = await table.office.page("/admin/products")
    statuses = re.findall(r'data-availability="(\w+)">([^<]+)</span></td>', html)
    assert statuses == [
        ("available", "Available"),
        ("available", "Available"),
        ("sold_out", "Sold out"),
        ("off_sale", "Off sale"),
    ]
    assert html.count('<tr class="admin-row is-unavailable"') == 1
    assert html.count('class="tag tag-low row-low">') == 2  # 3 and 2 left; 0 is sold out
    for pid in table.titles:
        assert f'href="/admin/products/{pid}"' in html
        assert f'href="/admin/products/{pid}/delete"' in html


async def test_search_finds_by_title_or_code_words(table: Table) -> None:
    assert await table.rows("?q=mate") == ["Yerba mate suave", "Mate de calabaza"]
    assert await table.rows("?q=mat-7") == ["Mate de calabaza"]
    assert await table.rows("?q=ter") == ["Termo"]  # off sale, still found
    html = await table.office.page("/admin/products?q=nothing+like+it")
    assert "No product matches these filters." in html


async def test_categories_offered_include_those_of_hidden_products(table: Table) -> None:
    html = await table.office.page("/admin/products")
    assert '<option value="Termos">Termos (1)</option>' in html
    assert await table.rows("?category=termos") == ["Termo"]
    assert await table.rows("?category=Mates&q=bomb") == ["Bombilla"]


@pytest.mark.parametrize(
    ("availability", "titles"),
    [
        ("available", ["Yerba mate suave", "Mate de calabaza"]),
        ("sold_out", ["Bombilla"]),
        ("off_sale", ["Termo"]),
    ],
)
async def test_availability_filters(table: Table, availability: str, titles: list[str]) -> None:
    assert await table.rows(f"?availability={availability}") == titles


async def test_low_stock_lists_five_or_fewer_and_combines(table: Table) -> None:
    assert await table.rows("?low_stock=true") == ["Mate de calabaza", "Bombilla", "Termo"]
    assert await table.rows("?low_stock=true&availability=available") == ["Mate de calabaza"]
    assert await table.rows("?low_stock=true&category=mates&sort=stock_asc") == [
        "Bombilla",
        "Mate de calabaza",
    ]


@pytest.mark.parametrize(
    ("sort", "titles"),
    [
        ("title_asc", ["Bombilla", "Mate de calabaza", "Termo", "Yerba mate suave"]),
        ("title_desc", ["Yerba mate suave", "Termo", "Mate de calabaza", "Bombilla"]),
        ("price_asc", ["Bombilla", "Yerba mate suave", "Mate de calabaza", "Termo"]),
        ("price_desc", ["Termo", "Mate de calabaza", "Yerba mate suave", "Bombilla"]),
        ("stock_asc", ["Bombilla", "Termo", "Mate de calabaza", "Yerba mate suave"]),
        ("stock_desc", ["Yerba mate suave", "Mate de calabaza", "Termo", "Bombilla"]),
    ],
)
async def test_sorts(table: Table, sort: str, titles: list[str]) -> None:
    assert await table.rows(f"?sort={sort}") == titles


async def test_column_headers_sort_one_way_then_the_other_keeping_the_filters(
    table: Table,
) -> None:
    html = await table.office.page("/admin/products?category=Mates&sort=price_asc")
    assert 'href="/admin/products?category=Mates&amp;sort=price_desc"' in html
    assert 'href="/admin/products?category=Mates&amp;sort=title_asc"' in html
    assert 'aria-sort="ascending"' in html


async def test_the_filter_form_is_a_get_form_showing_the_current_filters(table: Table) -> None:
    query = "?q=mate&category=Mates&availability=available&low_stock=true&sort=stock_desc"
    html = await table.office.page(f"/admin/products{query}&limit=50")
    form = html.split('class="filters admin-filters" method="get" action="/admin/products"')[1]
    form = form.split("</form>")[0]
    assert 'name="q" value="mate"' in form
    assert '<option value="Mates" selected>' in form
    assert '<option value="available" selected>' in form
    assert 'name="low_stock" value="true" checked' in form
    assert '<option value="stock_desc" selected>' in form
    assert '<option value="50" selected>' in form
    assert '<a class="button button-ghost" href="/admin/products">Clear</a>' in form


async def test_a_browser_form_with_empty_filters_is_the_whole_table(table: Table) -> None:
    query = "?q=&category=&availability=&sort=&limit=20"
    assert len(await table.rows(query)) == 4


async def test_paging_keeps_the_filters(office: BackOffice) -> None:
    table = Table(office)
    for n in range(25):
        await table.add(f"Product {n:02}", category="Many")
    first = await office.page("/admin/products?category=many&sort=title_desc")
    assert len(ROW.findall(first)) == 20
    assert (
        'rel="next" href="/admin/products?category=many&amp;sort=title_desc&amp;page=2"' in first
    )
    assert "25 products" in first
    second = await table.rows("?category=many&sort=title_desc&page=2")
    assert second == [f"Product {n:02}" for n in range(4, -1, -1)]
    assert len(await table.rows("?limit=100")) == 25


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?availability=maybe", "availability"),
        ("?sort=colour", "sort"),
        ("?low_stock=yes", "low_stock"),
        ("?limit=500", "limit"),
        ("?page=0", "page"),
        ("?category[$ne]=x", "category[$ne]"),
    ],
)
async def test_a_bad_parameter_is_a_400_page_naming_it(
    office: BackOffice, query: str, field: str
) -> None:
    html = await office.page(f"/admin/products{query}", 400)
    assert f"{field}: " in html


async def test_live_updates_have_what_they_need_on_the_page(table: Table) -> None:
    html = await table.office.page("/admin/products")
    assert '<script src="/static/js/admin.js" defer></script>' in html
    assert 'id="products-added" class="notice" role="status" hidden' in html
    assert '<template id="availability-words">' in html
    assert '<span data-availability="deleted">Deleted</span>' in html
    # live.js fills these in place (shop/static/js/live.js, fillProduct)
    for cell in ("row-title product-title", "row-code product-code", "price product-price"):
        assert f'class="{cell}"' in html
    assert '<span class="product-stock">40</span>' in html
