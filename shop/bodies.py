"""Request bodies, checked in one place for every route: what type, how big, from where.

By default a route takes no body or a JSON one. An empty body needs no Content-Type; a
non-empty body must be `application/json`, else 415. That holds on every route, API or
page, whatever the method, and before the handler runs.

A route that takes another kind of body says so with a decorator on its handler (above or
below `@requires`):

    @routes.post("/api/products/{pid}/images")
    @requires(Role.ADMIN)
    @upload("multipart/form-data", max_size=5 * 1024 * 1024)
    async def add_image(request: web.Request) -> web.Response: ...

`upload(*media_types, max_size)` makes an upload route (images, a CSV import):

- a non-empty body must have one of `media_types` (list "application/json" as well if the
  route also takes JSON), else 415;
- it may hold up to `max_size` bytes instead of the app's client_max_size (64 KiB). It
  must declare its length: a body without `Content-Length` (chunked) is 411, and one over
  `max_size` is 413, before a byte is read. aiohttp then reads no more than that length,
  so the limit holds for streaming readers (`request.multipart()`) too; for
  `request.read()`, `.post()` and `.text()` the handler receives a clone of the request
  carrying the limit (request keys the handler sets are not seen by the middlewares
  around it);
- when the session cookie authenticates the request, its `Origin` header must be the
  shop's own origin: missing or foreign is 403. A cross-site page can post
  multipart/form-data or text/csv with the visitor's cookie and no preflight; a request
  authenticated by a bearer token carries no ambient credential and is not checked.

`form` marks a page's HTML form post (urlencoded or multipart), which the session's CSRF
token protects (`shop.routes.forms.read_form`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from shop.errors import Forbidden, TooLarge, UnsupportedMediaType
from shop.i18n import N_
from shop.keys import SESSION_ID
from shop.security import Handler, own_origin

JSON_TYPE = "application/json"
_RULE = "_shop_body_rule"


@dataclass(frozen=True, slots=True)
class BodyRule:
    """What a route's body may be."""

    media_types: frozenset[str]
    max_size: int | None = None  # bytes; None keeps the app's client_max_size
    same_origin: bool = False  # a cookie-authenticated request must carry our Origin


JSON = BodyRule(frozenset({JSON_TYPE}))
FORM = BodyRule(frozenset({"application/x-www-form-urlencoded", "multipart/form-data"}))


def declare[H: Handler](rule: BodyRule) -> Callable[[H], H]:
    """Give a handler its body rule (`upload`, `form` and `shop.routes.operation` use it)."""

    def mark(handler: H) -> H:
        setattr(handler, _RULE, rule)
        return handler

    return mark


def upload[H: Handler](*media_types: str, max_size: int) -> Callable[[H], H]:
    """Declare an upload route (see upload_rule)."""
    return declare(upload_rule(*media_types, max_size=max_size))


def upload_rule(*media_types: str, max_size: int) -> BodyRule:
    """The rule of an upload route: these body types, up to `max_size` bytes, and our own
    Origin when the cookie authenticates it."""
    if not media_types or max_size < 1:
        raise ValueError("an upload route names its media types and a positive max_size")
    return BodyRule(frozenset(media_types), max_size, same_origin=True)


def form[H: Handler](handler: H) -> H:
    """Declare a page's HTML form post."""
    return declare(FORM)(handler)


def body_rule(request: web.Request) -> BodyRule:
    """The rule of the route this request was routed to."""
    return getattr(request.match_info.handler, _RULE, JSON)


async def _is_empty(request: web.Request) -> bool:
    if request.content_length is not None:
        return request.content_length == 0
    # Chunked: only reading tells (bounded by client_max_size, 413 beyond it).
    return not await request.read()


@web.middleware
async def body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)  # no route: its 404 or 405 says more than a 415
    rule = body_rule(request)
    if (
        rule.same_origin
        and request.get(SESSION_ID) is not None
        and request.headers.get(hdrs.ORIGIN) != own_origin(request)
    ):
        raise Forbidden(
            N_("Origin: an upload with the session cookie needs the shop's own Origin")
        )
    if not request.body_exists:
        return await handler(request)  # most requests: nothing more to check
    if request.content_type not in rule.media_types:
        if not await _is_empty(request):
            raise UnsupportedMediaType(
                N_("the body must be {types}"), types=" or ".join(sorted(rule.media_types))
            )
        return await handler(request)  # empty after all: nothing to limit
    if rule.max_size is not None:
        length = request.content_length
        if length is None:
            raise web.HTTPLengthRequired()
        if length > rule.max_size:
            raise TooLarge(
                N_("body: at most {most} bytes on this route, this one is {size}"),
                most=rule.max_size,
                size=length,
            )
        request = request.clone(client_max_size=rule.max_size)
    return await handler(request)
