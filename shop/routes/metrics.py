"""/metrics: this process's metrics for Prometheus, for admins (a session or a token)."""

from __future__ import annotations

from aiohttp import web

from shop.keys import METRICS
from shop.metrics import CONTENT_TYPE
from shop.models.users import Role
from shop.routes.operation import Raw, operation

routes = web.RouteTableDef()


@routes.get("/metrics")
@operation(
    "Metrics",
    auth=Role.ADMIN,
    returns=Raw("text/plain", "Prometheus' text exposition format (version 0.0.4)"),
)
async def metrics(request: web.Request) -> web.Response:
    """This process's counters and histograms, for Prometheus."""
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
