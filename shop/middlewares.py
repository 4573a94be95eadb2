"""Response headers every answer carries; one access-log line and the metrics per request."""

from __future__ import annotations

import time

from aiohttp import web

from shop.keys import METRICS, SETTINGS, USER
from shop.logs import AccessLog, escape
from shop.security import Handler

access_log = AccessLog()

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    # aiohttp would name itself and its version: no help to clients, a hint to attackers.
    "Server": "shop",
}


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook, so error pages, static files and websockets get them too."""
    response.headers.update(SECURITY_HEADERS)
    if request.app[SETTINGS].https:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


@web.middleware
async def access_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        seconds = time.perf_counter() - started
        request.app[METRICS].observe_request(request, status, seconds)
        user = request.get(USER)
        # Path only: query strings and bodies can hold what a log must never keep. Both are
        # the client's text, escaped so that they cannot forge lines or fields.
        access_log.write(
            f"method={escape(request.method)} path={escape(request.path)} status={status:d}"
            f" duration_ms={seconds * 1000:.2f} user={user.id if user is not None else '-'}"
        )
