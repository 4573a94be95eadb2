"""/healthz: 200 while the store answers, 503 when it does not."""

from __future__ import annotations

import asyncio

from aiohttp import web

from shop.errors import Unavailable
from shop.keys import STORE
from shop.models import answers
from shop.routes.operation import Returns, operation
from shop.store.base import StoreError

routes = web.RouteTableDef()


@routes.get("/healthz")
@operation("Health", returns=Returns(answers.Health))
async def healthz(request: web.Request) -> answers.Health:
    """200 while the store answers, 503 when it does not (within 3 s)."""
    try:
        async with asyncio.timeout(3):
            await request.app[STORE].ping()
    except (StoreError, TimeoutError):
        raise Unavailable("store unavailable") from None
    return answers.Health(store="ok")
