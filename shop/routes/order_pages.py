"""The checkout and order pages: confirm and buy a cart, the order's ticket, the user's
orders, and the forms that cancel or move an order."""

from __future__ import annotations

import secrets

from aiohttp import web

from shop.bodies import form
from shop.errors import Conflict, Forbidden, Invalid
from shop.i18n import N_
from shop.i18n.negotiation import language_of
from shop.keys import CARTS, ORDERS
from shop.models.listing import MAX_PAGE
from shop.models.money import from_text
from shop.models.orders import (
    IDEMPOTENCY_KEY,
    OrderQuery,
    OrderStatus,
    OrderStatusIn,
    PurchaseIn,
)
from shop.models.users import User
from shop.routes.api_orders import BAD_KEY
from shop.routes.common import path_id
from shop.routes.forms import FormErrors, parse_form, poster, read_form
from shop.routes.layout import flash, flash_error
from shop.routes.listing import pagination
from shop.routes.query import Query
from shop.security import current_user
from shop.views import render

routes = web.RouteTableDef()

ORDERS_PER_PAGE = 10
# What each status reads as on a page; templates translate them with _().
STATUS_LABELS = {
    OrderStatus.PLACED: N_("Placed"),
    OrderStatus.PAID: N_("Paid"),
    OrderStatus.SHIPPED: N_("Shipped"),
    OrderStatus.DELIVERED: N_("Delivered"),
    OrderStatus.CANCELLED: N_("Cancelled"),
}


def _cart_path(cid: str) -> str:
    return f"/carts/{cid}"


def _order_path(oid: str) -> str:
    return f"/orders/{oid}"


@routes.get("/carts/{cid}/checkout", name="checkout")
async def checkout(request: web.Request) -> web.Response:
    """The confirmation a purchase needs without JavaScript: what it buys, for how much."""
    user = current_user(request)
    cart = await request.app[CARTS].get(user, path_id(request, "cid"))
    if cart.owner != user.id:
        raise Forbidden(N_("only the cart's owner can buy it"))
    context = {
        "cart": cart,
        # A fresh key each time the page is shown: submitting this form twice buys once.
        "idempotency_key": secrets.token_urlsafe(24),
    }
    return await render("checkout.html", request, context)


@routes.post("/carts/{cid}/purchase")
@form
async def purchase(request: web.Request) -> web.Response:
    cid = path_id(request, "cid")
    user = poster(request, _cart_path(cid))
    form = await read_form(request)
    key = form.get("idempotency_key") or None
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise Invalid(BAD_KEY)
    raw_total = form.get("expected_total", "").strip()
    body = {"expected_total": from_text(raw_total)} if raw_total else {}
    try:
        data = parse_form(PurchaseIn, body)
        payload = await request.app[ORDERS].purchase(user, cid, data, key)
    except FormErrors:
        flash(request, N_("The total on the form is not a valid amount."), "error")
        raise web.HTTPSeeOther(location=f"/carts/{cid}/checkout") from None
    except Conflict as exc:
        if "total" in exc.extra:
            flash(
                request,
                N_("The total is now {total}: check what you buy and confirm again."),
                "error",
                total=language_of(request).money(round(exc.extra["total"] * 100)),
            )
            raise web.HTTPSeeOther(location=f"/carts/{cid}/checkout") from None
        if "unfilled" in exc.extra:
            nothing = N_("Nothing in your cart can be bought now: see why on each line.")
            flash(request, nothing, "error")
        else:
            flash_error(request, exc)
        raise web.HTTPSeeOther(location=_cart_path(cid)) from None
    except Invalid as exc:
        flash_error(request, exc)
        raise web.HTTPSeeOther(location=_cart_path(cid)) from None
    order = payload["order"]
    if payload["unfilled"]:
        # The lines left behind are explained where they stay: on the cart page.
        flash(request, N_("Order {code} is placed."), "success", code=order["code"])
        flash(
            request,
            N_("Some lines could not be bought and stay in your cart: see why on each one."),
            "error",
        )
        raise web.HTTPSeeOther(location=_cart_path(cid))
    flash(request, N_("Thank you! Order {code} is placed."), "success", code=order["code"])
    raise web.HTTPSeeOther(location=_order_path(order["_id"]))


@routes.get("/orders", name="orders")
async def orders(request: web.Request) -> web.Response:
    user = current_user(request)
    params = Query(request, frozenset({"page"}))
    page_no = params.whole_number("page", 1, 1, MAX_PAGE)
    params.check()
    query = OrderQuery(limit=ORDERS_PER_PAGE, page=page_no, user=user.id)
    page = await request.app[ORDERS].list(user, query)
    context = {"page": page, "status_labels": STATUS_LABELS, **pagination(request, page)}
    return await render("orders.html", request, context)


@routes.get("/orders/{oid}", name="order")
async def order(request: web.Request) -> web.Response:
    user = current_user(request)
    found = await request.app[ORDERS].get(user, path_id(request, "oid"))
    context = {
        "order": found,
        "status_labels": STATUS_LABELS,
        "can_cancel": found.user == user.id and found.status is OrderStatus.PLACED,
        "next_statuses": found.next_statuses if user.is_admin else [],
    }
    return await render("order.html", request, context)


async def move_order(request: web.Request, user: User, oid: str, form: dict[str, str]) -> None:
    """Change the order's status as the form asks; the outcome is flashed, either way."""
    try:
        status = parse_form(OrderStatusIn, {"status": form.get("status", "")}).status
        changed = await request.app[ORDERS].set_status(user, oid, status)
    except FormErrors:
        flash(request, N_("Choose one of the statuses offered."), "error")
    except (Conflict, Forbidden) as exc:
        flash_error(request, exc)
    else:
        label = language_of(request).gettext(STATUS_LABELS[changed.status])
        flash(request, N_("Order {code}: {status}."), "success", code=changed.code, status=label)


@routes.post("/orders/{oid}/status")
@form
async def set_status(request: web.Request) -> web.Response:
    oid = path_id(request, "oid")
    user = poster(request, _order_path(oid))
    await move_order(request, user, oid, await read_form(request))
    raise web.HTTPSeeOther(location=_order_path(oid))
