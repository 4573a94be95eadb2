"""The catalogue pages: the product listing, one product, and the live product list."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from shop.keys import PRODUCTS
from shop.models.listing import MAX_PAGE_SIZE
from shop.models.products import Product, ProductQuery
from shop.routes.common import path_id
from shop.routes.listing import pagination, parse_product_query
from shop.views import render

routes = web.RouteTableDef()

PAGE_SIZES = (10, 20, 50, 100)
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
    page = await request.app[PRODUCTS].list(query)
    unfiltered = query.sort is None and query.category is None and query.available is None
    context = {
        "page": page,
        "filters": {
            "query": request.query.get("query", ""),
            "sort": query.sort or "",
            "limit": query.limit,
        },
        "filtered": not unfiltered,
        "page_sizes": sorted({*PAGE_SIZES, query.limit}),
        "categories": sorted({product.category for product in page.items}),
        **pagination(request, page),
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
    page = await request.app[PRODUCTS].list(ProductQuery(limit=MAX_PAGE_SIZE))
    context = {
        "page": page,
        "api_source": f"/api/products?limit={MAX_PAGE_SIZE}",
        "blank_product": BLANK_PRODUCT,
    }
    return await render("realtime.html", request, context)


# The course's page is /realTimeProducts; the lowercase spelling is served too.
routes.get("/realtimeproducts", name="realtime")(realtime_products)
routes.get("/realTimeProducts")(realtime_products)
