"""The product listing's query string and its pagination envelope, shared by the API
and the catalogue page so both accept exactly the same parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE, Page
from shop.models.products import Product, ProductQuery
from shop.models.users import User
from shop.routes.query import Query

LISTING_PARAMS = frozenset({"limit", "page", "sort", "query"})
PAGING_PARAMS = frozenset({"limit", "page"})


def parse_paging(query: Query) -> tuple[int, int]:
    """`limit` (1 to 100, default 10) and `page` (from 1, default 1)."""
    return (
        query.whole_number("limit", 10, 1, MAX_PAGE_SIZE),
        query.whole_number("page", 1, 1, MAX_PAGE),
    )


def parse_product_query(request: web.Request) -> ProductQuery:
    params = Query(request, LISTING_PARAMS)
    limit, page = parse_paging(params)
    sort = params.choice("sort", ("asc", "desc"))
    text = params.text("query", 100)
    params.check()
    available: bool | None = None
    category: str | None = None
    if text.lower() == "available":
        available = True
    elif text:
        category = text
    return ProductQuery(
        limit=limit,
        page=page,
        sort=sort,  # type: ignore[arg-type]
        category=category,
        available=available,
    )


def page_link(request: web.Request, page: int) -> str:
    """A relative link to another page that keeps every other parameter."""
    query = dict(request.query)
    query["page"] = str(page)
    return f"{request.path}?{urlencode(query)}"


def listing_envelope(request: web.Request, page: Page[Product] | Page[User]) -> dict[str, Any]:
    """The seed's paginated answer: the items and how to reach the pages around them."""
    has_prev = page.page > 1
    has_next = page.page < page.total_pages
    return {
        "status": "success",
        "payload": [product.to_json() for product in page.items],
        "totalPages": page.total_pages,
        "prevPage": page.page - 1 if has_prev else None,
        "nextPage": page.page + 1 if has_next else None,
        "page": page.page,
        "hasPrevPage": has_prev,
        "hasNextPage": has_next,
        "prevLink": page_link(request, page.page - 1) if has_prev else None,
        "nextLink": page_link(request, page.page + 1) if has_next else None,
    }
