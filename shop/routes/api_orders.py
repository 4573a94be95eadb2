"""Checkout and /api/orders: a user buys their cart and reads their orders; admins see and
move every order."""

from __future__ import annotations

from aiohttp import web

from shop.errors import Invalid
from shop.i18n import N_
from shop.keys import ORDERS
from shop.models.listing import MAX_PAGE, MAX_PAGE_SIZE
from shop.models.orders import (
    IDEMPOTENCY_KEY,
    OrderQuery,
    OrderStatus,
    OrderStatusIn,
    PurchaseIn,
)
from shop.routes.common import (
    int_param,
    json_response,
    path_id,
    query_params,
    read_json,
    read_json_or_default,
    success,
)
from shop.routes.listing import listing_envelope
from shop.security import current_user, requires
from shop.service.ids import parse_id

routes = web.RouteTableDef()

KEY_HEADER = "Idempotency-Key"
BAD_KEY = N_("Idempotency-Key: must be 1 to 255 visible ASCII characters")
ORDER_PARAMS = frozenset({"limit", "page", "status", "user"})


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when malformed."""
    values = request.headers.getall(KEY_HEADER, [])
    if not values:
        return None
    if len(values) > 1 or not IDEMPOTENCY_KEY.fullmatch(values[0]):
        raise Invalid(BAD_KEY)
    return values[0]


def parse_status(raw: str, field: str = "status") -> OrderStatus:
    try:
        return OrderStatus(raw)
    except ValueError:
        raise Invalid(
            N_("{field}: must be one of {choices}"),
            field=field,
            choices=", ".join(OrderStatus),
        ) from None


@routes.post("/api/carts/{cid}/purchase")
@requires()
async def purchase(request: web.Request) -> web.Response:
    cid = path_id(request, "cid")
    key = idempotency_key(request)
    data = await read_json_or_default(request, PurchaseIn)
    payload = await request.app[ORDERS].purchase(current_user(request), cid, data, key)
    return success(payload, status=201)


@routes.get("/api/orders")
@requires()
async def list_orders(request: web.Request) -> web.Response:
    params = query_params(request, ORDER_PARAMS)
    status = params.get("status")
    user = params.get("user")
    query = OrderQuery(
        limit=int_param(params, "limit", 10, 1, MAX_PAGE_SIZE),
        page=int_param(params, "page", 1, 1, MAX_PAGE),
        status=parse_status(status) if status else None,
        user=parse_id(user, "user") if user else None,
    )
    page = await request.app[ORDERS].list(current_user(request), query)
    return json_response(listing_envelope(request, page))


@routes.get("/api/orders/{oid}")
@requires()
async def get_order(request: web.Request) -> web.Response:
    order = await request.app[ORDERS].get(current_user(request), path_id(request, "oid"))
    return success(order.to_json())


@routes.put("/api/orders/{oid}")
@requires()
async def set_status(request: web.Request) -> web.Response:
    oid = path_id(request, "oid")
    data = await read_json(request, OrderStatusIn)
    order = await request.app[ORDERS].set_status(current_user(request), oid, data.status)
    return success(order.to_json())
