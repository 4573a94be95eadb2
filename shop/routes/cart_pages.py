"""The cart page and its forms: add, set a quantity, remove, empty."""

from __future__ import annotations

from aiohttp import web

from shop.bodies import form
from shop.errors import Conflict
from shop.keys import CARTS
from shop.models.carts import Cart, QuantityIn
from shop.routes.catalogue_pages import BLANK_PRODUCT
from shop.routes.common import path_id
from shop.routes.forms import FormErrors, local_path, parse_form, poster, read_form, whole_number
from shop.routes.layout import flash
from shop.security import current_user
from shop.views import render

routes = web.RouteTableDef()


def _cart_path(cid: str) -> str:
    return f"/carts/{cid}"


def _title(cart: Cart, pid: str) -> str:
    return next((line.product.title for line in cart.lines if line.product.id == pid), "it")


def _quantity(form: dict[str, str], default: str | None) -> int:
    raw = form.get("quantity", default)
    return parse_form(QuantityIn, {} if raw is None else {"quantity": whole_number(raw)}).quantity


def _refused(exc: Exception) -> str:
    if isinstance(exc, FormErrors):
        return "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
    return str(exc)


@routes.get("/carts/{cid}", name="cart")
async def cart_page(request: web.Request) -> web.Response:
    user = current_user(request)
    cart = await request.app[CARTS].get(user, path_id(request, "cid"))
    return await render("cart.html", request, {"cart": cart, "blank_product": BLANK_PRODUCT})


@routes.post("/carts/{cid}/add/{pid}")
@form
async def add(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    user = poster(request, f"/products/{pid}")
    form = await read_form(request)
    back = local_path(form.get("next"), f"/products/{pid}")
    try:
        cart = await request.app[CARTS].add(user, cid, pid, _quantity(form, "1"))
    except (FormErrors, Conflict) as exc:
        flash(request, f"Not added: {_refused(exc)}", "error")
    else:
        flash(request, f"Added {_title(cart, pid)} to your cart.", "success")
    raise web.HTTPSeeOther(location=back)


@routes.post("/carts/{cid}/set/{pid}")
@form
async def set_quantity(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    user = poster(request, _cart_path(cid))
    form = await read_form(request)
    try:
        cart = await request.app[CARTS].set_quantity(user, cid, pid, _quantity(form, None))
    except (FormErrors, Conflict) as exc:
        flash(request, f"Not changed: {_refused(exc)}", "error")
    else:
        flash(request, f"Updated the quantity of {_title(cart, pid)}.", "success")
    raise web.HTTPSeeOther(location=_cart_path(cid))


@routes.post("/carts/{cid}/remove/{pid}")
@form
async def remove(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    user = poster(request, _cart_path(cid))
    await read_form(request)
    await request.app[CARTS].remove(user, cid, pid)
    flash(request, "Removed the product from your cart.", "success")
    raise web.HTTPSeeOther(location=_cart_path(cid))


@routes.post("/carts/{cid}/clear")
@form
async def clear(request: web.Request) -> web.Response:
    cid = path_id(request, "cid")
    user = poster(request, _cart_path(cid))
    await read_form(request)
    await request.app[CARTS].clear(user, cid)
    flash(request, "Your cart is empty now.", "success")
    raise web.HTTPSeeOther(location=_cart_path(cid))
