"""The cart page and its forms: add, set a quantity, remove, and empty (asked first)."""

from __future__ import annotations

from aiohttp import web
from yarl import URL

from shop.bodies import form
from shop.errors import Conflict, ShopError
from shop.i18n import N_
from shop.i18n.negotiation import language_of
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
    return next((line.product.title for line in cart.lines if line.product.id == pid), "")


def _quantity(form: dict[str, str], default: str | None) -> int:
    raw = form.get("quantity", default)
    return parse_form(QuantityIn, {} if raw is None else {"quantity": whole_number(raw)}).quantity


def _refusal(request: web.Request, exc: FormErrors | ShopError) -> str:
    """Why a quantity was refused, in the reader's language, without the field's name (it
    is shown next to the field, or says which product it is about)."""
    language = language_of(request)
    if isinstance(exc, FormErrors):
        return language.message(exc.errors.get("quantity") or next(iter(exc.errors.values())))
    return language.message(exc.as_message)


def field_key(pid: str) -> str:
    """The quantity field of a product's form (its page's, or its cart line's)."""
    return f"quantity-{pid}"


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
        # Next to the quantity on the product's page; elsewhere (a card) as a message.
        on_its_page = URL(back).path == f"/products/{pid}"
        text = _refusal(request, exc)
        if on_its_page:
            flash(request, text, "error", field=field_key(pid))
        else:
            flash(request, N_("Not added: {reason}"), "error", reason=text)
    else:
        flash(request, N_("Added {title} to your cart."), "success", title=_title(cart, pid))
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
        flash(request, _refusal(request, exc), "error", field=field_key(pid))
    else:
        flash(
            request,
            N_("Updated the quantity of {title}."),
            "success",
            title=_title(cart, pid),
        )
    raise web.HTTPSeeOther(location=_cart_path(cid))


@routes.post("/carts/{cid}/remove/{pid}")
@form
async def remove(request: web.Request) -> web.Response:
    cid, pid = path_id(request, "cid"), path_id(request, "pid")
    user = poster(request, _cart_path(cid))
    await read_form(request)
    await request.app[CARTS].remove(user, cid, pid)
    flash(request, N_("Removed the product from your cart."), "success")
    raise web.HTTPSeeOther(location=_cart_path(cid))


@routes.get("/carts/{cid}/clear", name="confirm_clear")
async def confirm_clear(request: web.Request) -> web.Response:
    """Emptying the cart asks first; this page is the question without JavaScript."""
    user = current_user(request)
    cart = await request.app[CARTS].get(user, path_id(request, "cid"))
    language = language_of(request)
    count = cart.item_count
    context = {
        "question": language.gettext("Empty your cart?"),
        "detail": language.ngettext(
            "The {count} item in it will be removed.",
            "The {count} items in it will be removed.",
            count,
        ).format(count=language.number(count)),
        "action": f"/carts/{cart.id}/clear",
        "confirm_label": language.gettext("Empty the cart"),
        "cancel_label": language.gettext("Keep it"),
        "back": _cart_path(cart.id),
    }
    return await render("confirm.html", request, context)


@routes.post("/carts/{cid}/clear")
@form
async def clear(request: web.Request) -> web.Response:
    cid = path_id(request, "cid")
    user = poster(request, _cart_path(cid))
    await read_form(request)
    await request.app[CARTS].clear(user, cid)
    flash(request, N_("Your cart is empty now."), "success")
    raise web.HTTPSeeOther(location=_cart_path(cid))
