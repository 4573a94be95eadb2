"""/admin/products: the catalogue as a table, searched, filtered, sorted and paged by its
query string (so every view is a link and works without JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from shop.i18n import N_
from shop.keys import PRODUCTS, USER
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE
from shop.models.products import LOW_STOCK, Product, ProductQuery, ProductSort
from shop.models.search import query_words
from shop.models.users import Role
from shop.routes.listing import MAX_CATEGORY, MAX_SEARCH, pagination
from shop.routes.query import Query
from shop.security import requires
from shop.views import render

routes = web.RouteTableDef()

PARAMS = frozenset({"q", "category", "availability", "low_stock", "sort", "limit", "page"})
PAGE_SIZES = (20, 50, 100)
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Availability:
    label: str
    available: bool | None = None
    on_sale: bool | None = None


# What the availability filter offers, as ProductQuery's filters.
AVAILABILITY = {
    "available": Availability(N_("Available"), available=True),
    "sold_out": Availability(N_("Sold out"), available=False, on_sale=True),
    "off_sale": Availability(N_("Off sale"), on_sale=False),
}
SORT_LABELS = {
    ProductSort.TITLE_ASC: N_("Title, A to Z"),
    ProductSort.TITLE_DESC: N_("Title, Z to A"),
    ProductSort.PRICE_ASC: N_("Price, lowest first"),
    ProductSort.PRICE_DESC: N_("Price, highest first"),
    ProductSort.STOCK_ASC: N_("Stock, fewest first"),
    ProductSort.STOCK_DESC: N_("Stock, most first"),
}


def availability(product: Product) -> str:
    """Where a product stands: `available`, `sold_out` (on sale, none left) or `off_sale`."""
    if not product.status:
        return "off_sale"
    return "available" if product.stock > 0 else "sold_out"


def parse_admin_query(request: web.Request) -> tuple[ProductQuery, dict[str, Any]]:
    """The table's query string as a ProductQuery, and the filters as the form shows them
    (400 naming every bad parameter)."""
    params = Query(request, PARAMS)
    limit = params.whole_number("limit", DEFAULT_LIMIT, 1, MAX_PAGE_SIZE)
    page = params.whole_number("page", 1, 1, MAX_PAGE)
    text = params.text("q", MAX_SEARCH)
    category = params.text("category", MAX_CATEGORY)
    state = params.choice("availability", tuple(AVAILABILITY))
    low_stock = params.flag("low_stock") is True
    sort = params.choice("sort", tuple(ProductSort))
    params.check()
    chosen = AVAILABILITY[state] if state else Availability("")
    query = ProductQuery(
        limit=limit,
        page=page,
        sort=ProductSort(sort) if sort else None,
        category=category or None,
        available=chosen.available,
        on_sale=chosen.on_sale,
        words=query_words(text),
        low_stock=low_stock,
    )
    filters = {
        "q": text,
        "category": category,
        "availability": state or "",
        "low_stock": low_stock,
        "sort": sort or "",
        "limit": limit,
    }
    return query, filters


def _link(filters: dict[str, Any], **changes: Any) -> str:
    """/admin/products with these filters (the empty ones left out), from page 1."""
    wanted = {**filters, **changes}
    if wanted.get("limit") == DEFAULT_LIMIT:
        del wanted["limit"]
    # False, empty and None mean "not filtered": left out.
    query = {name: "true" if on is True else str(on) for name, on in wanted.items() if on}
    return "/admin/products" + (f"?{urlencode(query)}" if query else "")


def sort_links(filters: dict[str, Any]) -> dict[str, str]:
    """Each sortable column's header link: ascending first, then the other way."""
    links = {}
    for field in ("title", "price", "stock"):
        ascending = f"{field}_asc"
        target = f"{field}_desc" if filters["sort"] == ascending else ascending
        links[field] = _link(filters, sort=target)
    return links


@routes.get("/admin/products", name="admin_products")
@requires(Role.ADMIN)
async def product_table(request: web.Request) -> web.Response:
    query, filters = parse_admin_query(request)
    service = request.app[PRODUCTS]
    page = await service.list(query, request[USER])
    context = {
        **pagination(request, page),
        "page": page,
        "filters": filters,
        "filtered": _link(filters, limit=DEFAULT_LIMIT) != "/admin/products",
        "categories": await service.categories(include_hidden=True),
        "availability_labels": {name: state.label for name, state in AVAILABILITY.items()},
        "sort_labels": SORT_LABELS,
        "sort_links": sort_links(filters),
        "page_sizes": sorted({*PAGE_SIZES, query.limit}),
        "availability": availability,
        "low_stock": LOW_STOCK,
    }
    return await render("admin/products.html", request, context)
