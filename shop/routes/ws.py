"""GET /ws: live product and cart events, and the admin's product actions, on one socket.

Server to client, always JSON objects with a `type`: `hello` first, then `product.created`,
`product.updated`, `product.deleted`, `products.imported` (a catalogue file changed many
products: resync), `cart.updated` (the session's own cart only), `order.updated` (the
user's own orders; every order for an admin), `resync` (events may have been missed), and
the replies `pong`, `ack` and `error`. Client to server: `ping`, `subscribe`, and for
admins `product.create` and `product.delete`. A bad message gets an `error` and the socket
stays open; flooding it gets an `error` and a close.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from shop.errors import Forbidden, Invalid, ShopError, explain, invalid
from shop.i18n import N_
from shop.i18n.negotiation import language_of
from shop.keys import HUB, PRODUCTS, SESSION_ID, SESSION_UNCHECKED, USER
from shop.models import answers
from shop.models.answers import plain
from shop.models.fields import Input
from shop.models.messages import phrase
from shop.models.products import ProductIn
from shop.realtime import Subscriber
from shop.routes.common import parse_json
from shop.security import is_admin, is_same_origin
from shop.service.ids import parse_id
from shop.store.base import StoreUnavailable

log = logging.getLogger("shop.ws")
routes = web.RouteTableDef()

HEARTBEAT = 30.0  # seconds between pings; a peer that misses the pong is dropped
MAX_MESSAGE = 4096  # bytes; a bigger message closes the socket with MESSAGE_TOO_BIG
RATE = 20.0  # messages per second a client may send on average...
BURST = 40  # ...and at once

Topic = Literal["products", "cart", "orders"]


class Envelope(BaseModel):
    """Only the `type`; the model for that type then checks the whole message."""

    model_config = ConfigDict(extra="allow")
    type: StrictStr


class Ping(Input):
    type: Literal["ping"]


class Subscribe(Input):
    type: Literal["subscribe"]
    topics: Annotated[list[Topic], Field(max_length=3)]


class CreateProduct(Input):
    type: Literal["product.create"]
    product: ProductIn


class DeleteProduct(Input):
    type: Literal["product.delete"]
    pid: StrictStr  # checked by parse_id, so the message names the field


MESSAGES: dict[str, type[Input]] = {
    "ping": Ping,
    "subscribe": Subscribe,
    "product.create": CreateProduct,
    "product.delete": DeleteProduct,
}
ADMIN_ONLY = frozenset({"product.create", "product.delete"})


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; each message takes one."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def error(message: str) -> dict[str, Any]:
    return {"type": "error", "error": message}


def read_message(raw: str, admin: bool) -> Input:
    """The message parsed by the model its `type` names, or Invalid/Forbidden."""
    kind = parse_json(raw, Envelope).type
    model = MESSAGES.get(kind)
    if model is None:
        raise invalid({"type": phrase("literal_error", expected=", ".join(MESSAGES))})
    if kind in ADMIN_ONLY and not admin:
        raise Forbidden("admin only")
    return parse_json(raw, model)


async def answer(request: web.Request, subscriber: Subscriber, raw: str) -> dict[str, Any]:
    """The reply to one text message: the action's result or an error (in the language
    the handshake asked for, like the API's)."""
    try:
        match read_message(raw, is_admin(request[USER])):
            case Ping():
                return {"type": "pong"}
            case Subscribe(topics=topics):
                for private in ("cart", "orders"):
                    if private in topics and subscriber.uid is None:
                        raise Forbidden("topics: {topic} needs a session", topic=private)
                subscriber.products = "products" in topics
                subscriber.cart = "cart" in topics
                subscriber.orders = "orders" in topics
                return {"type": "ack", "action": "subscribe", "topics": subscriber.topics}
            case CreateProduct(product=data):
                product = await request.app[PRODUCTS].create(data)
                return {
                    "type": "ack",
                    "action": "product.create",
                    "product": plain(answers.Product.of(product)),
                }
            case DeleteProduct(pid=raw_pid):
                pid = parse_id(raw_pid, "pid")
                await request.app[PRODUCTS].delete(pid)
                return {"type": "ack", "action": "product.delete", "product": {"_id": pid}}
            case _:  # pragma: no cover (MESSAGES and the cases above list the same types)
                raise Invalid("type: not handled")
    except ShopError as exc:
        return error(explain(exc, language_of(request))[0])
    except Exception:
        # Like the HTTP error middleware: the client learns nothing, the log keeps it.
        log.exception("unhandled error on a websocket message")
        return error(language_of(request).gettext(N_("internal error")))


@routes.get("/ws", name="ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    # Cookies ride along on a cross-site handshake too: refuse it before upgrading.
    if not is_same_origin(request):
        raise Forbidden("cross-site websocket refused")
    if request[SESSION_UNCHECKED]:
        # Anonymous now, it would miss the user's cart events for its whole life; the
        # page retries with backoff instead.
        raise StoreUnavailable("the session could not be checked")
    # Per-message compression off: its zlib state costs ~107 KiB per socket.
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False)
    await ws.prepare(request)
    user = request[USER]
    subscriber = Subscriber(
        ws,
        user.id if user is not None else None,
        session=request[SESSION_ID],
        transport=request.transport,
        admin=is_admin(user),
    )
    hub = request.app[HUB]
    # Queued before the subscriber joins the hub, so it is the first message out.
    subscriber.send_now({"type": "hello", "user": subscriber.uid, "topics": subscriber.topics})
    hub.add(subscriber)
    bucket = TokenBucket(RATE, BURST)
    try:
        async for msg in ws:
            if not subscriber.open:
                # Being closed, e.g. its session ended: what was already sent is not acted on.
                break
            if not bucket.take():
                text = language_of(request).message(
                    N_("too many messages: at most {rate} a second"), rate=f"{RATE:g}"
                )
                subscriber.send_now(error(text))
                await subscriber.close(
                    WSCloseCode.POLICY_VIOLATION, b"too many messages", flush=True
                )
                break
            if msg.type is WSMsgType.TEXT:
                subscriber.send_now(await answer(request, subscriber, msg.data))
            elif msg.type is WSMsgType.BINARY:
                text = N_("binary messages are not accepted; send JSON text")
                subscriber.send_now(error(language_of(request).gettext(text)))
            else:  # ERROR: aiohttp has already closed the socket (e.g. MESSAGE_TOO_BIG)
                break
    finally:
        await hub.remove(subscriber)
    return ws
