"""/api/carts: a user's own carts (an admin may act on any)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import CARTS
from shop.models.carts import CartReplaceIn, QuantityIn, QuantitySetIn
from shop.routes.common import path_id, read_json, read_json_or_default, success
from shop.security import current_user, requires
from shop.service.ids import parse_id

routes = web.RouteTableDef()

# The course this project rebuilds spells the line path both ways; both are served.
LINE_PATHS = ("/api/carts/{cid}/product/{pid}", "/api/carts/{cid}/products/{pid}")


@routes.post("/api/carts")
@requires()
async def create_cart(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].create(current_user(request))
    return success(cart.to_json(), status=201)


@routes.get("/api/carts/{cid}")
@requires()
async def get_cart(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].get(current_user(request), path_id(request, "cid"))
    return success(cart.to_json())


@routes.put("/api/carts/{cid}")
@requires()
async def replace_cart(request: web.Request) -> web.Response:
    cid = path_id(request, "cid")
    data = await read_json(request, CartReplaceIn)
    lines = [(parse_id(line.product, "product"), line.quantity) for line in data.products]
    cart = await request.app[CARTS].replace(current_user(request), cid, lines)
    return success(cart.to_json())


@routes.delete("/api/carts/{cid}")
@requires()
async def clear_cart(request: web.Request) -> web.Response:
    cart = await request.app[CARTS].clear(current_user(request), path_id(request, "cid"))
    return success(cart.to_json())


@requires()
async def add_line(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    data = await read_json_or_default(request, QuantityIn)
    cart = await request.app[CARTS].add(current_user(request), cid, pid, data.quantity)
    return success(cart.to_json())


@requires()
async def set_line(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    data = await read_json(request, QuantitySetIn)
    cart = await request.app[CARTS].set_quantity(current_user(request), cid, pid, data.quantity)
    return success(cart.to_json())


@requires()
async def remove_line(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    cart = await request.app[CARTS].remove(current_user(request), cid, pid)
    return success(cart.to_json())


for _path in LINE_PATHS:
    routes.post(_path)(add_line)
    routes.put(_path)(set_line)
    routes.delete(_path)(remove_line)
