"""The catalogue pages: the product listing (search, category navigation, filters), one
product, the live product list, and the admin's confirmation before deleting a product."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from shop.bodies import form
from shop.i18n import N_
from shop.i18n.negotiation import language_of
from shop.keys import PRODUCTS, USER
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE
from shop.models.products import Product, ProductQuery, ProductSort
from shop.models.users import Role
from shop.routes.common import path_id
from shop.routes.forms import MAX_PATH, local_path, read_form
from shop.routes.layout import flash
from shop.routes.listing import pagination, parse_product_query
from shop.routes.query import Query
from shop.security import requires
from shop.views import render

routes = web.RouteTableDef()

PAGE_SIZES = (10, 20, 50, 100)
# The orders a shopper picks from, as the listing's `sort` spells them.
SORT_CHOICES = (
    ("", N_("Newest last")),
    (ProductSort.PRICE_ASC.value, N_("Price: low to high")),
    (ProductSort.PRICE_DESC.value, N_("Price: high to low")),
    (ProductSort.TITLE_ASC.value, N_("Name: A to Z")),
)
SORT_ALIASES = {"asc": ProductSort.PRICE_ASC.value, "desc": ProductSort.PRICE_DESC.value}
REALTIME_PARAMS = frozenset({"page"})
# The empty card the live pages clone (in a <template>) for products created after loading.
BLANK_PRODUCT = Product(
    id="", title="", description="", code="", price_cents=0, status=True, stock=0, category=""
)


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther(location="/products")


def _category_link(request: web.Request, category: str | None) -> str:
    """The listing of `category` (every category for None), keeping the search and the
    order, from its first page."""
    kept = {
        name: request.query[name]
        for name in ("q", "sort", "available", "limit")
        if name in request.query
    }
    if category is not None:
        kept["category"] = category
    return str(URL.build(path="/products", query=kept))


@routes.get("/products", name="products")
async def products(request: web.Request) -> web.Response:
    query = parse_product_query(request)
    service = request.app[PRODUCTS]
    page = await service.list(query, request[USER])
    # The navigation comes from every category shoppers can see, not from this page.
    categories = await service.categories()
    unfiltered = query == ProductQuery(limit=query.limit, page=query.page)
    sort = request.query.get("sort", "")
    context = {
        **pagination(request, page),
        "page": page,
        "filters": {
            "q": request.query.get("q", ""),
            "category": query.category or "",
            "available": query.available is True,
            "sort": SORT_ALIASES.get(sort, sort),
            "limit": query.limit,
        },
        "sort_choices": SORT_CHOICES,
        "filtered": not unfiltered,
        # Nothing at all to list: the page says how to fill the catalogue.
        "empty_shop": unfiltered and page.total == 0,
        "page_sizes": sorted({*PAGE_SIZES, query.limit}),
        "categories": [
            (category, _category_link(request, category.name)) for category in categories
        ],
        "all_categories_link": _category_link(request, None),
        "api_source": str(URL.build(path="/api/products", query=request.query)),
        "blank_product": BLANK_PRODUCT,
    }
    return await render("products.html", request, context)


@routes.get("/products/{pid}", name="product")
async def product(request: web.Request) -> web.Response:
    item = await request.app[PRODUCTS].get(path_id(request, "pid"))
    return await render("product.html", request, {"product": item})


# ---- deleting, with a confirmation that works without JavaScript ---------------------------


@routes.get("/products/{pid}/delete", name="delete_product")
@requires(Role.ADMIN)
async def confirm_delete(request: web.Request) -> web.Response:
    params = Query(request, frozenset({"next"}))
    back = params.text("next", MAX_PATH)
    params.check()
    item = await request.app[PRODUCTS].get(path_id(request, "pid"))
    language = language_of(request)
    context = {
        "question": language.message(N_("Delete {title}?"), title=item.title),
        "detail": language.gettext(
            "It leaves the catalogue and every cart at once. This cannot be undone."
        ),
        "action": f"/products/{item.id}/delete",
        "confirm_label": language.gettext("Delete the product"),
        "cancel_label": language.gettext("Keep it"),
        "back": local_path(back, f"/products/{item.id}"),
    }
    return await render("confirm.html", request, context)


@routes.post("/products/{pid}/delete")
@form
@requires(Role.ADMIN)
async def delete(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    await read_form(request)
    service = request.app[PRODUCTS]
    title = (await service.get(pid)).title
    await service.delete(pid)
    flash(request, N_("{title} was deleted."), "success", title=title)
    raise web.HTTPSeeOther(location="/realtimeproducts")


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
        "blank_product": BLANK_PRODUCT,
    }
    return await render("realtime.html", request, context)


# The course's page is /realTimeProducts; the lowercase spelling is served too.
routes.get("/realtimeproducts", name="realtime")(realtime_products)
routes.get("/realTimeProducts")(realtime_products)
