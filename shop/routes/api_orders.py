"""Checkout and /api/orders: a user buys their cart and reads their orders; admins see and
move every order."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from shop.errors import Invalid
from shop.i18n import N_
from shop.keys import ORDERS, STORE
from shop.models.fields import OBJECT_ID
from shop.models.messages import phrase
from shop.models.orders import (
    IDEMPOTENCY_KEY,
    KEY_LIFE_SECONDS,
    OrderQuery,
    OrderStatus,
    OrderStatusIn,
    PurchaseIn,
)
from shop.periodic import every
from shop.routes.common import (
    json_response,
    path_id,
    read_json,
    read_json_or_default,
    success,
)
from shop.routes.listing import PAGING_PARAMS, listing_envelope, parse_paging
from shop.routes.query import Query
from shop.security import current_user, requires

log = logging.getLogger("shop.orders")
routes = web.RouteTableDef()

KEY_HEADER = "Idempotency-Key"
BAD_KEY = N_("Idempotency-Key: must be 1 to 255 visible ASCII characters")
ORDER_PARAMS = PAGING_PARAMS | {"status", "user"}
KEY_PURGE_INTERVAL = 3600.0


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when malformed."""
    values = request.headers.getall(KEY_HEADER, [])
    if not values:
        return None
    if len(values) > 1 or not IDEMPOTENCY_KEY.fullmatch(values[0]):
        raise Invalid(BAD_KEY)
    return values[0]


def order_filters(params: Query) -> tuple[OrderStatus | None, str | None]:
    """`status` (one of the statuses) and `user` (an id), each None when not given."""
    status = params.choice("status", tuple(OrderStatus))
    user = params.text("user", 24).lower() or None
    if user is not None and not OBJECT_ID.fullmatch(user):
        params.refuse("user", phrase("object_id"))
    return OrderStatus(status) if status is not None else None, user


def parse_order_query(request: web.Request) -> OrderQuery:
    """`limit`, `page`, `status` (one of the statuses) and `user` (an id)."""
    params = Query(request, ORDER_PARAMS)
    limit, page = parse_paging(params)
    status, user = order_filters(params)
    params.check()
    return OrderQuery(limit=limit, page=page, status=status, user=user)


# cleanup_ctx: forget purchases' Idempotency-Keys a day after their first use (a
# backend that expires them by itself answers 0).
purge_expired_keys = every(
    KEY_PURGE_INTERVAL,
    lambda app: app[STORE].orders.purge_keys(time.time() - KEY_LIFE_SECONDS),
    log,
    "purge expired Idempotency-Keys",
)


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
    query = parse_order_query(request)
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
