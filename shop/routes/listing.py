"""The product listing's query string and its pagination envelope, shared by the API
and the catalogue page so both accept exactly the same parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE, Page
from shop.models.products import LOW_STOCK, ProductQuery, ProductSort
from shop.models.search import query_words
from shop.routes.query import Choice, Flag, Params, WholeNumber, Words

# The course's sort values order by price; the others name the field too.
SORTS = {"asc": ProductSort.PRICE_ASC, "desc": ProductSort.PRICE_DESC} | {
    sort.value: sort for sort in ProductSort
}
MAX_SEARCH = 200
MAX_CATEGORY = 100

PAGING = Params(
    WholeNumber("limit", "items per page", default=10, low=1, high=MAX_PAGE_SIZE),
    WholeNumber("page", "the page, from 1", default=1, low=1, high=MAX_PAGE),
)
LISTING_PARAMS = PAGING + Params(
    Choice("sort", "`asc`/`desc` order by price (the course's spelling)", tuple(SORTS)),
    Words(
        "q",
        "search words: each must start a word of the title, description or code (case and"
        " accents ignored)",
        MAX_SEARCH,
    ),
    Words("category", "a category (case-insensitive)", MAX_CATEGORY),
    Flag("available", "`true`: on sale and in stock; `false`: the others"),
    Flag("low_stock", f"`true`: {LOW_STOCK} or fewer left"),
    Words(
        "query",
        "the course's filter: `available`, or a category (combines with `category`: two"
        " different categories match nothing)",
        MAX_CATEGORY,
    ),
)


def product_query(values: dict[str, Any]) -> ProductQuery:
    """The listing's parameters as one ProductQuery."""
    sort = values["sort"]
    category = values["category"] or None
    available = values["available"]
    legacy = values["query"]
    nothing = False
    if legacy.lower() == "available":
        available = True
    elif legacy:
        # Every filter combines with the others: a product has one category.
        nothing = category is not None and category.lower() != legacy.lower()
        category = legacy
    return ProductQuery(
        limit=values["limit"],
        page=values["page"],
        sort=SORTS[sort] if sort is not None else None,
        category=category,
        available=available,
        words=query_words(values["q"]),
        low_stock=values["low_stock"] is True,
        nothing=nothing,
    )


LISTING = LISTING_PARAMS.into(product_query)


def parse_product_query(request: web.Request) -> ProductQuery:
    """The listing's query string (LISTING) as one ProductQuery; 400 naming what is wrong."""
    query: ProductQuery = LISTING.read(request)
    return query


def page_link(request: web.Request, page: int) -> str:
    """A relative link to another page that keeps every other parameter."""
    query = dict(request.query)
    query["page"] = str(page)
    return f"{request.path}?{urlencode(query)}"


def page_numbers(current: int, total: int, spread: int = 2) -> list[int | None]:
    """The pages to link: the first, the last and those around `current`; None is a gap."""
    wanted = {1, total, *range(current - spread, current + spread + 1)}
    numbers: list[int | None] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= total):
        if number > previous + 1:
            numbers.append(None)
        numbers.append(number)
        previous = number
    return numbers


def pagination(request: web.Request, page: Page[Any]) -> dict[str, Any]:
    """What a page's pagination macro shows: links to the neighbours and to page numbers.

    A page past the last (`past_end`) links to the last page instead of to neighbours.
    """
    past_end = page.page > page.total_pages
    numbers = page_numbers(page.page, page.total_pages) if not past_end else []
    return {
        "prev_link": page_link(request, page.page - 1)
        if 1 < page.page <= page.total_pages
        else None,
        "next_link": page_link(request, page.page + 1) if page.page < page.total_pages else None,
        "page_links": [(n, page_link(request, n) if n else None) for n in numbers],
        "past_end": past_end,
        "last_link": page_link(request, page.total_pages),
    }
