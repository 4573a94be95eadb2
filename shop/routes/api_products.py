"""/api/products and /api/categories: anyone browses, admins change."""

from __future__ import annotations

from aiohttp import web

from shop.keys import PRODUCTS, USER
from shop.models import answers
from shop.models.listing import Page
from shop.models.products import ProductIn, ProductPatch, ProductQuery
from shop.models.users import Role
from shop.routes.listing import LISTING
from shop.routes.operation import Link, Returns, operation

routes = web.RouteTableDef()

NEW_PRODUCT = {
    "get_product": Link("get_product", {"pid": "$response.body#/payload/_id"}),
    "update_product": Link("update_product", {"pid": "$response.body#/payload/_id"}),
    "delete_product": Link("delete_product", {"pid": "$response.body#/payload/_id"}),
    "upload_image": Link("upload_image", {"pid": "$response.body#/payload/_id"}),
}


@routes.get("/api/products", name="api_products")
@operation(
    "List the catalogue",
    query=LISTING,
    returns=Returns(answers.Product, listing=True),
)
async def list_products(request: web.Request, query: ProductQuery) -> Page[answers.Product]:
    """A page of products. Every parameter combines with the others; any other parameter
    is 400. Shoppers never see products whose `status` is false; admins see every one."""
    page = await request.app[PRODUCTS].list(query, request[USER])
    return page.map(answers.Product.of)


@routes.get("/api/categories")
@operation("List the categories", returns=Returns(answers.Category, many=True))
async def list_categories(request: web.Request) -> list[answers.Category]:
    """Every category with the number of products shoppers can see in it."""
    categories = await request.app[PRODUCTS].categories()
    return [answers.Category.of(category) for category in categories]


@routes.get("/api/products/{pid}")
@operation("Read a product", returns=Returns(answers.Product))
async def get_product(request: web.Request, pid: str) -> answers.Product:
    """One product; an off-sale product still answers, with `status: false`."""
    return answers.Product.of(await request.app[PRODUCTS].get(pid))


@routes.post("/api/products")
@operation(
    "Create a product",
    auth=Role.ADMIN,
    body=ProductIn,
    returns=Returns(answers.Product, status=201),
    errors=(409,),
    links=NEW_PRODUCT,
)
async def create_product(request: web.Request, body: ProductIn) -> answers.Product:
    """A new product (409 when its `code` is taken). `thumbnails` may name a `/media`
    address only when it is one of the product's own uploads."""
    return answers.Product.of(await request.app[PRODUCTS].create(body))


@routes.put("/api/products/{pid}")
@operation(
    "Change a product",
    auth=Role.ADMIN,
    body=ProductPatch,
    returns=Returns(answers.Product),
    errors=(409,),
)
async def update_product(request: web.Request, pid: str, body: ProductPatch) -> answers.Product:
    """Change some fields: only those sent (at least one; none may be null)."""
    return answers.Product.of(await request.app[PRODUCTS].update(pid, body))


@routes.delete("/api/products/{pid}")
@operation("Delete a product", auth=Role.ADMIN, returns=Returns(answers.Deleted))
async def delete_product(request: web.Request, pid: str) -> answers.Deleted:
    """Delete it, remove it from every cart, and delete its image files."""
    await request.app[PRODUCTS].delete(pid)
    return answers.Deleted(id=pid)
