"""The body rules of the upload route, until the central mechanism for upload routes lands.

Every other route takes `application/json` up to the app's `client_max_size` (64 KiB).
An upload route differs in three ways, each checked here before a byte of the body is read:

- **Origin.** A cookie-authenticated upload must carry the shop's own `Origin` (403 when it
  is missing or foreign). The app-wide check lets a request without Origin through (curl
  sends none); a file upload from a page always has one, so requiring it here closes the
  gap for the route where a forged cross-site form would be most costly.
- **Body type.** `multipart/form-data` only (415).
- **Size.** Its own limit, well over 64 KiB, without raising `client_max_size` for every
  route: a declared `Content-Length` over the limit is 413; a body without one is 411, so
  the parser never reads more than the limit (aiohttp reads exactly Content-Length bytes).
  `request.multipart()` streams, so `client_max_size` does not apply to it.

This module is meant to be replaced, not grown: the swap is to delete it and declare the
route's body type (multipart) and limit with the central mechanism instead of the
`@upload_rules(...)` line. `shop.routes.multipart` (reading one file field) stays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from aiohttp import web

from shop.errors import Forbidden, TooLarge
from shop.i18n import N_
from shop.keys import SESSION_ID
from shop.security import Handler, own_origin

MULTIPART = "multipart/form-data"


def upload_rules(max_body: int) -> Callable[[Handler], Handler]:
    """Route decorator: same-origin for cookie sessions, multipart only, at most `max_body`
    bytes. Put it below `@requires(...)`, so who may call is decided first."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            _check_origin(request)
            if request.content_type != MULTIPART:
                raise web.HTTPUnsupportedMediaType(text="the body must be multipart/form-data")
            if request.content_length is None:
                raise web.HTTPLengthRequired()
            if request.content_length > max_body:
                raise TooLarge(
                    N_("body: an upload is at most {most} bytes, this one is {size}"),
                    most=max_body,
                    size=request.content_length,
                )
            return await handler(request)

        return checked

    return decorate


def _check_origin(request: web.Request) -> None:
    if request.get(SESSION_ID) is None:
        return  # no cookie session: nothing a cross-site page could ride on
    origin = request.headers.get("Origin")
    if origin is None:
        raise Forbidden(N_("Origin: an upload with a session cookie needs an Origin header"))
    if origin != own_origin(request):
        raise Forbidden(N_("cross-site request refused"))
