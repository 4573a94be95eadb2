"""/api/sessions: log in, log out (here or everywhere), who am I."""

from __future__ import annotations

from aiohttp import web

from shop.keys import USERS
from shop.models.users import LoginIn
from shop.routes.common import read_json, success
from shop.security import client_address, current_user, requires
from shop.sessions import log_in, log_out

routes = web.RouteTableDef()


@routes.post("/api/sessions/login")
async def login(request: web.Request) -> web.Response:
    data = await read_json(request, LoginIn)
    user = await request.app[USERS].authenticate(
        data.email, data.password, client_address(request)
    )
    await log_in(request, user)
    return success(user.to_json())


@routes.post("/api/sessions/logout")
async def logout(request: web.Request) -> web.Response:
    await log_out(request)
    return success({"logged_out": True})


@routes.post("/api/sessions/logout-all")
@requires()
async def logout_all(request: web.Request) -> web.Response:
    await request.app[USERS].end_credentials(current_user(request).id)
    await log_out(request)
    return success({"logged_out": True})


@routes.get("/api/sessions/current")
@requires()
async def current(request: web.Request) -> web.Response:
    return success(current_user(request).to_json())
