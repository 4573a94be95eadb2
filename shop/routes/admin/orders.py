"""/admin/orders: every order, filtered by status and buyer, its lines, and the buttons that
move it along the workflow (plain forms: they work without JavaScript; with it, the pages
follow the orders live)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from shop.bodies import form
from shop.errors import Forbidden, ShopError
from shop.i18n import N_
from shop.keys import ORDERS, USERS
from shop.models.fields import OBJECT_ID
from shop.models.listing import MAX_PAGE
from shop.models.messages import phrase
from shop.models.orders import NEXT, Order, OrderQuery, OrderStatus
from shop.models.users import Role, User
from shop.routes.common import path_id
from shop.routes.forms import local_path, poster, read_form
from shop.routes.listing import pagination
from shop.routes.order_pages import STATUS_LABELS, move_order
from shop.routes.query import Query
from shop.security import current_user, requires
from shop.views import render

routes = web.RouteTableDef()


def order_filters(params: Query) -> tuple[OrderStatus | None, str | None]:
    """`status` (one of the statuses) and `user` (an id), each None when not given."""
    status = params.choice("status", tuple(OrderStatus))
    user = params.text("user", 24).lower() or None
    if user is not None and not OBJECT_ID.fullmatch(user):
        params.refuse("user", phrase("object_id"))
    return OrderStatus(status) if status is not None else None, user


ORDERS_PER_PAGE = 20
LIST_PARAMS = frozenset({"page", "status", "buyer", "user"})
MAX_EMAIL = 254
# The button that moves an order to each status; templates translate them with _().
ACTION_LABELS = {
    OrderStatus.PAID: N_("Mark paid"),
    OrderStatus.SHIPPED: N_("Mark shipped"),
    OrderStatus.DELIVERED: N_("Mark delivered"),
    OrderStatus.CANCELLED: N_("Cancel"),
}
# Where each status may go, for the live script to redraw an order's buttons.
NEXT_JSON = json.dumps(
    {str(status): [str(n) for n in OrderStatus if n in nexts] for status, nexts in NEXT.items()}
)

# The empty row the live script clones (in a <template>) for orders placed after loading.
BLANK_ORDER = Order(
    id="",
    code="",
    purchased_at=datetime.fromtimestamp(0, UTC),
    user="",
    purchaser="",
    status=OrderStatus.PLACED,
    lines=(),
)


def _order_path(oid: str) -> str:
    return f"/admin/orders/{oid}"


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "next_json": NEXT_JSON,
    }


async def _account(request: web.Request, uid: str | None) -> User | None:
    """The account a `user` filter names, when it still exists (orders outlive it)."""
    if uid is None:
        return None
    try:
        return await request.app[USERS].get(uid)
    except ShopError:
        return None


@routes.get("/admin/orders", name="admin_orders")
@requires(Role.ADMIN)
async def orders(request: web.Request) -> web.Response:
    params = Query(request, LIST_PARAMS)
    page_no = params.whole_number("page", 1, 1, MAX_PAGE)
    status, user = order_filters(params)
    buyer = params.text("buyer", MAX_EMAIL).lower() or None
    params.check()
    query = OrderQuery(ORDERS_PER_PAGE, page_no, status, user, purchaser=buyer)
    page = await request.app[ORDERS].list(current_user(request), query)
    context = {
        **pagination(request, page),
        **_labels(),
        "page": page,
        "filters": {"status": status, "buyer": buyer or "", "user": user},
        "filtered": status is not None or buyer is not None or user is not None,
        "account": await _account(request, user),
        "statuses": list(OrderStatus),
        "blank_order": BLANK_ORDER,
    }
    return await render("admin/orders.html", request, context)


@routes.get("/admin/orders/{oid}", name="admin_order")
@requires(Role.ADMIN)
async def order(request: web.Request) -> web.Response:
    found = await request.app[ORDERS].get(current_user(request), path_id(request, "oid"))
    context = {**_labels(), "order": found, "account": await _account(request, found.user)}
    return await render("admin/order.html", request, context)


@routes.post("/admin/orders/{oid}/status")
@form
async def set_status(request: web.Request) -> web.Response:
    oid = path_id(request, "oid")
    user = poster(request, _order_path(oid))
    if not user.is_admin:
        raise Forbidden(N_("admin only"))
    values = await read_form(request)
    await move_order(request, user, oid, values)
    # Back to the page the button was on (the list keeps its filters and page).
    raise web.HTTPSeeOther(location=local_path(values.get("next"), _order_path(oid)))
