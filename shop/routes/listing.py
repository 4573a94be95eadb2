"""The product listing's query string and its pagination envelope, shared by the API
and the catalogue page so both accept exactly the same parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from shop.errors import Invalid
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE, Page
from shop.models.products import Product, ProductQuery, ProductSort
from shop.models.search import query_words
from shop.models.users import User
from shop.routes.common import int_param, query_params

LISTING_PARAMS = frozenset(
    {"limit", "page", "sort", "query", "q", "category", "available", "low_stock"}
)
# The course's sort values order by price; the others name the field too.
SORTS = {"asc": ProductSort.PRICE_ASC, "desc": ProductSort.PRICE_DESC} | {
    sort.value: sort for sort in ProductSort
}
MAX_SEARCH = 200
MAX_CATEGORY = 100


def parse_product_query(request: web.Request) -> ProductQuery:
    """The listing's parameters: `q` (search words), `category`, `available`, `low_stock`,
    `sort`, `limit`, `page`, and the course's `query` (a category, or `available`)."""
    params = query_params(request, LISTING_PARAMS)
    sort = params.get("sort") or None
    if sort is not None and sort not in SORTS:
        raise Invalid("sort: must be one of {sorts}", sorts=", ".join(SORTS))
    category = _text(params, "category", MAX_CATEGORY) or None
    available = _flag(params, "available")
    legacy = _text(params, "query", MAX_CATEGORY)
    if legacy.lower() == "available":
        available = True
    elif legacy:
        if category is not None and category.lower() != legacy.lower():
            raise Invalid("query: names a category; give it once, as category or query")
        category = legacy
    return ProductQuery(
        limit=int_param(params, "limit", 10, 1, MAX_PAGE_SIZE),
        page=int_param(params, "page", 1, 1, MAX_PAGE),
        sort=SORTS[sort] if sort is not None else None,
        category=category,
        available=available,
        words=query_words(_text(params, "q", MAX_SEARCH)),
        low_stock=_flag(params, "low_stock") is True,
    )


def _text(params: dict[str, str], name: str, most: int) -> str:
    value = params.get(name, "").strip()
    if len(value) > most:
        raise Invalid("{name}: must be at most {most} characters", name=name, most=most)
    return value


def _flag(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise Invalid("{name}: must be true or false", name=name)
    return raw == "true"


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
