"""The product listing's query string and its pagination envelope, shared by the API
and the catalogue page so both accept exactly the same parameters."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE, Page
from shop.models.messages import phrase
from shop.models.products import ProductQuery, ProductSort
from shop.models.search import query_words
from shop.routes.query import Query

LISTING_PARAMS = frozenset(
    {"limit", "page", "sort", "query", "q", "category", "available", "low_stock"}
)
PAGING_PARAMS = frozenset({"limit", "page"})
# The course's sort values order by price; the others name the field too.
SORTS = {"asc": ProductSort.PRICE_ASC, "desc": ProductSort.PRICE_DESC} | {
    sort.value: sort for sort in ProductSort
}
MAX_SEARCH = 200
MAX_CATEGORY = 100


def parse_paging(query: Query) -> tuple[int, int]:
    """`limit` (1 to 100, default 10) and `page` (from 1, default 1)."""
    return (
        query.whole_number("limit", 10, 1, MAX_PAGE_SIZE),
        query.whole_number("page", 1, 1, MAX_PAGE),
    )


def parse_product_query(request: web.Request) -> ProductQuery:
    """The listing's parameters: `q` (search words), `category`, `available`, `low_stock`,
    `sort`, `limit`, `page`, and the course's `query` (a category, or `available`)."""
    params = Query(request, LISTING_PARAMS)
    limit, page = parse_paging(params)
    sort = params.choice("sort", tuple(SORTS))
    category = params.text("category", MAX_CATEGORY) or None
    available = params.flag("available")
    legacy = params.text("query", MAX_CATEGORY)
    words = query_words(params.text("q", MAX_SEARCH))
    low_stock = params.flag("low_stock") is True
    if legacy.lower() == "available":
        available = True
    elif legacy:
        if category is not None and category.lower() != legacy.lower():
            params.refuse("query", phrase("query_and_category"))
        category = legacy
    params.check()
    return ProductQuery(
        limit=limit,
        page=page,
        sort=SORTS[sort] if sort is not None else None,
        category=category,
        available=available,
        words=words,
        low_stock=low_stock,
    )


def page_link(request: web.Request, page: int) -> str:
    """A relative link to another page that keeps every other parameter."""
    query = dict(request.query)
    query["page"] = str(page)
    return f"{request.path}?{urlencode(query)}"


class Listed(Protocol):
    def to_json(self) -> dict[str, Any]: ...


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


def listing_envelope(request: web.Request, page: Page[Listed]) -> dict[str, Any]:
    """The seed's paginated answer: the items and how to reach the pages around them."""
    has_prev = page.page > 1
    has_next = page.page < page.total_pages
    return {
        "status": "success",
        "payload": [item.to_json() for item in page.items],
        "totalPages": page.total_pages,
        "prevPage": page.page - 1 if has_prev else None,
        "nextPage": page.page + 1 if has_next else None,
        "page": page.page,
        # Beyond the course's keys: how many match, so a live page keeps its count right
        # (a search counts up to shop.models.search.COUNT_LIMIT: then it is not exact).
        "totalDocs": page.total,
        "totalDocsExact": page.exact,
        "hasPrevPage": has_prev,
        "hasNextPage": has_next,
        "prevLink": page_link(request, page.page - 1) if has_prev else None,
        "nextLink": page_link(request, page.page + 1) if has_next else None,
    }
