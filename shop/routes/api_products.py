"""/api/products: anyone browses, admins change."""

from __future__ import annotations

from aiohttp import web

from shop.keys import PRODUCTS, USER
from shop.models.products import ProductIn, ProductPatch
from shop.models.users import Role
from shop.routes.common import json_response, path_id, read_json, success
from shop.routes.listing import listing_envelope, parse_product_query
from shop.security import requires

routes = web.RouteTableDef()


@routes.get("/api/products", name="api_products")
async def list_products(request: web.Request) -> web.Response:
    query = parse_product_query(request)
    page = await request.app[PRODUCTS].list(query, request[USER])
    return json_response(listing_envelope(request, page))


@routes.get("/api/categories")
async def list_categories(request: web.Request) -> web.Response:
    categories = await request.app[PRODUCTS].categories()
    return success([category.to_json() for category in categories])


@routes.get("/api/products/{pid}")
async def get_product(request: web.Request) -> web.Response:
    product = await request.app[PRODUCTS].get(path_id(request, "pid"))
    return success(product.to_json())


@routes.post("/api/products")
@requires(Role.ADMIN)
async def create_product(request: web.Request) -> web.Response:
    data = await read_json(request, ProductIn)
    product = await request.app[PRODUCTS].create(data)
    return success(product.to_json(), status=201)


@routes.put("/api/products/{pid}")
@requires(Role.ADMIN)
async def update_product(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    patch = await read_json(request, ProductPatch)
    product = await request.app[PRODUCTS].update(pid, patch)
    return success(product.to_json())


@routes.delete("/api/products/{pid}")
@requires(Role.ADMIN)
async def delete_product(request: web.Request) -> web.Response:
    pid = path_id(request, "pid")
    await request.app[PRODUCTS].delete(pid)
    return success({"_id": pid})
