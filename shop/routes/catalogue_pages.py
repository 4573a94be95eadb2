"""The catalogue pages: the product listing, one product, and the live product list."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from shop.keys import PRODUCTS, USER
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE
from shop.models.products import Product, ProductQuery
from shop.routes.common import path_id
from shop.routes.listing import pagination, parse_product_query
from shop.routes.query import Query
from shop.views import render

routes = web.RouteTableDef()

PAGE_SIZES = (10, 20, 50, 100)
REALTIME_PARAMS = frozenset({"page"})
# The empty card the live pages clone (in a <template>) for products created after loading.
BLANK_PRODUCT = Product(
    id="", title="", description="", code="", price_cents=0, status=True, stock=0, category=""
)


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(location="/products")


@routes.get("/products", name="products")
async def products(request: web.Request) -> web.Response:
    query = parse_product_query(request)
    page = await request.app[PRODUCTS].list(query, request[USER])
    unfiltered = query == ProductQuery(limit=query.limit, page=query.page)
    context = {
        **pagination(request, page),
        "page": page,
        "filters": {
            "query": request.query.get("query", ""),
            "sort": request.query.get("sort", ""),
            "limit": query.limit,
        },
        "filtered": not unfiltered,
        # Nothing at all to list: the page says how to fill the catalogue.
        "empty_shop": unfiltered and page.total == 0,
        "page_sizes": sorted({*PAGE_SIZES, query.limit}),
        "categories": sorted({product.category for product in page.items}),
        # Products created later come last in the default order: the live script adds
        # them only to the last page of an unfiltered listing, while there is room.
        "live_append": unfiltered and page.page >= page.total_pages,
        "api_source": str(URL.build(path="/api/products", query=request.query)),
        "blank_product": BLANK_PRODUCT,
    }
    return await render("products.html", request, context)


@routes.get("/products/{pid}", name="product")
async def product(request: web.Request) -> web.Response:
    item = await request.app[PRODUCTS].get(path_id(request, "pid"))
    return await render("product.html", request, {"product": item})


async def realtime_products(request: web.Request) -> web.Response:
    params = Query(request, REALTIME_PARAMS)
    number = params.whole_number("page", 1, 1, MAX_PAGE)
    params.check()
    query = ProductQuery(limit=MAX_PAGE_SIZE, page=number)
    page = await request.app[PRODUCTS].list(query, request[USER])
    context = {
        **pagination(request, page),
        "page": page,
        "api_source": f"/api/products?limit={MAX_PAGE_SIZE}&page={number}",
        # New products come last: the live script adds them to the last page only.
        "live_append": page.page >= page.total_pages,
        "blank_product": BLANK_PRODUCT,
    }
    return await render("realtime.html", request, context)


# The course's page is /realTimeProducts; the lowercase spelling is served too.
routes.get("/realtimeproducts", name="realtime")(realtime_products)
routes.get("/realTimeProducts")(realtime_products)
