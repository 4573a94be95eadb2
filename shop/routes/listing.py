"""The product listing's query string and its pagination envelope, shared by the API
and the catalogue page so both accept exactly the same parameters."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web

from shop.errors import Invalid
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE, Page
from shop.models.products import ProductQuery
from shop.routes.common import int_param, query_params

LISTING_PARAMS = frozenset({"limit", "page", "sort", "query"})


def parse_product_query(request: web.Request) -> ProductQuery:
    params = query_params(request, LISTING_PARAMS)
    sort = params.get("sort") or None
    if sort not in (None, "asc", "desc"):
        raise Invalid("sort: must be asc or desc")
    query = (params.get("query") or "").strip()
    if len(query) > 100:
        raise Invalid("query: must be at most 100 characters")
    available: bool | None = None
    category: str | None = None
    if query.lower() == "available":
        available = True
    elif query:
        category = query
    return ProductQuery(
        limit=int_param(params, "limit", 10, 1, MAX_PAGE_SIZE),
        page=int_param(params, "page", 1, 1, MAX_PAGE),
        sort=sort,  # type: ignore[arg-type]
        category=category,
        available=available,
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
    """What a page's pagination macro shows: links to the neighbours and to page numbers."""
    numbers = page_numbers(page.page, page.total_pages)
    return {
        "prev_link": page_link(request, page.page - 1) if page.page > 1 else None,
        "next_link": page_link(request, page.page + 1) if page.page < page.total_pages else None,
        "page_links": [(n, page_link(request, n) if n else None) for n in numbers],
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
        "hasPrevPage": has_prev,
        "hasNextPage": has_next,
        "prevLink": page_link(request, page.page - 1) if has_prev else None,
        "nextLink": page_link(request, page.page + 1) if has_next else None,
    }
