"""/metrics: this process's metrics for Prometheus, for admins (a session or a token)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import METRICS
from shop.metrics import CONTENT_TYPE
from shop.models.users import Role
from shop.security import requires

routes = web.RouteTableDef()


@routes.get("/metrics")
@requires(Role.ADMIN)
async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
