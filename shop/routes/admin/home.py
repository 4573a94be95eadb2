"""/admin: where the back office starts."""

from __future__ import annotations

from aiohttp import web

from shop.models.users import Role
from shop.security import requires
from shop.views import render

routes = web.RouteTableDef()


@routes.get("/admin", name="admin")
@requires(Role.ADMIN)
async def admin_home(request: web.Request) -> web.Response:
    return await render("admin/home.html", request, {})
