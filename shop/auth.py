"""Who is asking: an API token (`Authorization: Bearer ...`) on the API and /metrics (so
Prometheus can scrape), else the session cookie. Either way the user is found with one
store call."""

from __future__ import annotations

from aiohttp import hdrs, web

from shop.keys import SESSION_ID, SESSION_UNCHECKED, TOKEN_ID, TOKENS, USER
from shop.security import Handler, client_address
from shop.sessions import load_session_user


@web.middleware
async def user_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Set USER, and SESSION_ID or TOKEN_ID, for the handlers and the checks after this.

    On the API (and /metrics) an Authorization header decides alone: a cookie that came
    with it is ignored, and a wrong or revoked token is 401 even when the cookie is good.
    Pages know only the cookie.
    """
    request[USER] = None
    request[SESSION_ID] = None
    request[TOKEN_ID] = None
    request[SESSION_UNCHECKED] = False
    credentials = request.headers.get(hdrs.AUTHORIZATION)
    if credentials is not None and (
        request.path.startswith("/api/") or request.path == "/metrics"
    ):
        tokens = request.app[TOKENS]
        request[USER], request[TOKEN_ID] = await tokens.authenticate(
            credentials, client_address(request)
        )
    else:
        await load_session_user(request)
    return await handler(request)
