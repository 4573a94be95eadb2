"""/api/carts: a user's own carts (an admin may act on any)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import CARTS
from shop.models import answers
from shop.models.carts import CartReplaceIn, QuantityIn, QuantitySetIn
from shop.models.users import Role
from shop.routes.operation import Link, Returns, operation
from shop.security import current_user
from shop.service.ids import parse_id

routes = web.RouteTableDef()

# The course this project rebuilds spells the line path both ways; both are served.
LINE_PATHS = ("/api/carts/{cid}/product/{pid}", "/api/carts/{cid}/products/{pid}")
CART = Returns(answers.Cart)
CART_ID = "$response.body#/payload/_id"
FIRST_LINE = "$response.body#/payload/products/0/product/_id"
# After any answer with a cart: read, change or buy it, or change its first line.
CART_LINKS = {
    "get_cart": Link("get_cart", {"cid": CART_ID}),
    "replace_cart": Link("replace_cart", {"cid": CART_ID}),
    "clear_cart": Link("clear_cart", {"cid": CART_ID}),
    "purchase": Link("purchase", {"cid": CART_ID}),
    "set_line": Link("set_line", {"cid": CART_ID, "pid": FIRST_LINE}),
    "remove_line": Link("remove_line", {"cid": CART_ID, "pid": FIRST_LINE}),
}


@routes.post("/api/carts")
@operation(
    "Create a cart",
    auth=Role.USER,
    returns=Returns(answers.Cart, status=201),
    links=CART_LINKS,
)
async def create_cart(request: web.Request) -> answers.Cart:
    """A new empty cart of the caller (it becomes their cart if they had none)."""
    return answers.Cart.of(await request.app[CARTS].create(current_user(request)))


@routes.get("/api/carts/{cid}")
@operation("Read a cart", auth=Role.USER, returns=CART, links=CART_LINKS)
async def get_cart(request: web.Request, cid: str) -> answers.Cart:
    """The cart with each line's product, what can be bought now (`available`) and why a
    line cannot be bought as it is (`problem`). Its owner's, or any for an admin."""
    return answers.Cart.of(await request.app[CARTS].get(current_user(request), cid))


@routes.put("/api/carts/{cid}")
@operation(
    "Replace a cart's lines",
    auth=Role.USER,
    body=CartReplaceIn,
    returns=CART,
    errors=(409,),
    links=CART_LINKS,
)
async def replace_cart(request: web.Request, cid: str, body: CartReplaceIn) -> answers.Cart:
    """All or nothing: each product at most once, each line within its product's stock."""
    lines = [(parse_id(line.product, "product"), line.quantity) for line in body.products]
    cart = await request.app[CARTS].replace(current_user(request), cid, lines)
    return answers.Cart.of(cart)


@routes.delete("/api/carts/{cid}")
@operation("Empty a cart", auth=Role.USER, returns=CART, links=CART_LINKS)
async def clear_cart(request: web.Request, cid: str) -> answers.Cart:
    """Remove every line."""
    return answers.Cart.of(await request.app[CARTS].clear(current_user(request), cid))


@operation(
    "Add to a cart's line",
    auth=Role.USER,
    body=QuantityIn,
    body_optional=True,
    returns=CART,
    errors=(409,),
    links=CART_LINKS,
)
async def add_line(request: web.Request, cid: str, pid: str, body: QuantityIn) -> answers.Cart:
    """Add one unit, or `quantity`, to the product's line (409 past the product's stock or
    10,000 units)."""
    cart = await request.app[CARTS].add(current_user(request), cid, pid, body.quantity)
    return answers.Cart.of(cart)


@operation(
    "Set a cart line's quantity",
    auth=Role.USER,
    body=QuantitySetIn,
    returns=CART,
    errors=(409,),
    links=CART_LINKS,
)
async def set_line(request: web.Request, cid: str, pid: str, body: QuantitySetIn) -> answers.Cart:
    """Set the quantity of a line the cart holds (409 past the product's stock)."""
    cart = await request.app[CARTS].set_quantity(current_user(request), cid, pid, body.quantity)
    return answers.Cart.of(cart)


@operation("Remove a cart line", auth=Role.USER, returns=CART, links=CART_LINKS)
async def remove_line(request: web.Request, cid: str, pid: str) -> answers.Cart:
    """Remove the product's line from the cart."""
    return answers.Cart.of(await request.app[CARTS].remove(current_user(request), cid, pid))


for _path in LINE_PATHS:
    routes.post(_path)(add_line)
    routes.put(_path)(set_line)
    routes.delete(_path)(remove_line)
