"""Checkout and /api/orders: a user buys their cart and reads their orders; admins see and
move every order."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from aiohttp import web

from shop.errors import Invalid
from shop.i18n import N_
from shop.keys import ORDERS, STORE
from shop.models import answers
from shop.models.listing import Page
from shop.models.orders import (
    IDEMPOTENCY_KEY,
    KEY_LIFE_SECONDS,
    OrderQuery,
    OrderStatus,
    OrderStatusIn,
    PurchaseIn,
)
from shop.models.users import Role
from shop.periodic import every
from shop.routes.listing import PAGING
from shop.routes.operation import Header, Link, Returns, operation
from shop.routes.query import Choice, IdParam, Params
from shop.security import current_user

log = logging.getLogger("shop.orders")
routes = web.RouteTableDef()

KEY_HEADER = "Idempotency-Key"
BAD_KEY = N_("Idempotency-Key: must be 1 to 255 visible ASCII characters")
KEY_PURGE_INTERVAL = 3600.0


def idempotency_key(request: web.Request) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when malformed."""
    values = request.headers.getall(KEY_HEADER, [])
    if not values:
        return None
    if len(values) > 1 or not IDEMPOTENCY_KEY.fullmatch(values[0]):
        raise Invalid(BAD_KEY)
    return values[0]


def order_query(values: dict[str, Any]) -> OrderQuery:
    status = values["status"]
    return OrderQuery(
        limit=values["limit"],
        page=values["page"],
        status=OrderStatus(status) if status is not None else None,
        user=values["user"],
    )


ORDER_QUERY = (
    PAGING
    + Params(
        Choice("status", "only orders with this status", tuple(OrderStatus)),
        IdParam("user", "only this user's orders (admins only: others get 403)"),
    )
).into(order_query)
KEY = Header(
    KEY_HEADER,
    "1 to 255 visible ASCII characters: a retry with the same key answers what the first"
    " attempt answered and buys nothing again; kept 24 hours",
    IDEMPOTENCY_KEY.pattern.join("^$"),
)
ORDER_ID = "$response.body#/payload/_id"
ORDER_LINKS = {
    "get_order": Link("get_order", {"oid": ORDER_ID}),
    "set_status": Link("set_status", {"oid": ORDER_ID}),
}


# cleanup_ctx: forget purchases' Idempotency-Keys a day after their first use (a
# backend that expires them by itself answers 0).
purge_expired_keys = every(
    KEY_PURGE_INTERVAL,
    lambda app: app[STORE].orders.purge_keys(time.time() - KEY_LIFE_SECONDS),
    log,
    "purge expired Idempotency-Keys",
)


@routes.post("/api/carts/{cid}/purchase")
@operation(
    "Buy a cart",
    auth=Role.USER,
    body=PurchaseIn,
    body_optional=True,
    headers=(KEY,),
    returns=Returns(answers.Purchase, status=201),
    errors=(409, 422),
    links={
        "get_order": Link("get_order", {"oid": "$response.body#/payload/order/_id"}),
        "set_status": Link("set_status", {"oid": "$response.body#/payload/order/_id"}),
    },
)
async def purchase(request: web.Request, cid: str, body: PurchaseIn) -> answers.Purchase:
    """Each line is bought whole or not at all; lines not bought stay in the cart and are
    listed in `unfilled`. Only the cart's owner buys it (403, even for an admin). A cart
    with nothing to buy is 409 (with `unfilled` when it has lines); a total other than
    `expected_total` is 409 with the current `total`; an Idempotency-Key used with
    another cart or body is 422."""
    key = idempotency_key(request)
    payload = await request.app[ORDERS].purchase(current_user(request), cid, body, key)
    return msgspec.convert(payload, answers.Purchase)


@routes.get("/api/orders")
@operation(
    "List orders",
    auth=Role.USER,
    query=ORDER_QUERY,
    returns=Returns(answers.Order, listing=True),
)
async def list_orders(request: web.Request, query: OrderQuery) -> Page[answers.Order]:
    """The caller's orders, newest first; an admin's cover everyone (or `user`)."""
    page = await request.app[ORDERS].list(current_user(request), query)
    return page.map(answers.Order.of)


@routes.get("/api/orders/{oid}")
@operation("Read an order", auth=Role.USER, returns=Returns(answers.Order), links=ORDER_LINKS)
async def get_order(request: web.Request, oid: str) -> answers.Order:
    """Its owner's, or any for an admin."""
    return answers.Order.of(await request.app[ORDERS].get(current_user(request), oid))


@routes.put("/api/orders/{oid}")
@operation(
    "Change an order's status",
    auth=Role.USER,
    body=OrderStatusIn,
    returns=Returns(answers.Order),
    errors=(409,),
)
async def set_status(request: web.Request, oid: str, body: OrderStatusIn) -> answers.Order:
    """An admin moves it along the workflow (`placed` -> `paid` -> `shipped` ->
    `delivered`, and `placed` or `paid` -> `cancelled`; anything else 409); its owner may
    only cancel it while `placed` (anything else 403)."""
    order = await request.app[ORDERS].set_status(current_user(request), oid, body.status)
    return answers.Order.of(order)
