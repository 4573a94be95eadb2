"""/healthz: 200 while the store answers, 503 when it does not."""

from __future__ import annotations

import asyncio

from aiohttp import web

from shop.keys import STORE
from shop.store.base import StoreError

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(3):
            await request.app[STORE].ping()
    except (StoreError, TimeoutError):
        return web.json_response({"status": "error", "error": "store unavailable"}, status=503)
    return web.json_response({"status": "success", "payload": {"store": "ok"}})
